"""Pass or reject by pass rate, and what a start or an action came to: the pure decision, no network."""

from __future__ import annotations

import json
from typing import Any

import pytest

from airflow_provider_modelarts.acceptance import (
    AcceptanceNotDecidableError,
    AcceptanceSnapshot,
    AcceptanceStart,
    AppliedAction,
    action_already_applied,
    decide_by_pass_rate,
    parse_action,
    parse_min_pass_rate,
    passes,
)
from airflow_provider_modelarts.errors import ModelArtsError
from airflow_provider_modelarts.models import (
    RESPONSE_CONTEXT,
    AcceptanceAction,
    AcceptanceReport,
    TaskStatus,
    UpdateAcceptanceStatusResponse,
)
from unit.acceptance._helpers import report, task


def snapshot(
    status: int = 2, figures: Any = None, awaited: str | None = None, **kw: Any
) -> AcceptanceSnapshot:
    return AcceptanceSnapshot("task-1", task(status, **kw), figures, awaited)


def test_passes_tolerates_rounding_noise_only() -> None:
    assert passes(0.9499999999, 0.95)
    assert passes(0.95, 0.95) and passes(1.0, 0.0)
    assert not passes(0.9499, 0.95)


@pytest.mark.parametrize(
    ("value", "expected"), [(0.9, 0.9), ("0.95", 0.95), (" 1 ", 1.0), (0, 0.0), (None, None), ("", None)]
)
def test_parse_min_pass_rate(value: Any, expected: float | None) -> None:
    assert parse_min_pass_rate(value) == expected


@pytest.mark.parametrize("value", [95, -0.1, "high", True, float("nan"), float("inf"), [0.9], 10**400])
def test_parse_min_pass_rate_refuses_what_is_not_a_fraction(value: Any) -> None:
    with pytest.raises(ValueError, match=r"between 0 and 1 \(0\.95 for 95%\)"):
        parse_min_pass_rate(value)


def test_parse_min_pass_rate_quotes_huge_values_briefly() -> None:
    with pytest.raises(ValueError) as info:
        parse_min_pass_rate("9" * 200_000)
    assert len(str(info.value)) < 300 and "200,002 chars" in str(info.value)


def test_decision_both_ways_and_the_summary() -> None:
    passed = decide_by_pass_rate(snapshot(figures=report(10, 9, 1)), 0.9)
    assert passed.passed and passed.action is AcceptanceAction.PASS_ALL and passed.checking_task_id == "chk-1"
    assert passed.summary() == {
        "checking_task_id": "chk-1",
        "decision": "pass_all",
        "passed": True,
        "pass_rate": 0.9,
        "min_pass_rate": 0.9,
        "sampled": 10,
        "checked": 10,
        "accepted": 9,
        "rejected": 1,
        "score": "A",
    }
    assert "pass rate 90.00% >= minimum 90.00% -> PASS_ALL" in passed.describe()
    rejected = decide_by_pass_rate(snapshot(figures=report(10, 8, 2)), 0.9, require_all_checked=True)
    assert not rejected.passed and rejected.action is AcceptanceAction.REJECT_ALL
    assert "80.00% < minimum 90.00% -> REJECT_ALL" in rejected.describe()
    # The service's own rate wins over the counts, with the same rounding tolerance as the sensor.
    noisy = decide_by_pass_rate(snapshot(figures=report(10, 9, 1, pass_rate=0.8999999999)), 0.9)
    assert noisy.passed


def test_decision_refuses_while_premature() -> None:
    with pytest.raises(AcceptanceNotDecidableError, match="has no acceptance round to judge"):
        decide_by_pass_rate(snapshot(status=1, checking_task_id=None), 0.9)
    with pytest.raises(AcceptanceNotDecidableError, match="has no checked samples yet"):
        decide_by_pass_rate(snapshot(figures=report(6, 0, 0)), 0.9)
    with pytest.raises(AcceptanceNotDecidableError, match="not finished: 2 of 6 sampled samples checked"):
        decide_by_pass_rate(snapshot(figures=report(6, 2, 0)), 0.9)
    early = decide_by_pass_rate(snapshot(figures=report(6, 2, 0)), 0.9, require_all_checked=False)
    assert early.passed and early.stats.checked == 2
    # Not a final failure, and one root for every provider error.
    assert issubclass(AcceptanceNotDecidableError, ModelArtsError)


