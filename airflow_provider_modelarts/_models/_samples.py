"""Sample schemas of the four write APIs (add samples, update labels, update team-task labels).

Names follow the API pages (Sample, SampleLabels, SampleLabel, SampleLabelProperty, SampleMetadata,
DataSource, SchemaMap, SourceInfo, LabelFormat, ...). Rules run on every construction unless the validation
context says ``lenient`` (service replies), see :mod:`._base`; each rule names its source (page and
sentence) here or in :mod:`._rules`.
"""

from __future__ import annotations

import base64
from typing import Annotated, Any

from pydantic import (
    Field,
    JsonValue,
    SecretStr,
    TypeAdapter,
    ValidationInfo,
    field_serializer,
    field_validator,
    model_validator,
)

from . import _rules
from ._base import ModelArtsModel, OpenModelArtsModel, is_lenient, rule, rule_error
from ._enums import LabelType
from ._types import (
    AnnotatedByValue,
    DataSourceTypeValue,
    LabelTypeValue,
    SampleTypeValue,
    SampleUsageValue,
    ShapeValue,
)

__all__ = [
    "DataSource",
    "LabelFormat",
    "Sample",
    "SampleLabel",
    "SampleLabelProperty",
    "SampleLabels",
    "SampleMetadata",
    "SchemaMap",
    "SourceInfo",
]

_INT_LIST: TypeAdapter[list[int]] = TypeAdapter(list[int])


class SchemaMap(ModelArtsModel):
    """Column mapping of a table data source."""

    dest_name: str | None = None
    src_name: str | None = None


class SourceInfo(ModelArtsModel):
    """Connection details of a table data source (DWS, DLI, MRS).

    ``user_password`` is a :class:`~pydantic.SecretStr`: hidden in ``repr`` and ``model_dump()``,
    revealed only in
    JSON output (``to_payload`` / ``model_dump_json``), which is what goes on the wire.
    """

    cluster_id: str | None = None
    cluster_mode: str | None = None
    cluster_name: str | None = None
    database_name: str | None = None
    input: str | None = None
    ip: str | None = None
    port: str | None = None
    queue_name: str | None = None
    subnet_id: str | None = None
    table_name: str | None = None
    user_name: str | None = None
    user_password: SecretStr | None = None
    vpc_id: str | None = None

    @field_serializer("user_password", when_used="json-unless-none")
    def _reveal_password(self, value: SecretStr) -> str:
        return value.get_secret_value()


class DataSource(ModelArtsModel):
    """Where a sample's data lives when it is not sent inline (OBS path, database table, ...)."""

    data_path: str | None = None
    data_type: DataSourceTypeValue | None = None
    schema_maps: list[SchemaMap] | None = None
    source_info: SourceInfo | None = None
    with_column_header: bool | None = None


class LabelFormat(ModelArtsModel):
    """How labels are stored in text samples (text datasets only).

    ``label_type`` is a string on the page ("0": labels in a separate ``_result`` file, "1": same file); the
    ints 0 and 1 are accepted and sent as strings. Separators: exactly one character (see
    :func:`._rules.check_separator` for why any character).
    """

    label_type: Annotated[str | None, rule(_rules.check_label_type)] = None
    text_label_separator: Annotated[str | None, rule(_rules.check_separator)] = None
    text_sample_separator: Annotated[str | None, rule(_rules.check_separator)] = None

    @field_validator("label_type", mode="before")
    @classmethod
    def _label_type_as_text(cls, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return value


class SampleLabelProperty(OpenModelArtsModel):
    """Attributes of one label: shape and coordinates, text span, speech segment, hard-example flags.

    The ``@modelarts:`` keys are built-in attributes (field ``shape`` has the alias ``@modelarts:shape``,
    ``from_`` has ``@modelarts:from``); any other key is a custom attribute defined on the dataset's label
    and is kept as is. ``shape`` is declared before ``feature``: the feature's check reads the shape.
    Every rule is a function of :mod:`._rules`, which quotes its source.
    """

    content: str | None = Field(None, alias="@modelarts:content")
    shape: ShapeValue | None = Field(None, alias="@modelarts:shape")
    # The pages type @modelarts:feature "Object" (described as a List of points): a reply keeps any JSON.
    feature: list[list[int | float]] | JsonValue | None = Field(None, alias="@modelarts:feature")
    from_: str | None = Field(None, alias="@modelarts:from")
    to: str | None = Field(None, alias="@modelarts:to")
    hard: Annotated[str | None, rule(_rules.check_hard_flag)] = Field(None, alias="@modelarts:hard")
    hard_coefficient: Annotated[str | None, rule(_rules.check_unit_interval_text)] = Field(
        None, alias="@modelarts:hard_coefficient"
    )
    hard_reasons: Annotated[str | None, rule(_rules.check_hard_reasons)] = Field(
        None, alias="@modelarts:hard_reasons"
    )
    source: str | None = Field(None, alias="@modelarts:source")
    start_index: Annotated[int | None, rule(_rules.check_text_position)] = Field(
        None, alias="@modelarts:start_index"
    )
    end_index: Annotated[int | None, rule(_rules.check_text_position)] = Field(
        None, alias="@modelarts:end_index"
    )
    start_time: Annotated[str | None, rule(_rules.check_time)] = Field(None, alias="@modelarts:start_time")
    end_time: Annotated[str | None, rule(_rules.check_time)] = Field(None, alias="@modelarts:end_time")

    @field_validator("feature", mode="wrap")
    @classmethod
    def _check_feature(cls, value: Any, handler: Any, info: ValidationInfo) -> Any:
        # Wrap, not after: ints must stay ints (pydantic's int | float union would do that too, but its errors
        # carry union-member tags in their location) and the shape check needs the raw nesting.
        if value is None:
            return None
        if is_lenient(info):
            return handler(value)
        return _rules.check_feature(value, info.data.get("shape"))

    @field_validator("hard", "hard_coefficient", "hard_reasons", mode="before")
    @classmethod
    def _flags_as_text(cls, value: Any, info: ValidationInfo) -> Any:
        # The page types these as strings; accept the obvious Python spellings and send the documented ones.
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (int, float)):
            return str(value)
        if info.field_name == "hard_reasons" and isinstance(value, (list, tuple)):
            return "-".join(str(v) for v in value)
        return value


