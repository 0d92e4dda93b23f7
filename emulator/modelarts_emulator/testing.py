"""Run the emulator for tests and scripts: a real uvicorn server in a background thread, plus helpers.

    with EmulatorServer() as server:
        client = server.client()                  # AK/SK-signed ModelArtsClient pointed at it
        server.admin.advance(steps=3)
        os.environ["AIRFLOW_CONN_MODELARTS_DEFAULT"] = json.dumps(server.connection_dict())

The server listens on 127.0.0.1 on a free port, is ready when ``__enter__`` returns, and stops cleanly on
``__exit__`` (or ``stop()``). Access logs are off so benchmarks and test output stay clean.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from types import TracebackType
from typing import TYPE_CHECKING, Any

import httpx
import uvicorn

from .app import ConnectionDropped, create_app
from .config import (
    DEFAULT_ACCESS_KEY,
    DEFAULT_DOMAIN,
    DEFAULT_IAM_PASSWORD,
    DEFAULT_IAM_USER,
    DEFAULT_SECRET_KEY,
    EmulatorConfig,
)
from .console import CONSOLE_PATH
from .seed import default_seed
from .state import EmulatorState

if TYPE_CHECKING:
    from fastapi import FastAPI

    from airflow_provider_modelarts.client import AsyncModelArtsClient, ModelArtsClient

__all__ = ["EmulatorAdmin", "EmulatorServer", "install_log_filter", "uvicorn_config"]


class _DroppedConnectionFilter(logging.Filter):
    """Keep uvicorn from logging a traceback for every connection the fault injector cuts on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, ConnectionDropped)


_FILTER = _DroppedConnectionFilter()


def install_log_filter() -> None:
    logger = logging.getLogger("uvicorn.error")
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)


def uvicorn_config(
    app: FastAPI, host: str, port: int, *, access_log: bool = False, log_level: str = "warning"
) -> uvicorn.Config:
    """uvicorn settings shared by the CLI and EmulatorServer. ``date_header=False``: the emulator sends its
    own ``Date`` (from its own, possibly offset, clock) where it matters, on IAM token answers."""
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        access_log=access_log,
        log_level=log_level,
        date_header=False,
        server_header=False,
        lifespan="off",
        timeout_graceful_shutdown=2,
    )


def _free_socket(host: str) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    return sock


class EmulatorAdmin:
    """A small synchronous client for the admin API (``/_emulator/``)."""

    def __init__(self, base_url: str, *, transport: httpx.BaseTransport | None = None) -> None:
        self._client = httpx.Client(base_url=base_url, timeout=30.0, transport=transport)

    def close(self) -> None:
        self._client.close()

    def call(self, method: str, path: str, payload: Any = None) -> Any:
        response = self._client.request(
            method, "/_emulator/" + path.lstrip("/"), json=payload if payload is not None else None
        )
        if response.status_code >= 400:
            raise RuntimeError(
                f"emulator admin {method} {path} failed: HTTP {response.status_code} {response.text}"
            )
        return response.json() if response.content else None

    def reset(self, seed: str | dict[str, Any] = "initial") -> Any:
        """Back to the startup state; ``seed`` "initial" (default), "default", "empty" or a seed dict."""
        return self.call("POST", "reset", {"seed": seed})

    def seed(self, seed: dict[str, Any]) -> Any:
        return self.call("POST", "seed", seed)

    def samples(self, dataset_id: str) -> list[dict[str, Any]]:
        return list(self.call("GET", f"datasets/{dataset_id}/samples")["samples"])

    def task(self, dataset_id: str, task_id: str) -> dict[str, Any]:
        return dict(self.call("GET", f"datasets/{dataset_id}/workforce-tasks/{task_id}"))

    def stats(self) -> dict[str, Any]:
        return dict(self.call("GET", "stats"))

    def reset_stats(self) -> Any:
        return self.call("DELETE", "stats")

    def faults(self, *rules: dict[str, Any], seed: int | None = None, **rule: Any) -> Any:
        """Add fault rules: ``faults({"route": "add_samples", "status": 503, "count": 2})`` or keyword form
        ``faults(route="add_samples", drop="after", count=1)``."""
        all_rules = [*rules, *([rule] if rule else [])]
        payload: dict[str, Any] = {"rules": all_rules}
        if seed is not None:
            payload["seed"] = seed
        return self.call("POST", "faults", payload)

    def clear_faults(self) -> Any:
        return self.call("DELETE", "faults")

    def advance(self, steps: int = 0, seconds: float = 0.0) -> dict[str, Any]:
        return dict(self.call("POST", "advance", {"steps": steps, "seconds": seconds}))

    def clock(self, offset_seconds: float) -> Any:
        return self.call("POST", "clock", {"offset_seconds": offset_seconds})

    def expire_tokens(self, token: str | None = None) -> int:
        return int(self.call("POST", "tokens/expire", {} if token is None else {"token": token})["expired"])

    def configure(self, **settings: Any) -> dict[str, Any]:
        return dict(self.call("POST", "config", settings))


