"""What every system-tier deployment gives its tests, and the helpers to wait on one.

Two deployments exist: the production-shaped one (``production_deployment.py``, the system and chaos tiers)
and the README's newcomer path on SQLite ``airflow standalone`` (``test_newcomer.py``). Tests drive both only
through the public REST API (``POST /auth/token``, ``/api/v2/...``) and the emulator's admin API. The emulator
runs with ``step_seconds=None`` in the production deployment: its reviewers move only when a test advances
its clock, so a sensor can never find its check finished before it had the chance to defer.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx

from modelarts_emulator.testing import EmulatorAdmin

T = TypeVar("T")


@dataclass
class SystemDeployment:
    """A running deployment: where it answers, how to log in, and the emulator behind its connection."""

    base_url: str  # the Airflow API server (UI at /, REST API at /api/v2)
    username: str
    password: str
    home: Path  # AIRFLOW_HOME
    log_file: Path  # the api-server's output (production) or the README commands' output (standalone)
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
