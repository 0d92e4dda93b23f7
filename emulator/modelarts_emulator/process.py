"""The emulator CLI in its own process: start it, wait until it answers, connect Airflow to it, stop it.

    with EmulatorProcess("--reviewer-pass-rate", "0.5", log_file=workdir / "emulator.log") as emulator:
        env["AIRFLOW_CONN_MODELARTS_DEFAULT"] = emulator.connection_json()
        emulator.admin.advance(steps=1)

The one way anything starts a separate emulator: the demo (``scripts/demo.py``), the benchmarks
(``bench/_common.py``, ``bench/bench_memory.py``) and the system tests
(``tests/system/production_deployment.py``). A separate process keeps the emulator's request handling off the
caller's interpreter and GIL and its stored samples out of the caller's memory;
:class:`~modelarts_emulator.testing.EmulatorServer` (a thread) is the in-process alternative.

* **Start**: ``python -m modelarts_emulator --host HOST --port PORT --url-file FILE ARGS...`` with the
  running interpreter, in a session of its own (so stopping it reaches the whole process group). ``port=0``
  (default) lets the CLI pick a free port; a given port is used as is. ``cpus`` pins it to those cores.
* **Ready**: the CLI writes its base URL to ``--url-file`` only once uvicorn serves, so :meth:`start` returns
  when that file holds a URL, and the server answers from then on. A process that exits first, or is not
  ready after ``startup_timeout`` seconds (a bound on a broken start, never waited out by a healthy one),
  raises :class:`RuntimeError` with the tail of its output.
* **Connection**: :meth:`connection_dict` / :meth:`connection_json` are
  :func:`~modelarts_emulator.testing.connection_dict` for this process's URL and keys, the same connection
  the CLI prints and :class:`~modelarts_emulator.testing.EmulatorServer` gives. The secret key reaches the
  CLI through ``MODELARTS_EMULATOR_SK``, never its command line (which ``ps`` shows).
* **Output**: stdout and stderr go to ``log_file``; without one, to a file in a private temporary folder that
  :meth:`stop` removes. The log shows the connection line, credentials included: keep it out of published
  artifacts.
* **Stop**: SIGTERM to the process group, up to 10 s to exit, then SIGKILL; idempotent, and run by the
  context manager's exit whatever happened inside.

``command`` runs another server in place of the CLI (``bench/canned_server.py``, the unit tests' stand-in):
anything that takes ``--host``, ``--port`` and ``--url-file`` and writes its base URL to that file once it
answers.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from .config import DEFAULT_ACCESS_KEY, DEFAULT_PROJECT_ID, DEFAULT_SECRET_KEY

if TYPE_CHECKING:
    from .testing import EmulatorAdmin

__all__ = ["EmulatorProcess"]

#: How long :meth:`EmulatorProcess.stop` lets the process exit after SIGTERM before it sends SIGKILL.
STOP_GRACE_SECONDS = 10.0
_POLL_SECONDS = 0.05
_LOG_TAIL_CHARS = 3000


class EmulatorProcess:
    """The emulator CLI (``python -m modelarts_emulator``) as a separate process; see the module docstring."""

    def __init__(
        self,
        *args: str,
        host: str = "127.0.0.1",
        port: int = 0,
        access_key: str = DEFAULT_ACCESS_KEY,
        secret_key: str = DEFAULT_SECRET_KEY,
        log_file: Path | None = None,
        cpus: Collection[int] | None = None,
        env: Mapping[str, str] | None = None,
        startup_timeout: float = 60.0,
        command: Sequence[str] | None = None,
        obs_endpoint: str | None = None,
        obs_access_key: str = "testing",
        obs_secret_key: str = "testing",
    ) -> None:
        self.args = args
        #: The S3-compatible server the import tasks read (``--obs-endpoint``); its secret goes by env.
        self.obs_endpoint = obs_endpoint
        self.obs_access_key = obs_access_key
        self._obs_secret_key = obs_secret_key
        self.host = host
        self.port = port
        self.access_key = access_key
        self._secret_key = secret_key
        self._log_file = log_file
        #: Where the process's output goes (set by :meth:`start`: ``log_file`` or the private folder's file).
        self.log_path: Path | None = None
        self.cpus = set(cpus) if cpus else None
        self._env = env
        self.startup_timeout = startup_timeout
        self.command = list(command) if command else [sys.executable, "-m", "modelarts_emulator"]
        self.process: subprocess.Popen[bytes] | None = None
        #: The exit status once :meth:`stop` has run (negative: the signal that ended it).
        self.returncode: int | None = None
        self._base_url = ""
        self._private_dir: Path | None = None
        self._admin: EmulatorAdmin | None = None

    # ------------------------------------------------------------------------------------- life cycle

    def start(self) -> EmulatorProcess:
        """Start the process and return once it answers (see the module docstring); a no-op when running."""
        if self.process is not None:
            return self
        self.returncode = None
        self._private_dir = Path(tempfile.mkdtemp(prefix="modelarts-emulator-"))
        url_file = self._private_dir / "url"
        self.log_path = self._log_file or self._private_dir / "emulator.log"
        argv = [*self.command, "--host", self.host, "--port", str(self.port), "--url-file", str(url_file)]
        if self.access_key != DEFAULT_ACCESS_KEY:
            argv += ["--access-key", self.access_key]
        if self.obs_endpoint:
            argv += ["--obs-endpoint", self.obs_endpoint, "--obs-access-key", self.obs_access_key]
        env = dict(os.environ if self._env is None else self._env)
        env["MODELARTS_EMULATOR_SK"] = self._secret_key
        env["MODELARTS_EMULATOR_OBS_SK"] = self._obs_secret_key
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [*argv, *self.args], stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )
        try:
            if self.cpus:
                os.sched_setaffinity(self.process.pid, self.cpus)
            self._base_url = self._wait_for_url(url_file)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_for_url(self, url_file: Path) -> str:
        assert self.process is not None
        deadline = time.monotonic() + self.startup_timeout
        while True:
            # The file is replaced whole (written aside, then renamed), so a URL read here is complete.
            if url_file.exists() and (url := url_file.read_text().strip().rstrip("/")):
                return url
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"the emulator exited before it was ready (exit code {self.process.returncode}); "
                    f"its output:\n{self._log_tail()}"
                )
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"the emulator was not ready within {self.startup_timeout:.0f} s; its output:\n"
                    f"{self._log_tail()}"
                )
            time.sleep(_POLL_SECONDS)

    def _log_tail(self) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return self.log_path.read_text(errors="replace")[-_LOG_TAIL_CHARS:]

    def stop(self) -> None:
        """Stop the process group (SIGTERM, then SIGKILL after :data:`STOP_GRACE_SECONDS`); idempotent."""
        if self._admin is not None:
            self._admin.close()
            self._admin = None
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            for sig in (signal.SIGTERM, signal.SIGKILL):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, sig)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=STOP_GRACE_SECONDS)
                    break
        if process is not None:
            self.returncode = process.wait()
        self._base_url = ""
        if self._private_dir is not None:
            shutil.rmtree(self._private_dir, ignore_errors=True)
            self._private_dir = None

    def __enter__(self) -> EmulatorProcess:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # ---------------------------------------------------------------------------------------- helpers

    @property
    def pid(self) -> int:
        if self.process is None:
            raise RuntimeError("the emulator process is not running")
        return self.process.pid

    @property
    def base_url(self) -> str:
        """``http://HOST:PORT`` of the running process (the IAM endpoint too)."""
        if not self._base_url:
            raise RuntimeError("the emulator process is not running")
        return self._base_url

    @property
    def admin(self) -> EmulatorAdmin:
        """A client for its admin API (``/_emulator/``), closed by :meth:`stop`."""
        from .testing import EmulatorAdmin

        if self._admin is None:
            self._admin = EmulatorAdmin(self.base_url)
        return self._admin

    def connection_dict(self, auth: str = "aksk", **extra: Any) -> dict[str, Any]:
        """The Airflow connection (JSON form, for ``AIRFLOW_CONN_<ID>``) that reaches this process
        (``extra``: other extras, or other keys, e.g. ``secret_key=`` a wrong one)."""
        from .testing import connection_dict

        keys = {"access_key": self.access_key, "secret_key": self._secret_key}
        return connection_dict(self.base_url, DEFAULT_PROJECT_ID, auth, **{**keys, **extra})

    def connection_json(self, auth: str = "aksk", **extra: Any) -> str:
        return json.dumps(self.connection_dict(auth, **extra))
