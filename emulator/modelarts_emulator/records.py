"""The records of the emulator's world: datasets, samples, team labeling tasks and their rounds, tokens.

Plain data, no behaviour beyond small views: ``state.py`` keeps them in :class:`~.state.EmulatorState` and
``seed.py`` builds them from a seed; both import them from here, so neither imports the other's records.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "BUCKET",
    "CheckingTask",
    "DatasetRecord",
    "SampleRecord",
    "TaskSample",
    "TokenRecord",
    "WorkforceTaskRecord",
    "sample_id_for",
]


#: Where the emulator says sample files are stored (``source`` and ``sample_dir`` of sample views).
BUCKET = "obs://modelarts-emulator"


def sample_id_for(dataset_id: str, name: str) -> str:
    """Sample ids are the md5 of ``dataset_id/name``: 32 hex digits like the service's, and the same name in
    the same dataset always gets the same id, so a retried add is recognisable."""
    return hashlib.md5(f"{dataset_id}/{name}".encode(), usedforsecurity=False).hexdigest()


@dataclass(slots=True)
class SampleRecord:
    sample_id: str
    name: str
    sample_type: int | None
    size: int
    source: str
    sample_time: int
    labels: list[dict[str, Any]] | None = None
    to_be_confirmed: bool = False  # added with final_annotation=false: labels wait for confirmation
    metadata: dict[str, Any] | None = None
    sample_usage: str | None = None
    encoding: str | None = None
    data_md5: str | None = None


@dataclass(slots=True)
class TaskSample:
    """A dataset sample as a team labeling task sees it: its own labels until acceptance synchronizes them."""

    sample_id: str
    state: str = (
        "UN_ANNOTATION"  # UN_ANNOTATION | UNCHECK (labeled, awaiting acceptance) | ACCEPTED | REJECTED
    )
    labels: list[dict[str, Any]] | None = None
    worker_id: str | None = None
    sampled: bool = False
    check_accept: bool | None = None
    check_score: str | None = None
    check_comment: str | None = None
    update_time: int = 0


@dataclass
class CheckingTask:
    """One acceptance round ("checking task") of a team labeling task."""

    task_id: str
    sampling_num: int
    sampling_rate: float
    total_sample_count: int
    sampled: list[str]
    create_time: int
    results: dict[str, bool] = field(default_factory=dict)
    action: int | None = None
    overwrite_last_result: bool | None = None
    cancelled: bool = False


@dataclass
class WorkforceTaskRecord:
    task_id: str
    task_name: str
    dataset_id: str
    status: int
    create_time: int
    update_time: int
    workforces: list[dict[str, Any]]
    description: str = ""
    synchronize_data: bool = True
    repetition: int = 1
    # Create-request settings the emulator keeps and shows but does not act on (see the README).
    options: dict[str, Any] = field(default_factory=dict)
    samples: dict[str, TaskSample] = field(default_factory=dict)
    checking: list[CheckingTask] = field(default_factory=list)
    current: CheckingTask | None = None
    steps_left: int = 0  # steps until a transitional status (0, 5, 7) moves on
    next_status: int | None = None  # where SYNCHRONIZING(5) ends: 3 or 4

    def workers(self) -> list[dict[str, Any]]:
        return [worker for team in self.workforces for worker in team.get("workers", [])]


@dataclass
class DatasetRecord:
    dataset_id: str
    dataset_name: str
    dataset_type: int
    project_id: str
    create_time: int
    description: str = ""
    labels: list[dict[str, Any]] = field(default_factory=list)
    samples: dict[str, SampleRecord] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)  # sample name -> sample id
    tasks: dict[str, WorkforceTaskRecord] = field(default_factory=dict)
    imports: dict[str, Any] = field(default_factory=dict)  # task id -> import_tasks.ImportTaskRecord


@dataclass
class TokenRecord:
    user_name: str
    domain_name: str
    project_id: str
    issued_at: float
    expires_at: float
    revoked: bool = False
