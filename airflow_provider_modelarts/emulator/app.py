"""The emulator's FastAPI application: the ModelArts labeling endpoints, IAM tokens, and the admin API.

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

from . import lifecycle, sample_lists, samples, team_tasks
from .admin import admin_router
from .codes import CODES, ApiError, error_body
from .config import EmulatorConfig
from .middleware import BODY_KEY, DOC_PATHS, ConnectionDropped, EmulatorMiddleware
from .openapi import install_openapi
from .payloads import query_int
from .security import issue_token
from .state import EmulatorState

__all__ = ["ConnectionDropped", "create_app"]

Endpoint = Callable[[Request], Awaitable[Response]]


def _json(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(payload).encode(), status_code=status, headers=headers, media_type="application/json"
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
    tasks = prefix + "/{dataset_id}/workforce-tasks"
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
        return _json(sample_lists.list_dataset_samples(state, project_id, dataset_id, request.query_params))

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
            sample_lists.list_task_samples(
                state, project_id, dataset_id, workforce_task_id, request.query_params
            )
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
            team_tasks.task_view(state, project_id, dataset_id, workforce_task_id, request.query_params)
        )

    @api("POST", tasks, "create_workforce_task")
    async def create_workforce_task(request: Request) -> Response:
        """Creating a Team Labeling Task (CreateWorkforceTask)."""
        project_id, dataset_id = _dataset_ids(request)
        return _json(team_tasks.create_task(state, project_id, dataset_id, await _body(request)))

    @api("GET", tasks, "list_workforce_tasks")
    async def list_workforce_tasks(request: Request) -> Response:
        """Querying the Team Labeling Task List of a Dataset (ListWorkforceTasks)."""
        project_id, dataset_id = _dataset_ids(request)
        return _json(team_tasks.list_tasks(state, project_id, dataset_id, request.query_params))

    @api("POST", task, "start_workforce_task")
    async def start_workforce_task(request: Request) -> Response:
        """Starting a Team Labeling Task (StartWorkforceTask)."""
        ids = _task_ids(request)
        return _json(team_tasks.start_task(state, *ids, await _body(request)))

    @api("PUT", task, "update_workforce_task")
    async def update_workforce_task(request: Request) -> Response:
        """Updating a Team Labeling Task (UpdateWorkforceTask)."""
        ids = _task_ids(request)
        return _json(team_tasks.update_task(state, *ids, await _body(request)))

    @api("DELETE", task, "delete_workforce_task")
    async def delete_workforce_task(request: Request) -> Response:
        """Deleting a Team Labeling Task (DeleteWorkforceTask): 204 No Content."""
        team_tasks.delete_task(state, *_task_ids(request))
        return Response(status_code=204)

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
        and route.path not in DOC_PATHS
    ]
    app.add_middleware(EmulatorMiddleware, state=state, routes=routes)
    install_openapi(app)
    return app