class EmulatorServer:
    """The emulator on a real loopback socket, served by uvicorn in a daemon thread."""

    def __init__(
        self,
        config: EmulatorConfig | None = None,
        *,
        seed: dict[str, Any] | None = None,
        state: EmulatorState | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        startup_timeout: float = 20.0,
    ) -> None:
        if state is None:
            state = EmulatorState(config, seed=default_seed() if seed is None else seed)
            state.reset()
        self.state = state
        self.config = state.config
        self.app = create_app(state)
        self.host = host
        self._port = port
        self._startup_timeout = startup_timeout
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._admin: EmulatorAdmin | None = None
        self.port = 0

    # ------------------------------------------------------------------------------------- life cycle

    def start(self) -> EmulatorServer:
        if self._thread is not None:
            return self
        install_log_filter()
        sock = _free_socket(self.host) if self._port == 0 else None
        port = sock.getsockname()[1] if sock is not None else self._port
        server = uvicorn.Server(uvicorn_config(self.app, self.host, port))
        self._server = server
        sockets = [sock] if sock is not None else None
        self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": sockets}, name=f"modelarts-emulator-{port}", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + self._startup_timeout
        while not server.started:
            if not self._thread.is_alive():
                raise RuntimeError("the emulator server thread exited before it was ready")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the emulator did not start within {self._startup_timeout} s")
            time.sleep(0.005)
        self.port = port
        return self

    def stop(self) -> None:
        if self._admin is not None:
            self._admin.close()
            self._admin = None
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = None
        self._thread = None

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # ---------------------------------------------------------------------------------------- helpers

    @property
    def base_url(self) -> str:
        if not self.port:
            raise RuntimeError("the emulator server is not running")
        return f"http://{self.host}:{self.port}"

    @property
    def iam_url(self) -> str:
        """The IAM endpoint: the same server answers ``POST /v3/auth/tokens``."""
        return self.base_url

    @property
    def project_id(self) -> str:
        return self.config.project_id

    @property
    def admin(self) -> EmulatorAdmin:
        if self._admin is None:
            self._admin = EmulatorAdmin(self.base_url)
        return self._admin

    def connection_dict(
        self, auth: str = "aksk", *, project_id: str | None = None, **extra: Any
    ) -> dict[str, Any]:
        """The Airflow connection (JSON form, for ``AIRFLOW_CONN_<ID>``) that reaches this emulator
        (``project_id``: another project, e.g. to see a wrong project refused)."""
        return connection_dict(self.base_url, project_id or self.config.project_id, auth, **extra)

    def connection_json(self, auth: str = "aksk", **extra: Any) -> str:
        return json.dumps(self.connection_dict(auth, **extra))

    def auth(self, auth: str = "aksk") -> httpx.Auth:
        from airflow_provider_modelarts.auth import AkSkAuth, IamTokenAuth

        if auth == "aksk":
            return AkSkAuth(DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, project_id=self.config.project_id)
        if auth == "password":
            return IamTokenAuth(
                self.iam_url,
                DEFAULT_IAM_USER,
                DEFAULT_IAM_PASSWORD,
                DEFAULT_DOMAIN,
                project_id=self.config.project_id,
            )
        raise ValueError(f"auth must be 'aksk' or 'password', got {auth!r}")

    def client(self, auth: str | httpx.Auth = "aksk", **kwargs: Any) -> ModelArtsClient:
        """A :class:`ModelArtsClient` for this server: ``auth`` "aksk" or "password" (default credentials)
        or any ``httpx.Auth``."""
        from airflow_provider_modelarts.client import ModelArtsClient

        kwargs["auth"] = self.auth(auth) if isinstance(auth, str) else auth
        return ModelArtsClient(project_id=self.config.project_id, endpoint=self.base_url, **kwargs)

    def async_client(self, auth: str | httpx.Auth = "aksk", **kwargs: Any) -> AsyncModelArtsClient:
        from airflow_provider_modelarts.client import AsyncModelArtsClient

        kwargs["auth"] = self.auth(auth) if isinstance(auth, str) else auth
        return AsyncModelArtsClient(project_id=self.config.project_id, endpoint=self.base_url, **kwargs)


def connection_dict(
    base_url: str,
    project_id: str,
    auth: str = "aksk",
    *,
    access_key: str = DEFAULT_ACCESS_KEY,
    secret_key: str = DEFAULT_SECRET_KEY,
    **extra: Any,
) -> dict[str, Any]:
    """Airflow connection JSON for an emulator at ``base_url`` (AK/SK or IAM password auth).

    ``console_url`` points the provider's extra links at the emulator's own console (``console.py``).
    """
    extras: dict[str, Any] = {
        "endpoint": base_url,
        "project_id": project_id,
        "region": "cn-north-4",
        "console_url": base_url + CONSOLE_PATH,
    }
    if auth == "password":
        extras.update(
            auth_type="password",
            iam_endpoint=base_url,
            domain_name=DEFAULT_DOMAIN,
            user_name=DEFAULT_IAM_USER,
            user_password=DEFAULT_IAM_PASSWORD,
        )
        extras.update(extra)
        return {"conn_type": "modelarts", "extra": extras}
    if auth != "aksk":
        raise ValueError(f"auth must be 'aksk' or 'password', got {auth!r}")
    extras.update(extra)
    return {
        "conn_type": "modelarts",
        "login": access_key,
        "password": secret_key,
        "extra": extras,
    }
