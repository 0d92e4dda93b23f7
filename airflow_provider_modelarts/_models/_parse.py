"""Turning user-written samples into models, with errors a DAG author can act on.

Operators validate every sample before the first request is sent; a failure must say which sample
(position and name) and which field is wrong, in one line each, and never dump the sample's data.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Final, NamedTuple, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

from .._text import quote
from ..errors import ModelArtsError
from ._base import RULE_ERROR, STRICT_INPUT_CONTEXT
from ._modes import validate_strictly
from ._sendable import MAX_DEPTH, plainly_sendable, unsendable

__all__ = [
    "SampleProblem",
    "SampleValidationError",
    "SerializedSample",
    "Valid",
    "format_loc",
    "parse_sample",
    "parse_samples",
    "problems_from_error",
    "request_json",
    "serialize_sample",
    "to_payload",
]

M = TypeVar("M", bound=BaseModel)

MAX_LINES: Final = 20
"""Problems listed in ``str(SampleValidationError)`` before "... and N more"."""

# pydantic's own messages are written for developers; these read better next to a field path in a task log.
_SHORT_MESSAGES: Final[dict[str, str]] = {
    "missing": "is required",
    "float_parsing": "must be a number",
    "float_type": "must be a number",
    "int_parsing": "must be an integer",
    "int_type": "must be an integer",
    "int_from_float": "must be an integer",
    "string_type": "must be a string",
    "bool_parsing": "must be true or false",
    "bool_type": "must be true or false",
    "list_type": "must be a list",
    "dict_type": "must be an object",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "finite_number": "must be a finite number",
    "invalid_key": "keys must be strings",
    "string_unicode": "text contains a lone surrogate, which is not valid UTF-8",
}


class SerializedSample(NamedTuple):
    """A sample already validated (:func:`parse_samples`) and serialised once, to its documented JSON.

    A bulk run validates every sample before sending any (``on_invalid="fail"`` sends nothing if one is
    bad). Keeping 100,000 parsed model trees between the two passes makes the interpreter's cyclic garbage
    collector walk them again and again (measured: 4x the cost of validation itself); their JSON bytes are
    one flat object each, and a tuple of bytes and text is one the collector stops tracking at its first
    look (a class instance, even with slots, it would walk at every full collection). The request builders
    put ``json`` into the batch body as it is.
    """

    json: bytes
    key: str | None = None  # the sample's name / id, for reporting results


def serialize_sample(model: BaseModel, key: str | None = None) -> SerializedSample:
    """``model``'s request JSON (documented keys, no nulls), as the request builders would write it."""
    return SerializedSample(request_json(model), key)


def request_json(model: BaseModel) -> bytes:
    """The documented JSON of a request model, as bytes: the one serialiser of every request body.

    Same output as ``model_dump_json(by_alias=True, exclude_none=True)``, but bytes directly (for a batch of
    images that skips a str round trip of several megabytes), from the adapter's serializer itself: its
    ``dump_json`` wrapper cost a third of the serialising, once per sample of a bulk run.
    """
    return _adapter(type(model)).serializer.to_json(model, by_alias=True, exclude_none=True)


@functools.cache
def _adapter(model_cls: type[BaseModel]) -> TypeAdapter[Any]:
    return TypeAdapter(model_cls)


def to_payload(model: BaseModel) -> dict[str, Any]:
    """The JSON body of ``model``: documented keys (``@modelarts:`` aliases), no nulls, secrets revealed.

    A reply may hold values kept as the raw JSON they came as (see :mod:`._base`); they are written back
    unchanged, without pydantic's warning that they are not of the field's type.
    """
    return model.model_dump(mode="json", by_alias=True, exclude_none=True, warnings=False)


def format_loc(loc: Sequence[int | str]) -> str:
    """``("labels", 0, "property", "@modelarts:feature")`` -> ``labels[0].property.@modelarts:feature``."""
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        elif parts:
            parts.append(f".{item}")
        else:
            parts.append(item)
    return "".join(parts)


@dataclass(frozen=True)
class SampleProblem:
    """One thing wrong with one sample. ``index`` is the sample's position in the input (0-based)."""

    index: int
    name: str | None
    field: str
    message: str

    def __str__(self) -> str:
        # Names are user text and can be megabytes long: a problem line must stay one readable line.
        who = f"sample #{self.index}" + (f" ({quote(self.name)})" if self.name else "")
        return f"{who}: {self.field}: {self.message}" if self.field else f"{who}: {self.message}"


