"""Request builders of the dataset import tasks: create, list (one page), details.

Pages: ``../shared/spec/related/creating_an_import_task.rst``, ``querying_the_dataset_import_task_list.rst``,
``querying_details_about_a_dataset_import_task.rst``. The create body is validated into
``CreateImportTaskRequest`` (exactly the page's rules); its reply is parsed with ``write=True``: an answer
that does not fit is returned raw, because the import was created. Create is sent once (``repeatable=False``):
the page gives no key that would make a re-sent create harmless, so after a lost answer
:mod:`airflow_provider_modelarts.import_tasks` looks at the list instead.
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
    path_segment,
)
from airflow_provider_modelarts.models import (
    CreateImportTaskRequest,
    CreateImportTaskResponse,
    ImportTaskStatusResp,
    ListImportTasksResponse,
)

__all__ = ["MAX_IMPORT_PAGE_SIZE", "create_import_task", "get_import_task", "list_import_tasks"]

#: ListImportTasks, Table 2: "limit ... The value ranges from 1 to 100. The default value is 10."
MAX_IMPORT_PAGE_SIZE = 100

_parse_created = model_parser(CreateImportTaskResponse, write=True)
_parse_list = model_parser(ListImportTasksResponse)
_parse_task = model_parser(ImportTaskStatusResp)


def _import_tasks_path(project_id: str, dataset_id: str) -> str:
    return f"{dataset_path(project_id, dataset_id)}/import-tasks"


def create_import_task(
    project_id: str, dataset_id: str, body: CreateImportTaskRequest | Mapping[str, Any]
) -> ApiCall[CreateImportTaskResponse]:
    request = coerce_model(CreateImportTaskRequest, body, "body")
    return ApiCall(
        "create_import_task",
        "POST",
        _import_tasks_path(project_id, dataset_id),
        None,
        request_json(request),
        _parse_created,
        # A re-sent create after a lost answer could import twice: sent once; the domain module looks at
        # the list instead.
        repeatable=False,
    )


def list_import_tasks(
    project_id: str, dataset_id: str, *, limit: int | None = None, offset: int | None = None
) -> ApiCall[ListImportTasksResponse]:
    """One page of a dataset's import tasks: the page documents only ``limit`` (1-100) and ``offset`` (the
    start page); ``None`` leaves a value to the service (10 and 0)."""
    check_page(MAX_IMPORT_PAGE_SIZE if limit is None else limit, offset or 0, MAX_IMPORT_PAGE_SIZE)
    params = (("limit", limit), ("offset", offset))
    query = tuple((key, str(value)) for key, value in params if value is not None)
    return ApiCall(
        "list_import_tasks",
        "GET",
        _import_tasks_path(project_id, dataset_id),
        query or None,
        None,
        _parse_list,
    )


def get_import_task(project_id: str, dataset_id: str, task_id: str) -> ApiCall[ImportTaskStatusResp]:
    path = f"{_import_tasks_path(project_id, dataset_id)}/{path_segment('task_id', task_id)}"
    return ApiCall("get_import_task", "GET", path, None, None, _parse_task)
