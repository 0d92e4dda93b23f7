"""A compiled fast path for strict sample validation: the common, valid sample without Python callbacks.

Operators validate every sample of a run (100,000 and more) before sending anything. With the models' own
validator, pydantic calls back into Python for every object (the unknown-key check), every enum value and
every score, which is two thirds of the validation time. Those rules cannot simply move into the models'
compiled schema: the same classes validate service replies leniently (``RESPONSE_CONTEXT`` skips value
rules and keeps unknown keys and enum values), and a pydantic-core constraint cannot look at the context.

So :func:`fast_validator` derives, per model class, a second validator from the class's own core schema with
the strict-input rules expressed as pydantic-core constraints:

* the unknown-key check becomes ``extra="forbid"`` (open models: extra keys must not start with
  ``@modelarts:``, checked by a pattern on the keys), and the extra-value wrapper is dropped;
* documented enum values are an exact-type literal lookup (no bools, floats or spellings: those go the slow
  way);
* the score range and the sample-name rules become ``ge``/``le``, ``max_length`` and ``pattern``.

It builds instances of the real classes, and it is deliberately conservative: everything it accepts, the
models' strict validation accepts with the same result; anything it rejects is validated again the normal
way, which gives the exact error messages (unknown-key hints, rule texts). So it only changes speed.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Any, Final

from pydantic import BaseModel
from pydantic_core import SchemaValidator, core_schema

from . import _rules
from ._base import ModelArtsModel, OpenModelArtsModel
from ._samples import Sample, SampleLabel

__all__ = ["fast_validator"]

_NAME_PATTERN: Final = "^[^" + re.escape(_rules.SAMPLE_NAME_FORBIDDEN) + "]*$"
_NOT_RESERVED_KEY: Final = r"^(?!@modelarts:)"

Schema = Any  # core-schema dicts: pydantic_core types them as many TypedDicts, walked here generically


def _unwrap_callable(function: Any) -> Any:
    return getattr(function, "__func__", function)


def _nullable(inner: Schema, schema: Schema) -> Schema:
    """``inner``, wrapped in ``nullable`` when the schema it replaces was."""
    if schema.get("type") == "nullable":
        return core_schema.nullable_schema(inner)
    return inner


def _unit_interval(schema: Schema) -> Schema:
    return _nullable(core_schema.float_schema(ge=0, le=1), schema)


def _sample_name(schema: Schema) -> Schema:
    return _nullable(core_schema.str_schema(max_length=_rules.SAMPLE_NAME_MAX, pattern=_NAME_PATTERN), schema)


# After-validators (the function under the bound method) whose rule a core constraint expresses exactly.
_AFTER_RULES: Final[dict[Any, Callable[[Schema], Schema]]] = {
    _unwrap_callable(SampleLabel._check_score): _unit_interval,
    _unwrap_callable(Sample._check_name): _sample_name,
}

_MARK_UNKNOWN_KEYS: Final = _unwrap_callable(ModelArtsModel._mark_unknown_keys)


def _enum_schema(enum_cls: Any) -> Schema:
    raw = (
        core_schema.int_schema(strict=True)
        if issubclass(enum_cls, int)
        else core_schema.str_schema(strict=True)
    )
    return core_schema.chain_schema([raw, core_schema.literal_schema(list(enum_cls))])


def _model_fields(schema: Schema, cls: type[BaseModel]) -> Schema:
    schema = dict(schema)
    schema["fields"] = {name: _transform(field) for name, field in schema["fields"].items()}
    schema.pop("extras_schema", None)
    if issubclass(cls, OpenModelArtsModel):
        schema["extra_behavior"] = "allow"
        schema["extras_keys_schema"] = core_schema.str_schema(
            pattern=_NOT_RESERVED_KEY, regex_engine="python-re"
        )
    else:
        schema["extra_behavior"] = "forbid"
    return schema


def _transform(node: Any, model: type[BaseModel] | None = None) -> Any:
    if isinstance(node, list):
        return [_transform(item, model) for item in node]
    if not isinstance(node, dict):
        return node
    kind = node.get("type")
    spec = node.get("function")
    function = _unwrap_callable(spec.get("function")) if isinstance(spec, dict) else None
    if kind == "model":
        cls = node["cls"]
        if not issubclass(cls, ModelArtsModel):
            raise _Unsupported(cls)
        _MODELS_SEEN.append(cls)
        return {**node, "schema": _transform(node["schema"], cls)}
    if kind == "model-fields":
        if model is None:
            raise _Unsupported(node)
        return _model_fields(node, model)
    if kind == "function-before" and function is _MARK_UNKNOWN_KEYS:
        return _transform(node["schema"], model)
    if kind == "function-after" and function in _AFTER_RULES:
        return _AFTER_RULES[function](node["schema"])
    enum_cls = getattr(function, "modelarts_enum", None) if kind == "function-plain" else None
    if enum_cls is not None:
        return _enum_schema(enum_cls)
    return {key: _transform(value, model) for key, value in node.items()}


class _Unsupported(Exception):
    """A schema part the fast path does not know how to derive; that class keeps the normal path only."""


_CACHE: dict[type, SchemaValidator | None] = {}
_BUILD_LOCK: Final = threading.Lock()
_MODELS_SEEN: list[type] = []  # classes met by the running _transform (under _BUILD_LOCK)


def fast_validator(cls: type[BaseModel]) -> SchemaValidator | None:
    """The compiled strict-input validator of ``cls``, or None when ``cls`` has no fast path."""
    try:
        return _CACHE[cls]
    except KeyError:
        pass
    with _BUILD_LOCK:
        if cls not in _CACHE:
            _CACHE[cls] = _build(cls) if issubclass(cls, ModelArtsModel) else None
    return _CACHE[cls]


def _build(cls: type[BaseModel]) -> SchemaValidator | None:
    _MODELS_SEEN.clear()
    try:
        schema = _transform(cls.__pydantic_core_schema__)
    except _Unsupported:
        return None
    # pydantic-core reuses a complete model class's own validator for every ``model`` node it meets (its
    # "prebuilt" validators), which would bring back exactly the Python callbacks removed above. It only does
    # so for classes marked complete, so the mark is lifted while this validator is built (once per class and
    # process, in microseconds; nothing reads it in between: validation goes through __pydantic_validator__).
    marks = {model: model.__dict__.get("__pydantic_complete__", _ABSENT) for model in set(_MODELS_SEEN)}
    try:
        for model in marks:
            type.__setattr__(model, "__pydantic_complete__", False)
        return SchemaValidator(schema, cls.__pydantic_core_schema__.get("config"))
    finally:
        for model, mark in marks.items():
            if mark is _ABSENT:
                type.__delattr__(model, "__pydantic_complete__")
            else:
                type.__setattr__(model, "__pydantic_complete__", mark)


_ABSENT: Final = object()
