"""OpenAPI description of the emulated ModelArts endpoints (``/docs``), built from the project's models.

The endpoints are plain Starlette routes (see ``app.py``), which FastAPI does not describe by itself; this
adds them to the generated document with the request and answer schemas of the pydantic models, so the
emulator's ``/docs`` page doubles as a browsable reference of the payloads.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

from airflow_provider_modelarts import models

__all__ = ["install_openapi"]

_REF = "#/components/schemas/{model}"
_TASK = "/v2/{project_id}/datasets/{dataset_id}/workforce-tasks/{workforce_task_id}"
_SAMPLES = "/v2/{project_id}/datasets/{dataset_id}/data-annotations/samples"
_TASKS = "/v2/{project_id}/datasets/{dataset_id}/workforce-tasks"
_IMPORTS = "/v2/{project_id}/datasets/{dataset_id}/import-tasks"
_PAGE = ("limit", "offset", "sample_state", "label_name", "order")

# (method, path, route name, summary, request model, answer model, query parameters)
_Endpoint = tuple[str, str, str, str, type[BaseModel] | None, type[BaseModel] | None, tuple[str, ...]]
_ENDPOINTS: list[_Endpoint] = [
    ("post", _SAMPLES, "add_samples", "Adding Samples in Batches", models.UploadSamplesRequest,
     models.UploadSamplesResponse, ()),
    ("put", _SAMPLES, "update_samples", "Updating Sample Labels in Batches", models.UpdateSamplesRequest,
     models.UpdateSamplesResponse, ()),
    ("get", _SAMPLES, "list_samples", "Querying the Sample List", None, models.ListSamplesResponse,
     (*_PAGE, "sample_type")),
    ("put", _TASK + "/data-annotations/samples", "update_workforce_task_samples",
     "Updating Labels of Team Labeling Samples in Batches", models.UpdateWorkforceTaskSamplesRequest,
     models.UpdateSamplesResponse, ()),
    ("get", _TASK + "/data-annotations/samples", "list_workforce_task_samples",
     "Querying the Sample List of a Team Labeling Task by Page", None, models.ListSamplesResponse, _PAGE),
    ("put", _TASK + "/acceptance/status", "update_acceptance_status",
     "Updating the Status of a Team Labeling Acceptance Task", models.UpdateWorkforceSamplingTaskRequest,
     models.UpdateAcceptanceStatusResponse, ("locale",)),
    ("post", _TASK + "/acceptance", "start_acceptance", "Creating a Team Labeling Acceptance Task",
     models.CreateWorkforceSamplingTaskRequest, models.CreateWorkforceSamplingTaskResponse, ()),
    ("get", _TASK + "/acceptance/report", "get_acceptance_report",
     "Querying the Report of a Team Labeling Acceptance Task", None, models.AcceptanceReport,
     ("checking_task_id",)),
    ("get", _TASK, "get_workforce_task", "Querying Details About a Team Labeling Task", None,
     models.WorkforceTask, ("sample_stats", "label_stats", "workforce_stats")),
    ("post", _TASKS, "create_workforce_task", "Creating a Team Labeling Task",
     models.CreateWorkforceTaskRequest, models.CreateWorkforceTaskResponse, ()),
    ("get", _TASKS, "list_workforce_tasks", "Querying the Team Labeling Task List of a Dataset", None,
     models.ListWorkforceTasksResponse, ("limit", "offset")),
    ("post", _TASK, "start_workforce_task", "Starting a Team Labeling Task", models.StartWorkforceTaskRequest,
     models.WorkforceTaskChangeResponse, ()),
    ("put", _TASK, "update_workforce_task", "Updating a Team Labeling Task",
     models.UpdateWorkforceTaskRequest, models.WorkforceTaskChangeResponse, ()),
    ("delete", _TASK, "delete_workforce_task", "Deleting a Team Labeling Task", None, None, ()),
    ("post", _IMPORTS, "create_import_task", "Creating an Import Task", models.CreateImportTaskRequest,
     models.CreateImportTaskResponse, ()),
    ("get", _IMPORTS, "list_import_tasks", "Querying the Dataset Import Task List", None,
     models.ListImportTasksResponse, ("limit", "offset")),
    ("get", _IMPORTS + "/{task_id}", "get_import_task", "Querying Details About a Dataset Import Task", None,
     models.ImportTaskStatusResp, ()),
    ("get", "/v2/{project_id}/datasets", "list_datasets", "Listing datasets (minimal)", None, None,
     ("limit", "offset")),
    ("post", "/v3/auth/tokens", "iam_token", "IAM: obtaining a user token (password method)", None, None, ()),
]  # fmt: skip

_ERROR = {
    "type": "object",
    "properties": {"error_code": {"type": "string"}, "error_msg": {"type": "string"}},
}


def _schema(model: type[BaseModel], components: dict[str, Any], mode: str) -> dict[str, Any]:
    schema = model.model_json_schema(by_alias=True, ref_template=_REF, mode=mode)  # type: ignore[arg-type]
    components.update(schema.pop("$defs", {}))
    components[model.__name__] = schema
    return {"$ref": _REF.format(model=model.__name__)}


def _operation(
    path: str,
    name: str,
    summary: str,
    request: type[BaseModel] | None,
    answer: type[BaseModel] | None,
    query: tuple[str, ...],
    components: dict[str, Any],
) -> dict[str, Any]:
    parameters = [
        {"name": part[1:-1], "in": "path", "required": True, "schema": {"type": "string"}}
        for part in path.split("/")
        if part.startswith("{")
    ]
    parameters += [
        {"name": q, "in": "query", "required": q == "locale", "schema": {"type": "string"}} for q in query
    ]
    ok: dict[str, Any] = {"description": "OK"}
    if answer is not None:
        ok["content"] = {"application/json": {"schema": _schema(answer, components, "serialization")}}
    operation: dict[str, Any] = {
        "operationId": name,
        "summary": summary,
        "tags": ["ModelArts" if path.startswith("/v2") else "IAM"],
        "parameters": parameters,
        "responses": {
            {"iam_token": "201", "delete_workforce_task": "204"}.get(name, "200"): ok,
            "4XX": {"description": "Error", "content": {"application/json": {"schema": _ERROR}}},
        },
    }
    if request is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _schema(request, components, "validation")}},
        }
    return operation


def install_openapi(app: FastAPI) -> None:
    """Make ``app.openapi()`` describe the ModelArts endpoints too (built once, on first use)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
            components: dict[str, Any] = document.setdefault("components", {}).setdefault("schemas", {})
            paths = document.setdefault("paths", {})
            for method, path, name, summary, request, answer, query in _ENDPOINTS:
                paths.setdefault(path, {})[method] = _operation(
                    path, name, summary, request, answer, query, components
                )
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
