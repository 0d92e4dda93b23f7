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

_STRICT_SCALARS: Final = {"str", "int", "float", "bool"}
_PLAIN_NODES: Final = {"model-field", "default", "nullable", "list", "none"}


def _unwrap_callable(function: Any) -> Any:
    return getattr(function, "__func__", function)


def _nullable(inner: Schema, schema: Schema) -> Schema:
    """``inner``, wrapped in ``nullable`` when the schema it replaces was."""
    if schema.get("type") == "nullable":
        return core_schema.nullable_schema(inner)
    return inner


def _plain_number(number: Schema) -> Schema:
    # Strict float still takes Decimal and Fraction (anything with __float__), which JSON cannot carry as is.
    finite = {**number, "strict": True, "allow_inf_nan": False}
    return core_schema.chain_schema([core_schema.is_instance_schema((int, float)), finite])


def _unit_interval(schema: Schema, plain: bool) -> Schema:
    number = core_schema.float_schema(ge=0, le=1)
    return _nullable(_plain_number(number) if plain else number, schema)


def _sample_name(schema: Schema, plain: bool) -> Schema:
    text = core_schema.str_schema(
        max_length=_rules.SAMPLE_NAME_MAX, pattern=_NAME_PATTERN, strict=plain or None
    )
    return _nullable(text, schema)


def _sample_data(schema: Schema, plain: bool) -> Schema:
    # Base64 text no longer than this decodes to at most MAX_SAMPLE_BYTES; longer text and bytes (which the
    # models encode) go the normal way. Exact text only, so the ``bytes`` encoder below it is not needed.
    limit = _rules.MAX_SAMPLE_BYTES * 4 // 3
    return core_schema.nullable_schema(core_schema.str_schema(strict=True, max_length=limit))


# After-validators (the function under the bound method) whose rule a core constraint expresses exactly.
_AFTER_RULES: Final[dict[Any, Callable[[Schema, bool], Schema]]] = {
    _unwrap_callable(SampleLabel._check_score): _unit_interval,
    _unwrap_callable(Sample._check_name): _sample_name,
    _unwrap_callable(Sample._check_data_size): _sample_data,
}

_MARK_UNKNOWN_KEYS: Final = _unwrap_callable(ModelArtsModel._mark_unknown_keys)


def _enum_schema(enum_cls: Any) -> Schema:
    raw = (
        core_schema.int_schema(strict=True)
        if issubclass(enum_cls, int)
        else core_schema.str_schema(strict=True)
    )
    return core_schema.chain_schema([raw, core_schema.literal_schema(list(enum_cls))])


class _Unsupported(Exception):
    """A schema part the fast path does not know how to derive; that class keeps the normal path only."""


class _NotPlain(Exception):
    """A field whose accepted values are not all plain JSON (plain variant: the field must be left out)."""


