"""System tier: the example DAGs in real Airflow processes. Every test here is marked ``system``; those of
``test_browser.py`` also ``browser``, those of ``test_chaos.py`` also ``chaos`` (`make test-chaos`, a pytest
session of its own: it kills components).

``production`` (session) is one running production-shaped deployment (``production_deployment.py``:
PostgreSQL, Redis, CeleryExecutor with two workers on separate folders, two schedulers, two triggerers,
api-server, dag-processor, the emulator CLI and an S3-compatible store), shared by the session's tests, which
run in the order of ``ORDER`` (the day-after-day test first: it asserts on the scheduler's first scheduled
run). Each test reads only the runs it created. ``test_newcomer.py`` is the one test on SQLite ``airflow
standalone`` (the README's first steps, verbatim).

What each test shows (the run table, the chaos table) is added with ``system_report`` and printed at the end
of the session, and written to ``test-artifacts/system-report-<airflow version>.md``.
"""

from __future__ import annotations

from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

import pytest
from production_deployment import ProductionDeployment, production_deployment

ROOT = Path(__file__).resolve().parents[2]
# Beside the unit tier's home for the same Airflow version (tests/conftest.py): one deployment per version.
AIRFLOW_DIR = ROOT / ".airflow" / f"airflow-{version('apache-airflow')}"
REPORT = ROOT / "test-artifacts" / f"system-report-{version('apache-airflow')}.md"
ORDER = ["test_deployment.py", "test_assets.py", "test_browser.py", "test_two_machines.py", "test_chaos.py"]
_SECTIONS: list[str] = []


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        path = Path(str(item.path))
        if here in path.parents:
            item.add_marker(pytest.mark.system)
            if path.name == "test_browser.py":
                item.add_marker(pytest.mark.browser)
            if path.name == "test_chaos.py":
                item.add_marker(pytest.mark.chaos)

    def rank(item: pytest.Item) -> int:
        name = Path(str(item.path)).name
        return ORDER.index(name) if name in ORDER else len(ORDER)

    items.sort(key=rank)  # stable: the order within a file is kept


@pytest.fixture(scope="session")
def production() -> Iterator[ProductionDeployment]:
    """The running production-shaped deployment (see the module docstring)."""
    with production_deployment(AIRFLOW_DIR / "production") as deployment:
        _SECTIONS.append(
            "Tested topology: "
            + ", ".join(f"{name} {found}" for name, found in deployment.versions.items())
            + "; 2 Celery workers (separate folders), 2 schedulers, 2 triggerers, api-server, dag-processor."
        )
        yield deployment


@pytest.fixture(scope="session")
def system_report() -> list[str]:
    """Sections (markdown) printed at the end of the session and written to ``REPORT``."""
    return _SECTIONS


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _SECTIONS:
        return
    text = "\n\n".join(_SECTIONS) + "\n"
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(text)
    terminalreporter.section(f"system report (also in {REPORT.relative_to(ROOT)})")
    terminalreporter.write(text)
