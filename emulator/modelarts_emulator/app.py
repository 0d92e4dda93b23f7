"""The emulator's FastAPI application: the ModelArts labeling endpoints, IAM tokens, admin API and console.

Every API request first passes :class:`~.middleware.EmulatorMiddleware` (counting, faults, authentication,
the project check, the clock). Handlers then build plain dicts that are
serialised with :func:`json.dumps`; pydantic is used to validate what comes in, not to render what goes out,
which keeps the add-samples path well above 1,000 requests per second on one core.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Route

from . import import_tasks, lifecycle, sample_lists, samples, team_tasks
from .admin import admin_router
from .codes import CODES, NOT_FOUND_CODES, PARAMETER_ERROR, ApiError, error_body
from .config import EmulatorConfig
from .console import console_router
from .middleware import BODY_KEY, DOC_PATHS, ConnectionDropped, EmulatorMiddleware
from .openapi import install_openapi
from .security import issue_token
from .seed import default_seed
from .state import EmulatorState

__all__ = ["ConnectionDropped", "create_app"]

Endpoint = Callable[[Request], Awaitable[Response]]


def _json(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(payload).encode(), status_code=status, headers=headers, media_type="application/json"
    )


async def _body(request: Request) -> bytes:
    body = request.scope.get(BODY_KEY)
    return body if isinstance(body, bytes) else await request.body()


_DATASETS = "/v2/{project_id}/datasets"
_SAMPLES = _DATASETS + "/{dataset_id}/data-annotations/samples"
_TASKS = _DATASETS + "/{dataset_id}/workforce-tasks"
_TASK = _TASKS + "/{workforce_task_id}"
_TASK_SAMPLES = _TASK + "/data-annotations/samples"
_IMPORTS = _DATASETS + "/{dataset_id}/import-tasks"

# method, path, route name (the client's name for the call), handler, what the handler takes after the state
# and the path ids: "q" the query parameters, "b" the body. A handler answering None answers 204 No Content.
_ENDPOINTS: list[tuple[str, str, str, Callable[..., Any], str]] = [
    ("POST", _SAMPLES, "add_samples", samples.add_samples, "b"),
    ("PUT", _SAMPLES, "update_samples", samples.update_samples, "b"),
    ("GET", _SAMPLES, "list_samples", sample_lists.list_dataset_samples, "q"),
    ("PUT", _TASK_SAMPLES, "update_workforce_task_samples", samples.update_task_samples, "b"),
    ("GET", _TASK_SAMPLES, "list_workforce_task_samples", sample_lists.list_task_samples, "q"),
    ("PUT", _TASK + "/acceptance/status", "update_acceptance_status", lifecycle.update_acceptance_status,
     "qb"),
    ("POST", _TASK + "/acceptance", "start_acceptance", lifecycle.start_acceptance, "b"),
    ("GET", _TASK + "/acceptance/report", "get_acceptance_report", lifecycle.acceptance_report, "q"),
    ("GET", _TASK, "get_workforce_task", team_tasks.task_view, "q"),
    ("POST", _TASKS, "create_workforce_task", team_tasks.create_task, "b"),
    ("GET", _TASKS, "list_workforce_tasks", team_tasks.list_tasks, "q"),
    ("POST", _TASK, "start_workforce_task", team_tasks.start_task, "b"),
    ("PUT", _TASK, "update_workforce_task", team_tasks.update_task, "b"),
    ("DELETE", _TASK, "delete_workforce_task", team_tasks.delete_task, ""),
    ("POST", _IMPORTS, "create_import_task", import_tasks.create_import_task, "b"),
    ("GET", _IMPORTS, "list_import_tasks", import_tasks.list_import_tasks, "q"),
    ("GET", _IMPORTS + "/{task_id}", "get_import_task", import_tasks.get_import_task, ""),
    ("GET", _DATASETS, "list_datasets", sample_lists.list_datasets, "q"),
]  # fmt: skip


def _endpoint(state: EmulatorState, handler: Callable[..., Any], inputs: str) -> Endpoint:
    """A plain Starlette endpoint calling ``handler(state, *path ids, [query], [body])``: the handlers read
    what they need themselves, so FastAPI's per-parameter dependency machinery would only cost time."""

    async def endpoint(request: Request) -> Response:
        args: list[Any] = [state, *request.path_params.values()]  # in path order: project, dataset, task
        if "q" in inputs:
            args.append(request.query_params)
        if "b" in inputs:
            args.append(await _body(request))
        answer = handler(*args)
        return Response(status_code=204) if answer is None else _json(answer)

    endpoint.__name__ = handler.__name__
    endpoint.__doc__ = handler.__doc__
    return endpoint


def create_app(state: EmulatorState | None = None, config: EmulatorConfig | None = None) -> FastAPI:
    """The emulator as an ASGI app: serve it with uvicorn, or call it in process via ``httpx.ASGITransport``.

    Give ``state`` to share one world between apps (or keep a handle on it), ``config`` to build a fresh
    state with that configuration (and the default seed); with neither, a default emulator.
    """
    if state is None:
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
    for method, path, name, handler, inputs in _ENDPOINTS:
        app.router.add_route(path, _endpoint(state, handler, inputs), methods=[method], name=name)

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, error: ApiError) -> Response:
        # "Does not exist" codes: the tsv files them under 400, the pages' status tables list 404; every
        # route answers them at the configured status (codes.py).
        status = state.config.not_found_status if error.code in NOT_FOUND_CODES else error.status
        return Response(
            error_body(error.code, error.message), status_code=status, media_type="application/json"
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, error: StarletteHTTPException) -> Response:
        if error.status_code == 404:
            code = "APIGW.0101"
            message = f"{CODES[code][1]}: {request.method} {request.url.path}"
        elif error.status_code == 405:
            code, message = "APIGW.0101", f"method {request.method} is not allowed on {request.url.path}"
        else:
            code, message = PARAMETER_ERROR, str(error.detail)
        return Response(
            error_body(code, message), status_code=error.status_code, media_type="application/json"
        )

    async def iam_token(request: Request) -> Response:
        """IAM: Obtaining a User Token (password method); the token is in ``X-Subject-Token``."""
        answer, token, headers = issue_token(state, await _body(request))
        return _json(answer, 201, {"X-Subject-Token": token, **dict(headers)})

    app.router.add_route("/v3/auth/tokens", iam_token, methods=["POST"], name="iam_token")

    app.include_router(admin_router(state))
    app.include_router(console_router(state))  # under /_emulator too: no credentials, never counted
    routes = [
        (route.path_regex, set(route.methods or ()), route.name)
        for route in app.router.routes
        if isinstance(route, Route)
        and not route.path.startswith("/_emulator")
        and route.path not in DOC_PATHS
    ]
    app.add_middleware(EmulatorMiddleware, state=state, routes=routes)
    install_openapi(app)
    return app
