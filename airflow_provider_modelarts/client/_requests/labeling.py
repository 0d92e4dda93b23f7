"""Request builders for the sample, acceptance and read calls (the team task life cycle is in
``team_tasks.py`` beside this module).

Each builder validates its input before returning an :class:`ApiCall`, so a bad sample or id fails with a
clear message and nothing is sent. Bodies are serialised exactly once per call, here, with
``model_dump_json(by_alias=True, exclude_none=True)``; the resulting bytes are what the signer hashes and
what is re-sent unchanged on a retry. Write calls parse their reply with ``write=True`` (see
:func:`~airflow_provider_modelarts.client._requests.call.model_parser`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from enum import Enum
from typing import Any, TypeVar

from pydantic import BaseModel

from airflow_provider_modelarts._models._parse import SerializedSample, request_json, serialize_sample
from airflow_provider_modelarts.client._requests.call import (
    ApiCall,
    Params,
    check_page,
    coerce_model,
    coerce_samples,
    dataset_path,
    model_parser,
    parse_json_object,
    project_path,
    query_value,
    workforce_task_path,
)
from airflow_provider_modelarts.models import (
    STRICT_INPUT_CONTEXT,
    AcceptanceAction,
    AcceptanceReport,
    BatchResponse,
    CreateWorkforceSamplingTaskRequest,
    CreateWorkforceSamplingTaskResponse,
    LabelFormat,
    ListSamplesResponse,
    Sample,
    SampleLabels,
    UpdateAcceptanceStatusResponse,
    UpdateSamplesRequest,
    UpdateWorkforceSamplingTaskRequest,
    UpdateWorkforceTaskSamplesRequest,
    UploadSamplesRequest,
    UploadSamplesResponse,
    WorkforceTask,
)

__all__ = [
    "DATASET_SAMPLE_FILTERS",
    "MAX_PAGE_SIZE",
    "WORKFORCE_TASK_SAMPLE_FILTERS",
    "add_samples",
    "coerce_model",
    "coerce_samples",
    "get_acceptance_report",
    "get_workforce_task",
    "list_datasets",
    "list_samples",
    "list_workforce_task_samples",
    "raw_call",
    "start_acceptance",
    "update_acceptance_status",
    "update_samples",
    "update_workforce_task_samples",
]

M = TypeVar("M", bound=BaseModel)

#: The sample-list pages document ``limit`` as 1-100.
MAX_PAGE_SIZE = 100

#: Query parameters documented for ``GET .../data-annotations/samples`` (besides limit/offset/sample_state).
DATASET_SAMPLE_FILTERS = frozenset(
    {
        "email",
        "high_score",
        "label_name",
        "label_type",
        "locale",
        "low_score",
        "order",
        "preview",
        "process_parameter",
        "sample_type",
        "search_conditions",
        "version_id",
    }
)
#: Query parameters documented for ``GET .../workforce-tasks/{id}/data-annotations/samples``.
WORKFORCE_TASK_SAMPLE_FILTERS = frozenset(
    {"label_name", "label_type", "locale", "process_parameter", "search_conditions"}
)

_parse_upload = model_parser(UploadSamplesResponse, write=True)
_parse_batch = model_parser(BatchResponse, write=True)
_parse_acceptance_status = model_parser(UpdateAcceptanceStatusResponse, write=True)
_parse_start_acceptance = model_parser(CreateWorkforceSamplingTaskResponse, write=True)
_parse_task = model_parser(WorkforceTask)
_parse_report = model_parser(AcceptanceReport)
_parse_sample_list = model_parser(ListSamplesResponse)


def _wrap(model: type[M], **fields: Any) -> M:
    """A batch request around items that are validated already.

    ``model_construct`` because pydantic re-runs each item's model validators when validated instances are
    nested into a new model: for a batch of 100 samples that doubled the cost of building the request.
    """
    return model.model_construct(**{key: value for key, value in fields.items() if value is not None})


def _batch_body(model: type[BaseModel], samples: list[Any], **fields: Any) -> bytes:
    """The JSON body of a batch call: ``fields`` plus ``samples``, each sample serialised exactly once.

    Samples a bulk run validated and serialised already (:class:`SerializedSample`) go in as their bytes;
    a batch of only model instances is dumped in one call, as before.
    """
    if not any(type(sample) is SerializedSample for sample in samples):
        return request_json(_wrap(model, samples=samples, **fields))
    head = request_json(_wrap(model, **fields))  # no samples: ``{}`` or ``{"email":...}``
    items = b",".join(
        [
            sample.json if type(sample) is SerializedSample else serialize_sample(sample).json
            for sample in samples
        ]
    )
    separator = b"," if len(head) > 2 else b""
    return head[:-1] + separator + b'"samples":[' + items + b"]}"


def _email(email: str | None) -> str | None:
    # The pages type ``email`` as a String ("Email address of a labeling team member.") and state no format,
    # so only the type is checked; the service judges the address.
    if email is not None and not isinstance(email, str):
        raise TypeError(f"email must be a string, got {type(email).__name__}")
    return email


def _sample_list_params(
    sample_state: str | Enum | None,
    limit: int,
    offset: int,
    filters: Mapping[str, Any],
    allowed: frozenset[str],
    operation: str,
) -> Params:
    check_page(limit, offset, MAX_PAGE_SIZE)
    unknown = sorted(set(filters) - allowed)
    if unknown:
        raise TypeError(
            f"{operation}() got unknown filter(s) {', '.join(unknown)}; "
            f"the API accepts: {', '.join(sorted(allowed))}"
        )
    params: list[tuple[str, str]] = []
    if sample_state is not None:
        params.append(("sample_state", query_value(sample_state)))
    params.append(("limit", str(limit)))
    params.append(("offset", str(offset)))
    params.extend((key, query_value(value)) for key, value in filters.items() if value is not None)
    return tuple(params)


# ------------------------------------------------------------------------------------------- builders


def add_samples(
    project_id: str,
    dataset_id: str,
    samples: Sequence[Sample | SerializedSample | Mapping[str, Any]],
    *,
    final_annotation: bool | None = None,
    label_format: LabelFormat | Mapping[str, Any] | None = None,
) -> ApiCall[UploadSamplesResponse]:
    if final_annotation is not None and not isinstance(final_annotation, bool):
        raise TypeError(f"final_annotation must be a bool, got {type(final_annotation).__name__}")
    body = _batch_body(
        UploadSamplesRequest,
        coerce_samples(Sample, samples),
        final_annotation=final_annotation,
        label_format=None
        if label_format is None
        else coerce_model(LabelFormat, label_format, "label_format"),
    )
    return ApiCall(
        "add_samples",
        "POST",
        f"{dataset_path(project_id, dataset_id)}/data-annotations/samples",
        None,
        body,
        _parse_upload,
    )


def update_samples(
    project_id: str,
    dataset_id: str,
    samples: Sequence[SampleLabels | SerializedSample | Mapping[str, Any]],
    *,
    email: str | None = None,
) -> ApiCall[BatchResponse]:
    body = _batch_body(UpdateSamplesRequest, coerce_samples(SampleLabels, samples), email=_email(email))
    return ApiCall(
        "update_samples",
        "PUT",
        f"{dataset_path(project_id, dataset_id)}/data-annotations/samples",
        None,
        body,
        _parse_batch,
    )


def update_workforce_task_samples(
    project_id: str,
    dataset_id: str,
    workforce_task_id: str,
    samples: Sequence[SampleLabels | SerializedSample | Mapping[str, Any]],
    *,
    email: str | None = None,
) -> ApiCall[BatchResponse]:
    body = _batch_body(
        UpdateWorkforceTaskSamplesRequest, coerce_samples(SampleLabels, samples), email=_email(email)
    )
    return ApiCall(
        "update_workforce_task_samples",
        "PUT",
        f"{workforce_task_path(project_id, dataset_id, workforce_task_id)}/data-annotations/samples",
        None,
        body,
        _parse_batch,
    )


def update_acceptance_status(
    project_id: str,
    dataset_id: str,
    workforce_task_id: str,
    action: AcceptanceAction | int | str,
    *,
    overwrite_last_result: bool | None = None,
    locale: str = "en-us",
) -> ApiCall[UpdateAcceptanceStatusResponse]:
    if not locale:
        raise ValueError("locale is mandatory for the acceptance status API (for example 'en-us')")
    request = UpdateWorkforceSamplingTaskRequest(
        action=AcceptanceAction.parse(action), overwrite_last_result=overwrite_last_result
    )
    return ApiCall(
        "update_acceptance_status",
        "PUT",
        f"{workforce_task_path(project_id, dataset_id, workforce_task_id)}/acceptance/status",
        (("locale", locale),),
        request_json(request),
        _parse_acceptance_status,
    )


def start_acceptance(
    project_id: str,
    dataset_id: str,
    workforce_task_id: str,
    *,
    sampling_rate: float | None = None,
    sampling_num: int | None = None,
    **extra: Any,
) -> ApiCall[CreateWorkforceSamplingTaskResponse]:
    fields = {"sampling_rate": sampling_rate, "sampling_num": sampling_num, **extra}
    request = CreateWorkforceSamplingTaskRequest.model_validate(
        {key: value for key, value in fields.items() if value is not None}, context=dict(STRICT_INPUT_CONTEXT)
    )
    return ApiCall(
        "start_acceptance",
        "POST",
        f"{workforce_task_path(project_id, dataset_id, workforce_task_id)}/acceptance",
        None,
        request_json(request),
        _parse_start_acceptance,
    )


def get_workforce_task(
    project_id: str,
    dataset_id: str,
    workforce_task_id: str,
    *,
    sample_stats: bool | None = None,
    label_stats: bool | None = None,
    workforce_stats: bool | None = None,
) -> ApiCall[WorkforceTask]:
    flags = (
        ("sample_stats", sample_stats),
        ("label_stats", label_stats),
        ("workforce_stats", workforce_stats),
    )
    params = tuple((key, query_value(value)) for key, value in flags if value is not None)
    return ApiCall(
        "get_workforce_task",
        "GET",
        workforce_task_path(project_id, dataset_id, workforce_task_id),
        params or None,
        None,
        _parse_task,
    )


def get_acceptance_report(
    project_id: str, dataset_id: str, workforce_task_id: str, checking_task_id: str | None = None
) -> ApiCall[AcceptanceReport]:
    # The page marks checking_task_id mandatory but its own example omits it; omitting it asks for the
    # current acceptance task's report, which is what a caller without an id wants.
    params = None if checking_task_id is None else (("checking_task_id", checking_task_id),)
    return ApiCall(
        "get_acceptance_report",
        "GET",
        f"{workforce_task_path(project_id, dataset_id, workforce_task_id)}/acceptance/report",
        params,
        None,
        _parse_report,
    )


def list_samples(
    project_id: str,
    dataset_id: str,
    *,
    sample_state: str | Enum | None = None,
    limit: int = MAX_PAGE_SIZE,
    offset: int = 0,
    **filters: Any,
) -> ApiCall[ListSamplesResponse]:
    params = _sample_list_params(sample_state, limit, offset, filters, DATASET_SAMPLE_FILTERS, "list_samples")
    return ApiCall(
        "list_samples",
        "GET",
        f"{dataset_path(project_id, dataset_id)}/data-annotations/samples",
        params,
        None,
        _parse_sample_list,
    )


def list_workforce_task_samples(
    project_id: str,
    dataset_id: str,
    workforce_task_id: str,
    *,
    sample_state: str | Enum | None = None,
    limit: int = MAX_PAGE_SIZE,
    offset: int = 0,
    **filters: Any,
) -> ApiCall[ListSamplesResponse]:
    params = _sample_list_params(
        sample_state, limit, offset, filters, WORKFORCE_TASK_SAMPLE_FILTERS, "list_workforce_task_samples"
    )
    return ApiCall(
        "list_workforce_task_samples",
        "GET",
        f"{workforce_task_path(project_id, dataset_id, workforce_task_id)}/data-annotations/samples",
        params,
        None,
        _parse_sample_list,
    )


def list_datasets(project_id: str, *, limit: int = 1) -> ApiCall[dict[str, Any]]:
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ValueError(f"limit must be a positive integer, got {limit!r}")
    return ApiCall(
        "list_datasets",
        "GET",
        f"{project_path(project_id)}/datasets",
        (("limit", str(limit)),),
        None,
        parse_json_object,
    )


def raw_call(
    method: str, path: str, *, params: Mapping[str, Any] | Sequence[tuple[str, Any]] | None, body: Any
) -> ApiCall[bytes]:
    """An arbitrary call (``send_raw``): the path is used as given; the caller encodes it."""
    if not method or not method.isalpha():
        raise ValueError(f"method must be an HTTP method name, got {method!r}")
    if not path.startswith("/"):
        path = "/" + path
    pairs = params.items() if isinstance(params, Mapping) else (params or ())
    query: Params = tuple((str(key), query_value(value)) for key, value in pairs if value is not None)
    content: bytes | None
    if body is None or isinstance(body, bytes):
        content = body
    elif isinstance(body, BaseModel):
        content = request_json(body)
    else:
        content = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    return ApiCall("send_raw", method.upper(), path, query or None, content, bytes)
