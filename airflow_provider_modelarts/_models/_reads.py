"""Read models: samples and team labeling tasks as the service describes them.

Only ever parsed from replies (``parse_response``, ``RESPONSE_CONTEXT``): unknown keys, unknown enum values
and values that do not fit a field are kept, see :mod:`._base`.
"""

from __future__ import annotations

from pydantic import Field

from ._base import ModelArtsModel
from ._samples import SampleLabel, SampleMetadata
from ._types import (
    AcceptanceActionValue,
    LabelTypeValue,
    SampleStatusValue,
    SampleTypeValue,
    ShapeValue,
    TaskStatusValue,
    WorkerRoleValue,
    WorkerStatusValue,
)

__all__ = [
    "AcceptanceReport",
    "CheckTaskStats",
    "DescribeSampleResp",
    "HardDetail",
    "LabelAttribute",
    "LabelAttributeValue",
    "LabelProperty",
    "LabelStats",
    "ListSamplesResponse",
    "SampleStats",
    "SearchCondition",
    "SearchLabel",
    "SearchLabels",
    "SearchProp",
    "Worker",
    "WorkerTask",
    "WorkforceConfig",
    "WorkforceSamplingTaskDesc",
    "WorkforceStats",
    "WorkforceTask",
    "WorkforcesConfig",
]


class HardDetail(ModelArtsModel):
    """Why a sample is a hard example, and what to do about it."""

    id: int | None = None
    reason: str | None = None
    suggestion: str | None = None


class Worker(ModelArtsModel):
    """A labeling team member."""

    create_time: int | None = None
    description: str | None = None
    email: str | None = None
    role: WorkerRoleValue | None = None
    status: WorkerStatusValue | None = None
    update_time: int | None = None
    worker_id: str | None = None
    workforce_id: str | None = None


class DescribeSampleResp(ModelArtsModel):
    """A sample as the service describes it (sample lists, sample details, accepted samples).

    ``sample_status`` is a :class:`SampleStatus` when the value is documented, else the raw string.
    """

    check_accept: bool | None = None
    check_comment: str | None = None
    check_score: str | None = None
    deletion_reasons: list[str] | None = None
    hard_details: dict[str, HardDetail] | None = None
    labelers: list[Worker] | None = None
    labels: list[SampleLabel] | None = None
    metadata: SampleMetadata | None = None
    review_accept: bool | None = None
    review_comment: str | None = None
    review_score: str | None = None
    sample_data: list[str] | None = None
    sample_dir: str | None = None
    sample_id: str | None = None
    sample_name: str | None = None
    sample_size: int | None = None
    sample_status: SampleStatusValue | None = None
    sample_time: int | None = None
    sample_type: SampleTypeValue | None = None
    score: str | None = None
    source: str | None = None
    sub_sample_url: str | None = None
    worker_id: str | None = None


class ListSamplesResponse(ModelArtsModel):
    """A page of samples (dataset sample list and team-task sample list)."""

    sample_count: int | None = None
    samples: list[DescribeSampleResp] | None = None


class CheckTaskStats(ModelArtsModel):
    """Statistics of an acceptance (checking) task."""

    accepted_sample_count: int | None = None
    checked_sample_count: int | None = None
    pass_rate: float | None = None
    rejected_sample_count: int | None = None
    sampled_sample_count: int | None = None
    sampling_num: int | None = None
    sampling_rate: float | None = None
    score: str | None = None
    task_id: str | None = None
    total_sample_count: int | None = None
    total_score: int | None = None
    unchecked_sample_count: int | None = None


class AcceptanceReport(ModelArtsModel):
    """Report of a team labeling acceptance: the running acceptance and the history."""

    checking_stats: CheckTaskStats | None = None
    total_stats: CheckTaskStats | None = None


class WorkforceSamplingTaskDesc(ModelArtsModel):
    """The current acceptance of a team labeling task (``checking_task_desc``)."""

    action: AcceptanceActionValue | None = None
    checking_stats: CheckTaskStats | None = None
    checking_task_id: str | None = None
    overwrite_last_result: bool | None = None
    total_stats: CheckTaskStats | None = None


class SampleStats(ModelArtsModel):
    """Sample counts of a team labeling task or of one member's share of it."""

    accepted_sample_count: int | None = None
    auto_annotation_sample_count: int | None = None
    deleted_sample_count: int | None = None
    rejected_sample_count: int | None = None
    sampled_sample_count: int | None = None
    total_sample_count: int | None = None
    unannotated_sample_count: int | None = None
    uncheck_sample_count: int | None = None
    unreviewed_sample_count: int | None = None


