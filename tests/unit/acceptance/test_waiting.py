"""Evaluating a wait (the sensor's and the trigger's shared decision): every branch, on the real models."""

from __future__ import annotations

import httpx
import pytest

from airflow_provider_modelarts.acceptance import (
    AcceptanceCriteria,
    AcceptanceEvaluation,
    AcceptanceSnapshot,
    AcceptanceState,
    ProgressLog,
    evaluate,
    evaluate_snapshot,
)
from airflow_provider_modelarts.errors import (
    ModelArtsAuthError,
    ModelArtsConfigError,
    ModelArtsNotFoundError,
    ModelArtsServerError,
    ModelArtsThrottledError,
    ModelArtsTransportError,
    ModelArtsValidationError,
    error_from_response,
)
from airflow_provider_modelarts.models import RESPONSE_CONTEXT, AcceptanceReport, TaskStatus
from airflow_provider_modelarts.retries import is_token_expiry, poll_again
from unit.acceptance._helpers import report, task

DEFAULT = AcceptanceCriteria()
CHECKED = AcceptanceCriteria.build(target_statuses=None, check_complete=True)


def test_default_waits_for_accepted_and_reports_figures() -> None:
    pending = evaluate(task(2), report(10, 3, 0), DEFAULT)
    assert pending.state is AcceptanceState.PENDING
    assert "ACCEPTING" in pending.message and "3/10" in pending.message

    done = evaluate(task(3), report(10, 9, 1), DEFAULT)
    assert done.state is AcceptanceState.SUCCESS
    assert done.figures == {
        "status": 3,
        "status_name": "ACCEPTED",
        "checking_task_id": "chk-1",
        "pass_rate": 0.9,
        "sampled": 10,
        "checked": 10,
        "accepted": 9,
        "rejected": 1,
        "score": "A",
    }


def test_rejected_task_fails_with_reason() -> None:
    result = evaluate(task(4), report(10, 2, 8), DEFAULT, workforce_task_id="task-1")
    assert result.state is AcceptanceState.FAILURE
    assert "task-1 was REJECTED (4)" in result.message


def test_rejected_is_success_when_it_is_a_target() -> None:
    criteria = AcceptanceCriteria.build(target_statuses=["accepted", "REJECTED"])
    assert evaluate(task(4), None, criteria).state is AcceptanceState.SUCCESS


def test_check_complete_waits_for_every_sampled_sample() -> None:
    assert evaluate(task(2), report(10, 9, 0), CHECKED).state is AcceptanceState.PENDING
    result = evaluate(task(2), report(10, 9, 1), CHECKED)
    assert result.state is AcceptanceState.SUCCESS
    assert result.figures["checked"] == 10


def test_round_that_sampled_nothing_is_not_complete() -> None:
    assert evaluate(task(2), report(0, 0, 0), CHECKED).state is AcceptanceState.PENDING


def test_pass_rate_out_of_reach_fails_before_the_check_ends() -> None:
    criteria = AcceptanceCriteria.build(target_statuses=None, check_complete=True, min_pass_rate=0.9)
    # 2 of 10 rejected: at most 80 % can pass, below 90 %, although 5 samples are still unchecked.
    result = evaluate(task(2), report(10, 3, 2), criteria)
    assert result.state is AcceptanceState.FAILURE
    assert "can no longer reach 90.00%" in result.message
    assert "2 of 10 sampled samples are already rejected" in result.message
    # 1 of 10 rejected: 90 % is still reachable, keep waiting.
    assert evaluate(task(2), report(10, 3, 1), criteria).state is AcceptanceState.PENDING


def test_pass_rate_decided_at_completion_both_ways() -> None:
    criteria = AcceptanceCriteria.build(target_statuses=None, check_complete=True, min_pass_rate=0.9)
    assert evaluate(task(2), report(10, 9, 1), criteria).state is AcceptanceState.SUCCESS
    # The service's own rate wins over the counts (it may weigh samples); rounding noise is tolerated.
    assert (
        evaluate(task(2), report(10, 9, 1, pass_rate=0.8999999999), criteria).state is AcceptanceState.SUCCESS
    )
    low = evaluate(task(2), report(10, 9, 1, pass_rate=0.85), criteria)
    assert low.state is AcceptanceState.FAILURE
    assert "85.00%, below the required 90.00%" in low.message


def test_accepted_task_with_low_pass_rate_fails_min_pass_rate() -> None:
    criteria = AcceptanceCriteria.build(min_pass_rate=0.95)
    assert evaluate(task(3), report(10, 9, 1), criteria).state is AcceptanceState.FAILURE
    assert evaluate(task(3), report(10, 10, 0), criteria).state is AcceptanceState.SUCCESS


