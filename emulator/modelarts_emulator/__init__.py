"""A local emulator of the ModelArts data-labeling API, so pipelines and tests run without a cloud account.

Use it as a real server (``python -m airflow_provider_modelarts.emulator``, or
:class:`~airflow_provider_modelarts.emulator.testing.EmulatorServer` in a thread), or in process through
``httpx.ASGITransport(app=create_app())``. It never imports Airflow.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .app import ConnectionDropped, create_app
from .config import (
    DEFAULT_ACCESS_KEY,
    DEFAULT_DOMAIN,
    DEFAULT_IAM_PASSWORD,
    DEFAULT_IAM_USER,
    DEFAULT_PROJECT_ID,
    DEFAULT_PROJECT_NAME,
    DEFAULT_SECRET_KEY,
    EmulatorConfig,
    IamUser,
)
from .records import sample_id_for
from .seed import DEFAULT_SEED, apply_seed, default_seed
from .state import EmulatorState

if TYPE_CHECKING:
    from .testing import EmulatorAdmin, EmulatorServer

__all__ = [
    "DEFAULT_ACCESS_KEY",
    "DEFAULT_DOMAIN",
    "DEFAULT_IAM_PASSWORD",
    "DEFAULT_IAM_USER",
    "DEFAULT_PROJECT_ID",
    "DEFAULT_PROJECT_NAME",
    "DEFAULT_SECRET_KEY",
    "DEFAULT_SEED",
    "ConnectionDropped",
    "EmulatorAdmin",
    "EmulatorConfig",
    "EmulatorServer",
    "EmulatorState",
    "IamUser",
    "apply_seed",
    "create_app",
    "default_seed",
    "sample_id_for",
]


def __getattr__(name: str) -> Any:
    # testing.py pulls in uvicorn and the client; load it only when asked for.
    if name in ("EmulatorServer", "EmulatorAdmin"):
        from . import testing

        return getattr(testing, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