class WorkforceStats(ModelArtsModel):
    """Member counts of a team labeling task."""

    labeler_count: int | None = None
    reviewer_count: int | None = None
    workforce_count: int | None = None


class WorkforceConfig(ModelArtsModel):
    """A team assigned to a labeling task."""

    workers: list[Worker] | None = None
    workforce_id: str | None = None
    workforce_name: str | None = None


class WorkforcesConfig(ModelArtsModel):
    """Who labels: an administrator (``agency``) or the listed teams."""

    agency: str | None = None
    workforces: list[WorkforceConfig] | None = None


class WorkerTask(ModelArtsModel):
    """One member's share of a team labeling task."""

    create_time: int | None = None
    dataset_id: str | None = None
    dataset_type: int | None = None
    email: str | None = None
    email_status: int | None = None
    last_notify_time: int | None = None
    pass_rate: float | None = None
    role: WorkerRoleValue | None = None
    sample_stats: SampleStats | None = None
    score: float | None = None
    task_id: str | None = None
    task_status: TaskStatusValue | None = None
    update_time: int | None = None
    worker_id: str | None = None
    workforce_task_name: str | None = None


class LabelAttributeValue(ModelArtsModel):
    value: str | None = None


class LabelAttribute(ModelArtsModel):
    """A multi-dimensional attribute of a label (e.g. style, artist)."""

    default_value: str | None = None
    id: str | None = None
    name: str | None = None
    type: str | None = None
    values: list[LabelAttributeValue] | None = None


class LabelProperty(ModelArtsModel):
    """Basic attributes of a dataset label (colour, default shape, shortcut, ...)."""

    color: str | None = Field(None, alias="@modelarts:color")
    default_shape: ShapeValue | None = Field(None, alias="@modelarts:default_shape")
    from_type: str | None = Field(None, alias="@modelarts:from_type")
    rename_to: str | None = Field(None, alias="@modelarts:rename_to")
    shortcut: str | None = Field(None, alias="@modelarts:shortcut")
    to_type: str | None = Field(None, alias="@modelarts:to_type")


class LabelStats(ModelArtsModel):
    """Label statistics of a labeling task."""

    attributes: list[LabelAttribute] | None = None
    count: int | None = None
    name: str | None = None
    property: LabelProperty | None = None
    sample_count: int | None = None
    type: LabelTypeValue | None = None


class SearchLabel(ModelArtsModel):
    name: str | None = None
    op: str | None = None
    property: dict[str, list[str]] | None = None
    type: LabelTypeValue | None = None


class SearchLabels(ModelArtsModel):
    labels: list[SearchLabel] | None = None
    op: str | None = None


class SearchProp(ModelArtsModel):
    op: str | None = None
    props: dict[str, list[str]] | None = None


class SearchCondition(ModelArtsModel):
    """A sample filter a labeling task was created with."""

    coefficient: str | None = None
    frame_in_video: int | None = None
    hard: str | None = None
    import_origin: str | None = None
    kvp: str | None = None
    label_list: SearchLabels | None = None
    labeler: str | None = None
    metadata: SearchProp | None = None
    parent_sample_id: str | None = None
    sample_dir: str | None = None
    sample_name: str | None = None
    sample_time: str | None = None
    score: str | None = None
    slice_thickness: str | None = None
    study_date: str | None = None
    time_in_video: str | None = None


class WorkforceTask(ModelArtsModel):
    """Details of a team labeling task (``GET .../workforce-tasks/{workforce_task_id}``).

    ``status`` drives the acceptance sensor; it is a :class:`TaskStatus` when documented, else the raw int.
    """

    auto_sync_dataset: bool | None = None
    check_rate: float | None = None
    checking_task_desc: WorkforceSamplingTaskDesc | None = None
    create_time: int | None = None
    dataset_id: str | None = None
    description: str | None = None
    label_stats: list[LabelStats] | None = None
    pass_rate: float | None = None
    repetition: int | None = None
    sample_search_conditions: list[SearchCondition] | None = None
    sample_stats: SampleStats | None = None
    score: float | None = None
    status: TaskStatusValue | None = None
    synchronize_auto_labeling_data: bool | None = None
    synchronize_data: bool | None = None
    task_id: str | None = None
    task_name: str | None = None
    update_time: int | None = None
    version_id: str | None = None
    worker_stats: list[WorkerTask] | None = None
    workforce_stats: WorkforceStats | None = None
    workforces_config: WorkforcesConfig | None = None

    @property
    def checking_task_id(self) -> str | None:
        """ID of the running acceptance, needed for the acceptance report."""
        return self.checking_task_desc.checking_task_id if self.checking_task_desc else None
