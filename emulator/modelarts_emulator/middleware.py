"""The pipeline every emulated API request passes before its handler: one pure-ASGI middleware.

It counts the request, reads the body once, applies the configured request limit (``throttle.py``),
decides faults for it (per request, its latency spread by ``latency_jitter_sigma``: see ``faults.py``), checks
credentials against the raw path, raw query string and raw body exactly as received, refuses a project that
is not the emulator's own, and advances the simulated clock. A pure-ASGI middleware is much cheaper than
FastAPI's ``BaseHTTPMiddleware``: the add-samples path stays above 1,000 requests per second on one core.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any

import httpx

from airflow_provider_modelarts._text import quote

from .codes import CODES, ApiError, error_body
from .faults import FaultDecision, FaultRule, request_identity
from .lifecycle import tick
from .security import authenticate, revoke_tokens
from .state import EmulatorState
from .throttle import Throttle

__all__ = ["BODY_KEY", "DOC_PATHS", "UNKNOWN_ROUTE", "ConnectionDropped", "EmulatorMiddleware"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_JSON = [(b"content-type", b"application/json")]
UNKNOWN_ROUTE = "unknown"
BODY_KEY = "modelarts_emulator.body"


class ConnectionDropped(httpx.RemoteProtocolError):
    """Raised to cut a connection on purpose (fault injection).

    Over a real socket uvicorn has already sent the response head, so raising makes it close the connection
    mid-response: the client's httpx raises ``RemoteProtocolError`` ("peer closed connection without sending
    complete message body"). In process (``httpx.ASGITransport``) this exception reaches the client itself,
    and being an ``httpx.TransportError`` it is retried like the real thing.
    """


async def _send_json(
    send: Send, status: int, body: bytes, headers: Sequence[tuple[bytes, bytes]] = ()
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [*_JSON, (b"content-length", str(len(body)).encode()), *headers],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _send_fault(send: Send, rule: FaultRule, route: str) -> None:
    headers: list[tuple[bytes, bytes]] = []
    if rule.status == 429:
        code = "ModelArts.6101"
        message = CODES[code][1]
        if rule.retry_after is not None:
            value = rule.retry_after
            headers.append(
                (b"retry-after", (str(int(value)) if value == int(value) else f"{value:g}").encode())
            )
    elif rule.status == 500:
        code = "ModelArts.6102"
        message = CODES[code][1]
    else:
        code = "ModelArts.4302"
        message = CODES[code][1] % "the backend is unavailable (injected fault)"
    await _send_json(send, rule.status, error_body(code, f"{message} [injected fault on {route}]"), headers)


async def _drop(send: Send, route: str, when: str) -> None:
    # Promise a body, then abort: see ConnectionDropped.
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [*_JSON, (b"content-length", b"1024")],
        }
    )
    raise ConnectionDropped(f"emulator fault: connection to {route} dropped {when} the request was applied")


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        if chunk:
            chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks) if len(chunks) != 1 else chunks[0]


class EmulatorMiddleware:
    """Counting, faults, body buffering, authentication and the clock for every non-admin request."""

    def __init__(
        self, app: ASGIApp, state: EmulatorState, routes: list[tuple[re.Pattern[str], set[str], str]]
    ):
        self.app = app
        self.state = state
        self.routes = routes
        self.throttle = Throttle()

    def route_name(self, method: str, path: str) -> str:
        for regex, methods, name in self.routes:
            if method in methods and regex.match(path):
                return name
        return UNKNOWN_ROUTE

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path.startswith("/_emulator") or path in DOC_PATHS:
            await self.app(scope, receive, send)
            return
        state = self.state
        route = self.route_name(scope["method"], path)
        body = await _read_body(receive)
        config = state.config
        if config.throttle_concurrency is not None or config.throttle_rate is not None:
            if not self.throttle.admit(
                time.monotonic(), concurrency=config.throttle_concurrency, rate=config.throttle_rate
            ):
                state.stats.bump(route, "requests", "throttled", "status_429")
                await _send_json(send, 429, error_body("ModelArts.6101", CODES["ModelArts.6101"][1]))
                return
            try:
                await self._handle(scope, send, state, route, body)
            finally:
                self.throttle.release()
            return
        await self._handle(scope, send, state, route, body)

    async def _handle(self, scope: Scope, send: Send, state: EmulatorState, route: str, body: bytes) -> None:
        path = scope.get("path", "")
        faults = state.faults
        decision = (
            faults.decide(
                route,
                request_identity(scope["method"], path, scope.get("query_string", b""), body),
                state.config.latency_jitter_sigma,
            )
            if faults.active
            else _NO_FAULT
        )
        if decision.latency_s:
            await asyncio.sleep(decision.latency_s)
        action = decision.action
        if action is not None and action.kind == "status":
            state.stats.bump(route, "requests", "faulted", f"status_{action.status}")
            await _send_fault(send, action, route)
            return
        if action is not None and action.kind == "drop_before":
            state.stats.bump(route, "requests", "dropped_before")
            await _drop(send, route, "before")
        if action is not None and action.kind == "revoke_tokens":
            state.stats.bump(route, "tokens_revoked")
            revoke_tokens(state)
        if route not in (UNKNOWN_ROUTE, "iam_token"):
            try:
                if state.config.require_auth:
                    authenticate(state, scope, body)  # type: ignore[arg-type]
                _check_project(state, path)
            except ApiError as error:
                state.stats.bump(route, "requests", "refused", f"status_{error.status}")
                await _send_json(send, error.status, error_body(error.code, error.message))
                return
        tick(state)
        scope[BODY_KEY] = body
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        if action is not None and action.kind == "drop_after":
            state.stats.bump(route, "requests", "applied", "dropped_after")

            async def discard(message: Message) -> None:
                return None

            await self.app(scope, replay, discard)
            await _drop(send, route, "after")
        status = 0

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await self.app(scope, replay, watch)
        state.stats.bump(route, "requests", "applied", f"status_{status}")


DOC_PATHS = frozenset({"/docs", "/openapi.json", "/redoc", "/docs/oauth2-redirect"})
_NO_FAULT = FaultDecision()


def _check_project(state: EmulatorState, path: str) -> None:
    """Refuse a project that is not the emulator's own, as ModelArts does for a project the credentials do
    not belong to: HTTP 403 ``ModelArts.0210`` "The project id in the request URL does not match the token."
    (``modelarts_error_codes.tsv``). Checked after authentication, as the service checks the project only
    for a caller it has recognised."""
    if not path.startswith("/v2/"):
        return
    project_id = path.split("/", 3)[2]
    if project_id != state.config.project_id:
        raise ApiError(
            "ModelArts.0210",
            f"project {quote(project_id)} is not a project these credentials belong to "
            f"(this emulator serves project {state.config.project_id!r}); check the connection's project_id",
        )