def test_decision_judges_the_awaited_round() -> None:
    decision = decide_by_pass_rate(snapshot(figures=report(4, 4, 0), awaited="chk-0"), 0.5)
    assert decision.checking_task_id == "chk-0"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("pass_all", 0), ("REJECT-ALL", 1), (2, 2), ("4", 4), ("Pass Single Accepted", 5)],
)
def test_parse_action(value: Any, expected: int) -> None:
    assert parse_action(value) == expected


def test_parse_action_names_the_valid_ones() -> None:
    with pytest.raises(ValueError, match=r"action 'approve' is not an acceptance action.*pass_all \(0\)"):
        parse_action("approve")


def test_applied_action_reads_any_reply_and_summarises_briefly() -> None:
    samples = [{"sample_id": f"s{i}"} for i in range(12)]
    applied = AppliedAction.from_reply(
        AcceptanceAction.VIEW_CONFLICTS, {"sample_count": "12", "samples": samples}
    )
    summary = applied.summary()
    assert summary["sample_count"] == 12 and summary["samples_preview"] == [f"s{i}" for i in range(10)]
    assert summary["samples_truncated"] == 2 and summary["already_applied"] is False
    assert summary["action"] == "VIEW_CONFLICTS" and summary["action_code"] == 3
    json.dumps(summary)
    # A reply of an unexpected shape: the action still took effect, nothing crashes.
    odd = AppliedAction.from_reply(AcceptanceAction.PASS_ALL, {"samples": "?", "sample_count": None})
    assert odd.summary()["sample_count"] == 0
    assert AppliedAction.from_reply(AcceptanceAction.PASS_ALL, None).sample_count == 0
    named = AppliedAction.from_reply(AcceptanceAction.PASS_ALL, {"samples": [{"sample_name": "a.jpg"}]})
    assert named.summary()["samples_preview"] == ["a.jpg"] and named.sample_count == 1


def test_start_summary() -> None:
    assert AcceptanceStart("chk-1", already_started=True).summary() == {
        "checking_task_id": "chk-1",
        "already_started": True,
    }


# Where each action leads, written out independently: a refused action counts as applied only there.
_LEADS_TO = {
    AcceptanceAction.PASS_ALL: {TaskStatus.ACCEPTED, TaskStatus.SYNCHRONIZING},
    AcceptanceAction.REJECT_ALL: {TaskStatus.REJECTED, TaskStatus.SYNCHRONIZING},
    AcceptanceAction.CANCEL: {TaskStatus.RUNNING},
}


@pytest.mark.parametrize("action", list(AcceptanceAction), ids=lambda a: a.name)
@pytest.mark.parametrize("status", [*TaskStatus, 99, None], ids=str)
def test_action_already_applied_for_every_action_and_status(
    action: AcceptanceAction, status: int | None
) -> None:
    assert action_already_applied(action, status) is (status in _LEADS_TO.get(action, set()))


@pytest.mark.parametrize("value", ["None", " None "])
def test_parse_min_pass_rate_reads_a_rendered_none_as_not_given(value: str) -> None:
    # A template rendering a missing value gives the text "None".
    assert parse_min_pass_rate(value) is None


@pytest.mark.parametrize("value", [1.5, "1.01", 2])
def test_parse_min_pass_rate_refuses_rates_above_one(value: Any) -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        parse_min_pass_rate(value)


def test_parse_action_lists_every_action_and_the_accepted_spellings() -> None:
    with pytest.raises(ValueError) as info:
        parse_action("approve")
    assert str(info.value) == (
        "action 'approve' is not an acceptance action; use one of pass_all (0), reject_all (1), cancel (2), "
        "view_conflicts (3), pass_single_accepted_and_unaccepted (4), pass_single_accepted (5) "
        "(names in any case, '-' or '_')"
    )


