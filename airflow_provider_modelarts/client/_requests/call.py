"""One API request before and after sending: the call description, paths, input coercion, reply parsing.

Each public client method is ``build -> send -> parse``. The builders (``labeling.py``, ``team_tasks.py``
beside this module) use the pieces here to validate input and serialise the body once; the client sends the
:class:`ApiCall` and hands the 2xx body to ``call.parse``. No Airflow and no HTTP here.

Replies are read, not judged (issue 10): they are parsed leniently (:func:`parse_response`), and a write call
whose 2xx answer still does not fit its model was applied all the same, so it is returned as an
:class:`UnparsedReply` carrying the raw answer instead of raising after the fact.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, Generic, TypeVar, cast
from urllib.parse import quote

from pydantic import BaseModel, Field, ValidationError, create_model

from airflow_provider_modelarts._models._parse import SerializedSample
from airflow_provider_modelarts._models._sendable import refuse_unsendable
from airflow_provider_modelarts.errors import ResponseParseError
from airflow_provider_modelarts.models import (
    STRICT_INPUT_CONTEXT,
    SampleValidationError,
    parse_response,
    parse_samples,
)

__all__ = [
    "JSON_HEADERS",
    "ApiCall",
    "Params",
    "UnparsedReply",
    "check_page",
    "coerce_model",
    "coerce_samples",
    "dataset_path",
    "model_parser",
    "parse_json_object",
    "path_segment",
    "project_path",
    "query_value",
    "workforce_task_path",
]

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

JSON_HEADERS: Mapping[str, str] = {"Content-Type": "application/json"}

Params = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class ApiCall(Generic[T]):
    """Everything needed to send one API request and turn its successful answer into a result.

    ``path`` is already percent-encoded and relative to the client's base URL; ``body`` is the exact JSON
    bytes to send (``None`` for no body). A call that is not ``repeatable`` is sent once: the client does not
    retry it (see :mod:`airflow_provider_modelarts.retries`).
    """

    operation: str
    method: str
    path: str
    params: Params | None
    body: bytes | None
    parse: Callable[[bytes], T]
    repeatable: bool = True


class UnparsedReply(BaseModel):
    """Mixed into the reply of a write call whose 2xx answer did not fit the reply model.

    The service applied the call, so nothing is raised: every documented field is ``None``, ``raw`` is the
    answer (decoded JSON, or text) and ``parse_problems`` says what did not fit. Test with
    ``isinstance(reply, UnparsedReply)``; the reply is still an instance of the documented model.
    """

    raw: Any = Field(default=None, exclude=True)
    parse_problems: tuple[str, ...] = Field(default=(), exclude=True)


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


def _problems(exc: ValidationError) -> tuple[str, ...]:
    # Only locations and reasons, never input values: the body may echo sample data back.
    details = exc.errors(include_url=False, include_input=False)
    return tuple(f"{'.'.join(str(p) for p in d['loc']) or '<body>'}: {d['msg']}" for d in details)


@functools.cache
def _unparsed_class(model: type[M]) -> type[M]:
    return cast("type[M]", create_model(f"Unparsed{model.__name__}", __base__=(model, UnparsedReply)))


def _raw_value(content: bytes) -> Any:
    try:
        return json.loads(content)
    except ValueError:
        return content.decode("utf-8", errors="replace")


def model_parser(model: type[M], *, write: bool = False) -> Callable[[bytes], M]:
    """A lenient parser for a JSON body; an empty body (some PUTs answer 200 with nothing) is an empty model.

    For a read, a body that does not fit raises :class:`ResponseParseError` (nothing was changed, and a
    caller must not act on data it could not read). For a ``write``, the call was applied: the reply is an
    :class:`UnparsedReply` variant of ``model`` with the raw answer.
    """

    def parse(content: bytes) -> M:
        try:
            return parse_response(model, content if content and not content.isspace() else {})
        except ValidationError as exc:
            problems = _problems(exc)
        if write:
            unparsed = _unparsed_class(model)
            return unparsed.model_construct(raw=_raw_value(content), parse_problems=problems)
        raise ResponseParseError(
            f"The service answered with a body that is not a valid {model.__name__} "
            f"({len(problems)} problem(s), first at {problems[0]}).",
            raw=content,
        )

    parse.__qualname__ = f"parse_{model.__name__}"
    return parse


def parse_json_object(content: bytes) -> dict[str, Any]:
    try:
        value = json.loads(content) if content.strip() else {}
    except ValueError:
        raise ResponseParseError("The service answered with a body that is not JSON.", raw=content) from None
    if not isinstance(value, dict):
        raise ResponseParseError("The service answered with JSON that is not an object.", raw=content)
    return value


# --------------------------------------------------------------------------------------------- inputs


def coerce_samples(
    model: type[M], samples: Iterable[M | SerializedSample | Mapping[str, Any]]
) -> list[M | SerializedSample]:
    """Validate every mapping into ``model`` (all of them in one call of the models), as its request JSON;
    model instances and :class:`SerializedSample` pass through untouched (they are valid already).

    All bad samples are reported together, each naming its index and field, so one run shows every problem.
    An empty list is sent as it is: the pages mark ``samples`` optional ("Mandatory: No").
    """
    if isinstance(samples, (str, bytes, Mapping, BaseModel)):
        raise TypeError(
            f"samples must be a sequence of {model.__name__} objects or mappings, not a single item"
        )
    items: list[Any] = list(samples)
    if all(type(item) is SerializedSample for item in items):  # a bulk run's batch: written out already
        return items
    written = [(i, raw) for i, raw in enumerate(items) if not isinstance(raw, (model, SerializedSample))]
    problems: list[Any] = []
    # One call of the models for all written samples, each one's JSON with it.
    for (index, _), result in zip(written, parse_samples(model, written), strict=True):
        if isinstance(result, SampleValidationError):
            problems.extend(result.problems)
        else:
            items[index] = SerializedSample(result.json)
    if problems:
        raise SampleValidationError(problems)
    return items


def coerce_model(model: type[M], value: M | Mapping[str, Any], name: str) -> M:
    """A request object from a model instance or a user-written mapping (validated strictly)."""
    if isinstance(value, model):
        return value
    if not isinstance(value, Mapping):
        raise TypeError(f"{name} must be a {model.__name__} or a mapping, got {type(value).__name__}")
    validated = model.model_validate(value, context=dict(STRICT_INPUT_CONTEXT))
    refuse_unsendable(model.__name__, value)  # what is sent is the user's data: it must be plain JSON
    return validated


def query_value(value: Any) -> str:
    """Query strings are text: booleans as the service spells them, enums by value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return str(value.value)
    return str(value)


def check_page(limit: int, offset: int, max_limit: int) -> None:
    """``limit`` (1..``max_limit`` per page) and ``offset`` (a page number from 0), as the list pages say."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= max_limit:
        raise ValueError(f"limit must be an integer from 1 to {max_limit}, got {limit!r}")
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise ValueError(f"offset must be a non-negative integer, got {offset!r}")
