"""AcceptanceOperator against the emulator: each action, start acceptance, the pass-rate decision, retries."""

from __future__ import annotations

import json
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException

from airflow_provider_modelarts.acceptance import AcceptanceNotDecidableError
from airflow_provider_modelarts.errors import ModelArtsAPIError
from airflow_provider_modelarts.models import AcceptanceAction
from airflow_provider_modelarts.operators.acceptance import AcceptanceOperator
from modelarts_emulator.seed import DEFAULT_DATASET_ID as DS
from modelarts_emulator.seed import DEFAULT_TASK_ID as TASK
from modelarts_emulator.testing import EmulatorServer

pytestmark = pytest.mark.usefixtures("modelarts_conn_env")


@pytest.fixture(autouse=True)
def manual_clock(emulator: EmulatorServer) -> None:
    """Simulated reviewers move only when a test advances them, never with the wall clock."""
    emulator.admin.configure(step_seconds=None)


def operator(**kwargs: Any) -> AcceptanceOperator:
    return AcceptanceOperator(task_id="acceptance", dataset_id=DS, workforce_task_id=TASK, **kwargs)


def status(emulator: EmulatorServer) -> int:
    return int(emulator.admin.task(DS, TASK)["status"])


def start_and_review(emulator: EmulatorServer, *, pass_rate: float, rate: float = 1.0) -> str:
    """Start a round sampling ``rate`` of the samples and let the reviewers check all of them."""
    emulator.admin.configure(reviewer_pass_rate=pass_rate, reviewer_pace=10)
    with emulator.client() as client:
        checking_task_id = client.start_acceptance(DS, TASK, sampling_rate=rate).task_id
    emulator.admin.advance(steps=2)  # sampling -> accepting, then one review step checks everything
    assert status(emulator) == 2
    assert checking_task_id is not None
    return checking_task_id


def test_start_acceptance_returns_the_checking_task_id_and_is_retry_safe(emulator: EmulatorServer) -> None:
    first = operator(start_acceptance=True, sampling_rate="0.5").execute(context={})
    task = emulator.admin.task(DS, TASK)
    assert first["checking_task_id"] == task["current"] and first["already_started"] is False
    assert first["sampling_rate"] == 0.5 and first["mode"] == "start_acceptance"
    assert len(task["rounds"][0]["sampled"]) == 3  # half of the 6 labeled samples
    json.dumps(first)
    # An Airflow retry after the round started: ModelArts.4623, the running round is adopted, no new round.
    again = operator(start_acceptance=True, sampling_num=2).execute(context={})
    assert again["checking_task_id"] == first["checking_task_id"] and again["already_started"] is True
    assert len(emulator.admin.task(DS, TASK)["rounds"]) == 1


@pytest.mark.parametrize(
    ("action", "name", "final_status"),
    [
        ("pass_all", "PASS_ALL", 3),
        ("REJECT-ALL", "REJECT_ALL", 4),
        (2, "CANCEL", 1),
        (AcceptanceAction.VIEW_CONFLICTS, "VIEW_CONFLICTS", 2),
        ("4", "PASS_SINGLE_ACCEPTED_AND_UNACCEPTED", 3),
        ("Pass Single Accepted", "PASS_SINGLE_ACCEPTED", 3),
    ],
)
def test_every_action(emulator: EmulatorServer, action: Any, name: str, final_status: int) -> None:
    start_and_review(emulator, pass_rate=0.5)
    rounds = emulator.admin.task(DS, TASK)["rounds"]
    rejected = [sid for sid, ok in rounds[-1]["results"].items() if not ok]
    result = operator(action=action, overwrite_last_result=True).execute(context={})
    assert (result["action"], result["action_code"]) == (name, int(AcceptanceAction[name]))
    assert result["already_applied"] is False
    assert len(result["samples_preview"]) == min(result["sample_count"], 10)
    if name == "VIEW_CONFLICTS":
        assert sorted(result["samples_preview"]) == sorted(rejected)  # the conflicted samples, listed
    elif name == "PASS_ALL":
        assert result["sample_count"] == 6
    elif name == "REJECT_ALL":
        assert result["sample_count"] == 0
    emulator.admin.advance(steps=1)  # synchronizing -> final
    assert status(emulator) == final_status
    if name not in ("CANCEL", "VIEW_CONFLICTS"):
        assert emulator.admin.task(DS, TASK)["rounds"][-1]["overwrite_last_result"] is True
    json.dumps(result)


