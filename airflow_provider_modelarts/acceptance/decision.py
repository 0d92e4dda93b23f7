"""Deciding an acceptance: pass or reject by pass rate, and what a start or an action came to.

The pass-rate comparison (:func:`passes`, with its rounding tolerance) is the only one in the package: the
sensor's "min pass rate reached / out of reach" and the operator's pass-all / reject-all decision both use
it. The small result classes here are what the hook's acceptance operations return; their ``summary()`` is
the JSON-safe part an operator puts in XCom.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from airflow_provider_modelarts._text import quote
from airflow_provider_modelarts.acceptance.figures import (
    AcceptanceSnapshot,
    CheckStats,
    field_of,
    read_count,
    read_number,
)
from airflow_provider_modelarts.errors import TASK_IS_CHECKING, ModelArtsError
from airflow_provider_modelarts.models import AcceptanceAction, TaskStatus

__all__ = [
    "SAMPLES_PREVIEW",
    "TASK_IS_CHECKING",
    "AcceptanceNotDecidableError",
    "AcceptanceStart",
    "AppliedAction",
    "PassRateDecision",
    "action_already_applied",
    "decide_by_pass_rate",
    "parse_action",
    "parse_min_pass_rate",
    "passes",
]

#: How many sample ids of an action's reply a summary lists.
SAMPLES_PREVIEW = 10

# Rounding noise in a service-computed pass rate (0.95 reported as 0.9499999) must not flip a decision.
_RATE_EPSILON = 1e-9

# Where each action leads: a refused action on a task that is already there was applied by an earlier try.
_STATUSES_AFTER: dict[AcceptanceAction, frozenset[int]] = {
    AcceptanceAction.PASS_ALL: frozenset({TaskStatus.ACCEPTED, TaskStatus.SYNCHRONIZING}),
    AcceptanceAction.REJECT_ALL: frozenset({TaskStatus.REJECTED, TaskStatus.SYNCHRONIZING}),
    AcceptanceAction.CANCEL: frozenset({TaskStatus.RUNNING}),
}


class AcceptanceNotDecidableError(ModelArtsError):
    """The figures do not allow a pass/reject decision yet (no round, nothing checked, check not finished).

    Not a final failure: a later try, after the reviewers progressed, may decide.
    """


def parse_min_pass_rate(value: Any) -> float | None:
    """A required pass rate from user input (numbers or rendered template text); ``None`` when not given."""
    if value is None or (isinstance(value, str) and value.strip() in ("", "None")):
        return None
    rate = read_number(value)
    if rate is None or not 0.0 <= rate <= 1.0:  # also refuses nan
        raise ValueError(
            f"min_pass_rate must be a number between 0 and 1 (0.95 for 95%), got {quote(value)}."
        )
    return rate


def parse_action(value: Any) -> AcceptanceAction:
    """An acceptance action from a member, its int or its name in any case; ``ValueError`` lists them."""
    try:
        return AcceptanceAction.parse(value)
    except ValueError:
        choices = ", ".join(f"{a.name.lower()} ({int(a)})" for a in AcceptanceAction)
        raise ValueError(
            f"action {quote(value)} is not an acceptance action; use one of {choices} "
            "(names in any case, '-' or '_')"
        ) from None


def passes(rate: float, minimum: float) -> bool:
    """The one pass-rate comparison, tolerant of rounding noise in the service's figure."""
    return rate + _RATE_EPSILON >= minimum


def action_already_applied(action: AcceptanceAction, status: int | None) -> bool:
    """After the service refused ``action``: is the task exactly where the action leads (an earlier try)?"""
    return status is not None and status in _STATUSES_AFTER.get(action, frozenset())