def test_passes_includes_a_rate_exactly_the_tolerance_below() -> None:
    assert passes(0.0, 1e-9)
    assert not passes(0.0, 2e-9)


def test_premature_decisions_say_what_to_do_next() -> None:
    with pytest.raises(AcceptanceNotDecidableError) as no_round:
        decide_by_pass_rate(snapshot(status=1, checking_task_id=None), 0.9)
    assert str(no_round.value) == (
        "Team labeling task task-1 has no acceptance round to judge; start one with "
        "StartAcceptanceOperator and wait for it with AcceptanceSensor."
    )
    with pytest.raises(AcceptanceNotDecidableError) as nothing_checked:
        decide_by_pass_rate(snapshot(figures=report(6, 0, 0)), 0.9)
    assert str(nothing_checked.value) == (
        "The acceptance report of round chk-1 has no checked samples yet, so there is no pass rate to "
        "decide on; wait with AcceptanceSensor(check_complete=True) first."
    )
    with pytest.raises(AcceptanceNotDecidableError) as unfinished:
        decide_by_pass_rate(snapshot(figures=report(6, 2, 0)), 0.9)
    assert str(unfinished.value) == (
        "Acceptance round chk-1 is not finished: 2 of 6 sampled samples checked. Wait with "
        "AcceptanceSensor(check_complete=True), or pass require_all_checked=False to decide on the samples "
        "checked so far."
    )


def test_a_round_without_report_figures_is_not_decidable() -> None:
    # The round exists (the task names it) but neither the report nor the task details carry figures yet.
    with pytest.raises(AcceptanceNotDecidableError, match="round chk-1 has no checked samples yet"):
        decide_by_pass_rate(snapshot(figures=None), 0.9)


def test_checked_samples_without_any_rate_are_not_decidable() -> None:
    # Counts of checked samples but neither a pass rate nor the accepted count: no rate to compare.
    figures = AcceptanceReport.model_validate(
        {
            "checking_stats": {
                "sampled_sample_count": 3,
                "checked_sample_count": 3,
                "unchecked_sample_count": 0,
            }
        },
        context=RESPONSE_CONTEXT,
    )
    with pytest.raises(AcceptanceNotDecidableError, match="no checked samples yet"):
        decide_by_pass_rate(snapshot(figures=figures), 0.9)


def test_the_decision_names_the_team_labeling_task() -> None:
    decision = decide_by_pass_rate(snapshot(figures=report(10, 10, 0)), 0.9)
    assert decision.workforce_task_id == "task-1"
    assert decision.describe().startswith("Acceptance round chk-1 of team labeling task task-1: 10 of 10 ")


def test_applied_action_counts_what_the_service_says_not_the_listed_samples() -> None:
    # The reply may list only some of the samples: sample_count is the service's own total.
    listed = [{"sample_id": f"s{i}"} for i in range(3)]
    applied = AppliedAction.from_reply(AcceptanceAction.PASS_ALL, {"sample_count": 500, "samples": listed})
    assert applied.sample_count == 500
    assert applied.summary() == {
        "action": "PASS_ALL",
        "action_code": 0,
        "sample_count": 500,
        "samples_preview": ["s0", "s1", "s2"],
        "samples_truncated": 0,
        "already_applied": False,
    }
    model = UpdateAcceptanceStatusResponse.model_validate(
        {"sample_count": 7, "samples": [{"sample_id": "s0"}]}, context=RESPONSE_CONTEXT
    )
    assert AppliedAction.from_reply(AcceptanceAction.REJECT_ALL, model).sample_count == 7


def test_applied_action_preview_keeps_samples_without_an_id_as_none() -> None:
    applied = AppliedAction.from_reply(
        AcceptanceAction.PASS_ALL, {"samples": [{"labels": []}, {"sample_id": 5}]}
    )
    assert applied.summary()["samples_preview"] == [None, "5"]
    assert applied.sample_count == 2
