"""Request builders for the team labeling task life cycle: create, list, start, update, delete.

Pages: ``../shared/spec/related/creating_a_team_labeling_task.rst``,
``querying_the_team_labeling_task_list_of_a_dataset.rst``, ``starting_a_team_labeling_task.rst``,
``updating_a_team_labeling_task.rst``, ``deleting_a_team_labeling_task.rst``. Bodies are validated into the
request models of ``_models/_team_tasks.py`` (exactly the pages' rules); replies of the writes are parsed with
``write=True``: an answer that does not fit is returned raw, because the change was applied.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow_provider_modelarts._models._parse import request_json
from airflow_provider_modelarts.client._requests.call import (
    ApiCall,
    check_page,
    coerce_model,
    dataset_path,
    model_parser,
    query_value,
    workforce_task_path,
)
from airflow_provider_modelarts.models import (
    CreateWorkforceTaskRequest,
    CreateWorkforceTaskResponse,
    ListWorkforceTasksResponse,
    StartWorkforceTaskRequest,
    UpdateWorkforceTaskRequest,
    WorkforceTaskChangeResponse,
)

__all__ = [
    "MAX_TASK_PAGE_SIZE",
    "create_workforce_task",
    "delete_workforce_task",
    "list_workforce_tasks",
    "start_workforce_task",
    "update_workforce_task",
]

#: ListWorkforceTasks: "limit ... The value ranges from 1 to 1000. The default value is 1000."
MAX_TASK_PAGE_SIZE = 1000

_parse_created = model_parser(CreateWorkforceTaskResponse, write=True)
_parse_changed = model_parser(WorkforceTaskChangeResponse, write=True)
_parse_task_list = model_parser(ListWorkforceTasksResponse)


def create_workforce_task(
    project_id: str, dataset_id: str, body: CreateWorkforceTaskRequest | Mapping[str, Any]
) -> ApiCall[CreateWorkforceTaskResponse]:
    request = coerce_model(CreateWorkforceTaskRequest, body, "body")
    return ApiCall(
        "create_workforce_task",
        "POST",
        f"{dataset_path(project_id, dataset_id)}/workforce-tasks",
        None,
        request_json(request),
        _parse_created,
        # A re-sent create after a lost answer can make a second task of the name: sent once; the hook
        # repeats its list-then-create step instead.
        repeatable=False,
    )


def list_workforce_tasks(
    project_id: str,
    dataset_id: str,
    *,
    limit: int | None = None,
    offset: int | None = None,
    **filters: Any,
) -> ApiCall[ListWorkforceTasksResponse]:
    """One page of a dataset's team labeling tasks.

    The page documents only ``limit`` and ``offset`` (a page number); other keyword arguments are sent as
    query parameters unchanged, for service editions that filter more. ``None`` leaves a value to the service.
    """
    check_page(MAX_TASK_PAGE_SIZE if limit is None else limit, offset or 0, MAX_TASK_PAGE_SIZE)
    params = [("limit", limit), ("offset", offset), *filters.items()]
    query = tuple((key, query_value(value)) for key, value in params if value is not None)
    return ApiCall(
        "list_workforce_tasks",
        "GET",
        f"{dataset_path(project_id, dataset_id)}/workforce-tasks",
        query or None,
        None,
        _parse_task_list,
    )


def start_workforce_task(
    project_id: str,
    dataset_id: str,
    workforce_task_id: str,
    body: StartWorkforceTaskRequest | Mapping[str, Any] | None = None,
) -> ApiCall[WorkforceTaskChangeResponse]:
    # Every body parameter of the start page is optional; no body is sent as ``{}``.
    request = coerce_model(StartWorkforceTaskRequest, {} if body is None else body, "body")
    return ApiCall(
        "start_workforce_task",
        "POST",
        workforce_task_path(project_id, dataset_id, workforce_task_id),
        None,
        request_json(request),
        _parse_changed,
        # Sent once, like create: after a lost answer the hook looks at the task's status before starting.
        repeatable=False,
    )


def update_workforce_task(
    project_id: str,
    dataset_id: str,
    workforce_task_id: str,
    body: UpdateWorkforceTaskRequest | Mapping[str, Any],
) -> ApiCall[WorkforceTaskChangeResponse]:
    request = coerce_model(UpdateWorkforceTaskRequest, body, "body")
    return ApiCall(
        "update_workforce_task",
        "PUT",
        workforce_task_path(project_id, dataset_id, workforce_task_id),
        None,
        request_json(request),
        _parse_changed,
    )


def delete_workforce_task(
    project_id: str, dataset_id: str, workforce_task_id: str
) -> ApiCall[WorkforceTaskChangeResponse]:
    # The page answers 204 No Content; an empty body parses to an empty reply.
    return ApiCall(
        "delete_workforce_task",
        "DELETE",
        workforce_task_path(project_id, dataset_id, workforce_task_id),
        None,
        None,
        _parse_changed,
    )