class SampleValidationError(ModelArtsError, ValueError):
    """Samples that would be rejected, found before any request is sent.

    ``problems`` has one entry per error; ``str()`` lists one per line (the first 20, then "... and N more").
    Operators collect the problems of all samples of a batch into one exception.
    """

    def __init__(self, problems: Sequence[SampleProblem]) -> None:
        self.problems: list[SampleProblem] = list(problems)
        super().__init__(self._render())

    def _render(self) -> str:
        count = len(self.problems)
        samples = len({p.index for p in self.problems})
        head = f"{count} problem{'s' if count != 1 else ''} in {samples} sample{'s' if samples != 1 else ''}:"
        lines = [head, *(f"  {p}" for p in self.problems[:MAX_LINES])]
        if count > MAX_LINES:
            lines.append(f"  ... and {count - MAX_LINES} more")
        return "\n".join(lines)

    def __reduce__(self) -> tuple[Any, ...]:
        # Exceptions cross process boundaries (Airflow task runner); keep the structured problems.
        return (type(self), (self.problems,))


def _problem(index: int, name: str | None, error: ErrorDetails) -> SampleProblem:
    loc: tuple[int | str, ...] = tuple(error["loc"])
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == RULE_ERROR and "field" in ctx:
        # Checks that look at a whole object name the sub-field they are about; point the path at it.
        return SampleProblem(
            index, name, format_loc((*loc, *str(ctx["field"]).split("."))), str(ctx["detail"])
        )
    message = _SHORT_MESSAGES.get(kind, error["msg"])
    return SampleProblem(index, name, format_loc(loc), message)


def problems_from_error(error: ValidationError, index: int, name: str | None) -> list[SampleProblem]:
    """One :class:`SampleProblem` per pydantic error, with field paths in the spec's spelling."""
    return [_problem(index, name, detail) for detail in error.errors(include_url=False, include_input=False)]


def _sample_name(raw: Any) -> str | None:
    getter = raw.get if isinstance(raw, Mapping) else lambda key: getattr(raw, key, None)
    for key in ("name", "sample_id", "sample_name"):
        value = getter(key)
        if isinstance(value, str) and value:
            return value
    return None


# Validators only read the context, so one shared dict serves every call (no copy per sample).
_STRICT_CONTEXT: Final[dict[str, Any]] = dict(STRICT_INPUT_CONTEXT)

_BINARY: Final = (bytes, bytearray, memoryview)


class Valid(NamedTuple):
    """A sample that passed :func:`parse_samples`: its model and the JSON a request will carry."""

    model: Any
    json: bytes


def parse_sample(model_cls: type[M], raw: M | Mapping[str, Any], index: int) -> M:
    """Validate one user-written sample strictly (unknown keys and undocumented options are errors).

    Besides the model's rules, the sample must hold only what a JSON body can carry unchanged: no NaN or
    infinite numbers, no lone surrogates, no non-string keys, no arbitrary objects, nesting at most
    :data:`MAX_DEPTH` levels (see :mod:`._sendable`). That is checked on the data as the user gave it, which
    is what gets sent, so custom label attributes and metadata are covered too. ``bytes`` in ``data`` are
    the one exception: the model base64-encodes them, and the encoded text is what is checked and sent.

    ``raw`` may already be a model instance: it is dumped and validated again, because instances can be built
    with ``model_construct`` or changed after construction, and were not checked for unknown keys. Raises
    :class:`SampleValidationError` naming the sample by its ``index`` and its ``name`` / ``sample_id``.
    """
    (result,) = parse_samples(model_cls, [(index, raw)])
    if isinstance(result, SampleValidationError):
        raise result
    return result.model


def parse_samples(
    model_cls: type[BaseModel], items: Sequence[tuple[int, Any]]
) -> list[Valid | SampleValidationError]:
    """:func:`parse_sample` of many ``(index, raw)`` samples, in order: each one's model and request JSON,
    or its error.

    The samples are validated in one pydantic call; only when that call blames some of them are the others
    validated again, in a second call. Whether a JSON body can carry each one as written is one fast walk
    over all of them (:mod:`._sendable`); only when that says no is each sample walked on its own, and only
    a sample that fails it walked again to name the field. Each valid sample is then serialised once.
    """
    if any(type(raw) is not dict for _, raw in items):
        results: list[Valid | SampleValidationError | None] = []
        plain: list[tuple[int, Any]] = []
        for index, raw in items:
            try:
                plain.append((index, _plain_data(raw, index)))
                results.append(None)
            except SampleValidationError as error:
                results.append(error)
        checked = iter(parse_samples(model_cls, plain))
        return [next(checked) if result is None else result for result in results]
    all_plain = plainly_sendable([data for _, data in items], depth=-1)  # one walk over all of them
    out: list[Valid | SampleValidationError] = []
    for (index, data), model in zip(items, _validated(model_cls, items), strict=True):
        if type(model) is SampleValidationError:
            out.append(model)
        elif not all_plain and not plainly_sendable(data):
            out.append(_sendable(model, data, index))
        else:
            out.append(_serialised(model, data, index))
    return out


