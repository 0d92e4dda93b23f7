"""A real Airflow deployment on one machine, started the way users start one, plus the ModelArts emulator.

``airflow standalone`` runs the api-server, scheduler, dag-processor and triggerer (LocalExecutor, SQLite)
in a throwaway ``AIRFLOW_HOME`` under ``.airflow/airflow-<version>/system``, with ``dags_examples/`` as its
DAGs folder and ``AIRFLOW_CONN_MODELARTS_DEFAULT`` pointing at the emulator CLI
(``python -m modelarts_emulator``) in its own process (``EmulatorProcess``). Tests drive it only through the
public REST API (``POST /auth/token``, ``/api/v2/...``). Both are stopped by signalling their process
groups (standalone leaves LocalExecutor workers behind otherwise). Nothing of the pytest process's Airflow
settings (unit-test mode, its home) leaks in.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx

from modelarts_emulator.process import EmulatorProcess
from modelarts_emulator.testing import EmulatorAdmin

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PASSWORD_FILE = "simple_auth_manager_passwords.json.generated"
# Generous: ~30 s on an idle 2-core machine; the deadline only bounds a broken start, it is never waited out.
STARTUP_TIMEOUT = 300.0
T = TypeVar("T")


@dataclass
class SystemDeployment:
    """A running deployment: where it answers, how to log in, and the emulator behind its connection."""

    base_url: str  # the Airflow API server (UI at /, REST API at /api/v2)
    username: str
    password: str
    home: Path  # AIRFLOW_HOME
    log_file: Path  # output of `airflow standalone`
    emulator_url: str
    emulator: EmulatorAdmin  # the emulator's admin API (state, clock, reviewers)
    connection: dict[str, Any]  # what AIRFLOW_CONN_MODELARTS_DEFAULT holds

    def token(self) -> str:
        response = httpx.post(
            f"{self.base_url}/auth/token",
            json={"username": self.username, "password": self.password},
            timeout=30,
        )
        response.raise_for_status()
        return str(response.json()["access_token"])

    def api(self) -> httpx.Client:
        """A client for the public REST API (``/api/v2``), authenticated as any script would be."""
        return httpx.Client(
            base_url=f"{self.base_url}/api/v2",
            headers={"Authorization": f"Bearer {self.token()}"},
            timeout=60,
        )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def poll(what: str, probe: Callable[[], T | None], *, timeout: float, interval: float = 1.0) -> T:
    """Call ``probe`` until it returns something other than None; fail with ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result is not None:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not reached within {timeout:.0f} s")
        time.sleep(interval)


def stop_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process group, then SIGKILL what is left of it."""
    for sig, wait in ((signal.SIGTERM, 60), (signal.SIGKILL, 30)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=wait)
            # The group may outlive its leader (LocalExecutor workers): make sure none is left.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            return


def standalone_environment(home: Path, port: int, connection: dict[str, Any]) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("AIRFLOW")}
    env.update(
        {
            # standalone starts its components as `airflow <command>` through PATH.
            "PATH": os.pathsep.join([str(BIN), env.get("PATH", "")]),
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags_examples"),
            "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
            # SQLite's busy timeout raised from 5 s (system_sqlite.py says why); Airflow imports the settings.
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS": "system_sqlite.CONNECT_ARGS",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS_ASYNC": "system_sqlite.CONNECT_ARGS",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(Path(__file__).parent), env.get("PYTHONPATH")])),
            "AIRFLOW__CORE__PARALLELISM": "4",  # 2 cores: more task processes only queue for CPU
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__API__WORKERS": "1",
            # Off port 8080 the workers must be told where the execution API is (airflow3.md).
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            # Log servers on free ports too, so a second deployment on the machine does not collide.
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW_CONN_MODELARTS_DEFAULT": json.dumps(connection),
            # The emulator's reviewers move only when the test advances its clock: poll every second.
            "MODELARTS_EXAMPLE_POKE_INTERVAL": "1",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


@contextlib.contextmanager
def system_deployment(root: Path) -> Iterator[SystemDeployment]:
    """Emulator + ``airflow standalone`` in a fresh ``root`` (wiped first); both stopped on exit."""
    shutil.rmtree(root, ignore_errors=True)
    home, emulator_dir = root / "home", root / "emulator"
    home.mkdir(parents=True)
    emulator_dir.mkdir(parents=True)
    emulator_args = ("--reviewer-pace", "1", "--reviewer-pass-rate", "0.95")
    with EmulatorProcess(*emulator_args, log_file=emulator_dir / "emulator.log") as emulator:
        emulator_url, admin = emulator.base_url, emulator.admin
        # Reviewers and status transitions advance only through the admin API: the tests decide when, so
        # a sensor can never find its check finished before it had the chance to defer.
        admin.configure(step_seconds=None)
        connection = emulator.connection_dict("aksk")
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        log_file = root / "standalone.log"
        with log_file.open("wb") as log:
            process = subprocess.Popen(
                [str(BIN / "airflow"), "standalone"],
                env=standalone_environment(home, port, connection),
                cwd=home,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            password = poll(
                f"airflow standalone ready (log: {log_file})",
                lambda: _ready(process, base_url, home, log_file),
                timeout=STARTUP_TIMEOUT,
            )
            yield SystemDeployment(
                base_url, "admin", password, home, log_file, emulator_url, admin, connection
            )
        finally:
            stop_group(process)


def _ready(process: subprocess.Popen[bytes], base_url: str, home: Path, log_file: Path) -> str | None:
    """The admin password once the API answers healthy and standalone has written it, else None."""
    if process.poll() is not None:
        raise RuntimeError(f"airflow standalone exited early; see {log_file}")
    try:
        healthy = httpx.get(f"{base_url}/api/v2/monitor/health", timeout=5).status_code == 200
    except httpx.HTTPError:
        return None
    password_file = home / PASSWORD_FILE
    if not healthy or not password_file.exists():
        return None
    return str(json.loads(password_file.read_text())["admin"])
