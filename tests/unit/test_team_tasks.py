"""team_tasks.py: what a user reads when adoption by name cannot go on (the errors' text and fields), the
one log line a run writes, and which create replies name the new task. The life cycle itself runs through
the hook in tests/unit/hooks/test_modelarts_team_tasks.py (respx at the network edge)."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest
from retry_policies import NO_WAIT_RETRY

from airflow_provider_modelarts.hooks.modelarts import ModelArtsHook
from airflow_provider_modelarts.models import TaskStatus
from airflow_provider_modelarts.team_tasks import (
    AmbiguousTeamTaskError,
    TeamTaskNameTakenError,
    TeamTaskNotListedError,
    TeamTaskNotStartedError,
    UnadoptableTeamTaskError,
    _new_task_id,
    create_or_adopt,
)
from unit._helpers import FakeService


def test_an_ambiguous_name_names_every_task_and_its_status() -> None:
    error = AmbiguousTeamTaskError(
        "ds-1",
        "labeling-a",
        [("t-1", TaskStatus.ACCEPTED), ("t-2", TaskStatus.CREATED), (None, None), ("t-4", 9)],
    )
    assert str(error) == (
        "Dataset ds-1 has 4 team labeling tasks named 'labeling-a': t-1 (status 3 ACCEPTED), "
        "t-2 (status 6 CREATED), None (status unknown), t-4 (status 9). Refusing to guess which one this run "
        "owns; rename or delete the extra ones."
    )
    assert (error.dataset_id, error.task_name) == ("ds-1", "labeling-a")
    assert error.tasks[0] == ("t-1", TaskStatus.ACCEPTED)
    assert not error.is_transient  # a retry meets the same two tasks


def test_a_created_task_the_list_does_not_show_is_worth_another_look() -> None:
    error = TeamTaskNotListedError("ds-1", "labeling-a")
    assert str(error) == (
        "The team labeling task 'labeling-a' was created on dataset ds-1 (the service answered without a "
        "task_id) but the dataset's task list does not show it."
    )
    assert (error.dataset_id, error.task_name, error.is_transient) == ("ds-1", "labeling-a", True)


def test_a_name_the_service_says_is_taken_but_the_list_does_not_show_says_where_to_look() -> None:
    error = TeamTaskNameTakenError("ds-1", "labeling-a", 2)
    assert str(error) == (
        "Creating the team labeling task 'labeling-a' on dataset ds-1 was refused with ModelArts.4620 (a "
        "task of that name already exists), but the dataset's task list shows none of that name (2 listed "
        "items were not task objects). The name may be taken outside this dataset; choose another name."
    )
    assert (error.dataset_id, error.task_name, error.unreadable, error.is_transient) == (
        "ds-1",
        "labeling-a",
        2,
        True,
    )
    assert str(TeamTaskNameTakenError("ds-1", "labeling-a", 0)).endswith(
        "shows none of that name. The name may be taken outside this dataset; choose another name."
    )


def test_a_task_of_the_name_without_a_task_id_is_named_in_the_error() -> None:
    error = UnadoptableTeamTaskError("ds-1", "labeling-a", None)
    assert str(error) == (
        "Dataset ds-1 lists a team labeling task named 'labeling-a' without a usable task_id (got None), so "
        "it cannot be adopted; refusing to create a second task of that name."
    )
    assert (error.dataset_id, error.task_name, error.task_id, error.is_transient) == (
        "ds-1",
        "labeling-a",
        None,
        False,
    )


def test_a_task_still_starting_says_how_long_and_in_which_status() -> None:
    error = TeamTaskNotStartedError("ds-1", "t-1", TaskStatus.STARTING, 2.5)
    assert str(error) == (
        "Team labeling task t-1 on dataset ds-1 is still in status 0 STARTING after 2.5 s; it has not left "
        "STARTING, so labels cannot be written into it yet."
    )
    assert (error.dataset_id, error.workforce_task_id, error.status) == ("ds-1", "t-1", TaskStatus.STARTING)
    assert error.is_transient  # an Airflow retry adopts the task and waits again


@pytest.mark.parametrize(
    ("task_id", "expected"),
    [("t-1", "t-1"), ("", None), ("   ", None), (17, None), (["t-1"], None), (None, None)],
)
def test_only_a_non_empty_string_task_id_names_the_new_task(task_id: object, expected: str | None) -> None:
    assert _new_task_id(SimpleNamespace(task_id=task_id)) == expected
    assert _new_task_id(object()) is None


def test_one_line_says_whether_the_run_created_or_adopted_its_task(
    service: FakeService, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    client = ModelArtsHook(retry=NO_WAIT_RETRY).get_conn()  # a real client; respx answers at the network edge
    for _ in range(2):
        create_or_adopt(
            client,
            "ds-1",
            "labeling-a",
            start=True,
            wait_started=5,
            options={},
            repeat=NO_WAIT_RETRY,
            log=logging.getLogger("team-task-test"),
        )
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Team labeling task ")]
    (task_id,) = service.tasks
    assert lines == [
        f"Team labeling task labeling-a ({task_id}) on ds-1: created, status 1",
        f"Team labeling task labeling-a ({task_id}) on ds-1: adopted (it already existed), status 1",
    ]