def test_an_action_applied_by_an_earlier_try_counts_as_applied(emulator: EmulatorServer) -> None:
    start_and_review(emulator, pass_rate=1.0)
    operator(action="pass_all").execute(context={})
    emulator.admin.advance(steps=1)
    assert status(emulator) == 3
    again = operator(action="pass_all").execute(context={})  # the service refuses; the task is accepted
    assert again["already_applied"] is True and again["sample_count"] == 0
    with pytest.raises(ModelArtsAPIError, match=r"ModelArts\.4631"):
        operator(action="reject_all").execute(context={})  # a different decision is not hidden


@pytest.mark.parametrize(
    ("reviewer_pass_rate", "decision", "final_status"), [(1.0, "pass_all", 3), (0.0, "reject_all", 4)]
)
def test_pass_rate_decision_both_ways(
    emulator: EmulatorServer, reviewer_pass_rate: float, decision: str, final_status: int
) -> None:
    checking_task_id = start_and_review(emulator, pass_rate=reviewer_pass_rate)
    op = operator(min_pass_rate="{{ params.min_rate }}")
    op.render_template_fields({"params": {"min_rate": "0.8"}})  # type: ignore[arg-type]
    result = op.execute(context={})
    assert result["decision"] == decision and result["passed"] is (decision == "pass_all")
    assert result["pass_rate"] == reviewer_pass_rate and result["min_pass_rate"] == 0.8
    assert result["checking_task_id"] == checking_task_id
    assert (result["sampled"], result["checked"]) == (6, 6)
    assert result["accepted"] == (6 if decision == "pass_all" else 0)
    assert result["action"] == decision.upper()
    emulator.admin.advance(steps=1)
    assert status(emulator) == final_status
    # Retried after it went through: same figures, same decision, nothing applied twice.
    again = operator(min_pass_rate=0.8, checking_task_id=checking_task_id).execute(context={})
    assert again["decision"] == decision and again["already_applied"] is True


def test_pass_rate_decision_waits_for_every_sampled_sample(emulator: EmulatorServer) -> None:
    emulator.admin.configure(reviewer_pass_rate=1.0, reviewer_pace=2)
    with emulator.client() as client:
        client.start_acceptance(DS, TASK, sampling_rate=1.0)
    emulator.admin.advance(steps=2)  # 2 of 6 checked
    # Not decidable yet is a plain (retryable) task failure, not AirflowFailException: a later try may decide.
    with pytest.raises(AcceptanceNotDecidableError, match="not finished: 2 of 6 sampled samples checked"):
        operator(min_pass_rate=0.9).execute(context={})
    assert status(emulator) == 2  # nothing decided
    result = operator(min_pass_rate=0.9, require_all_checked=False).execute(context={})
    assert result["decision"] == "pass_all" and result["checked"] == 2


def test_pass_rate_decision_needs_a_round(emulator: EmulatorServer) -> None:
    with pytest.raises(AcceptanceNotDecidableError, match="has no acceptance round to judge"):
        operator(min_pass_rate=0.9).execute(context={})


def test_bad_action_names_the_valid_ones_and_sends_nothing(emulator: EmulatorServer) -> None:
    with pytest.raises(
        AirflowFailException, match=r"action 'approve' is not an acceptance action.*pass_all \(0\)"
    ):
        operator(action="approve").execute(context={})
    assert not emulator.admin.stats()["routes"].get("update_acceptance_status")


def test_links_point_to_the_team_task(emulator: EmulatorServer) -> None:
    start_and_review(emulator, pass_rate=1.0)
    op = operator(action="view_conflicts")
    op.execute(context={})
    from airflow_provider_modelarts.links import ModelArtsTeamTaskLink

    url = ModelArtsTeamTaskLink().get_link(op, ti_key=None)  # type: ignore[arg-type]
    assert "region=cn-north-4" in url and "datasetId=ds-images" in url and "workforceTaskId=task-1" in url
