"""CreateTeamTaskOperator and the hook's create-or-adopt rule, with only the network edge mocked (respx).

The rule under test: a team task is keyed by its name, so a second execute (an Airflow retry, a cleared
task) and a create whose answer was lost both adopt the task instead of creating a second one.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx

from airflow_provider_modelarts.client import RetryPolicy
from airflow_provider_modelarts.operators.team_tasks import CreateTeamTaskOperator

AK = "TEAMTASKTESTAK0000001"
SK = "team-task-test-secret-key-41d07c"  # unique per module for the session's secret scan
PROJECT = "5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b"
ENDPOINT = "https://modelarts.team-task-test.example.com"
TASKS_URL = f"{ENDPOINT}/v2/{PROJECT}/datasets/ds-1/workforce-tasks"
FAST_RETRY = RetryPolicy(max_attempts=3, backoff_base=0.0, backoff_max=0.0, deadline=30.0)


class FakeService:
    """Just enough of the team task API: a list, create (optionally losing its answer), details, start."""

    def __init__(self, router: respx.MockRouter) -> None:
        self.tasks: dict[str, dict[str, Any]] = {}
        self.lose_next_create_answer = False
        self.creates = router.post(TASKS_URL).mock(side_effect=self._create)
        self.lists = router.get(TASKS_URL).mock(side_effect=self._list)
        self.details = router.get(url__regex=rf"{TASKS_URL}/[^/?]+(\?.*)?$").mock(side_effect=self._get)
        self.starts = router.post(url__regex=rf"{TASKS_URL}/[^/?]+$").mock(side_effect=self._start)

    def _create(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        task_id = f"task-{len(self.tasks) + 1}"
        self.tasks[task_id] = {
            "task_id": task_id,
            "task_name": body.get("task_name"),
            "status": 6,
            "create_time": len(self.tasks),
        }
        if self.lose_next_create_answer:
            self.lose_next_create_answer = False
            raise httpx.ReadError("connection reset after the service stored the task", request=request)
        return httpx.Response(200, json={"task_id": task_id})

    def _list(self, request: httpx.Request) -> httpx.Response:
        tasks = list(self.tasks.values())
        return httpx.Response(200, json={"count": len(tasks), "tasks": tasks})

    def _task_id(self, request: httpx.Request) -> str:
        return request.url.path.rsplit("/", 1)[1]

    def _get(self, request: httpx.Request) -> httpx.Response:
        task = self.tasks.get(self._task_id(request))
        if task is None:
            return httpx.Response(404, json={"error_code": "ModelArts.4352", "error_msg": "no such task"})
        return httpx.Response(200, json=task)

    def _start(self, request: httpx.Request) -> httpx.Response:
        self.tasks[self._task_id(request)]["status"] = 1
        return httpx.Response(200, json={})


@pytest.fixture
def service(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeService]:
    conn = {"conn_type": "modelarts", "login": AK, "password": SK}
    conn["extra"] = {"project_id": PROJECT, "endpoint": ENDPOINT}  # type: ignore[assignment]
    monkeypatch.setenv("AIRFLOW_CONN_MODELARTS_DEFAULT", json.dumps(conn))
    with respx.mock(assert_all_called=False) as router:
        yield FakeService(router)


def operator(**kwargs: Any) -> CreateTeamTaskOperator:
    return CreateTeamTaskOperator(
        task_id="create_team_task",
        dataset_id="ds-1",
        task_name="labeling-20250314",
        client_retry=FAST_RETRY,
        **kwargs,
    )


def test_creates_and_starts_a_new_task(service: FakeService) -> None:
    result = operator(workforces_config={"workforces": [{"workforce_id": "wf-1"}]}).execute(context={})

    assert result == {
        "dataset_id": "ds-1",
        "workforce_task_id": "task-1",
        "task_name": "labeling-20250314",
        "created": True,
        "started": True,
        "status": 1,
    }
    (create,) = service.creates.calls
    body = json.loads(create.request.content)
    assert body["task_name"] == "labeling-20250314"
    assert body["workforces_config"] == {"workforces": [{"workforce_id": "wf-1"}]}
    assert body["synchronize_data"] is False  # a batch's task keeps the batch it was made for
    assert service.starts.call_count == 1


def test_second_execute_adopts_the_task_instead_of_creating_another(service: FakeService) -> None:
    first = operator().execute(context={})
    second = operator().execute(context={})

    assert second["workforce_task_id"] == first["workforce_task_id"]
    assert second["created"] is False and second["started"] is False
    assert service.creates.call_count == 1
    assert service.starts.call_count == 1
    assert len(service.tasks) == 1


def test_a_lost_create_answer_adopts_what_the_first_call_created(service: FakeService) -> None:
    service.lose_next_create_answer = True

    result = operator().execute(context={})

    assert service.creates.call_count == 1  # the create was not re-sent blindly
    assert len(service.tasks) == 1
    assert result["workforce_task_id"] == "task-1"
    assert result["created"] is True and result["status"] == 1


def test_other_tasks_of_the_dataset_are_left_alone(service: FakeService) -> None:
    service.tasks["old"] = {"task_id": "old", "task_name": "labeling-20250313", "status": 3, "create_time": 0}

    result = operator().execute(context={})

    assert result["workforce_task_id"] != "old"
    assert service.tasks["old"]["status"] == 3
    assert service.creates.call_count == 1


def test_without_start_the_task_stays_created(service: FakeService) -> None:
    result = operator(start=False).execute(context={})

    assert result["status"] == 6 and result["started"] is False
    assert service.starts.call_count == 0


def test_task_name_and_dataset_are_templated() -> None:
    assert {"dataset_id", "task_name", "workforces_config"} <= set(CreateTeamTaskOperator.template_fields)
