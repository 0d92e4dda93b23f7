"""The base model and the validation-context switches shared by every ModelArts schema.

Two context keys change how strictly a payload is checked (``Model.model_validate(data, context={...})``):

``strict_input``
    The data was written by a user (a DAG, a file, a template). Keys that are neither a field name nor its
    ``@modelarts:`` alias are rejected, and enum fields only accept the documented options. Without it,
    unknown keys are kept (``extra="allow"``) so nothing the service adds is lost on a round trip.
``lenient``
    The data came back from the service. Value rules (score range, shape geometry, name characters, ...) are
    skipped, so a reply that bends the documented rules never crashes a sensor; types are still checked.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Annotated, Any, Final, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    ValidationInfo,
    WrapValidator,
    model_validator,
)
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

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
    "rule_error",
    "strict_enum",
]

STRICT_INPUT_CONTEXT: Final[Mapping[str, Any]] = {"strict_input": True}
"""Validation context for user-written payloads: unknown keys and undocumented enum values are errors."""

RESPONSE_CONTEXT: Final[Mapping[str, Any]] = {"lenient": True}
"""Validation context for service replies: value rules are skipped, unknown keys and enum values are kept."""

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


class _Unknown:
    """Marks the value of an unknown key under ``strict_input`` so the extra-field validator rejects it.

    The check is split in two because neither half can do it alone: a model ``before`` validator sees the keys
    and the class (so it can suggest the intended field) but raising there would hide every other error of the
    object; the extra-field validator runs alongside the field validators and pydantic locates its error at
    the key itself, but it only sees the value.
    """

    __slots__ = ("hint", "value")

    def __init__(self, value: Any, hint: str) -> None:
        self.value = value
        self.hint = hint

    def __repr__(self) -> str:  # pydantic shows it as the error's input_value
        return repr(self.value)


def _check_extra(value: Any, handler: Callable[[Any], Any]) -> Any:
    if isinstance(value, _Unknown):
        raise PydanticCustomError(UNKNOWN_FIELD, "unknown field{hint}", {"hint": value.hint})
    return handler(value)


_KNOWN_KEYS: dict[type, frozenset[str]] = {}


def _known_keys(cls: type[BaseModel]) -> frozenset[str]:
    keys = _KNOWN_KEYS.get(cls)
    if keys is None:
        names = set(cls.model_fields)
        aliases = {f.alias for f in cls.model_fields.values() if f.alias}
        keys = _KNOWN_KEYS[cls] = frozenset(names | aliases)
    return keys


def _hint(key: str, known: frozenset[str]) -> str:
    # Compare "@modelarts:" keys by their suffix only: the shared prefix would make every pair look similar.
    prefix = "@modelarts:" if key.startswith("@modelarts:") else ""
    candidates = {k[len(prefix) :]: k for k in known if k.startswith(prefix)}
    close = difflib.get_close_matches(key[len(prefix) :], sorted(candidates), n=1, cutoff=0.6)
    return f"; did you mean {candidates[close[0]]!r}?" if close else ""


class ModelArtsModel(BaseModel):
    """Base of every ModelArts payload model.

    Fields use the spec's names; ``@modelarts:xxx`` keys are aliases of an ``xxx`` field (``@modelarts:from``
    is ``from_``) and either spelling is accepted. ``extra="allow"`` keeps fields the service adds; user input
    is validated with ``context=STRICT_INPUT_CONTEXT`` instead (see the module docstring). Serialise with
    :func:`to_payload` (``by_alias=True, exclude_none=True``) to get exactly the documented JSON keys.
    """

    model_config = ConfigDict(populate_by_name=True, extra="allow")

    __pydantic_extra__: dict[str, Annotated[Any, WrapValidator(_check_extra)]] = Field(init=False)

    @classmethod
    def _is_custom_key(cls, key: str) -> bool:
        """Whether an unknown key is a user-defined attribute (allowed even in strict input)."""
        return False

    @model_validator(mode="before")
    @classmethod
    def _mark_unknown_keys(cls, data: Any, info: ValidationInfo) -> Any:
        # Runs for every object of every payload (100,000 samples per operator run): keep the common path to
        # a context lookup and one C-level subset test.
        context = info.context
        if not context or not context.get("strict_input"):
            return data
        if type(data) is not dict and not isinstance(data, Mapping):  # exact type first: ABC checks are slow
            return data
        known = _KNOWN_KEYS.get(cls) or _known_keys(cls)
        if known.issuperset(data):
            return data
        unknown = [key for key in data if key not in known and not cls._is_custom_key(key)]
        if not unknown:
            return data
        marked = dict(data)
        for key in unknown:
            marked[key] = _Unknown(data[key], _hint(str(key), known))
        return marked


class OpenModelArtsModel(ModelArtsModel):
    """A key-value model to which users add their own keys (label attributes, sample metadata).

    Custom keys are always allowed; only undocumented ``@modelarts:`` keys are rejected under
    ``strict_input``: the service reserves them, and a typo there silently loses a built-in attribute.
    """

    @classmethod
    def _is_custom_key(cls, key: str) -> bool:
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

    validate.modelarts_enum = enum_cls  # type: ignore[attr-defined]  # lets the fast path (_fast.py) compile it
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
