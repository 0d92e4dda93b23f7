"""pytest fixtures for the ModelArts emulator (also for users' own DAG tests).

Registered as the ``pytest11`` plugin ``modelarts_emulator`` (emulator/pyproject.toml): installing the
``modelarts-emulator`` distribution (or the provider's ``emulator`` extra) gives every pytest run these
fixtures, with no ``pytest_plugins`` line; ``-p no:modelarts_emulator`` turns them off. pytest loads it before
any conftest.py, so it imports no Airflow: a conftest that sets Airflow's environment (``AIRFLOW_HOME``, unit
test mode) still does so before Airflow reads it.

* ``emulator_server`` (session): one real emulator server (uvicorn on a free loopback port) for the session.
* ``emulator`` (function): that server, reset to its startup state (default seed, no faults, zero stats,
  clock offset 0) before the test.
* ``paused_emulator`` (function): ``emulator`` with wall-clock progress off, so only ``/_emulator/advance``
  moves the reviewers (deterministic life-cycle tests).
* ``modelarts_conn_env`` (function): sets ``AIRFLOW_CONN_MODELARTS_DEFAULT`` to the emulator's AK/SK
  connection for the test and returns the connection dict.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from .testing import EmulatorServer

__all__ = ["emulator", "emulator_server", "modelarts_conn_env", "paused_emulator"]


@pytest.fixture(scope="session")
def emulator_server() -> Iterator[EmulatorServer]:
    with EmulatorServer() as server:
        yield server


@pytest.fixture
def emulator(emulator_server: EmulatorServer) -> EmulatorServer:
    emulator_server.state.reset()
    return emulator_server


@pytest.fixture
def paused_emulator(emulator: EmulatorServer) -> EmulatorServer:
    emulator.admin.configure(step_seconds=None)
    return emulator


@pytest.fixture
def modelarts_conn_env(emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    connection = emulator.connection_dict()
    monkeypatch.setenv("AIRFLOW_CONN_MODELARTS_DEFAULT", json.dumps(connection))
    return connection
