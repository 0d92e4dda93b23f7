"""The shared acceptance decision: every branch, on the real response models."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from airflow_provider_modelarts._acceptance_state import (
    AcceptanceCriteria,
    AcceptanceState,
    CheckStats,
    evaluate,
    is_token_expiry,
    is_transient,
    parse_status,
    should_fetch_report,
    status_name,
)
from airflow_provider_modelarts.errors import (
    ModelArtsAuthError,
    ModelArtsNotFoundError,
    ModelArtsServerError,
    ModelArtsThrottledError,
    ModelArtsTransportError,
    ModelArtsValidationError,
)
from airflow_provider_modelarts.models import RESPONSE_CONTEXT, AcceptanceReport, TaskStatus, WorkforceTask


def task(status: int, checking_task_id: str | None = "chk-1", **extra: Any) -> WorkforceTask:
    data: dict[str, Any] = {"task_id": "task-1", "status": status, **extra}
    if checking_task_id:
        data["checking_task_desc"] = {"checking_task_id": checking_task_id, "action": 0}
    return WorkforceTask.model_validate(data, context=RESPONSE_CONTEXT)


def report(sampled: int, accepted: int, rejected: int, *, pass_rate: float | None = None) -> AcceptanceReport:
    checked = accepted + rejected
    stats: dict[str, Any] = {
        "sampled_sample_count": sampled,
        "checked_sample_count": checked,
        "unchecked_sample_count": sampled - checked,
        "accepted_sample_count": accepted,
        "rejected_sample_count": rejected,
        "score": "A",
    }
    if pass_rate is not None:
        stats["pass_rate"] = pass_rate
    elif checked:
        stats["pass_rate"] = accepted / checked
    return AcceptanceReport.model_validate({"checking_stats": stats}, context=RESPONSE_CONTEXT)


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


@pytest.mark.parametrize(
    ("value", "expected"),
    [(TaskStatus.ACCEPTED, 3), (3, 3), ("3", 3), ("accepted", 3), ("Acceptance-Sampling", None)],
)
def test_parse_status(value: Any, expected: int | None) -> None:
    if expected is None:
        with pytest.raises(ValueError, match="valid statuses: starting"):
            parse_status(value)
    else:
        assert parse_status(value) == expected


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


def test_should_fetch_report_only_for_an_open_or_finished_round() -> None:
    assert should_fetch_report(task(2), "chk-1")
    assert should_fetch_report(task(3), "chk-1")
    assert not should_fetch_report(task(7), "chk-1")  # still sampling: no report yet
    assert not should_fetch_report(task(1), "chk-1")
    assert not should_fetch_report(task(2), None)


def test_transient_classification() -> None:
    assert is_transient(ModelArtsServerError(status=503))
    assert is_transient(ModelArtsThrottledError(status=429, retry_after=1.0))
    assert is_transient(ModelArtsTransportError(method="GET", path="/x", cause=OSError("reset")))
    expired = ModelArtsAuthError(status=401, error_code="ModelArts.4127")
    assert is_transient(expired) and is_token_expiry(expired)
    assert not is_transient(ModelArtsAuthError(status=401, error_code="APIGW.0301"))
    assert not is_transient(ModelArtsNotFoundError(status=404))
    assert not is_transient(ModelArtsValidationError(status=400))


def test_check_stats_helpers() -> None:
    stats = CheckStats(sampled=10, checked=4, accepted=3, rejected=1)
    assert stats.rate == 0.75
    assert stats.best_reachable_rate == 0.9
    assert not stats.complete
    assert CheckStats.from_model({}) is None
    assert status_name(None) == "UNKNOWN"


def test_sensor_modules_import_without_client_or_models() -> None:
    """DAG files import the sensor on every parse; the client, models and hook load only when it polls."""
    modules = [
        "airflow_provider_modelarts.client",
        "airflow_provider_modelarts.models",
        "airflow_provider_modelarts.hooks.modelarts",
        "airflow_provider_modelarts.auth",
    ]
    code = (
        "import sys, airflow.sdk\n"
        "import airflow_provider_modelarts.sensors.acceptance\n"
        "import airflow_provider_modelarts.triggers.acceptance\n"
        f"print([m for m in {modules!r} if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_sensor_module_leaves_the_trigger_to_the_deferring_task() -> None:
    """The trigger module pulls in ``airflow.triggers.base``; DAG parsing should not pay for it.

    (Airflow 3.1's ``airflow.sdk`` loads ``airflow.triggers.base`` itself; then only our trigger module is
    ours to keep out.)"""
    code = (
        "import sys, airflow.sdk\n"
        "preloaded = set(sys.modules)\n"
        "import airflow_provider_modelarts.sensors.acceptance\n"
        "print([m for m in ('airflow_provider_modelarts.triggers.acceptance', 'airflow.triggers.base')"
        " if m in sys.modules and m not in preloaded])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"
