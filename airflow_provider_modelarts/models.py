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
  must be between 0 and 1"); :func:`parse_samples` does the same for many samples in one pydantic call.
* ``model_validate(data, context=RESPONSE_CONTEXT)`` (or :func:`parse_response`): service replies are read,
  not judged. No value rules; unknown keys and undocumented enum values are kept, numbers sent as strings
  are read as numbers, and a value that fits no field type (an object where the pages promise a list, an
  item of a list that is not an object) is kept as the raw JSON it was, so one odd item never fails a read.

:data:`MAX_SAMPLE_BYTES` (12,582,912) is the one definition of the service's sample size limit.

``__all__`` is what users import: the schema models, the enums, the validation contexts and the functions
above. The enums load with this module; the pydantic models on first use (PEP 562 ``__getattr__``), so the
operator and sensor modules a DAG file imports on every parse can use the enums for the cost of the enums.
Internal code imports helpers from the private ``_models`` modules directly.

No Airflow import here: the client, the emulator and plain scripts use these models too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from ._models._enums import (
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

if TYPE_CHECKING:  # loaded on first use, by __getattr__ below
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
    from ._models._import_tasks import (
        CreateImportTaskRequest,
        CreateImportTaskResponse,
        FileCopyProgress,
        ImportLabel,
        ImportMode,
        ImportOrigin,
        ImportTaskStatus,
        ImportTaskStatusResp,
        ImportType,
        ListImportTasksResponse,
    )
    from ._models._parse import (
        SampleProblem,
        SampleValidationError,
        parse_sample,
        parse_samples,
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
    "CreateImportTaskRequest",
    "CreateImportTaskResponse",
    "CreateWorkforceSamplingTaskRequest",
    "CreateWorkforceSamplingTaskResponse",
    "CreateWorkforceTaskRequest",
    "CreateWorkforceTaskResponse",
    "DataSource",
    "DataSourceType",
    "DataSyncType",
    "DescribeSampleResp",
    "FileCopyProgress",
    "HardDetail",
    "ImportLabel",
    "ImportMode",
    "ImportOrigin",
    "ImportTaskStatus",
    "ImportTaskStatusResp",
    "ImportType",
    "LabelAttribute",
    "LabelAttributeValue",
    "LabelFormat",
    "LabelProperty",
    "LabelStats",
    "LabelType",
    "ListImportTasksResponse",
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
    "Shape",
    "SourceInfo",
    "StartWorkforceTaskRequest",
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
    "parse_response",
    "parse_sample",
    "parse_samples",
    "to_payload",
]

R = TypeVar("R", bound="BaseModel")


def parse_response(model_cls: type[R], data: Mapping[str, Any] | bytes | str) -> R:
    """Parse a service reply (a decoded JSON object, or the raw body) leniently: see the module docstring."""
    from ._models._base import RESPONSE_CONTEXT

    if isinstance(data, (bytes, str)):
        return model_cls.model_validate_json(data, context=dict(RESPONSE_CONTEXT))
    return model_cls.model_validate(data, context=dict(RESPONSE_CONTEXT))


_LAZY = frozenset(__all__).difference(globals())


if not TYPE_CHECKING:  # type checkers see the imports above; a misspelt name stays an error for them

    def __getattr__(name: str) -> Any:
        """Load the pydantic models (all of them: they refer to each other) when one is first asked for."""
        if name not in _LAZY:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        from ._models import _base, _calls, _import_tasks, _parse, _reads, _rules, _samples, _team_tasks

        for module in (_base, _rules, _samples, _reads, _calls, _parse, _team_tasks, _import_tasks):
            globals().update((key, getattr(module, key)) for key in module.__all__ if key in _LAZY)
        return globals()[name]

    def __dir__() -> list[str]:
        return sorted({*globals(), *_LAZY})
