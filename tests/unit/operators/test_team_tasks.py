"""CreateTeamTaskOperator and the hook's create-or-adopt rule, with only the network edge mocked (respx).

The rule under test: a team task is keyed by its name, so a second execute (an Airflow retry, a cleared
task) and a create whose answer was lost both adopt the task instead of creating a second one.
"""

from __future__ import annotations

import inspect
import json
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException
from hypothesis import given
from hypothesis import strategies as st
from retry_policies import NO_WAIT_RETRY

from airflow_provider_modelarts.hooks.modelarts import ModelArtsHook
from airflow_provider_modelarts.operators.team_tasks import SET_BY_ARGUMENTS, CreateTeamTaskOperator
from airflow_provider_modelarts.team_tasks import TeamTaskNotStartedError, UnadoptableTeamTaskError
from unit._helpers import FakeService


def operator(**kwargs: Any) -> CreateTeamTaskOperator:
    return CreateTeamTaskOperator(
        task_id="create_team_task",
        dataset_id="ds-1",
        task_name="labeling-20250314",
        client_retry=NO_WAIT_RETRY,
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


@pytest.mark.parametrize("task_id", [None, "", 17], ids=["null", "empty", "number"])
def test_a_task_of_the_name_without_a_task_id_fails_the_task_without_retrying(
    service: FakeService, task_id: Any
) -> None:
    """UnadoptableTeamTaskError is not transient: a retry lists the same task again, so Airflow must not
    spend its retries on it (AirflowFailException), and nothing is created beside it."""
    service.tasks["anon"] = {"task_id": task_id, "task_name": "labeling-20250314", "status": 6}

    with pytest.raises(AirflowFailException, match=r"labeling-20250314.*without a usable task_id") as raised:
        operator().execute(context={})

    assert isinstance(raised.value.__cause__, UnadoptableTeamTaskError)
    assert not raised.value.__cause__.is_transient
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


# -- create_options that collide with the operator's own arguments (issue 25, item 13) ----------------------

#: Fields of the create request that only create_options carries (creating_a_team_labeling_task.rst, Table 2).
REQUEST_ONLY_FIELDS = (
    "sample_conditions",
    "repetition",
    "auto_sync_dataset",
    "data_sync_type",
    "synchronize_auto_labeling_data",
)


def mapped(**partial: Any) -> Any:
    """A mapped CreateTeamTaskOperator: ``partial`` gets ``partial``, the task names are mapped."""
    return CreateTeamTaskOperator.partial(task_id="mapped", dataset_id="ds-1", **partial).expand(
        task_name=["labeling-a", "labeling-b"]
    )


def test_every_argument_of_the_create_call_is_refused_in_create_options() -> None:
    """What could collide: every named parameter of the hook call (a second value is a TypeError) and every
    create request field the operator fills from an argument of its own."""
    hook_call = inspect.signature(ModelArtsHook.create_team_task).parameters
    named = {name for name, p in hook_call.items() if p.kind is not inspect.Parameter.VAR_KEYWORD}
    own_fields = {"task_name", "workforces_config", "synchronize_data"}
    assert named | own_fields <= set(SET_BY_ARGUMENTS)
    assert not set(SET_BY_ARGUMENTS) & set(REQUEST_ONLY_FIELDS)


@given(keys=st.lists(st.sampled_from((*SET_BY_ARGUMENTS, *REQUEST_ONLY_FIELDS)), max_size=4, unique=True))
def test_create_options_are_refused_when_the_dag_is_parsed_iff_a_key_collides(keys: list[str]) -> None:
    options = {key: 1 for key in keys}
    colliding = [key for key in keys if key in SET_BY_ARGUMENTS]
    if not colliding:
        operator(create_options=options)
        mapped(create_options=options)
        return
    for build in (lambda: operator(create_options=options), lambda: mapped(create_options=options)):
        with pytest.raises(ValueError, match=rf"create_options must not hold '{colliding[0]}'"):
            build()


def test_create_options_that_are_not_a_dict_are_refused_when_parsed() -> None:
    with pytest.raises(ValueError, match="create_options must be a dict"):
        operator(create_options=["repetition", 2])
    with pytest.raises(ValueError, match="create_options keys must be create request field names"):
        operator(create_options={1: 2})


@pytest.mark.parametrize("key", sorted(SET_BY_ARGUMENTS))
def test_a_templated_create_options_is_checked_once_rendered_naming_the_key(
    service: FakeService, key: str
) -> None:
    op = operator(create_options="{{ params.create_options }}")  # a template: nothing to judge yet
    op.create_options = {"repetition": 2, key: False}  # what rendering produced

    with pytest.raises(AirflowFailException, match=rf"create_options must not hold '{key}'"):
        op.execute(context={})

    assert service.creates.call_count == 0  # refused before any request


def test_a_rendered_create_options_that_is_not_a_dict_fails_the_task(service: FakeService) -> None:
    op = operator(create_options="{{ params.create_options }}")
    op.create_options = "repetition=2"

    with pytest.raises(AirflowFailException, match="create_options must be a dict"):
        op.execute(context={})


def test_create_options_that_collide_with_nothing_reach_the_create_request(service: FakeService) -> None:
    operator(create_options={"repetition": 2}).execute(context={})

    (call,) = service.creates.calls
    assert json.loads(call.request.content)["repetition"] == 2