def test_min_pass_rate_waits_while_rate_unknown() -> None:
    criteria = AcceptanceCriteria.build(target_statuses=None, min_pass_rate=0.5)
    result = evaluate(task(7), None, criteria)
    assert result.state is AcceptanceState.PENDING
    assert "pass rate not final yet" in result.message


def test_cancelled_round_fails_when_waiting_for_its_check() -> None:
    result = evaluate(task(1), None, CHECKED, checking_task_id="chk-1")
    assert result.state is AcceptanceState.FAILURE
    assert "cancelled" in result.message
    # Without an awaited round, a running task is simply not being accepted yet.
    assert evaluate(task(1, checking_task_id=None), None, CHECKED).state is AcceptanceState.PENDING


def test_replaced_round_fails() -> None:
    result = evaluate(task(2, checking_task_id="chk-2"), report(5, 0, 0), CHECKED, checking_task_id="chk-1")
    assert result.state is AcceptanceState.FAILURE
    assert "replaced by round chk-2" in result.message


def test_stats_fall_back_to_task_details() -> None:
    details = task(
        2,
        checking_task_desc={
            "checking_task_id": "chk-9",
            "checking_stats": {"sampled_sample_count": 4, "checked_sample_count": 4,
                               "unchecked_sample_count": 0, "accepted_sample_count": 4,
                               "rejected_sample_count": 0, "pass_rate": 1.0},
        },
        checking_task_id=None,
    )  # fmt: skip
    result = evaluate(details, None, CHECKED)
    assert result.state is AcceptanceState.SUCCESS
    assert result.figures["checking_task_id"] == "chk-9"
    assert result.figures["pass_rate"] == 1.0


def test_spec_example_report_is_pending() -> None:
    # The documented example: 3 sampled, none checked, pass_rate 0.0 -- not a failure of a 0.9 minimum.
    example = AcceptanceReport.model_validate(
        {"total_stats": {"sampling_rate": 1.0, "sampling_num": 3, "pass_rate": 0.0, "score": "E",
                         "total_score": 0, "total_sample_count": 3, "sampled_sample_count": 3,
                         "unchecked_sample_count": 3, "checked_sample_count": 0, "accepted_sample_count": 0,
                         "rejected_sample_count": 0}},
        context=RESPONSE_CONTEXT,
    )  # fmt: skip
    criteria = AcceptanceCriteria.build(target_statuses=None, check_complete=True, min_pass_rate=0.9)
    result = evaluate(task(2), example, criteria)
    assert result.state is AcceptanceState.PENDING
    assert "0/3 sampled samples checked" in result.message


def test_unknown_status_code_is_kept_not_crashed() -> None:
    result = evaluate(task(42), None, DEFAULT)
    assert result.state is AcceptanceState.PENDING
    assert result.figures["status_name"] == "UNKNOWN_42"


def test_criteria_validation_and_round_trip() -> None:
    with pytest.raises(ValueError, match="Nothing to wait for"):
        AcceptanceCriteria.build(target_statuses=None)
    with pytest.raises(ValueError, match="between 0 and 1"):
        AcceptanceCriteria.build(min_pass_rate=1.5)
    with pytest.raises(ValueError, match="between 0 and 1"):
        AcceptanceCriteria.build(min_pass_rate="high")
    criteria = AcceptanceCriteria.build(
        target_statuses=[3, "rejected"], check_complete=True, min_pass_rate="0.9"
    )
    assert criteria.min_pass_rate == 0.9
    assert AcceptanceCriteria.from_dict(criteria.to_dict()) == criteria
    assert criteria.to_dict()["target_statuses"] == [3, 4]


def test_poll_again_on_transient_errors_and_token_expiry() -> None:
    assert poll_again(ModelArtsServerError(status=503))
    assert poll_again(ModelArtsThrottledError(status=429, retry_after=1.0))
    assert poll_again(ModelArtsTransportError(method="GET", path="/x", cause=OSError("reset")))
    expired = ModelArtsAuthError(status=401, error_code="ModelArts.4127")
    assert poll_again(expired) and is_token_expiry(expired)
    assert not poll_again(ModelArtsAuthError(status=401, error_code="APIGW.0301"))
    assert not poll_again(ModelArtsNotFoundError(status=404))
    assert not poll_again(ModelArtsValidationError(status=400))
    assert not poll_again(ModelArtsConfigError("no endpoint"))
    assert not poll_again(ValueError("not ours"))


@pytest.mark.parametrize("code", ["ModelArts.4700", "ModelArts.4801", "ModelArts.4352"])
def test_poll_again_after_a_server_fault_whatever_its_code(code: str) -> None:
    """The error table reuses "does not exist" codes for server faults (4700 "Unavailable gateway" at 503):
    the wait asks the error itself, so a 5xx keeps the wait going however the code reads."""
    request = httpx.Request("GET", "https://modelarts.unit.test/v2/p1/datasets/d1/workforce-tasks/t1")
    fault = error_from_response(httpx.Response(503, json={"error_code": code}, request=request))
    assert poll_again(fault)
    missing = error_from_response(httpx.Response(404, json={"error_code": code}, request=request))
    assert not poll_again(missing)