@dataclass(frozen=True)
class PassRateDecision:
    """Pass all or reject all, by the round's pass rate against the required minimum."""

    checking_task_id: str
    workforce_task_id: str
    stats: CheckStats
    rate: float
    min_pass_rate: float

    @property
    def passed(self) -> bool:
        return passes(self.rate, self.min_pass_rate)

    @property
    def action(self) -> AcceptanceAction:
        return AcceptanceAction.PASS_ALL if self.passed else AcceptanceAction.REJECT_ALL

    def describe(self) -> str:
        s = self.stats
        return (
            f"Acceptance round {self.checking_task_id} of team labeling task {self.workforce_task_id}: "
            f"{s.accepted} of {s.checked} checked samples accepted, {s.rejected} rejected ({s.sampled} "
            f"sampled); pass rate {self.rate:.2%} {'>=' if self.passed else '<'} minimum "
            f"{self.min_pass_rate:.2%} -> {self.action.name}."
        )

    def summary(self) -> dict[str, Any]:
        s = self.stats
        return {
            "checking_task_id": self.checking_task_id,
            "decision": self.action.name.lower(),
            "passed": self.passed,
            "pass_rate": self.rate,
            "min_pass_rate": self.min_pass_rate,
            "sampled": s.sampled,
            "checked": s.checked,
            "accepted": s.accepted,
            "rejected": s.rejected,
            "score": s.score,
        }


def decide_by_pass_rate(
    snapshot: AcceptanceSnapshot, min_pass_rate: float, *, require_all_checked: bool = True
) -> PassRateDecision:
    """Pass or reject the snapshot's round; :class:`AcceptanceNotDecidableError` while that is premature."""
    task_id = snapshot.workforce_task_id
    round_id = snapshot.round_id
    if not round_id:
        raise AcceptanceNotDecidableError(
            f"Team labeling task {task_id} has no acceptance round to judge; start one with "
            "StartAcceptanceOperator and wait for it with AcceptanceSensor."
        )
    stats = snapshot.stats
    if stats is None or stats.rate is None or not stats.checked:
        raise AcceptanceNotDecidableError(
            f"The acceptance report of round {round_id} has no checked samples yet, so there is no pass "
            "rate to decide on; wait with AcceptanceSensor(check_complete=True) first."
        )
    if require_all_checked and not stats.complete:
        raise AcceptanceNotDecidableError(
            f"Acceptance round {round_id} is not finished: {stats.checked} of {stats.sampled} sampled "
            "samples checked. Wait with AcceptanceSensor(check_complete=True), or pass "
            "require_all_checked=False to decide on the samples checked so far."
        )
    return PassRateDecision(round_id, task_id, stats, stats.rate, min_pass_rate)


@dataclass(frozen=True)
class AcceptanceStart:
    """The round a start-acceptance call left running; ``already_started`` when it adopted a running one."""

    checking_task_id: str
    already_started: bool

    def summary(self) -> dict[str, Any]:
        return {"checking_task_id": self.checking_task_id, "already_started": self.already_started}


@dataclass(frozen=True)
class AppliedAction:
    """An acceptance action that took effect, now or (``already_applied``) in an earlier try."""

    action: AcceptanceAction
    sample_count: int
    samples: Sequence[Any] = ()
    already_applied: bool = False

    @classmethod
    def from_reply(cls, action: AcceptanceAction, reply: Any) -> AppliedAction:
        """Read the status call's reply leniently: the action took effect whatever shape the reply has."""
        samples = field_of(reply, "samples")
        samples = list(samples) if isinstance(samples, (list, tuple)) else []
        count = read_count(field_of(reply, "sample_count"))
        return cls(action, len(samples) if count is None else count, samples)

    def summary(self) -> dict[str, Any]:
        """Counts and the first sample ids: never the reply's sample list (it can be huge)."""
        preview = [_sample_label(s) for s in self.samples[:SAMPLES_PREVIEW]]
        return {
            "action": self.action.name,
            "action_code": int(self.action),
            "sample_count": self.sample_count,
            "samples_preview": preview,
            "samples_truncated": max(0, len(self.samples) - len(preview)),
            "already_applied": self.already_applied,
        }


def _sample_label(sample: Any) -> str | None:
    """A sample's id (or name) from a reply model or a raw dict."""
    value = field_of(sample, "sample_id") or field_of(sample, "sample_name")
    return None if value is None else str(value)
