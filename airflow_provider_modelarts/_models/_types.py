"""Field types of enum-valued fields: a documented member when possible, the raw value otherwise."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any

from pydantic import WithJsonSchema

from ._base import lenient_enum
from ._enums import (
    AcceptanceAction,
    AnnotatedBy,
    DataSourceType,
    LabelType,
    SampleStatus,
    SampleType,
    SampleUsage,
    Shape,
    TaskStatus,
    WorkerRole,
    WorkerStatus,
)

__all__ = [
    "AcceptanceActionValue",
    "AnnotatedByValue",
    "DataSourceTypeValue",
    "LabelTypeValue",
    "SampleStatusValue",
    "SampleTypeValue",
    "SampleUsageValue",
    "ShapeValue",
    "TaskStatusValue",
    "WorkerRoleValue",
    "WorkerStatusValue",
]


def _schema(enum_cls: type[Enum]) -> WithJsonSchema:
    # The validator is a plain function, so pydantic cannot derive a schema; the emulator's OpenAPI page and
    # anyone generating docs get the documented options instead of an empty schema.
    kind = "integer" if issubclass(enum_cls, int) else "string"
    options = ", ".join(f"{m.value} ({m.name})" for m in enum_cls)
    schema: dict[str, Any] = {"type": kind, "enum": [m.value for m in enum_cls], "description": options}
    return WithJsonSchema(schema)


SampleTypeValue = Annotated[SampleType | int, lenient_enum(SampleType), _schema(SampleType)]
LabelTypeValue = Annotated[LabelType | int, lenient_enum(LabelType), _schema(LabelType)]
AcceptanceActionValue = Annotated[
    AcceptanceAction | int, lenient_enum(AcceptanceAction), _schema(AcceptanceAction)
]
TaskStatusValue = Annotated[TaskStatus | int, lenient_enum(TaskStatus), _schema(TaskStatus)]
DataSourceTypeValue = Annotated[DataSourceType | int, lenient_enum(DataSourceType), _schema(DataSourceType)]
WorkerRoleValue = Annotated[WorkerRole | int, lenient_enum(WorkerRole), _schema(WorkerRole)]
WorkerStatusValue = Annotated[WorkerStatus | int, lenient_enum(WorkerStatus), _schema(WorkerStatus)]
SampleStatusValue = Annotated[SampleStatus | str, lenient_enum(SampleStatus), _schema(SampleStatus)]
SampleUsageValue = Annotated[SampleUsage | str, lenient_enum(SampleUsage), _schema(SampleUsage)]
AnnotatedByValue = Annotated[AnnotatedBy | str, lenient_enum(AnnotatedBy), _schema(AnnotatedBy)]
ShapeValue = Annotated[Shape | str, lenient_enum(Shape), _schema(Shape)]
