"""The services a production Airflow deployment stands on, each a real server in its own process on a free
loopback port, started and stopped by the test harness (never left running):

* :class:`PostgresServer`: a private PostgreSQL cluster (Debian's package, ``initdb`` into a fresh folder; no
  system cluster, no service manager). Run as root (CI), the server runs as the ``postgres`` user the package
  creates, since PostgreSQL refuses to run as root. ``fsync`` is off: the data is thrown away after the run.
* :class:`RedisServer`: Debian's ``redis-server``, no persistence (a restart loses what was queued, the
  worst case of a broker restart), restartable on the same port.
* :class:`S3Server`: moto's server mode, an S3-compatible object store holding the pipelines' data and the
  task logs (remote logging), reached through the S3 API with any access key.

``make services`` installs the two Debian packages when they are missing (the system tier's prerequisite).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Self

import httpx

BIN = Path(sys.executable).parent
# Bounds on a broken start only; a healthy one takes a second or two.
START_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def wait_until(
    what: str,
    ready: Callable[[], bool],
    process: subprocess.Popen[bytes] | None,
    log: Path,
    timeout: float = START_TIMEOUT,
) -> None:
    """Poll ``ready`` until true; fail early if ``process`` exits. ``timeout`` bounds a broken start only."""
    deadline = time.monotonic() + timeout
    while not ready():
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}; see {log}:\n{_tail(log)}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not ready within {timeout:.0f} s; see {log}:\n{_tail(log)}")
        time.sleep(0.2)


def _tail(log: Path) -> str:
    try:
        return log.read_text(errors="replace")[-2000:]
    except OSError:
        return ""


class _Server:
    """One server process in a session of its own; stop is SIGTERM to its group, then SIGKILL."""

    name = "server"

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.port = free_port()
        self.log = root / f"{self.name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        raise NotImplementedError

    def ready(self) -> bool:
        return _port_open(self.port)

    def start(self) -> Self:
        self.root.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                self.command(), stdout=out, stderr=subprocess.STDOUT, start_new_session=True, cwd=self.root
            )
        wait_until(self.name, self.ready, self.process, self.log)
        return self

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        for each, grace in ((sig, 30), (signal.SIGKILL, 30)):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, each)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=grace)
                return

    def restart(self) -> None:
        self.stop()
        self.start()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()


def postgres_bin() -> Path:
    """The newest installed PostgreSQL (Debian keeps its binaries in /usr/lib/postgresql/<major>/bin)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    if not found:
        raise RuntimeError("PostgreSQL is not installed: `make services` installs Debian's package")
    return found[-1].parent


class PostgresServer(_Server):
    """A private cluster: database ``airflow`` owned by superuser ``airflow``, trust auth on loopback only."""

    name = "postgres"

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        # Root cannot run PostgreSQL: the data lives in a folder the package's `postgres` user owns, outside
        # the checkout (whose parents it may not be allowed to enter).
        self.as_root = os.geteuid() == 0
        self.data = Path(tempfile.mkdtemp(prefix="modelarts-pg-"))
        self.user = "postgres" if self.as_root else pwd.getpwuid(os.geteuid()).pw_name
        self.bin = postgres_bin()

    @property
    def version(self) -> str:
        return subprocess.run(
            [str(self.bin / "postgres"), "--version"], capture_output=True, text=True, check=True
        ).stdout.split()[2]

    @property
    def url(self) -> str:
        return f"postgresql+psycopg2://airflow@127.0.0.1:{self.port}/airflow"

    def _as_owner(self, *args: str) -> list[str]:
        return ["runuser", "-u", self.user, "--", *args] if self.as_root else list(args)

    def command(self) -> list[str]:
        settings = {
            "listen_addresses": "127.0.0.1",
            "unix_socket_directories": str(self.data),
            "max_connections": "300",
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
        }
        options = [item for key, value in settings.items() for item in ("-c", f"{key}={value}")]
        return self._as_owner(
            str(self.bin / "postgres"), "-D", str(self.data / "db"), "-p", str(self.port), *options
        )

    def ready(self) -> bool:
        done = subprocess.run(
            [str(self.bin / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)], capture_output=True
        )
        return done.returncode == 0

    def start(self) -> Self:
        if not (self.data / "db").exists():
            if self.as_root:
                shutil.chown(self.data, user=self.user, group=self.user)
            subprocess.run(
                self._as_owner(
                    str(self.bin / "initdb"), "-D", str(self.data / "db"), "-U", "airflow", "-A", "trust",
                    "--no-sync", "-E", "UTF8",
                ),
                check=True, capture_output=True,
            )  # fmt: skip
        super().start()
        subprocess.run(
            [str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "airflow", "airflow"],
            capture_output=True,
        )
        return self

    def stop(self, sig: signal.Signals = signal.SIGINT) -> None:
        super().stop(sig)  # SIGINT: PostgreSQL's fast shutdown (SIGTERM waits for every client to leave)

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()
        shutil.rmtree(self.data, ignore_errors=True)


class RedisServer(_Server):
    name = "redis"

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def version(self) -> str:
        out = subprocess.run(["redis-server", "--version"], capture_output=True, text=True, check=True).stdout
        return next(part.split("=")[1] for part in out.split() if part.startswith("v="))

    def command(self) -> list[str]:
        if shutil.which("redis-server") is None:
            raise RuntimeError("redis-server is not installed: `make services` installs Debian's package")
        return [
            "redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--dir", str(self.root),
        ]  # fmt: skip


class S3Server(_Server):
    """moto's S3 API; any access key works. ``buckets`` are created once it answers."""

    name = "s3"
    access_key = "testing"
    secret_key = "testing-secret"  # moto checks no signature; named apart so a leak scan could tell
    region = "us-east-1"

    def __init__(self, root: Path, buckets: tuple[str, ...] = ()) -> None:
        super().__init__(root)
        self.buckets = buckets

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        return [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(self.port)]

    def ready(self) -> bool:
        try:
            return httpx.get(f"{self.url}/moto-api/", timeout=2).status_code < 500
        except httpx.HTTPError:
            return False

    def start(self) -> Self:
        super().start()
        for bucket in self.buckets:
            self.client().create_bucket(Bucket=bucket)
        return self

    def client(self):  # type: ignore[no-untyped-def]
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.url,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name=self.region,
        )

    def connection(self) -> dict[str, object]:
        """An Airflow ``aws`` connection to this store (what ``s3://<conn_id>@bucket/...`` names)."""
        return {
            "conn_type": "aws",
            "login": self.access_key,
            "password": self.secret_key,
            "extra": {"endpoint_url": self.url, "region_name": self.region},
        }

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        return [item["Key"] for page in pages for item in page.get("Contents", [])]

    def read(self, bucket: str, key: str) -> bytes:
        return bytes(self.client().get_object(Bucket=bucket, Key=key)["Body"].read())
