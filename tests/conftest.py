"""Test-wide set-up: keep Airflow's home, database and logs inside the checkout, never in ~/airflow."""

from __future__ import annotations

import os
from importlib.metadata import version
from pathlib import Path

import pytest
from hypothesis import settings
from secret_scan_plugin import register

_ROOT = Path(__file__).resolve().parent.parent
# One home per Airflow version: `make test` runs the tiers on each supported minor, each with its own venv,
# and their metadata databases must not meet.
AIRFLOW_DIR = _ROOT / ".airflow" / f"airflow-{version('apache-airflow')}"
_HOME = AIRFLOW_DIR / "pytest"
_HOME.mkdir(parents=True, exist_ok=True)
os.environ.setdefault("AIRFLOW_HOME", str(_HOME))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "True")
os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(_ROOT / "dags_examples"))
# Property tests must not fail by chance: the same examples every run (derandomize), no per-example
# wall-clock deadline (a loaded CI machine is not a bug), and no example database carried between runs.
settings.register_profile("deterministic", derandomize=True, deadline=None, database=None, print_blob=True)
settings.load_profile("deterministic")

# The emulator's fixtures (emulator, paused_emulator, ...) come from its pytest11 plugin, loaded on install.


def pytest_configure(config: pytest.Config) -> None:
    # The session-wide secret scan sees every test of every tier: any configured secret that shows up in a log
    # record, captured output, XCom, rendered template or task log fails the run.
    register(config)
