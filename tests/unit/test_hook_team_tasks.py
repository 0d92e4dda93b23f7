"""ModelArtsHook's team labeling task operations (hooks/team_tasks.py): create or adopt by name, delete once.

Only the network edge is mocked (team_task_helpers.FakeService); the operator on top is tested in
test_operators_team_tasks.py and against the emulator in tests/integration/test_team_tasks_operator.py.
"""

from __future__ import annotations

import httpx
from team_task_helpers import FAST_RETRY, TASKS_URL, FakeService

from airflow_provider_modelarts.hooks.modelarts import ModelArtsHook


def hook() -> ModelArtsHook:
    return ModelArtsHook(retry=FAST_RETRY)


def test_a_task_of_that_name_is_adopted_not_created_again(service: FakeService) -> None:
    first = hook().create_team_task("ds-1", "labeling-a")
    again = hook().create_team_task("ds-1", "labeling-a")
    assert (first["created"], again["created"]) == (True, False)
    assert again["workforce_task_id"] == first["workforce_task_id"]
    assert service.creates.call_count == 1 and len(service.tasks) == 1


def test_a_lost_create_answer_lists_again_and_adopts_what_was_created(service: FakeService) -> None:
    service.lose_next_create_answer = True
    result = hook().create_team_task("ds-1", "labeling-b")
    assert service.creates.call_count == 1  # the create itself is never re-sent blindly
    assert list(service.tasks) == [result["workforce_task_id"]]
    assert result["status"] == 1 and result["started"] is True


def test_already_exists_from_the_service_is_settled_by_the_next_list(service: FakeService) -> None:
    """4620 ("already exists") after a race: the next list finds the task, which is adopted."""
    original = service.creates.side_effect

    def create_then_refuse(request: httpx.Request) -> httpx.Response:
        original(request)  # stored, as another attempt's create was
        return httpx.Response(400, json={"error_code": "ModelArts.4620", "error_msg": "exists"})

    service.creates.side_effect = create_then_refuse
    result = hook().create_team_task("ds-1", "labeling-c", start=False)
    assert len(service.tasks) == 1 and result["workforce_task_id"] in service.tasks
    assert result["status"] == 6 and result["started"] is False


def test_of_two_tasks_with_one_name_the_oldest_is_adopted(service: FakeService) -> None:
    service.tasks["task-9"] = {"task_id": "task-9", "task_name": "dup", "status": 1, "create_time": 9}
    service.tasks["task-3"] = {"task_id": "task-3", "task_name": "dup", "status": 1, "create_time": 3}
    assert hook().create_team_task("ds-1", "dup")["workforce_task_id"] == "task-3"
    assert service.creates.call_count == 0


def test_delete_of_a_task_that_is_gone_counts_as_done(service: FakeService) -> None:
    gone = service.router.delete(f"{TASKS_URL}/task-x").mock(
        return_value=httpx.Response(404, json={"error_code": "ModelArts.4619", "error_msg": "no such task"})
    )
    assert hook().delete_team_task("ds-1", "task-x") is False
    assert gone.call_count == 1