def test_evaluate_snapshot_judges_the_awaited_round() -> None:
    snapshot = AcceptanceSnapshot("task-1", task(1), None, awaited_round="chk-1")
    checked = AcceptanceCriteria.build(target_statuses=None, check_complete=True)
    assert evaluate_snapshot(snapshot, checked).state is AcceptanceState.FAILURE  # cancelled round
    current = AcceptanceSnapshot("task-1", task(2), report(4, 4, 0), awaited_round=None)
    result = evaluate_snapshot(current, checked)
    assert result.state is AcceptanceState.SUCCESS and result.figures["checking_task_id"] == "chk-1"


def test_odd_reply_values_read_as_unknown_not_a_crash() -> None:
    """Replies are read, not judged: raw dicts, numbers as text and nonsense values never crash a wait."""
    raw_task = {"task_id": "t", "status": "2", "checking_task_desc": {"checking_task_id": "chk-1"}}
    figures = {"sampled_sample_count": "4", "checked_sample_count": 4.0, "unchecked_sample_count": 0,
               "accepted_sample_count": "x", "rejected_sample_count": None, "pass_rate": "NaN",
               "score": 7}  # fmt: skip
    result = evaluate(raw_task, {"checking_stats": figures}, CHECKED)
    assert result.state is AcceptanceState.SUCCESS
    assert result.figures["sampled"] == 4 and result.figures["checked"] == 4
    assert result.figures["accepted"] is None and result.figures["pass_rate"] is None
    assert result.figures["score"] == "7"
    odd = evaluate({"status": [1], "checking_task_desc": "?"}, {"checking_stats": 5}, AcceptanceCriteria())
    assert odd.state is AcceptanceState.PENDING and odd.figures["status_name"] == "UNKNOWN"


# ------------------------------------------------------------------------- criteria


def test_criteria_refuse_a_rate_outside_zero_to_one_however_they_are_built() -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        AcceptanceCriteria(min_pass_rate=1.5)
    with pytest.raises(ValueError) as nothing:
        AcceptanceCriteria(target_statuses=frozenset())
    assert str(nothing.value) == (
        "Nothing to wait for: give target_statuses, check_complete=True or min_pass_rate."
    )


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (None, set()),
        ("accepted", {3}),
        (4, {4}),
        (TaskStatus.SYNCHRONIZING, {5}),
        (["3", "rejected"], {3, 4}),
    ],
)
def test_build_reads_one_status_several_or_none(given: object, expected: set[int]) -> None:
    criteria = AcceptanceCriteria.build(target_statuses=given, check_complete=True)  # type: ignore[arg-type]
    assert criteria.target_statuses == frozenset(expected)
    assert criteria.to_dict()["target_statuses"] == sorted(expected)


def test_build_reads_the_failure_statuses() -> None:
    assert AcceptanceCriteria.build(failure_statuses=["rejected", 1]).failure_statuses == frozenset({4, 1})
    assert AcceptanceCriteria.build(failure_statuses=None).failure_statuses == frozenset()
    assert AcceptanceCriteria.build().failure_statuses == frozenset({4})


def test_criteria_travel_to_the_trigger_and_back_with_defaults_for_missing_keys() -> None:
    criteria = AcceptanceCriteria.build(
        target_statuses=[5], check_complete=True, min_pass_rate=0.5, failure_statuses=[1, 4]
    )
    assert criteria.to_dict() == {
        "target_statuses": [5],
        "check_complete": True,
        "min_pass_rate": 0.5,
        "failure_statuses": [1, 4],
    }
    assert AcceptanceCriteria.from_dict(criteria.to_dict()) == criteria
    assert AcceptanceCriteria.from_dict({}) == AcceptanceCriteria()
    assert AcceptanceCriteria.from_dict({"check_complete": True}) == AcceptanceCriteria(check_complete=True)
    no_failures = AcceptanceCriteria.from_dict({"target_statuses": [3], "failure_statuses": []})
    assert no_failures.failure_statuses == frozenset() and no_failures.check_complete is False


def test_describe_names_every_condition() -> None:
    criteria = AcceptanceCriteria.build(
        target_statuses=["rejected", "accepted"], check_complete=True, min_pass_rate=0.9
    )
    assert criteria.describe() == (
        "status in {ACCEPTED, REJECTED} and every sampled sample checked and pass rate >= 0.9"
    )


# ------------------------------------------------------------------------- the sentences a wait logs


