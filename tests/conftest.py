"""Test-wide set-up: keep Airflow's home, database and logs inside the checkout, never in ~/airflow."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from secret_scan_plugin import register

_ROOT = Path(__file__).resolve().parent.parent
_HOME = _ROOT / ".airflow" / "pytest"
_HOME.mkdir(parents=True, exist_ok=True)
os.environ.setdefault("AIRFLOW_HOME", str(_HOME))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "True")
os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(_ROOT / "dags_examples"))
pytest_plugins = ["airflow_provider_modelarts.emulator.pytest_plugin"]


def pytest_configure(config: pytest.Config) -> None:
    # The session-wide secret scan sees every test of every tier: any configured secret that shows up in a log
    # record, captured output, XCom, rendered template or task log fails the run.
    register(config)
