"""The base model and the validation-context switches shared by every ModelArts schema.

Two context keys change how a payload is read (``Model.model_validate(data, context={...})``):

``strict_input``
    The data was written by a user (a DAG, a file, a template). Keys that are neither a field name nor its
    ``@modelarts:`` alias are refused with a "did you mean" hint, and enum fields only accept the documented
    options. Without it, unknown keys are kept (``extra="allow"``) so nothing the service adds is lost.
``lenient``
    The data came back from the service: replies are read, not judged. Value rules (score range, shape
    geometry, name characters, ...) are skipped, unknown keys and enum values are kept, and a value that
    does not fit its field's type is kept as the raw JSON it was -- an item of a list or a mapping on its
    own, so one odd sample never fails a whole sample-list read (see :func:`_read_leniently`).

Both are done with public pydantic API only: a ``wrap`` model validator, and
:meth:`pydantic_core.ValidationError.from_exception_data` to report unknown keys next to the other errors of
the same object, located at the key itself.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, Final, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    GetCoreSchemaHandler,
    ModelWrapValidatorHandler,
    ValidationError,
    ValidationInfo,
    model_validator,
)
from pydantic_core import CoreSchema, InitErrorDetails, PydanticCustomError, core_schema

from ._enums import describe_choices, parse_enum

__all__ = [
    "RESPONSE_CONTEXT",
    "STRICT_INPUT_CONTEXT",
    "LenientEnumValidator",
    "ModelArtsModel",
    "OpenModelArtsModel",
    "is_lenient",
    "is_strict_input",
    "lenient_enum",
    "rule",
    "rule_error",
    "strict_enum",
]

STRICT_INPUT_CONTEXT: Final[Mapping[str, Any]] = {"strict_input": True}
"""Validation context for user-written payloads: unknown keys and undocumented enum values are errors."""

RESPONSE_CONTEXT: Final[Mapping[str, Any]] = {"lenient": True}
"""Validation context for service replies: no value rules; unknown keys, enum values and shapes are kept."""

UNKNOWN_FIELD: Final = "unknown_field"
"""``type`` of the pydantic error raised for an unknown key under ``strict_input``."""

RULE_ERROR: Final = "modelarts_rule"
"""``type`` of the pydantic errors raised by the documented value rules."""


def is_strict_input(info: ValidationInfo) -> bool:
    context = info.context
    return bool(context and context.get("strict_input"))


def is_lenient(info: ValidationInfo) -> bool:
    context = info.context
    return bool(context and context.get("lenient"))


def rule_error(message: str, *, field: str | None = None) -> PydanticCustomError:
    """A pydantic error with a short human message and no "Value error, " prefix.

    ``field`` names a sub-field when the check runs on a whole model (the error's location is then the model);
    :func:`parse_sample` appends it to the location so the problem still points at the offending key.
    """
    if field is None:
        return PydanticCustomError(RULE_ERROR, message)
    return PydanticCustomError(RULE_ERROR, "{field}: {detail}", {"field": field, "detail": message})


def rule(check: Callable[[Any], Any]) -> AfterValidator:
    """A documented value rule as a field annotation: ``Annotated[str | None, rule(check_sample_name)]``.

    ``check`` gets the typed value and returns it (possibly normalised) or raises :func:`rule_error`. It is
    skipped for None (field left out) and for replies (``lenient``: replies are read, not judged).
    """

    def apply(value: Any, info: ValidationInfo) -> Any:
        if value is None or is_lenient(info):
            return value
        return check(value)

    return AfterValidator(apply)


_KNOWN_KEYS: dict[type, frozenset[str]] = {}


def _known_keys(cls: type[BaseModel]) -> frozenset[str]:
    """Field names and aliases of ``cls``, computed once per class (a plain dict: looked up per object)."""
    keys = _KNOWN_KEYS.get(cls)
    if keys is None:
        names = set(cls.model_fields)
        aliases = {f.alias for f in cls.model_fields.values() if f.alias}
        keys = _KNOWN_KEYS[cls] = frozenset(names | aliases)
    return keys


@functools.cache
def _field_names(cls: type[BaseModel]) -> Mapping[str, str]:
    """Input key (field name or alias) -> field name."""
    names = {name: name for name in cls.model_fields}
    names.update({f.alias: name for name, f in cls.model_fields.items() if f.alias})
    return names


def _hint(key: str, known: frozenset[str]) -> str:
    # Compare "@modelarts:" keys by their suffix only: the shared prefix would make every pair look similar.
    prefix = "@modelarts:" if key.startswith("@modelarts:") else ""
    candidates = {k[len(prefix) :]: k for k in known if k.startswith(prefix)}
    close = difflib.get_close_matches(key[len(prefix) :], sorted(candidates), n=1, cutoff=0.6)
    return f"; did you mean {candidates[close[0]]!r}?" if close else ""


def _reraisable(error: ValidationError) -> Iterable[InitErrorDetails]:
    """The line errors of ``error`` in the form :meth:`ValidationError.from_exception_data` takes back."""
    for detail in error.errors(include_url=False):
        ctx = detail.get("ctx")
        if detail["type"] == RULE_ERROR and ctx and "field" in ctx:  # rule_error(field=...): keep both parts
            kind = PydanticCustomError(RULE_ERROR, "{field}: {detail}", ctx)
        else:  # the message is final already: no context, so nothing in it is read as a placeholder again
            kind = PydanticCustomError(detail["type"], detail["msg"])
        yield {"type": kind, "loc": detail["loc"], "input": detail["input"]}


def _refuse_unknown_keys(
    cls: type[ModelArtsModel], data: Any, handler: ModelWrapValidatorHandler[Any]
) -> Any:
    """Strict input: every key must be a field (or its alias); report the others with the object's errors."""
    if not isinstance(data, Mapping):
        return handler(data)
    known = _known_keys(cls)
    if known.issuperset(data):
        return handler(data)
    unknown = [key for key in data if key not in known and not cls._is_custom_key(key)]
    if not unknown:
        return handler(data)
    errors: list[InitErrorDetails] = []
    try:
        handler(data)
    except ValidationError as error:
        errors.extend(_reraisable(error))
    for key in unknown:
        hint = _hint(key, known) if isinstance(key, str) else ""
        kind = PydanticCustomError(UNKNOWN_FIELD, "unknown field{hint}", {"hint": hint})
        where = key if isinstance(key, (str, int)) else repr(key)
        errors.append({"type": kind, "loc": (where,), "input": data[key]})
    raise ValidationError.from_exception_data(cls.__name__, errors)


def _read_leniently(cls: type[ModelArtsModel], data: Any, handler: ModelWrapValidatorHandler[Any]) -> Any:
    """A reply: read what fits the model and keep the rest as the raw JSON it was.

    Nested models read themselves the same way, so what reaches this object's errors is a value that does
    not fit its field at all (a string where a number or an object belongs, a list item that is not an
    object). Such an item of a list or a mapping is kept raw in place, any other such value replaces the
    field's value; everything else is read normally. A non-object where this model belongs still fails:
    the enclosing object (or the caller, for the top level) decides what to do with it.
    """
    try:
        return handler(data)
    except ValidationError as error:
        if not isinstance(data, Mapping):
            raise
        whole: set[str] = set()
        items: dict[str, set[Any]] = {}
        for detail in error.errors(include_url=False, include_input=False):
            loc = detail["loc"]
            if not loc or loc[0] not in data:
                raise  # a problem of the object as a whole
            key, value = loc[0], data[loc[0]]
            inner = loc[1] if len(loc) > 1 else None
            if (isinstance(value, list) and isinstance(inner, int)) or (
                isinstance(value, Mapping) and isinstance(inner, str) and inner in value
            ):
                items.setdefault(str(key), set()).add(inner)
            else:
                whole.add(str(key))
    for key in whole:
        items.pop(key, None)
    readable = {key: value for key, value in data.items() if key not in whole}
    for key, bad in items.items():
        value = data[key]
        if isinstance(value, list):
            readable[key] = [item for i, item in enumerate(value) if i not in bad]
        else:
            readable[key] = {k: v for k, v in value.items() if k not in bad}
    model = handler(readable)
    names = _field_names(cls)
    for key in whole:
        setattr(model, names.get(key, key), data[key])
    for key, bad in items.items():
        value, name = data[key], names.get(key, key)
        read = getattr(model, name)
        if isinstance(value, list):
            merged = list(read)
            for i in sorted(bad):
                merged.insert(i, value[i])
            setattr(model, name, merged)
        else:
            setattr(model, name, {k: (v if k in bad else read[k]) for k, v in value.items()})
    return model


class ModelArtsModel(BaseModel):
    """Base of every ModelArts payload model.

    Fields use the spec's names; ``@modelarts:xxx`` keys are aliases of an ``xxx`` field (``@modelarts:from``
    is ``from_``) and either spelling is accepted. ``extra="allow"`` keeps fields the service adds; user input
    is validated with ``context=STRICT_INPUT_CONTEXT`` instead (see the module docstring). Serialise with
    :func:`to_payload` (``by_alias=True, exclude_none=True``) to get exactly the documented JSON keys.
    """

    model_config = ConfigDict(populate_by_name=True, extra="allow")

    @classmethod
    def _is_custom_key(cls, key: Any) -> bool:
        """Whether an unknown key is a user-defined attribute (allowed even in strict input)."""
        return False

    @model_validator(mode="wrap")
    @classmethod
    def _read_by_context(
        cls, data: Any, handler: ModelWrapValidatorHandler[Any], info: ValidationInfo
    ) -> Any:
        # Runs for every object of every payload (100,000 samples per operator run): the common path is a
        # context lookup and the handler.
        context = info.context
        if context:
            if context.get("strict_input"):
                # The common case inline (no further call): a plain dict of known keys, one subset test.
                if type(data) is dict and (_KNOWN_KEYS.get(cls) or _known_keys(cls)).issuperset(data):
                    return handler(data)
                return _refuse_unknown_keys(cls, data, handler)
            if context.get("lenient"):
                return _read_leniently(cls, data, handler)
        return handler(data)


class OpenModelArtsModel(ModelArtsModel):
    """A key-value model to which users add their own keys (label attributes, sample metadata).

    Custom keys are always allowed; only undocumented ``@modelarts:`` keys are refused under
    ``strict_input``: the pages call those "default attributes" of the service, and a typo there silently
    loses a built-in attribute.
    """

    @classmethod
    def _is_custom_key(cls, key: Any) -> bool:
        # A non-string key is let through here: pydantic itself reports it ("keys must be strings").
        return not isinstance(key, str) or not key.startswith("@modelarts:")


def lenient_enum(enum_cls: type[Enum]) -> LenientEnumValidator:
    """Validator for enum fields that must not crash on values the pages do not list.

    ``Annotated[TaskStatus | int, lenient_enum(TaskStatus)]`` turns 1, "1" and "running" into
    ``TaskStatus.RUNNING`` and keeps 42 as the int 42 -- except under ``strict_input``, where only the
    documented options pass. A plain validator (not a union) keeps error locations free of pydantic's
    union-member tags.
    """
    raw_type: type = int if issubclass(enum_cls, int) else str
    by_value = enum_cls._value2member_map_

    def validate(value: Any, info: ValidationInfo) -> Any:
        if type(value) is raw_type:  # exact type: a bool must not pass as 0/1
            member = by_value.get(value)
            if member is not None:
                return member
        if isinstance(value, enum_cls):
            return value
        try:
            return parse_enum(enum_cls, value)
        except ValueError:
            pass
        if not is_strict_input(info) and isinstance(value, raw_type) and not isinstance(value, bool):
            return value
        raise PydanticCustomError(
            "enum", "must be one of: {choices}", {"choices": describe_choices(enum_cls)}
        )

    return LenientEnumValidator(validate, "int" if raw_type is int else "str")


@dataclass(frozen=True)
class LenientEnumValidator:
    """A plain validator whose values serialise in pydantic-core as the plain int / str they are.

    :class:`~pydantic.PlainValidator` adds a Python wrap serializer that ran for every enum value of every
    sample the operators send (four per label-update sample), and even pydantic-core's own enum handling
    reads each member's ``value`` through the enum module's Python property. Members are ``int`` / ``str``
    subclasses, so the simple serializer gives the same output without any Python call: the value in JSON,
    the member itself in python mode, an undocumented raw value (kept from a reply) as itself.
    """

    function: Callable[[Any, ValidationInfo], Any]
    raw_type: Literal["int", "str"]

    def __get_pydantic_core_schema__(self, source_type: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.with_info_plain_validator_function(
            self.function, serialization=core_schema.simple_ser_schema(self.raw_type)
        )


def strict_enum(enum_cls: type[Enum]) -> BeforeValidator:
    """Validator for request enums (the acceptance ``action``): only documented options, in any spelling."""

    def validate(value: Any) -> Any:
        try:
            return parse_enum(enum_cls, value)
        except ValueError:
            raise PydanticCustomError(
                "enum", "must be one of: {choices}", {"choices": describe_choices(enum_cls)}
            ) from None

    return BeforeValidator(validate)