class _Builder:
    """Derives a fast schema from a model's core schema.

    ``plain=False``: the strict-input rules as core constraints, everything else unchanged.
    ``plain=True`` additionally accepts only plain JSON data exactly as :func:`._sendable.plainly_sendable`
    would: objects must be dicts, lists must be lists, scalars strict (no bools as numbers, no NaN or
    infinity, text checked for lone surrogates by a length limit, which makes pydantic-core read it as UTF-8),
    no extra keys at all, and any field whose schema runs a Python function on the raw input (or accepts
    arbitrary values) must be left out. What it accepts therefore needs no JSON-safety walk.
    """

    def __init__(self, plain: bool) -> None:
        self.plain = plain
        self.models: list[type] = []

    def model_fields(self, schema: Schema, cls: type[BaseModel]) -> Schema:
        schema = dict(schema)
        schema["fields"] = {name: self.field(field) for name, field in schema["fields"].items()}
        schema.pop("extras_schema", None)
        if issubclass(cls, OpenModelArtsModel) and not self.plain:
            schema["extra_behavior"] = "allow"
            schema["extras_keys_schema"] = core_schema.str_schema(
                pattern=_NOT_RESERVED_KEY, regex_engine="python-re"
            )
        else:
            schema["extra_behavior"] = "forbid"
        return schema

    def field(self, field: Schema) -> Schema:
        try:
            return self.transform(field)
        except _NotPlain:
            inner = field["schema"]
            default = inner.get("default") if inner.get("type") == "default" else None
            if default is not None:
                raise _Unsupported(field) from None
            return {
                **field,
                "schema": core_schema.with_default_schema(core_schema.none_schema(), default=None),
            }

    def transform(self, node: Any, model: type[BaseModel] | None = None) -> Any:
        if isinstance(node, list):
            return [self.transform(item, model) for item in node]
        if not isinstance(node, dict):
            return node
        kind = node.get("type")
        spec = node.get("function")
        function = _unwrap_callable(spec.get("function")) if isinstance(spec, dict) else None
        if kind == "model":
            cls = node["cls"]
            if not issubclass(cls, ModelArtsModel):
                raise _Unsupported(cls)
            self.models.append(cls)
            model_node = {**node, "schema": self.transform(node["schema"], cls)}
            if self.plain:  # a dict, not a model instance or another mapping (those are not plain JSON)
                return core_schema.chain_schema([core_schema.is_instance_schema(dict), model_node])
            return model_node
        if kind == "model-fields":
            if model is None:
                raise _Unsupported(node)
            return self.model_fields(node, model)
        if kind == "function-before" and function is _MARK_UNKNOWN_KEYS:
            return self.transform(node["schema"], model)
        if kind == "function-after" and function in _AFTER_RULES:
            return _AFTER_RULES[function](node["schema"], self.plain)
        enum_cls = getattr(function, "modelarts_enum", None) if kind == "function-plain" else None
        if enum_cls is not None:
            return _enum_schema(enum_cls)
        if self.plain:
            return self.plain_node(node, kind, model)
        return {key: self.transform(value, model) for key, value in node.items()}

    def plain_node(self, node: Schema, kind: Any, model: type[BaseModel] | None) -> Schema:
        if kind == "float":
            return _plain_number(node)
        if kind in _STRICT_SCALARS:
            node = {**node, "strict": True}
            if kind == "str" and "max_length" not in node:
                node["max_length"] = 2**62  # makes pydantic-core decode the text: lone surrogates fail
            return node
        if kind == "function-after":  # a Python check on the already validated (plain) value
            return {**node, "schema": self.transform(node["schema"], model)}
        if kind in _PLAIN_NODES:
            if kind == "list" and "items_schema" not in node:
                raise _NotPlain(kind)
            node = dict(node)
            for key in ("schema", "items_schema"):
                if key in node:
                    node[key] = self.transform(node[key], model)
            if kind == "list":
                node["strict"] = True
            return node
        raise _NotPlain(kind)


_CACHE: dict[tuple[type, bool], SchemaValidator | None] = {}
_BUILD_LOCK: Final = threading.Lock()


def fast_validator(cls: type[BaseModel], *, plain: bool = False) -> SchemaValidator | None:
    """The compiled strict-input validator of ``cls``, or None when ``cls`` has no fast path.

    ``plain=True``: the variant that also guarantees the data is plain JSON (see :class:`_Builder`).
    """
    key = (cls, plain)
    try:
        return _CACHE[key]
    except KeyError:
        pass
    with _BUILD_LOCK:
        if key not in _CACHE:
            _CACHE[key] = _build(cls, plain) if issubclass(cls, ModelArtsModel) else None
    return _CACHE[key]


def _build(cls: type[BaseModel], plain: bool) -> SchemaValidator | None:
    builder = _Builder(plain)
    try:
        schema = builder.transform(cls.__pydantic_core_schema__)
    except (
        _Unsupported,
        _NotPlain,
    ):  # e.g. a schema of shared definitions: such classes keep the normal path
        return None
    # pydantic-core reuses a complete model class's own validator for every ``model`` node it meets (its
    # "prebuilt" validators), which would bring back exactly the Python callbacks removed above. It only does
    # so for classes marked complete, so the mark is lifted while this validator is built (once per class and
    # process, in microseconds; nothing reads it in between: validation goes through __pydantic_validator__).
    marks = {model: model.__dict__.get("__pydantic_complete__", _ABSENT) for model in set(builder.models)}
    try:
        for model in marks:
            type.__setattr__(model, "__pydantic_complete__", False)
        return SchemaValidator(schema, cls.__pydantic_core_schema__.get("config"))
    except Exception:  # a schema this derivation did not foresee: only speed is lost
        return None
    finally:
        for model, mark in marks.items():
            if mark is _ABSENT:
                type.__delattr__(model, "__pydantic_complete__")
            else:
                type.__setattr__(model, "__pydantic_complete__", mark)


_ABSENT: Final = object()
