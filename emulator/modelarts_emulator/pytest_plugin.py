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
* ``s3_server`` (session): a local S3-compatible server (moto's server mode, ``obs_server.py``; moto must be
  installed) on a free loopback port.
* ``obs_store`` (function): that server emptied, and ``emulator`` set to read its import tasks' ``obs://`` and
  ``s3://`` paths from it (``obs_endpoint``); returns the :class:`~.obs_server.S3Server`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from .obs_server import S3Server
from .testing import EmulatorServer

__all__ = ["emulator", "emulator_server", "modelarts_conn_env", "obs_store", "paused_emulator", "s3_server"]


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


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    with S3Server() as server:
        yield server


@pytest.fixture
def obs_store(s3_server: S3Server, emulator: EmulatorServer) -> S3Server:
    s3_server.reset()
    emulator.admin.configure(**s3_server.emulator_settings())
    return s3_server
