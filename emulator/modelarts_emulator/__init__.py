"""A local emulator of the ModelArts data-labeling API, so pipelines and tests run without a cloud account.

The ``modelarts-emulator`` distribution, beside the provider (``airflow-provider-modelarts``, whose models
and signing it uses; the provider never imports it). Use it as a real server (``python -m
modelarts_emulator``; :class:`~modelarts_emulator.process.EmulatorProcess` runs that CLI in its own process
and gives its Airflow connection), as :class:`~modelarts_emulator.testing.EmulatorServer` in a thread, or in
process through ``httpx.ASGITransport(app=create_app())``. It never imports Airflow.
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
    from .process import EmulatorProcess
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
    "EmulatorProcess",
    "EmulatorServer",
    "EmulatorState",
    "IamUser",
    "apply_seed",
    "create_app",
    "default_seed",
    "sample_id_for",
]


def __getattr__(name: str) -> Any:
    # testing.py pulls in uvicorn and the client; load it (and process.py) only when asked for.
    if name in ("EmulatorServer", "EmulatorAdmin"):
        from . import testing

        return getattr(testing, name)
    if name == "EmulatorProcess":
        from .process import EmulatorProcess

        return EmulatorProcess
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
