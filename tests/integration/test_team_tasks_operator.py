"""CreateTeamTaskOperator against the emulator over real HTTP: one task per name, whatever is retried.

The emulator's ``drop_after`` fault applies a request and then cuts the connection, which is how a lost
answer looks to a client in real life: the create happened, the caller cannot know it.
"""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_modelarts.client import RetryPolicy
from airflow_provider_modelarts.emulator.testing import EmulatorServer
from airflow_provider_modelarts.operators.team_tasks import CreateTeamTaskOperator

DATASET = "ds-images"
FAST_RETRY = RetryPolicy(max_attempts=4, backoff_base=0.01, backoff_max=0.05, deadline=60.0)


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
