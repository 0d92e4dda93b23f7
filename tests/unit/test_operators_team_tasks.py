"""CreateTeamTaskOperator and the hook's create-or-adopt rule, with only the network edge mocked (respx).

The rule under test: a team task is keyed by its name, so a second execute (an Airflow retry, a cleared
task) and a create whose answer was lost both adopt the task instead of creating a second one.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException
from team_task_helpers import FAST_RETRY, FakeService

from airflow_provider_modelarts.operators.team_tasks import CreateTeamTaskOperator
from airflow_provider_modelarts.team_tasks import TeamTaskNotStartedError


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


def test_two_tasks_of_the_name_fail_the_task_without_retrying(service: FakeService) -> None:
    service.add("task-a", "labeling-20250314", 3)  # ACCEPTED
    service.add("task-b", "labeling-20250314", 6)  # CREATED

    with pytest.raises(AirflowFailException, match=r"task-a \(status 3 ACCEPTED\).*task-b \(status 6"):
        operator().execute(context={})

    assert service.creates.call_count == 0 and service.starts.call_count == 0


def test_a_create_answered_without_task_id_returns_the_created_task(service: FakeService) -> None:
    service.create_body = b""

    result = operator().execute(context={})

    assert (result["workforce_task_id"], result["created"], result["status"]) == ("task-1", True, 1)
    assert service.creates.call_count == 1


def test_a_task_still_starting_after_wait_started_fails_the_try_for_a_retry(service: FakeService) -> None:
    service.status_after_start = 0

    with pytest.raises(TeamTaskNotStartedError):
        operator(wait_started=0).execute(context={})

    service.tasks["task-1"]["status"] = 1
    retried = operator(wait_started=0).execute(context={})  # what the Airflow retry does
    assert (retried["workforce_task_id"], retried["status"]) == ("task-1", 1)
    assert service.creates.call_count == 1


def test_the_docstring_claims_no_name_rule_the_create_page_does_not_state() -> None:
    doc = CreateTeamTaskOperator.__doc__ or ""
    assert "64" not in doc and "4396" not in doc
