"""CreateTeamTaskOperator against the emulator over real HTTP: one task per name, whatever is retried.

The emulator's ``drop_after`` fault applies a request and then cuts the connection, which is how a lost
answer looks to a client in real life: the create happened, the caller cannot know it.
"""

from __future__ import annotations

from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException
from retry_policies import FAST_RETRY

from airflow_provider_modelarts.errors import ModelArtsNotFoundError
from airflow_provider_modelarts.hooks.modelarts import ModelArtsHook
from airflow_provider_modelarts.operators.team_tasks import CreateTeamTaskOperator
from airflow_provider_modelarts.team_tasks import TeamTaskNotStartedError
from modelarts_emulator.seed import DEFAULT_DATASET_ID as DATASET
from modelarts_emulator.testing import EmulatorServer


def tasks_named(emulator: EmulatorServer, name: str) -> list[Any]:
    with emulator.client() as client:
        return [task for task in client.iter_workforce_tasks(DATASET) if task.task_name == name]


def operator(name: str = "labeling-20250314", **kwargs: Any) -> CreateTeamTaskOperator:
    return CreateTeamTaskOperator(
        task_id="create_team_task",
        dataset_id=DATASET,
        task_name=name,
        workforces_config={"workforces": [{"workforce_id": "wf-emulator"}]},
        client_retry=FAST_RETRY,
        **kwargs,
    )


@pytest.fixture(autouse=True)
def in_flight() -> None:
    """Overrides this folder's client swap, which forces one retry policy on every client: the rule under test
    depends on the hook sending create and start without client retries."""


@pytest.fixture(autouse=True)
def quick_steps(emulator: EmulatorServer, modelarts_conn_env: dict[str, Any]) -> None:
    # STARTING -> RUNNING takes one emulator step; keep it short so the operator's wait is brief.
    emulator.admin.configure(step_seconds=0.05)


def test_creates_and_starts_a_running_task_with_the_unlabeled_samples(emulator: EmulatorServer) -> None:
    result = operator().execute(context={})

    assert result["created"] is True and result["started"] is True
    assert result["status"] == 1  # RUNNING: labels can be written into it now
    (task,) = tasks_named(emulator, "labeling-20250314")
    assert task.task_id == result["workforce_task_id"]
    with emulator.client() as client:
        samples = list(client.iter_workforce_task_samples(DATASET, result["workforce_task_id"]))
    assert samples  # the dataset's unlabeled samples were assigned to it


def test_a_second_execute_adopts_the_task(emulator: EmulatorServer) -> None:
    first = operator().execute(context={})
    second = operator().execute(context={})

    assert second["workforce_task_id"] == first["workforce_task_id"]
    assert second["created"] is False and second["started"] is False
    assert len(tasks_named(emulator, "labeling-20250314")) == 1
    assert emulator.admin.stats()["routes"]["create_workforce_task"]["applied"] == 1


def test_a_lost_create_answer_leaves_one_task(emulator: EmulatorServer) -> None:
    emulator.admin.faults(kind="drop_after", route="create_workforce_task", count=1)

    result = operator().execute(context={})

    (task,) = tasks_named(emulator, "labeling-20250314")
    assert task.task_id == result["workforce_task_id"]
    assert result["status"] == 1
    assert emulator.admin.stats()["routes"]["create_workforce_task"]["applied"] == 1


def test_a_lost_start_answer_is_not_started_twice(emulator: EmulatorServer) -> None:
    emulator.admin.faults(kind="drop_after", route="start_workforce_task", count=1)

    result = operator().execute(context={})

    assert result["status"] == 1
    assert emulator.admin.stats()["routes"]["start_workforce_task"]["applied"] == 1


def test_each_batch_gets_its_own_task(emulator: EmulatorServer) -> None:
    day_one = operator("labeling-20250314").execute(context={})
    day_two = operator("labeling-20250315").execute(context={})

    assert day_one["workforce_task_id"] != day_two["workforce_task_id"]
    assert (
        len(tasks_named(emulator, "labeling-20250314"))
        == len(tasks_named(emulator, "labeling-20250315"))
        == 1
    )


