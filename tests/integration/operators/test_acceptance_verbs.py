"""The three acceptance operators against the emulator, one after the other as a DAG runs them: start a
round, decide by pass rate, and apply an action to a new round."""

from __future__ import annotations

import pytest

from airflow_provider_modelarts.operators.acceptance import (
    ApplyAcceptanceActionOperator,
    DecideAcceptanceOperator,
    StartAcceptanceOperator,
)
from modelarts_emulator.testing import EmulatorServer

pytestmark = pytest.mark.usefixtures("modelarts_conn_env")

DS = "ds-images"
TASK = "task-1"  # RUNNING, 6 labeled samples waiting for acceptance
IDS = {"dataset_id": DS, "workforce_task_id": TASK}


@pytest.fixture(autouse=True)
def manual_clock(emulator: EmulatorServer) -> None:
    """Simulated reviewers move only when a test advances them, never with the wall clock."""
    emulator.admin.configure(step_seconds=None)


def _status(emulator: EmulatorServer) -> int:
    return int(emulator.admin.task(DS, TASK)["status"])


def test_start_acceptance_operator_starts_one_round_and_a_retry_adopts_it(emulator: EmulatorServer) -> None:
    first = StartAcceptanceOperator(task_id="start", **IDS, sampling_rate="0.5").execute(context={})
    task = emulator.admin.task(DS, TASK)
    assert first["mode"] == "start_acceptance" and first["checking_task_id"] == task["current"]
    assert len(task["rounds"][0]["sampled"]) == 3  # half of the 6 labeled samples
    again = StartAcceptanceOperator(task_id="start", **IDS, sampling_num=2).execute(context={})
    assert again["checking_task_id"] == first["checking_task_id"] and again["already_started"] is True
    assert len(emulator.admin.task(DS, TASK)["rounds"]) == 1


def test_decide_acceptance_operator_passes_a_round_that_reaches_the_minimum(emulator: EmulatorServer) -> None:
    emulator.admin.configure(reviewer_pass_rate=1.0, reviewer_pace=10)
    started = StartAcceptanceOperator(task_id="start", **IDS, sampling_rate=1.0).execute(context={})
    emulator.admin.advance(steps=2)  # sampling -> accepting, then one review step checks everything
    decide = DecideAcceptanceOperator(
        task_id="decide", **IDS, min_pass_rate=0.8, checking_task_id=started["checking_task_id"]
    )
    result = decide.execute(context={})
    assert result["mode"] == "pass_rate_decision" and result["decision"] == "pass_all"
    assert result["passed"] is True and result["already_applied"] is False
    emulator.admin.advance(steps=5)  # synchronizing -> accepted
    assert _status(emulator) == 3


def test_apply_acceptance_action_operator_rejects_a_round(emulator: EmulatorServer) -> None:
    emulator.admin.configure(reviewer_pass_rate=0.5, reviewer_pace=10)
    StartAcceptanceOperator(task_id="start", **IDS, sampling_rate=1.0).execute(context={})
    emulator.admin.advance(steps=2)
    result = ApplyAcceptanceActionOperator(task_id="act", **IDS, action="reject_all").execute(context={})
    assert (result["mode"], result["action"], result["action_code"]) == ("action", "REJECT_ALL", 1)
    emulator.admin.advance(steps=1)  # synchronizing -> rejected
    assert _status(emulator) == 4
    again = ApplyAcceptanceActionOperator(task_id="act", **IDS, action="reject_all").execute(context={})
    assert again["already_applied"] is True  # a retry after the answer was lost
