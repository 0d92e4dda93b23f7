"""Request building shared by the sync and async clients.

Each public client method is ``build -> send -> parse``. Building and parsing are pure and live here, so
the two clients differ only in how they send and sleep (see ``client.py``). Every builder validates its
input before returning, so a bad sample or id fails with a clear message and nothing is sent.

Bodies are serialised exactly once per call, here, with ``model_dump_json(by_alias=True, exclude_none=True)``;
the resulting bytes are what the signer hashes and what is re-sent unchanged on a retry.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, Generic, TypeVar
from urllib.parse import quote

from pydantic import BaseModel, TypeAdapter, ValidationError

from airflow_provider_modelarts.errors import ModelArtsError
from airflow_provider_modelarts.models import (
    STRICT_INPUT_CONTEXT,
    AcceptanceAction,
    AcceptanceReport,
    BatchResponse,
    CreateWorkforceSamplingTaskRequest,
    CreateWorkforceSamplingTaskResponse,
    DescribeSampleResp,
    LabelFormat,
    ListSamplesResponse,
    Sample,
    SampleLabels,
    SampleValidationError,
    UpdateAcceptanceStatusResponse,
    UpdateSamplesRequest,
    UpdateWorkforceSamplingTaskRequest,
    UpdateWorkforceTaskSamplesRequest,
    UploadSamplesRequest,
    UploadSamplesResponse,
    WorkforceTask,
    parse_response,
    parse_sample,
)

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

JSON_HEADERS: Mapping[str, str] = {"Content-Type": "application/json"}

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

Params = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class ApiCall(Generic[T]):
    """Everything needed to send one API request and turn its successful answer into a result.

    ``path`` is already percent-encoded and relative to the client's base URL; ``body`` is the exact JSON
    bytes to send (``None`` for no body).
    """

    operation: str
    method: str
    path: str
    params: Params | None
    body: bytes | None
    parse: Callable[[bytes], T]


class ResponseParseError(ModelArtsError):
    """A 2xx answer whose body does not match the documented response (wrong endpoint, proxy page, ...)."""


# --------------------------------------------------------------------------------------------------- paths


def path_segment(name: str, value: str) -> str:
    """Percent-encode one path id so that ``/``, ``?``, ``#`` or spaces in an id cannot change the URL.

    ``.`` and ``..`` are refused because URL normalisation would turn them into a different resource.
    """
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, got {type(value).__name__}")
    if not value or not value.strip():
        raise ValueError(f"{name} must be a non-empty string")
    if value in (".", ".."):
        raise ValueError(f"{name} must not be {value!r}")
    return quote(value, safe="")


def project_path(project_id: str) -> str:
    return "/v2/" + path_segment("project_id", project_id)


def dataset_path(project_id: str, dataset_id: str) -> str:
    return f"{project_path(project_id)}/datasets/{path_segment('dataset_id', dataset_id)}"


def workforce_task_path(project_id: str, dataset_id: str, workforce_task_id: str) -> str:
    return (
        f"{dataset_path(project_id, dataset_id)}/workforce-tasks/"
        f"{path_segment('workforce_task_id', workforce_task_id)}"
    )


# ---------------------------------------------------------------------------------------------- parsing


def model_parser(model: type[M]) -> Callable[[bytes], M]:
    """A parser for a JSON body; an empty body (some PUTs answer 200 with nothing) becomes an empty model."""

    def parse(content: bytes) -> M:
        try:
            return parse_response(model, content if content and not content.isspace() else {})
        except ValidationError as exc:
            # Only locations and reasons, never input values: the body may echo sample data back.
            first = exc.errors(include_url=False, include_input=False)[0]
            where = ".".join(str(part) for part in first["loc"]) or "<body>"
            raise ResponseParseError(
                f"The service answered with a body that is not a valid {model.__name__} "
                f"({exc.error_count()} problem(s), first at {where}: {first['msg']})."
            ) from None

    parse.__qualname__ = f"parse_{model.__name__}"
    return parse


def parse_json_object(content: bytes) -> dict[str, Any]:
    try:
        value = json.loads(content) if content.strip() else {}
    except ValueError:
        raise ResponseParseError("The service answered with a body that is not JSON.") from None
    if not isinstance(value, dict):
        raise ResponseParseError("The service answered with JSON that is not an object.")
    return value


_parse_upload = model_parser(UploadSamplesResponse)
_parse_batch = model_parser(BatchResponse)
_parse_acceptance_status = model_parser(UpdateAcceptanceStatusResponse)
_parse_start_acceptance = model_parser(CreateWorkforceSamplingTaskResponse)
_parse_task = model_parser(WorkforceTask)
_parse_report = model_parser(AcceptanceReport)
_parse_sample_list = model_parser(ListSamplesResponse)


# --------------------------------------------------------------------------------------------- inputs


def coerce_samples(model: type[M], samples: Iterable[M | Mapping[str, Any]]) -> list[M]:
    """Validate every mapping into ``model``; model instances pass through untouched (they are valid already).

    All bad samples are reported together, each naming its index and field, so one run shows every problem.
    """
    if isinstance(samples, (str, bytes, Mapping, BaseModel)):
        raise TypeError(
            f"samples must be a sequence of {model.__name__} objects or mappings, not a single item"
        )
    items: list[M] = []
    problems: list[Any] = []
    for index, raw in enumerate(samples):
        if isinstance(raw, model):
            items.append(raw)
            continue
        try:
            items.append(parse_sample(model, raw, index))
        except SampleValidationError as exc:
            problems.extend(exc.problems)
    if problems:
        raise SampleValidationError(problems)
    if not items:
        raise ValueError("samples must contain at least one sample")
    return items


def coerce_model(model: type[M], value: M | Mapping[str, Any], name: str) -> M:
    if isinstance(value, model):
        return value
    if not isinstance(value, Mapping):
        raise TypeError(f"{name} must be a {model.__name__} or a mapping, got {type(value).__name__}")
    return model.model_validate(value, context=dict(STRICT_INPUT_CONTEXT))


@functools.cache
def _adapter(model: type[BaseModel]) -> TypeAdapter[Any]:
    return TypeAdapter(model)


def dump(model: BaseModel) -> bytes:
    """The documented JSON of a request model, as bytes.

    Same output as ``model_dump_json(by_alias=True, exclude_none=True)``, but the adapter's ``dump_json``
    produces bytes directly: for a batch of images that skips a str round trip of several megabytes.
    """
    return _adapter(type(model)).dump_json(model, by_alias=True, exclude_none=True)


def _wrap(model: type[M], **fields: Any) -> M:
    """A batch request around items that are validated already.

    ``model_construct`` because pydantic re-runs each item's model validators when validated instances are
    nested into a new model: for a batch of 100 samples that doubled the cost of building the request.
    """
    return model.model_construct(**{key: value for key, value in fields.items() if value is not None})


def _email(email: str | None) -> str | None:
    if email is not None and (not isinstance(email, str) or "@" not in email):
        raise ValueError(f"email must be a team member's email address, got {email!r}")
    return email


def query_value(value: Any) -> str:
    """Query strings are text: booleans as the service spells them, enums by value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return str(value.value)
    return str(value)