# ------------------------------------------------- issue 15: replies the pages allow, and no guessing


def test_a_create_reply_without_task_id_on_short_pages_adopts_the_one_created_task(
    emulator: EmulatorServer,
) -> None:
    for day in range(4):  # other batches' tasks, so the new one is on a later page
        operator(f"labeling-2025030{day}", start=False).execute(context={})
    emulator.admin.configure(create_task_reply="no_content", task_page_cap=1)

    result = operator().execute(context={})

    (task,) = tasks_named(emulator, "labeling-20250314")
    assert (result["workforce_task_id"], result["created"], result["status"]) == (task.task_id, True, 1)
    assert emulator.admin.stats()["routes"]["create_workforce_task"]["applied"] == 5
    again = operator().execute(context={})  # a retry or a cleared task: adopted across the short pages
    assert again["workforce_task_id"] == task.task_id and again["created"] is False


def test_throttled_creation_is_tried_again_and_makes_one_task(emulator: EmulatorServer) -> None:
    emulator.admin.configure(throttle_task_creates=2)  # 429 ModelArts.4395, twice

    result = operator().execute(context={})

    (task,) = tasks_named(emulator, "labeling-20250314")
    assert task.task_id == result["workforce_task_id"] and result["status"] == 1
    create = emulator.admin.stats()["routes"]["create_workforce_task"]
    assert (create["requests"], create["status_429"], create["status_200"]) == (3, 2, 1)


def test_two_tasks_of_the_name_fail_the_operator_naming_both(emulator: EmulatorServer) -> None:
    emulator.admin.seed(
        {
            "datasets": [
                {
                    "dataset_id": "ds-twins",
                    "samples": [{"name": "a.jpg", "sample_type": 0}],
                    "workforce_tasks": [
                        {"task_id": "twin-accepted", "task_name": "labeling-20250314", "status": 3},
                        {"task_id": "twin-created", "task_name": "labeling-20250314", "status": 6},
                    ],
                }
            ]
        }
    )
    twins = CreateTeamTaskOperator(
        task_id="create_team_task",
        dataset_id="ds-twins",
        task_name="labeling-20250314",
        client_retry=FAST_RETRY,
    )

    named = r"twin-accepted \(status 3 ACCEPTED\), twin-created \(status 6 CREATED\)"
    with pytest.raises(AirflowFailException, match=named):
        twins.execute(context={})

    routes = emulator.admin.stats()["routes"]
    assert "create_workforce_task" not in routes and "start_workforce_task" not in routes


def test_a_task_still_starting_fails_the_try_and_the_retry_adopts_it(emulator: EmulatorServer) -> None:
    emulator.admin.configure(step_seconds=None)  # STARTING until the test advances the clock

    with pytest.raises(TeamTaskNotStartedError, match="STARTING"):
        operator(wait_started=0).execute(context={})
    emulator.admin.advance(steps=1)  # allocation done: RUNNING
    retried = operator(wait_started=0).execute(context={})

    (task,) = tasks_named(emulator, "labeling-20250314")
    assert (retried["workforce_task_id"], retried["status"], retried["created"]) == (task.task_id, 1, False)


@pytest.mark.parametrize("not_found_status", [400, 404])
def test_delete_counts_only_a_missing_task_as_already_deleted(
    emulator: EmulatorServer, not_found_status: int
) -> None:
    emulator.admin.configure(not_found_status=not_found_status)
    hook = ModelArtsHook(retry=FAST_RETRY)
    task_id = operator(start=False).execute(context={})["workforce_task_id"]

    assert hook.delete_team_task(DATASET, task_id) is True
    assert hook.delete_team_task(DATASET, task_id) is False  # ModelArts.4619: already gone
    with pytest.raises(ModelArtsNotFoundError) as no_dataset:
        hook.delete_team_task("ds-nowhere", task_id)
    assert (no_dataset.value.status, no_dataset.value.error_code) == (not_found_status, "ModelArts.4352")
