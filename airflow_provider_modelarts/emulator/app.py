"""The emulator's FastAPI application: the ModelArts labeling endpoints, IAM tokens, and the admin API.

Every API request passes one pure-ASGI middleware (cheaper than FastAPI's ``BaseHTTPMiddleware``) that counts
it, injects faults, reads the body once, checks credentials against the raw path, raw query string and raw
body exactly as received, and advances the simulated clock. Handlers then build plain dicts that are
serialised with :func:`json.dumps`; pydantic is used to validate what comes in, not to render what goes out,
which keeps the add-samples path well above 1,000 requests per second on one core.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Route

from airflow_provider_modelarts._text import quote

from . import lifecycle, samples
from .admin import admin_router
from .codes import CODES, ApiError, error_body
from .config import EmulatorConfig
from .faults import FaultDecision, FaultRule, request_identity
from .lifecycle import tick
from .openapi import install_openapi
from .payloads import query_int
from .security import authenticate, issue_token
from .state import EmulatorState

__all__ = ["ConnectionDropped", "create_app"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
Endpoint = Callable[[Request], Awaitable[Response]]

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


def _json(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(payload).encode(), status_code=status, headers=headers, media_type="application/json"
    )


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

    def route_name(self, method: str, path: str) -> str:
        for regex, methods, name in self.routes:
            if method in methods and regex.match(path):
                return name
        return UNKNOWN_ROUTE

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path.startswith("/_emulator") or path in _DOC_PATHS:
            await self.app(scope, receive, send)
            return
        state = self.state
        route = self.route_name(scope["method"], path)
        body = await _read_body(receive)
        faults = state.faults
        decision = (
            faults.decide(
                route, request_identity(scope["method"], path, scope.get("query_string", b""), body)
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


_DOC_PATHS = frozenset({"/docs", "/openapi.json", "/redoc", "/docs/oauth2-redirect"})
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


def _dataset_ids(request: Request) -> tuple[str, str]:
    params = request.path_params
    return params["project_id"], params["dataset_id"]


def _task_ids(request: Request) -> tuple[str, str, str]:
    params = request.path_params
    return params["project_id"], params["dataset_id"], params["workforce_task_id"]


async def _body(request: Request) -> bytes:
    body = request.scope.get(BODY_KEY)
    return body if isinstance(body, bytes) else await request.body()


def create_app(state: EmulatorState | None = None, config: EmulatorConfig | None = None) -> FastAPI:
    """The emulator as an ASGI app: serve it with uvicorn, or call it in process via ``httpx.ASGITransport``.

    Give ``state`` to share one world between apps (or keep a handle on it), ``config`` to build a fresh
    state with that configuration (and the default seed); with neither, a default emulator.
    """
    if state is None:
        from .seed import default_seed

        state = EmulatorState(config, seed=default_seed())
        state.reset()
    elif config is not None:
        raise ValueError("give either state or config: a state carries its own config")
    app = FastAPI(
        title="ModelArts labeling emulator",
        description="Local emulator of the Huawei Cloud ModelArts data-labeling API.",
        version="0.1.0",
    )
    app.state.emulator = state
    prefix = "/v2/{project_id}/datasets"
    dataset_samples = prefix + "/{dataset_id}/data-annotations/samples"
    task = prefix + "/{dataset_id}/workforce-tasks/{workforce_task_id}"

    def api(method: str, path: str, name: str) -> Callable[[Endpoint], Endpoint]:
        """Register a ModelArts endpoint as a plain Starlette route: the handlers read the request
        themselves, so FastAPI's per-parameter dependency machinery would only cost time on every call."""

        def register(endpoint: Endpoint) -> Endpoint:
            app.router.add_route(path, endpoint, methods=[method], name=name)
            return endpoint

        return register

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, error: ApiError) -> Response:
        return Response(
            error_body(error.code, error.message), status_code=error.status, media_type="application/json"
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, error: StarletteHTTPException) -> Response:
        if error.status_code == 404:
            code = "APIGW.0101"
            message = f"{CODES[code][1]}: {request.method} {request.url.path}"
        elif error.status_code == 405:
            code, message = "APIGW.0101", f"method {request.method} is not allowed on {request.url.path}"
        else:
            code, message = "ModelArts.4396", str(error.detail)
        return Response(
            error_body(code, message), status_code=error.status_code, media_type="application/json"
        )

    @api("POST", dataset_samples, "add_samples")
    async def add_samples(request: Request) -> Response:
        """Adding Samples in Batches (UploadSamplesJson)."""
        project_id, dataset_id = _dataset_ids(request)
        return _json(samples.add_samples(state, project_id, dataset_id, await _body(request)))

    @api("PUT", dataset_samples, "update_samples")
    async def update_samples(request: Request) -> Response:
        """Updating Sample Labels in Batches (UpdateSamples)."""
        project_id, dataset_id = _dataset_ids(request)
        return _json(samples.update_samples(state, project_id, dataset_id, await _body(request)))

    @api("GET", dataset_samples, "list_samples")
    async def list_samples(request: Request) -> Response:
        """Querying the Sample List."""
        project_id, dataset_id = _dataset_ids(request)
        return _json(samples.list_dataset_samples(state, project_id, dataset_id, request.query_params))

    @api("PUT", task + "/data-annotations/samples", "update_workforce_task_samples")
    async def update_task_samples(request: Request) -> Response:
        """Updating Labels of Team Labeling Samples in Batches (UpdateWorkforceTaskSamples)."""
        project_id, dataset_id, workforce_task_id = _task_ids(request)
        body = await _body(request)
        return _json(samples.update_task_samples(state, project_id, dataset_id, workforce_task_id, body))

    @api("GET", task + "/data-annotations/samples", "list_workforce_task_samples")
    async def list_task_samples(request: Request) -> Response:
        """Querying the Sample List of a Team Labeling Task by Page."""
        project_id, dataset_id, workforce_task_id = _task_ids(request)
        return _json(
            samples.list_task_samples(state, project_id, dataset_id, workforce_task_id, request.query_params)
        )

    @api("PUT", task + "/acceptance/status", "update_acceptance_status")
    async def update_acceptance_status(request: Request) -> Response:
        """Updating the Status of a Team Labeling Acceptance Task (UpdateWorkforceSamplingTask)."""
        project_id, dataset_id, workforce_task_id = _task_ids(request)
        body = await _body(request)
        return _json(
            lifecycle.update_acceptance_status(
                state, project_id, dataset_id, workforce_task_id, request.query_params, body
            )
        )

    @api("POST", task + "/acceptance", "start_acceptance")
    async def start_acceptance(request: Request) -> Response:
        """Creating a Team Labeling Acceptance Task (StartWorkforceSamplingTask)."""
        project_id, dataset_id, workforce_task_id = _task_ids(request)
        body = await _body(request)
        return _json(lifecycle.start_acceptance(state, project_id, dataset_id, workforce_task_id, body))

    @api("GET", task + "/acceptance/report", "get_acceptance_report")
    async def acceptance_report(request: Request) -> Response:
        """Querying the Report of a Team Labeling Acceptance Task."""
        project_id, dataset_id, workforce_task_id = _task_ids(request)
        return _json(
            lifecycle.acceptance_report(
                state, project_id, dataset_id, workforce_task_id, request.query_params
            )
        )

    @api("GET", task, "get_workforce_task")
    async def get_workforce_task(request: Request) -> Response:
        """Querying Details About a Team Labeling Task."""
        project_id, dataset_id, workforce_task_id = _task_ids(request)
        return _json(
            lifecycle.task_view(state, project_id, dataset_id, workforce_task_id, request.query_params)
        )

    @api("GET", prefix, "list_datasets")
    async def list_datasets(request: Request) -> Response:
        """A minimal dataset list (the connection test's cheap call)."""
        project_id = request.path_params["project_id"]
        query = request.query_params
        limit = query_int(query, "limit", 10, low=1, high=100)
        offset = query_int(query, "offset", 0, low=0)
        with state.lock:
            found = [d for d in state.datasets.values() if d.project_id == project_id]
            page = found[offset * limit : offset * limit + limit]
            datasets = [
                {
                    "dataset_id": d.dataset_id,
                    "dataset_name": d.dataset_name,
                    "dataset_type": d.dataset_type,
                    "description": d.description,
                    "create_time": d.create_time,
                    "status": 1,
                    "total_sample_count": len(d.samples),
                    "annotated_sample_count": sum(1 for s in d.samples.values() if s.labels),
                }
                for d in page
            ]
        return _json({"total_number": len(found), "datasets": datasets})

    @api("POST", "/v3/auth/tokens", "iam_token")
    async def iam_token(request: Request) -> Response:
        """IAM: Obtaining a User Token (password method); the token is in ``X-Subject-Token``."""
        answer, token, headers = issue_token(state, await _body(request))
        return _json(answer, 201, {"X-Subject-Token": token, **dict(headers)})

    app.include_router(admin_router(state))
    routes = [
        (route.path_regex, set(route.methods or ()), route.name)
        for route in app.router.routes
        if isinstance(route, Route)
        and not route.path.startswith("/_emulator")
        and route.path not in _DOC_PATHS
    ]
    app.add_middleware(EmulatorMiddleware, state=state, routes=routes)
    install_openapi(app)
    return app
