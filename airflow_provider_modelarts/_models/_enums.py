"""Enumerations of the ModelArts labeling API.

Integer options are ``IntEnum`` and string options ``StrEnum`` so a member compares equal to the raw value the
service sends and serialises to it unchanged. Every enum has a forgiving ``parse`` classmethod because
DAG authors
write these values in templates, YAML and UI forms ("pass_all", "PASS-ALL", "0", 0 all mean the same thing).
"""

from __future__ import annotations

from enum import Enum, IntEnum, StrEnum
from typing import Any, TypeVar, cast

__all__ = [
    "AcceptanceAction",
    "AnnotatedBy",
    "DataSourceType",
    "LabelType",
    "SampleStatus",
    "SampleType",
    "SampleUsage",
    "Shape",
    "StrEnum",
    "TaskStatus",
    "WorkerRole",
    "WorkerStatus",
]

_E = TypeVar("_E", bound=Enum)


def _normalise_name(text: str) -> str:
    return text.strip().strip("_").upper().replace("-", "_").replace(" ", "_")


def parse_enum(enum_cls: type[_E], value: Any) -> _E:
    """Turn a member, a raw value, a numeric string or a case-insensitive member name into a member.

    Raises ``ValueError`` listing the valid choices, so the message can be shown to a DAG author as is.
    """
    if isinstance(value, enum_cls):
        return value
    member = enum_cls._value2member_map_.get(value) if type(value) in (int, str) else None
    if member is not None:
        return member  # type: ignore[return-value]
    if isinstance(value, bool):  # bool is an int subclass; True is never a meaningful option here
        raise ValueError(
            f"invalid {enum_cls.__name__} {value!r}; expected one of: {describe_choices(enum_cls)}"
        )
    int_enum = issubclass(enum_cls, int)
    if isinstance(value, int) and int_enum:
        try:
            return enum_cls(value)
        except ValueError:
            pass
    elif isinstance(value, str):
        text = value.strip()
        if int_enum and text.lstrip("-").isdigit():
            try:
                return enum_cls(int(text))
            except ValueError:
                pass
        elif not int_enum:
            try:
                return enum_cls(text)
            except ValueError:
                pass
            lowered = text.lower()
            for member in enum_cls:
                if str(member.value).lower() == lowered:
                    return member
        member_by_name = enum_cls.__members__.get(_normalise_name(text))
        if member_by_name is not None:
            return member_by_name
    raise ValueError(f"invalid {enum_cls.__name__} {value!r}; expected one of: {describe_choices(enum_cls)}")


def describe_choices(enum_cls: type[Enum]) -> str:
    """``PASS_ALL (0), REJECT_ALL (1)`` for int enums, ``bndbox, polygon`` for string enums."""
    if issubclass(enum_cls, int):
        return ", ".join(f"{m.name} ({m.value})" for m in enum_cls)
    return ", ".join(str(m.value) for m in enum_cls)


class _Parse:
    """Mixin giving every enum the same forgiving ``parse``, and ``str()`` = the value on every Python.

    (``str(IntEnum member)`` is the value on 3.11+ but ``Class.NAME`` on 3.10; logs and URLs should not depend
    on the interpreter.)
    """

    def __str__(self) -> str:
        return str(cast(Enum, self).value)

    @classmethod
    def parse(cls: type[_E], value: Any) -> _E:  # type: ignore[misc]
        """Accept a member, its value, a numeric string or a case-insensitive name ("pass_all",
        "PASS-ALL")."""
        return parse_enum(cls, value)


class SampleType(_Parse, IntEnum):
    """``sample_type``: the kind of file a sample holds."""

    IMAGE = 0
    TEXT = 1
    SPEECH = 2
    TABLE = 4
    VIDEO = 6
    CUSTOM = 9


class LabelType(_Parse, IntEnum):
    """``type`` of a label; 400 and 900 appear only as ``label_type`` filters of the sample-list pages."""

    IMAGE_CLASSIFICATION = 0
    OBJECT_DETECTION = 1
    IMAGE_SEGMENTATION = 3
    TEXT_CLASSIFICATION = 100
    NAMED_ENTITY_RECOGNITION = 101
    TEXT_TRIPLET_RELATIONSHIP = 102
    TEXT_TRIPLET_ENTITY = 103
    SOUND_CLASSIFICATION = 200
    SPEECH_CONTENT = 201
    SPEECH_PARAGRAPH = 202
    TABLE = 400
    VIDEO_LABELING = 600
    CUSTOM_FORMAT = 900