def _check_page(limit: int, offset: int) -> None:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE_SIZE:
        raise ValueError(f"limit must be an integer from 1 to {MAX_PAGE_SIZE}, got {limit!r}")
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise ValueError(f"offset must be a non-negative integer, got {offset!r}")


def _sample_list_params(
    sample_state: str | Enum | None,
    limit: int,
    offset: int,
    filters: Mapping[str, Any],
    allowed: frozenset[str],
    operation: str,
) -> Params:
    _check_page(limit, offset)
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
    samples: Sequence[Sample | Mapping[str, Any]],
    *,
    final_annotation: bool | None = None,
    label_format: LabelFormat | Mapping[str, Any] | None = None,
) -> ApiCall[UploadSamplesResponse]:
    if final_annotation is not None and not isinstance(final_annotation, bool):
        raise TypeError(f"final_annotation must be a bool, got {type(final_annotation).__name__}")
    request = _wrap(
        UploadSamplesRequest,
        samples=coerce_samples(Sample, samples),
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
        dump(request),
        _parse_upload,
    )


def update_samples(
    project_id: str,
    dataset_id: str,
    samples: Sequence[SampleLabels | Mapping[str, Any]],
    *,
    email: str | None = None,
) -> ApiCall[BatchResponse]:
    request = _wrap(UpdateSamplesRequest, samples=coerce_samples(SampleLabels, samples), email=_email(email))
    return ApiCall(
        "update_samples",
        "PUT",
        f"{dataset_path(project_id, dataset_id)}/data-annotations/samples",
        None,
        dump(request),
        _parse_batch,
    )


def update_workforce_task_samples(
    project_id: str,
    dataset_id: str,
    workforce_task_id: str,
    samples: Sequence[SampleLabels | Mapping[str, Any]],
    *,
    email: str | None = None,
) -> ApiCall[BatchResponse]:
    request = _wrap(
        UpdateWorkforceTaskSamplesRequest, samples=coerce_samples(SampleLabels, samples), email=_email(email)
    )
    return ApiCall(
        "update_workforce_task_samples",
        "PUT",
        f"{workforce_task_path(project_id, dataset_id, workforce_task_id)}/data-annotations/samples",
        None,
        dump(request),
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
        dump(request),
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
        dump(request),
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
        content = dump(body)
    else:
        content = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    return ApiCall("send_raw", method.upper(), path, query or None, content, bytes)


# --------------------------------------------------------------------------------------------- paging


class SamplePager:
    """Paging state for the ``iter_*samples`` helpers, shared by both clients.

    The sample-list pages define ``offset`` as the *start page of the paging list* (default 0), so it counts
    pages, not records: page ``n`` is ``offset=n`` with ``limit=page_size``. Iteration stops at the first
    short or empty page. A sample id already yielded is not yielded again (pages shift when samples are added
    while iterating), and a page made only of repeats ends the iteration, so a server that ignores ``offset``
    cannot cause an endless loop.
    """

    __slots__ = ("_seen", "done", "offset", "page_size")

    def __init__(self, page_size: int) -> None:
        if (
            isinstance(page_size, bool)
            or not isinstance(page_size, int)
            or not 1 <= page_size <= MAX_PAGE_SIZE
        ):
            raise ValueError(f"page_size must be an integer from 1 to {MAX_PAGE_SIZE}, got {page_size!r}")
        self.page_size = page_size
        self.offset = 0
        self.done = False
        self._seen: set[str] = set()

    def accept(self, page: ListSamplesResponse) -> list[DescribeSampleResp]:
        samples = list(page.samples or ())
        fresh: list[DescribeSampleResp] = []
        for sample in samples:
            sample_id = sample.sample_id
            if sample_id is not None:
                if sample_id in self._seen:
                    continue
                self._seen.add(sample_id)
            fresh.append(sample)
        self.offset += 1
        if len(samples) < self.page_size or not fresh:
            self.done = True
        return fresh
