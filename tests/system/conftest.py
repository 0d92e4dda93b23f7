"""System tier: the example DAGs in real Airflow processes. Every test here is marked ``system``; those of
``test_browser.py`` also ``browser``.

``airflow_deployment`` (session) is one running ``airflow standalone`` plus emulator, shared by the system and
browser tests of a session (starting it costs ~30-60 s); see ``system_deployment.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

import pytest
from system_deployment import SystemDeployment, system_deployment

ROOT = Path(__file__).resolve().parents[2]
# Beside the unit tier's home for the same Airflow version (tests/conftest.py): one deployment per version.
AIRFLOW_DIR = ROOT / ".airflow" / f"airflow-{version('apache-airflow')}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        path = Path(str(item.path))
        if here in path.parents:
            item.add_marker(pytest.mark.system)
            if path.name == "test_browser.py":
                item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def airflow_deployment() -> Iterator[SystemDeployment]:
    """A running deployment: ``base_url``, ``username`` / ``password``, ``api()`` (REST client with a token),
    ``emulator`` (the emulator's admin API), ``emulator_url``, ``connection``, ``home`` and ``log_file``."""
    with system_deployment(AIRFLOW_DIR / "system") as deployment:
        yield deployment
