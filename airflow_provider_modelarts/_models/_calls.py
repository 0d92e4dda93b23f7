"""Request bodies of the write calls and their replies (batch results, acceptance status and start).

The read models (samples, team labeling tasks) are in :mod:`._reads`; the names other modules took from
here before the split are still importable from here.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import ValidationInfo, field_validator, model_validator

from ._base import ModelArtsModel, is_lenient, rule_error, strict_enum
from ._enums import AcceptanceAction
from ._reads import (
    DescribeSampleResp,
    Worker,
    WorkforceConfig,
    WorkforcesConfig,
    WorkforceTask,
)
from ._samples import LabelFormat, Sample, SampleLabels

__all__ = [
    "BatchResponse",
    "CreateWorkforceSamplingTaskRequest",
    "CreateWorkforceSamplingTaskResponse",
    "UpdateAcceptanceStatusResponse",
    "UpdateSamplesRequest",
    "UpdateSamplesResponse",
    "UpdateWorkforceSamplingTaskRequest",
    "UpdateWorkforceTaskSamplesRequest",
    "UploadSampleResp",
    "UploadSamplesRequest",
    "UploadSamplesResponse",
    # re-exported from ._reads for the modules that import them from here
    "Worker",
    "WorkforceConfig",
    "WorkforceTask",
    "WorkforcesConfig",
]


# Requests


class UploadSamplesRequest(ModelArtsModel):
    """Body of ``POST .../data-annotations/samples`` (add samples in batches)."""

    final_annotation: bool | None = None
    label_format: LabelFormat | None = None
    samples: list[Sample] | None = None


class UpdateSamplesRequest(ModelArtsModel):
    """Body of ``PUT .../data-annotations/samples`` (update sample labels in batches)."""

    email: str | None = None
    samples: list[SampleLabels] | None = None


class UpdateWorkforceTaskSamplesRequest(UpdateSamplesRequest):
    """Body of ``PUT .../workforce-tasks/{id}/data-annotations/samples``: the same fields as UpdateSamples."""


class UpdateWorkforceSamplingTaskRequest(ModelArtsModel):
    """Body of ``PUT .../acceptance/status``: finish (or cancel) a team labeling acceptance.

    ``action`` is required and accepts anything :meth:`AcceptanceAction.parse` does ("pass_all", "0", 0).
    Source: UpdateWorkforceSamplingTask, "action | Yes | Integer | Acceptance action. Options: 0 ... 5".
    """

    action: Annotated[AcceptanceAction, strict_enum(AcceptanceAction)]
    overwrite_last_result: bool | None = None


class CreateWorkforceSamplingTaskRequest(ModelArtsModel):
    """Body of ``POST .../acceptance`` (start an acceptance): sample a share or a number of the labeled
    samples.

    Source: StartWorkforceSamplingTask, sampling_num "Either this parameter or the sampling ratio is
    delivered." and sampling_rate "The value range is (0,1]. Either this parameter or the number of samples
    is delivered." -- so exactly one of them, and the rate in (0, 1]. The pages give sampling_num no range.
    """

    sampling_num: int | None = None
    sampling_rate: float | None = None

    @field_validator("sampling_rate")
    @classmethod
    def _check_rate(cls, value: float | None, info: ValidationInfo) -> float | None:
        if value is not None and not 0 < value <= 1 and not is_lenient(info):
            raise rule_error("must be greater than 0 and at most 1")
        return value

    @model_validator(mode="after")
    def _exactly_one(self, info: ValidationInfo) -> CreateWorkforceSamplingTaskRequest:
        if is_lenient(info):
            return self
        if self.sampling_num is None and self.sampling_rate is None:
            raise rule_error("set sampling_rate (0 < rate <= 1) or sampling_num", field="sampling_rate")
        if self.sampling_num is not None and self.sampling_rate is not None:
            raise rule_error("set only one of sampling_rate and sampling_num", field="sampling_num")
        return self


# Replies


class _ResultItem(ModelArtsModel):
    error_code: str | None = None
    error_msg: str | None = None
    success: bool | None = None

    @property
    def failed(self) -> bool:
        """An item failed when it says so or carries an error code (``success`` may be left out)."""
        return self.success is False or bool(self.error_code)


class UploadSampleResp(_ResultItem):
    """Outcome of one sample of an add-samples call."""

    info: str | None = None
    name: str | None = None


class BatchResponse(_ResultItem):
    """Outcome of a batch label update, and of each of its items.

    The page uses the name for the items of ``results``; the response body has the same three fields plus
    ``results``, so one model serves both (``UpdateSamplesResponse`` is the same class). Items carry no sample
    id: they are matched to the request by position.
    """

    results: list[BatchResponse] | None = None

    def failures(self) -> list[tuple[int, BatchResponse]]:
        """``(position in the request, item)`` of every failed item."""
        return [(i, item) for i, item in enumerate(self.results or ()) if item.failed]


UpdateSamplesResponse = BatchResponse


class UploadSamplesResponse(_ResultItem):
    """Reply of an add-samples call: overall ``success`` and one :class:`UploadSampleResp` per sample."""

    results: list[UploadSampleResp] | None = None

    def failures(self) -> list[tuple[int, UploadSampleResp]]:
        """``(position in the request, item)`` of every failed sample."""
        return [(i, item) for i, item in enumerate(self.results or ()) if item.failed]


class UpdateAcceptanceStatusResponse(ModelArtsModel):
    """Reply of an acceptance status update; the documented example is ``{}``."""

    sample_count: int | None = None
    samples: list[DescribeSampleResp] | None = None


class CreateWorkforceSamplingTaskResponse(ModelArtsModel):
    """Reply of start-acceptance: the ID of the asynchronous acceptance (checking) task."""

    task_id: str | None = None