def _plain_data(raw: Any, index: int) -> Any:
    """The sample as the mapping it was written as (a model instance dumped, extra keys and all)."""
    if type(raw) is dict:  # exact type first: isinstance against pydantic's ABC metaclass is slow
        return raw
    if isinstance(raw, BaseModel):
        try:
            # No warnings: a constructed instance may hold dicts where models belong; validation says so.
            return raw.model_dump(by_alias=True, exclude_unset=True, warnings=False)
        except (RecursionError, ValueError) as exc:  # pydantic gives up on absurd nesting
            raise SampleValidationError(
                [SampleProblem(index, _sample_name(raw), "", _dump_failure(exc))]
            ) from None
    if not isinstance(raw, Mapping):
        problem = SampleProblem(index, None, "", f"must be an object (a mapping), not {type(raw).__name__}")
        raise SampleValidationError([problem])
    return raw


def _validated(model_cls: type[BaseModel], plain: Sequence[tuple[int, Any]]) -> list[Any]:
    """Each sample's model or :class:`SampleValidationError`: one pydantic call, two if one is refused."""
    if len(plain) > 1:
        try:
            return _validate_many(model_cls, [data for _, data in plain])
        except ValidationError as error:
            blamed: dict[int, list[ErrorDetails]] = {}
            for detail in error.errors(include_url=False, include_input=False):
                position = detail["loc"][0] if detail["loc"] else None
                if not isinstance(position, int):  # not about one sample: each sample on its own says
                    return [_validate_one(model_cls, data, index) for index, data in plain]
                blamed.setdefault(position, []).append({**detail, "loc": detail["loc"][1:]})
            fine = [item for position, item in enumerate(plain) if position not in blamed]
            valid = iter(_validated(model_cls, fine))
            return [
                SampleValidationError([_problem(index, _sample_name(data), d) for d in blamed[position]])
                if position in blamed
                else next(valid)
                for position, (index, data) in enumerate(plain)
            ]
        except RecursionError:
            pass
    return [_validate_one(model_cls, data, index) for index, data in plain]


def _validate_many(model_cls: type[BaseModel], plain: list[Any]) -> list[Any]:
    validate = partial(_list_adapter(model_cls).validate_python, extra="forbid", context=_STRICT_CONTEXT)
    return validate_strictly(validate, model_cls, plain, model_cls.__name__)


@functools.cache
def _list_adapter(model_cls: type[BaseModel]) -> TypeAdapter[Any]:
    return TypeAdapter(list[model_cls])  # type: ignore[valid-type]


def _validate_one(model_cls: type[BaseModel], data: Any, index: int) -> Any:
    try:
        return model_cls.model_validate(data, context=_STRICT_CONTEXT)
    except ValidationError as error:
        return SampleValidationError(problems_from_error(error, index, _sample_name(data)))
    except RecursionError:
        problem = SampleProblem(index, _sample_name(data), "", f"is nested more than {MAX_DEPTH} levels deep")
        return SampleValidationError([problem])


def _sendable(model: BaseModel, data: Mapping[str, Any], index: int) -> Valid | SampleValidationError:
    """``model`` and its JSON, or the field a JSON body cannot carry as ``data`` has it (``_sendable``)."""
    sent = data
    if isinstance(data.get("data"), _BINARY):
        sent = {**data, "data": getattr(model, "data", None)}  # the base64 text the model made of them
    found = unsendable(sent)
    if found is not None:
        return SampleValidationError([SampleProblem(index, _sample_name(data), *found)])
    return _serialised(model, data, index)


def _serialised(model: BaseModel, data: Mapping[str, Any], index: int) -> Valid | SampleValidationError:
    try:
        return Valid(model, request_json(model))
    except (ValueError, RecursionError) as exc:  # checked above; pydantic's own refusal, should it still come
        reason = f"cannot be written as JSON ({type(exc).__name__})"
        return SampleValidationError([SampleProblem(index, _sample_name(data), "", reason)])


def _dump_failure(exc: BaseException) -> str:
    if isinstance(exc, RecursionError) or "depth" in str(exc):
        return f"is nested more than {MAX_DEPTH} levels deep"
    return f"cannot be read back from the model ({type(exc).__name__})"
