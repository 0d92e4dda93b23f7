"""Pydantic v2 models of the ModelArts data-labeling API, its enums, and sample validation.

Everything a payload can contain is modelled with the names of the API pages (``../shared/spec``):
``@modelarts:xxx`` keys are aliases of ``xxx`` fields (``@modelarts:from`` -> ``from_``); :func:`to_payload`
(``by_alias=True, exclude_none=True``) gives exactly the documented JSON. Models keep keys they do not know
(``extra="allow"``) so service replies survive a round trip.

How strictly data is checked depends on where it comes from:

* Constructing a model, or ``model_validate(data)``: types plus the value rules the pages state (score in
  [0,1], bndbox geometry, NER positions, ``hh:mm:ss.SSS`` times, sample names, separators, image size,
  encodings, ...). Each rule quotes its page and sentence (``_models/_rules.py``, README "Validation rules
  and their sources"); what the pages do not state is not checked.
* ``model_validate(data, context=STRICT_INPUT_CONTEXT)`` / :func:`parse_sample`: user input. Also rejects
  unknown keys ("did you mean ...") and enum values the pages do not list. ``parse_sample`` turns errors into
  :class:`SampleValidationError` naming the sample and the field ("sample #3 ('cat.jpg'): labels[0].score:
  must be between 0 and 1").
* ``model_validate(data, context=RESPONSE_CONTEXT)`` (or :func:`parse_response`): service replies are read,
  not judged. No value rules; unknown keys and undocumented enum values are kept, numbers sent as strings
  are read as numbers, and a value that fits no field type (an object where the pages promise a list, an
  item of a list that is not an object) is kept as the raw JSON it was, so one odd item never fails a read.

:data:`MAX_SAMPLE_BYTES` (12,582,912) is the one definition of the service's sample size limit.

No Airflow import here: the client, the emulator and plain scripts use these models too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel

from ._models._base import RESPONSE_CONTEXT, STRICT_INPUT_CONTEXT, ModelArtsModel
from ._models._calls import (
    BatchResponse,
    CreateWorkforceSamplingTaskRequest,
    CreateWorkforceSamplingTaskResponse,
    UpdateAcceptanceStatusResponse,
    UpdateSamplesRequest,
    UpdateSamplesResponse,
    UpdateWorkforceSamplingTaskRequest,
    UpdateWorkforceTaskSamplesRequest,
    UploadSampleResp,
    UploadSamplesRequest,
    UploadSamplesResponse,
)
from ._models._enums import (
    AcceptanceAction,
    AnnotatedBy,
    DataSourceType,
    LabelType,
    SampleStatus,
    SampleType,
    SampleUsage,
    Shape,
    StrEnum,
    TaskStatus,
    WorkerRole,
    WorkerStatus,
)
from ._models._parse import (
    SampleProblem,
    SampleValidationError,
    SerializedSample,
    format_loc,
    parse_sample,
    problems_from_error,
    request_json,
    serialize_sample,
    to_payload,
)
from ._models._reads import (
    AcceptanceReport,
    CheckTaskStats,
    DescribeSampleResp,
    HardDetail,
    LabelAttribute,
    LabelAttributeValue,
    LabelProperty,
    LabelStats,
    ListSamplesResponse,
    SampleStats,
    SearchCondition,
    SearchLabel,
    SearchLabels,
    SearchProp,
    Worker,
    WorkerTask,
    WorkforceConfig,
    WorkforceSamplingTaskDesc,
    WorkforcesConfig,
    WorkforceStats,
    WorkforceTask,
)
from ._models._rules import MAX_SAMPLE_BYTES
from ._models._samples import (
    DataSource,
    LabelFormat,
    Sample,
    SampleLabel,
    SampleLabelProperty,
    SampleLabels,
    SampleMetadata,
    SchemaMap,
    SourceInfo,
)
from ._models._sendable import refuse_unsendable
from ._models._team_tasks import (
    CreateWorkforceTaskRequest,
    CreateWorkforceTaskResponse,
    DataSyncType,
    ListWorkforceTasksResponse,
    StartWorkforceTaskRequest,
    UpdateWorkforceTaskRequest,
    WorkerRequest,
    WorkforceConfigRequest,
    WorkforcesConfigRequest,
    WorkforceTaskChangeResponse,
)

__all__ = [
    "MAX_SAMPLE_BYTES",
    "RESPONSE_CONTEXT",
    "STRICT_INPUT_CONTEXT",
    "AcceptanceAction",
    "AcceptanceReport",
    "AnnotatedBy",
    "BatchResponse",
    "CheckTaskStats",
    "CreateWorkforceSamplingTaskRequest",
    "CreateWorkforceSamplingTaskResponse",
    "CreateWorkforceTaskRequest",
    "CreateWorkforceTaskResponse",
    "DataSource",
    "DataSourceType",
    "DataSyncType",
    "DescribeSampleResp",
    "HardDetail",
    "LabelAttribute",
    "LabelAttributeValue",
    "LabelFormat",
    "LabelProperty",
    "LabelStats",
    "LabelType",
    "ListSamplesResponse",
    "ListWorkforceTasksResponse",
    "ModelArtsModel",
    "Sample",
    "SampleLabel",
    "SampleLabelProperty",
    "SampleLabels",
    "SampleMetadata",
    "SampleProblem",
    "SampleStats",
    "SampleStatus",
    "SampleType",
    "SampleUsage",
    "SampleValidationError",
    "SchemaMap",
    "SearchCondition",
    "SearchLabel",
    "SearchLabels",
    "SearchProp",
    "SerializedSample",
    "Shape",
    "SourceInfo",
    "StartWorkforceTaskRequest",
    "StrEnum",
    "TaskStatus",
    "UpdateAcceptanceStatusResponse",
    "UpdateSamplesRequest",
    "UpdateSamplesResponse",
    "UpdateWorkforceSamplingTaskRequest",
    "UpdateWorkforceTaskRequest",
    "UpdateWorkforceTaskSamplesRequest",
    "UploadSampleResp",
    "UploadSamplesRequest",
    "UploadSamplesResponse",
    "Worker",
    "WorkerRequest",
    "WorkerRole",
    "WorkerStatus",
    "WorkerTask",
    "WorkforceConfig",
    "WorkforceConfigRequest",
    "WorkforceSamplingTaskDesc",
    "WorkforceStats",
    "WorkforceTask",
    "WorkforceTaskChangeResponse",
    "WorkforcesConfig",
    "WorkforcesConfigRequest",
    "format_loc",
    "parse_response",
    "parse_sample",
    "problems_from_error",
    "refuse_unsendable",
    "request_json",
    "serialize_sample",
    "to_payload",
]

R = TypeVar("R", bound=BaseModel)


def parse_response(model_cls: type[R], data: Mapping[str, Any] | bytes | str) -> R:
    """Parse a service reply (a decoded JSON object, or the raw body) leniently: see the module docstring."""
    if isinstance(data, (bytes, str)):
        return model_cls.model_validate_json(data, context=dict(RESPONSE_CONTEXT))
    return model_cls.model_validate(data, context=dict(RESPONSE_CONTEXT))