def test_failure_on_a_failure_status_names_the_task_and_the_progress() -> None:
    result = evaluate(task(4), report(10, 2, 8), DEFAULT)
    assert result.message == (
        "The team labeling task task-1 was REJECTED (4); waited for status in {ACCEPTED}. "
        "10/10 sampled samples checked, 8 rejected, pass rate 20.00%."
    )
    bare = evaluate({"status": 4}, None, DEFAULT)
    assert bare.message == (
        "The team labeling task ? was REJECTED (4); waited for status in {ACCEPTED}. "
        "no acceptance figures yet."
    )


def test_the_caller_s_task_id_names_the_task() -> None:
    result = evaluate(task(4), None, DEFAULT, workforce_task_id="wf-7")
    assert result.message.startswith("The team labeling task wf-7 was REJECTED")
    snapshot = AcceptanceSnapshot("wf-8", {"status": 4}, None, awaited_round=None)
    assert evaluate_snapshot(snapshot, DEFAULT).message.startswith("The team labeling task wf-8 was REJECTED")


def test_pending_and_success_sentences() -> None:
    rate_only = AcceptanceCriteria.build(target_statuses=None, min_pass_rate=0.5)
    assert evaluate(task(7), None, rate_only).message == (
        "Waiting for pass rate >= 0.5 on the team labeling task task-1: pass rate not final yet."
    )
    both = AcceptanceCriteria.build(check_complete=True)
    assert evaluate(task(2), report(10, 3, 1), both).message == (
        "Waiting for status in {ACCEPTED} and every sampled sample checked on the team labeling task task-1: "
        "status is ACCEPTING (2); 4/10 sampled samples checked, 1 rejected, pass rate 75.00%."
    )
    assert evaluate(task(3), report(10, 9, 1), DEFAULT).message == (
        "The team labeling task task-1 reached status in {ACCEPTED}: status ACCEPTED (3), "
        "10/10 sampled samples checked, 1 rejected, pass rate 90.00%."
    )
    assert evaluate(task(3), None, DEFAULT).message == (
        "The team labeling task task-1 reached status in {ACCEPTED}: status ACCEPTED (3)."
    )


def test_the_awaited_round_still_in_progress_keeps_the_wait_going() -> None:
    result = evaluate(task(2), report(10, 3, 0), CHECKED, checking_task_id="chk-1")
    assert result.state is AcceptanceState.PENDING


def test_a_replaced_round_says_which_round_replaced_it() -> None:
    result = evaluate(task(7, checking_task_id="chk-2"), None, CHECKED, checking_task_id="chk-1")
    assert result.message == (
        "Acceptance round chk-1 of the team labeling task task-1 was replaced by round chk-2; "
        "the awaited round can never complete."
    )


def test_a_closed_round_is_judged_on_the_rate_it_ended_with() -> None:
    """An accepted (or rejected) task's round is final even if reviewers did not check every sample."""
    criteria = AcceptanceCriteria.build(min_pass_rate=0.9)
    result = evaluate(task(3), report(10, 5, 0), criteria)
    assert result.state is AcceptanceState.SUCCESS
    low = evaluate(task(3), report(10, 4, 1, pass_rate=0.8), criteria)
    assert low.state is AcceptanceState.FAILURE and "80.00%, below the required 90.00%" in low.message


def _pending(checked: int, status: int = 2) -> AcceptanceEvaluation:
    figures = {
        "status": status,
        "checking_task_id": "c1",
        "sampled": 6,
        "checked": checked,
        "pass_rate": None,
    }
    return AcceptanceEvaluation(AcceptanceState.PENDING, f"Waiting: {checked}/6 checked.", figures)


def test_the_progress_log_speaks_on_change_and_otherwise_every_ten_minutes() -> None:
    log = ProgressLog()
    lines = []
    for poll in range(24 * 60):  # a day of polls a minute apart; a reviewer checks one sample every 4 hours
        lines.append(log.line(_pending(poll // 240), now=poll * 60.0))
    said = [line for line in lines if line is not None]
    changes = [line for line in said if line.startswith("Waiting:")]
    heartbeats = [line for line in said if line.startswith("Still waiting, no change in 10 looks: ")]
    assert [c.split()[1] for c in changes] == ["0/6", "1/6", "2/6", "3/6", "4/6", "5/6"]
    assert len(heartbeats) == 6 * (240 // 10 - 1)  # 23 ten-minute heartbeats in each 4-hour stretch
    assert len(said) == len(changes) + len(heartbeats) == 144  # not 1,440


def test_the_progress_log_speaks_when_only_the_status_moves() -> None:
    log = ProgressLog()
    assert log.line(_pending(3, status=2), now=0.0) is not None
    assert log.line(_pending(3, status=2), now=60.0) is None
    assert log.line(_pending(3, status=6), now=120.0) == "Waiting: 3/6 checked."
