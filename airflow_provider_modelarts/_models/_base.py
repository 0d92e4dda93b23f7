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
    own, so one odd sample never fails a whole sample-list read.

How: value rules and enum fields read the context themselves (:func:`rule`, :func:`lenient_enum`); unknown
keys and values kept raw are worked out from pydantic's errors by :mod:`._modes`, which
:meth:`ModelArtsModel.model_validate` calls. No validator runs on every object.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from functools import partial
from typing import Any, Final, Literal, Self

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
from pydantic.config import ExtraValues
from pydantic_core import CoreSchema, PydanticCustomError, core_schema, from_json

from ._enums import describe_choices, parse_enum
from ._modes import RULE_ERROR, UNKNOWN_FIELD, field_names, read_leniently, validate_strictly

__all__ = [
    "RESPONSE_CONTEXT",
    "RULE_ERROR",
    "STRICT_INPUT_CONTEXT",
    "UNKNOWN_FIELD",
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
        context = info.context  # is_lenient, inline: this runs for every ruled field of every sample
        if value is None or (context and context.get("lenient")):
            return value
        return check(value)

    return AfterValidator(apply)


class ModelArtsModel(BaseModel):
    """Base of every ModelArts payload model.

    Fields use the spec's names; ``@modelarts:xxx`` keys are aliases of an ``xxx`` field (``@modelarts:from``
    is ``from_``) and either spelling is accepted. ``extra="allow"`` keeps fields the service adds. The
    validation context picks how a payload is read (module docstring); :meth:`model_validate` and
    :meth:`model_validate_json` apply it, through :mod:`._modes`. Serialise with :func:`to_payload`
    (``by_alias=True, exclude_none=True``) to get exactly the documented JSON keys.
    """

    model_config = ConfigDict(populate_by_name=True, extra="allow")

    @classmethod
    def model_validate(
        cls,
        obj: Any,
        *,
        strict: bool | None = None,
        extra: ExtraValues | None = None,
        from_attributes: bool | None = None,
        context: Any | None = None,
        by_alias: bool | None = None,
        by_name: bool | None = None,
    ) -> Self:
        def validate(data: Any, extra: ExtraValues | None = extra) -> Any:
            return super(ModelArtsModel, cls).model_validate(
                data,
                strict=strict,
                extra=extra,
                from_attributes=from_attributes,
                context=context,
                by_alias=by_alias,
                by_name=by_name,
            )

        if context and extra is None:
            if context.get("strict_input"):
                return validate_strictly(partial(validate, extra="forbid"), cls, obj, cls.__name__)
            if context.get("lenient"):
                return read_leniently(cls, obj, validate)
        return validate(obj)

    @classmethod
    def model_validate_json(
        cls,
        json_data: str | bytes | bytearray,
        *,
        strict: bool | None = None,
        extra: ExtraValues | None = None,
        context: Any | None = None,
        by_alias: bool | None = None,
        by_name: bool | None = None,
    ) -> Self:
        options: dict[str, Any] = {
            "strict": strict,
            "context": context,
            "by_alias": by_alias,
            "by_name": by_name,
        }
        if not (context and extra is None and (context.get("strict_input") or context.get("lenient"))):
            return super().model_validate_json(json_data, extra=extra, **options)
        try:  # the common case: the JSON fits
            return super().model_validate_json(
                json_data, extra="forbid" if context.get("strict_input") else None, **options
            )
        except ValidationError as error:
            if any(detail["type"] == "json_invalid" for detail in error.errors(include_url=False)):
                raise  # not JSON (or absurdly deep): pydantic's own error says so
            return cls.model_validate(from_json(json_data), **options)


class OpenModelArtsModel(ModelArtsModel):
    """A key-value model to which users add their own keys (label attributes, sample metadata).

    Custom keys are always allowed; only undocumented ``@modelarts:`` keys are refused in user input: the
    pages call those "default attributes" of the service, and a typo there silently loses a built-in
    attribute. User input is validated with ``extra="forbid"`` (see :mod:`._modes`), so in that case this
    model takes its custom keys out before validation and adds them to the result.
    """

    @model_validator(mode="wrap")
    @classmethod
    def _keep_custom_keys(
        cls, data: Any, handler: ModelWrapValidatorHandler[Any], info: ValidationInfo
    ) -> Any:
        if not is_strict_input(info) or not isinstance(data, Mapping):
            return handler(data)
        names = field_names(cls)
        custom = {
            key: value
            for key, value in data.items()
            if key not in names and isinstance(key, str) and not key.startswith("@modelarts:")
        }
        if not custom:
            return handler(data)
        model = handler({key: value for key, value in data.items() if key not in custom})
        fields = {name: getattr(model, name) for name in model.model_fields_set}
        return cls.model_construct(model.model_fields_set, **fields, **custom)


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