class SampleMetadata(OpenModelArtsModel):
    """Sample-level attributes (image size, hard-example flags, import origin); custom keys are kept."""

    import_origin: int | None = Field(None, alias="@modelarts:import_origin")
    hard: Annotated[float | None, rule(_rules.check_hard_sample)] = Field(None, alias="@modelarts:hard")
    hard_coefficient: Annotated[float | None, rule(_rules.check_unit_interval)] = Field(
        None, alias="@modelarts:hard_coefficient"
    )
    hard_reasons: list[int] | None = Field(None, alias="@modelarts:hard_reasons")
    # The pages type @modelarts:size "Array of objects" (described as List<Integer>): a reply keeps any JSON.
    size: list[int] | JsonValue | None = Field(None, alias="@modelarts:size")

    @field_validator("size", mode="wrap")
    @classmethod
    def _check_size(cls, value: Any, handler: Any, info: ValidationInfo) -> Any:
        if value is None or is_lenient(info):
            return handler(value)
        # Source: UploadSamplesJson "@modelarts:size" "with type of List<Integer>" (UpdateSamples says
        # "List"; both editions' examples are integers). Exact lists of ints skip the adapter.
        if type(value) is not list or any(type(v) is not int for v in value):
            value = _INT_LIST.validate_python(value)
        return _rules.check_image_size(value)


class SampleLabel(ModelArtsModel):
    """One label of a sample: its name and type, a confidence score, and its attributes."""

    annotated_by: AnnotatedByValue | None = None
    id: str | None = None
    name: str | None = None
    property: SampleLabelProperty | None = None
    score: Annotated[float | None, rule(_rules.check_unit_interval)] = None
    type: LabelTypeValue | None = None


_OBJECT_DETECTION = int(LabelType.OBJECT_DETECTION)


def _has_object_detection_label(labels: list[SampleLabel] | None) -> bool:
    # Runs for every sample (client and emulator): a plain int compare, no enum attribute lookup per label.
    if labels:
        for label in labels:
            if label.type == _OBJECT_DETECTION:
                return True
    return False


class Sample(ModelArtsModel):
    """A sample to add (UploadSamplesJson).

    ``data`` is the file's bytes as base64 text: the page types it as a Java ``ByteBuffer``, which the
    service's JSON mapper reads from a base64 string. ``bytes`` given here are base64-encoded for you; a
    ``str`` is sent as is, so pass already-encoded text. Samples decoding to more than 12,582,912 bytes are
    rejected up front (the service answers ModelArts.4656 for them).
    """

    data: Annotated[str | None, rule(_rules.check_sample_size)] = Field(None, repr=False)
    data_source: DataSource | None = None
    encoding: Annotated[str | None, rule(_rules.check_encoding)] = None
    labels: list[SampleLabel] | None = None
    metadata: SampleMetadata | None = None
    name: Annotated[str | None, rule(_rules.check_sample_name)] = None
    sample_type: SampleTypeValue | None = None

    @field_validator("data", mode="before")
    @classmethod
    def _encode_bytes(cls, value: Any) -> Any:
        if isinstance(value, (bytes, bytearray, memoryview)):
            return base64.b64encode(value).decode("ascii")
        return value

    @model_validator(mode="after")
    def _check_size_for_object_detection(self, info: ValidationInfo) -> Sample:
        # Source: UploadSamplesJson, SampleMetadata "@modelarts:size": "Note: This parameter is mandatory
        # only when the sample label list contains the object detection label."
        if is_lenient(info) or not _has_object_detection_label(self.labels):
            return self
        if self.metadata is None or self.metadata.size is None:
            raise rule_error(
                "is required when a label is object detection (type 1)", field="metadata.@modelarts:size"
            )
        return self


class SampleLabels(ModelArtsModel):
    """New labels of an existing sample (UpdateSamples, UpdateWorkforceTaskSamples).

    ``labels`` replaces the sample's labels; leaving it out (or ``[]``) deletes them, as the page says.
    """

    labels: list[SampleLabel] | None = None
    metadata: SampleMetadata | None = None
    sample_id: str | None = None
    sample_type: SampleTypeValue | None = None
    sample_usage: SampleUsageValue | None = None
    source: str | None = None
    worker_id: str | None = None