class AcceptanceAction(_Parse, IntEnum):
    """``action`` of UpdateWorkforceSamplingTask: what to do with the samples of a team labeling
    acceptance."""

    PASS_ALL = 0
    REJECT_ALL = 1
    CANCEL = 2
    VIEW_CONFLICTS = 3
    PASS_SINGLE_ACCEPTED_AND_UNACCEPTED = 4
    PASS_SINGLE_ACCEPTED = 5


class TaskStatus(_Parse, IntEnum):
    """``status`` of a team labeling task."""

    STARTING = 0
    RUNNING = 1
    ACCEPTING = 2
    ACCEPTED = 3
    REJECTED = 4
    SYNCHRONIZING = 5
    CREATED = 6
    SAMPLING = 7


class DataSourceType(_Parse, IntEnum):
    """``data_type`` of a DataSource."""

    OBS = 0
    DWS = 1
    DLI = 2
    RDS = 3
    MRS = 4
    AI_GALLERY = 5
    INFERENCE_SERVICE = 6


class WorkerRole(_Parse, IntEnum):
    """``role`` of a labeling team member."""

    LABELER = 0
    REVIEWER = 1
    TEAM_ADMINISTRATOR = 2
    DATASET_OWNER = 3


class WorkerStatus(_Parse, IntEnum):
    """``status`` of a labeling team member (their invitation / login state)."""

    INVITATION_NOT_SENT = 0
    INVITATION_SENT = 1
    LOGGED_IN = 2
    DELETED = 3


class SampleStatus(_Parse, StrEnum):
    """Sample states: the ``sample_state`` filter values of the sample-list pages and ``sample_status``.

    The filter values are wrapped in double underscores (``__ALL__``); the example responses show
    ``MANUAL_ANNOTATION`` and ``UN_ANNOTATION`` in ``sample_status``, so those are members too.
    ``SampleStatus.parse("all")`` and ``SampleStatus.parse("__ALL__")`` both give ``SampleStatus.ALL``.
    """

    ALL = "__ALL__"
    NONE = "__NONE__"
    UNCHECK = "__UNCHECK__"
    ACCEPTED = "__ACCEPTED__"
    REJECTED = "__REJECTED__"
    UNREVIEWED = "__UNREVIEWED__"
    REVIEWED = "__REVIEWED__"
    WORKFORCE_SAMPLED = "__WORKFORCE_SAMPLED__"
    WORKFORCE_SAMPLED_UNCHECK = "__WORKFORCE_SAMPLED_UNCHECK__"
    WORKFORCE_SAMPLED_CHECKED = "__WORKFORCE_SAMPLED_CHECKED__"
    WORKFORCE_SAMPLED_ACCEPTED = "__WORKFORCE_SAMPLED_ACCEPTED__"
    WORKFORCE_SAMPLED_REJECTED = "__WORKFORCE_SAMPLED_REJECTED__"
    AUTO_ANNOTATION = "__AUTO_ANNOTATION__"
    MANUAL_ANNOTATION = "MANUAL_ANNOTATION"
    UN_ANNOTATION = "UN_ANNOTATION"


class SampleUsage(_Parse, StrEnum):
    """``sample_usage``: which split a sample belongs to."""

    TRAIN = "TRAIN"
    EVAL = "EVAL"
    TEST = "TEST"
    INFERENCE = "INFERENCE"


class AnnotatedBy(_Parse, StrEnum):
    """``annotated_by``: whether a (video) label was drawn by a person or by a model."""

    HUMAN = "human"
    AUTO = "auto"


class Shape(_Parse, StrEnum):
    """``@modelarts:shape`` of an object detection label; decides the layout of ``@modelarts:feature``."""

    BNDBOX = "bndbox"
    POLYGON = "polygon"
    CIRCLE = "circle"
    LINE = "line"
    DASHED = "dashed"
    POINT = "point"
    POLYLINE = "polyline"
