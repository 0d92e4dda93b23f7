"""Request bodies and replies of the team labeling task life cycle (create, list, start, update, delete).

Pages (``../shared/spec/related/``): ``creating_a_team_labeling_task.rst`` (CreateWorkforceTask),
``querying_the_team_labeling_task_list_of_a_dataset.rst`` (ListWorkforceTasks),
``starting_a_team_labeling_task.rst`` (StartWorkforceTask), ``updating_a_team_labeling_task.rst``
(UpdateWorkforceTask) and ``deleting_a_team_labeling_task.rst`` (DeleteWorkforceTask).

Requests are exactly as strict as those pages: every rule below quotes the sentence it comes from, and
nothing the pages leave open is checked (``task_name`` on create, e-mail formats, ids). Replies reuse the
lenient read models, so an answer with keys or values the pages do not list is kept, not refused.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Annotated

from pydantic import AfterValidator, ValidationInfo, field_validator

from ._base import ModelArtsModel, is_lenient, rule_error, strict_enum
from ._reads import Worker, WorkforceConfig, WorkforcesConfig, WorkforceTask

__all__ = [
    "CreateWorkforceTaskRequest",
    "CreateWorkforceTaskResponse",
    "DataSyncType",
    "ListWorkforceTasksResponse",
    "StartWorkforceTaskRequest",
    "UpdateWorkforceTaskRequest",
    "WorkerRequest",
    "WorkforceConfigRequest",
    "WorkforceTaskChangeResponse",
    "WorkforcesConfigRequest",
]


def _limited_text(longest: int, forbidden: str) -> AfterValidator:
    """The pages' "The value contains 0 to N characters and does not support the following special characters:
    ..." rule, as a reusable field type (skipped for replies)."""
    refused = frozenset(forbidden)

    def check(value: str | None, info: ValidationInfo) -> str | None:
        if value is None or is_lenient(info):
            return value
        if len(value) > longest:
            raise rule_error(f"must be at most {longest} characters, got {len(value)}")
        bad = sorted(set(value) & refused)
        if bad:
            raise rule_error(f"must not contain {' '.join(bad)} (the API refuses {forbidden})")
        return value

    return AfterValidator(check)


#: Worker.description (create/start/update pages) and UpdateWorkforceTask.description: "The value contains
#: 0 to 256 characters and does not support the following special characters: ^!<>=&"'"
Description = Annotated[str | None, _limited_text(256, "^!<>=&\"'")]
#: WorkforceConfig.workforce_name (create/start/update pages): "The value contains 0 to 1024 characters and
#: does not support the following special characters: !<>=&"'"
WorkforceName = Annotated[str | None, _limited_text(1024, "!<>=&\"'")]


class DataSyncType(IntEnum):
    """``data_sync_type`` of CreateWorkforceTask: "Options: 0: unsynchronization, 1: data synchronization,
    2: label synchronization, 3: data and label synchronization"."""

    UNSYNCHRONIZED = 0
    DATA = 1
    LABELS = 2
    DATA_AND_LABELS = 3


class WorkerRequest(Worker):
    """Table 5 "Worker" of the create/start/update pages (role and status enums are checked as documented)."""

    description: Description = None


class WorkforceConfigRequest(WorkforceConfig):
    """Table 4 "WorkforceConfig": one team and, optionally, the members who do the labeling."""

    # Request items follow the request rules (list types are invariant, hence the ignores below).
    workers: list[WorkerRequest] | None = None  # type: ignore[assignment]
    workforce_name: WorkforceName = None


class WorkforcesConfigRequest(WorkforcesConfig):
    """Table 3 "WorkforcesConfig": "Tasks can be assigned by the team administrator or a specified team"."""

    workforces: list[WorkforceConfigRequest] | None = None  # type: ignore[assignment]


class CreateWorkforceTaskRequest(ModelArtsModel):
    """Body of ``POST .../workforce-tasks`` (Table 2 of the create page; every parameter is optional)."""

    auto_sync_dataset: bool | None = None
    # "Options: 0 ... 3" (documented enum: other values are refused).
    data_sync_type: Annotated[DataSyncType, strict_enum(DataSyncType)] | None = None
    repetition: int | None = None
    sample_conditions: str | None = None
    synchronize_auto_labeling_data: bool | None = None
    workforces_config: WorkforcesConfigRequest | None = None
    # The create page states no rule for the name ("Name of a team labeling task.", nothing more): any text
    # is sent and the service judges it. The update page's 1-64 rule is not borrowed for create.
    task_name: str | None = None
    synchronize_data: bool | None = None

    @field_validator("repetition")
    @classmethod
    def _check_repetition(cls, value: int | None, info: ValidationInfo) -> int | None:
        # "Number of persons who label each sample in a team labeling task. The minimum value is 1."
        if value is not None and value < 1 and not is_lenient(info):
            raise rule_error("must be at least 1")
        return value


class StartWorkforceTaskRequest(ModelArtsModel):
    """Body of ``POST .../workforce-tasks/{workforce_task_id}`` (start page, Table 2; all optional)."""

    dataset_id: str | None = None
    task_id: str | None = None
    workforces_config: WorkforcesConfigRequest | None = None


class UpdateWorkforceTaskRequest(ModelArtsModel):
    """Body of ``PUT .../workforce-tasks/{workforce_task_id}`` (update page, Table 2; all optional)."""

    dataset_id: str | None = None
    description: Description = None
    task_id: str | None = None
    task_name: str | None = None
    workforces_config: WorkforcesConfigRequest | None = None

    @field_validator("task_name")
    @classmethod
    def _check_task_name(cls, value: str | None, info: ValidationInfo) -> str | None:
        # "The value contains 1 to 64 characters and only letters, digits, underscores (_), and hyphens
        # (-) are allowed." (update page, Table 2)
        if value is None or is_lenient(info):
            return value
        if not 1 <= len(value) <= 64:
            raise rule_error(f"must be 1 to 64 characters, got {len(value)}")
        # "letters" and "digits" without an alphabet: any script's letters (``é``, ``标``) pass, as the page
        # states no ASCII restriction; spaces and other punctuation do not.
        if not all(ch.isalpha() or ch.isdigit() or ch in "_-" for ch in value):
            raise rule_error("may contain only letters, digits, underscores (_) and hyphens (-)")
        return value


class CreateWorkforceTaskResponse(ModelArtsModel):
    """Reply of CreateWorkforceTask (Table 6): the new team labeling task's id."""

    task_id: str | None = None


class ListWorkforceTasksResponse(ModelArtsModel):
    """Reply of ListWorkforceTasks (Table 3): ``count`` is the total, ``tasks`` one page."""

    count: int | None = None
    tasks: list[WorkforceTask] | None = None


class WorkforceTaskChangeResponse(ModelArtsModel):
    """Reply of StartWorkforceTask, UpdateWorkforceTask and DeleteWorkforceTask.

    The pages document no response parameters (the examples show ``{ }``); anything the service does send is
    kept as extra keys.
    """
