"""Waiting for an acceptance: the sensor's criteria and the one evaluation poke, reschedule and defer share.

:func:`evaluate` turns one look at a task (details + report) into pending / success / failure with a sentence
for the log and small figures for XCom. ``AcceptanceSensor`` and ``AcceptanceTrigger`` both call it, so the
three ways Airflow can wait cannot disagree about when a wait ends.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_modelarts import waiting
from airflow_provider_modelarts.acceptance.decision import parse_min_pass_rate, passes
from airflow_provider_modelarts.acceptance.figures import (
    NO_ROUND,
    AcceptanceSnapshot,
    CheckStats,
    current_checking_task_id,
    field_of,
    parse_status,
    read_status,
    status_name,
)
from airflow_provider_modelarts.models import TaskStatus
from airflow_provider_modelarts.waiting import EVENT_STATUSES, HEARTBEAT_SECONDS

__all__ = [
    "EVENT_STATUSES",
    "HEARTBEAT_SECONDS",
    "AcceptanceCriteria",
    "AcceptanceEvaluation",
    "AcceptanceState",
    "ProgressLog",
    "evaluate",
    "evaluate_snapshot",
]

# Statuses in which the acceptance round is still being prepared or decided: nothing final can be read.
_IN_FLIGHT = frozenset({TaskStatus.SAMPLING, TaskStatus.ACCEPTING, TaskStatus.SYNCHRONIZING})
_FINAL = frozenset({TaskStatus.ACCEPTED, TaskStatus.REJECTED})


#: The outcomes of a wait, by the name they had before :mod:`airflow_provider_modelarts.waiting`.
AcceptanceState = waiting.WaitState


@dataclass(frozen=True)
class AcceptanceCriteria:
    """What a wait is for. Every enabled condition must hold (logical AND).

    * ``target_statuses``: the team labeling task's status must be one of these (empty: no status condition).
    * ``check_complete``: every sampled sample of the acceptance round has been checked.
    * ``min_pass_rate``: the round's pass rate must reach this; checked as soon as it is known, and the wait
      fails early once enough samples are rejected that the rate can no longer reach it.

    A status in ``failure_statuses`` that is not also a target ends the wait as a failure.
    """

    target_statuses: frozenset[int] = frozenset({int(TaskStatus.ACCEPTED)})
    check_complete: bool = False
    min_pass_rate: float | None = None
    failure_statuses: frozenset[int] = frozenset({int(TaskStatus.REJECTED)})

    def __post_init__(self) -> None:
        parse_min_pass_rate(self.min_pass_rate)  # raises on a rate outside [0, 1]
        if not self.target_statuses and not self.check_complete and self.min_pass_rate is None:
            raise ValueError(
                "Nothing to wait for: give target_statuses, check_complete=True or min_pass_rate."
            )

    @classmethod
    def build(
        cls,
        *,
        target_statuses: Iterable[TaskStatus | int | str] | TaskStatus | int | str | None = (
            TaskStatus.ACCEPTED,
        ),
        check_complete: bool = False,
        min_pass_rate: float | str | None = None,
        failure_statuses: Iterable[TaskStatus | int | str] | None = (TaskStatus.REJECTED,),
    ) -> AcceptanceCriteria:
        """Normalise user input (names, ints, numeric strings from templates) into criteria."""
        if target_statuses is None:
            targets: frozenset[int] = frozenset()
        elif isinstance(target_statuses, (str, int, TaskStatus)):
            targets = frozenset({parse_status(target_statuses)})
        else:
            targets = frozenset(parse_status(s) for s in target_statuses)
        return cls(
            target_statuses=targets,
            check_complete=bool(check_complete),
            min_pass_rate=parse_min_pass_rate(min_pass_rate),
            failure_statuses=frozenset(parse_status(s) for s in (failure_statuses or ())),
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-native form for trigger kwargs (sorted lists, so the serialised trigger is deterministic)."""
        return {
            "target_statuses": sorted(self.target_statuses),
            "check_complete": self.check_complete,
            "min_pass_rate": self.min_pass_rate,
            "failure_statuses": sorted(self.failure_statuses),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AcceptanceCriteria:
        """Inverse of :meth:`to_dict`; missing keys take the class defaults."""
        defaults = cls()
        targets, failures = data.get("target_statuses"), data.get("failure_statuses")
        return cls(
            target_statuses=defaults.target_statuses if targets is None else frozenset(map(int, targets)),
            check_complete=bool(data.get("check_complete", False)),
            min_pass_rate=parse_min_pass_rate(data.get("min_pass_rate")),
            failure_statuses=defaults.failure_statuses if failures is None else frozenset(map(int, failures)),
        )

    @property
    def needs_stats(self) -> bool:
        return self.check_complete or self.min_pass_rate is not None

    def describe(self) -> str:
        parts = []
        if self.target_statuses:
            names = ", ".join(status_name(s) for s in sorted(self.target_statuses))
            parts.append("status in {" + names + "}")
        if self.check_complete:
            parts.append("every sampled sample checked")
        if self.min_pass_rate is not None:
            parts.append(f"pass rate >= {self.min_pass_rate:g}")
        return " and ".join(parts)


@dataclass(frozen=True)
class AcceptanceEvaluation:
    """One decision: ``state``, a sentence for the log / exception, and small figures for XCom."""

    state: AcceptanceState
    message: str
    figures: dict[str, Any] = field(default_factory=dict)

    @property
    def done(self) -> bool:
        return self.state is not AcceptanceState.PENDING


def _figures(status: int | None, checking_task_id: str | None, stats: CheckStats | None) -> dict[str, Any]:
    return {
        "status": status,
        "status_name": status_name(status),
        "checking_task_id": checking_task_id,
        "pass_rate": None if stats is None else stats.rate,
        "sampled": None if stats is None else stats.sampled,
        "checked": None if stats is None else stats.checked,
        "accepted": None if stats is None else stats.accepted,
        "rejected": None if stats is None else stats.rejected,
        "score": None if stats is None else stats.score,
    }


def evaluate(
    task: Any,
    report: Any | None,
    criteria: AcceptanceCriteria,
    *,
    checking_task_id: str | None = None,
    workforce_task_id: str | None = None,
) -> AcceptanceEvaluation:
    """Decide pending / success / failure from the task details and (optional) acceptance report.

    ``checking_task_id`` is the round the caller is waiting on (from the start-acceptance step); when it is
    given, a task that is back to labeling (cancelled) or busy with a different round is a failure, because
    the awaited round can no longer complete.
    """
    status = read_status(task)
    name = status_name(status)
    label = f"team labeling task {workforce_task_id or field_of(task, 'task_id') or '?'}"
    current_round = current_checking_task_id(task)
    stats = CheckStats.read(task, report)
    figures = _figures(status, checking_task_id or current_round, stats)

    def result(state: AcceptanceState, message: str) -> AcceptanceEvaluation:
        return AcceptanceEvaluation(state=state, message=message, figures=figures)

    targets, minimum = criteria.target_statuses, criteria.min_pass_rate
    if status is not None and status in criteria.failure_statuses and status not in targets:
        return result(
            AcceptanceState.FAILURE,
            f"The {label} was {name} ({status}); waited for {criteria.describe()}. {_progress(stats)}.",
        )
    if checking_task_id and status is not None and criteria.needs_stats:
        if status in NO_ROUND:
            return result(
                AcceptanceState.FAILURE,
                f"Acceptance round {checking_task_id} of the {label} is no longer open: the task is back to "
                f"{name} ({status}), so the round was cancelled and its check can never complete.",
            )
        if current_round and current_round != checking_task_id and status in _IN_FLIGHT:
            return result(
                AcceptanceState.FAILURE,
                f"Acceptance round {checking_task_id} of the {label} was replaced by round {current_round}; "
                "the awaited round can never complete.",
            )

    rate_decidable = stats is not None and (stats.complete or (status in _FINAL and stats.rate is not None))
    if minimum is not None and stats is not None:
        best = stats.best_reachable_rate
        if best is not None and not stats.complete and not passes(best, minimum):
            return result(
                AcceptanceState.FAILURE,
                f"The pass rate of the {label} can no longer reach {minimum:.2%}: {stats.rejected} of "
                f"{stats.sampled} sampled samples are already rejected, so at most {best:.2%} can pass "
                f"({stats.progress()}).",
            )
        rate = stats.rate
        if rate_decidable and rate is not None and not passes(rate, minimum):
            return result(
                AcceptanceState.FAILURE,
                f"The pass rate of the {label} is {rate:.2%}, below the required {minimum:.2%} "
                f"({stats.progress()}).",
            )

    waiting: list[str] = []
    if targets and status not in targets:
        waiting.append(f"status is {name} ({status})")
    if minimum is not None and not rate_decidable:
        waiting.append("pass rate not final yet")
    if waiting or (criteria.check_complete and not (stats is not None and stats.complete)):
        # Reviewer progress goes in every pending message: it is what a person watching the log wants.
        if stats is not None or criteria.check_complete:
            waiting.append(_progress(stats))
        return result(
            AcceptanceState.PENDING,
            f"Waiting for {criteria.describe()} on the {label}: " + "; ".join(waiting) + ".",
        )
    figures_text = f", {stats.progress()}" if stats is not None else ""
    return result(
        AcceptanceState.SUCCESS,
        f"The {label} reached {criteria.describe()}: status {name} ({status}){figures_text}.",
    )


# What a person watching a wait cares about: a change in any of these is logged at once.
_WATCHED = ("status", "checking_task_id", "sampled", "checked", "accepted", "rejected", "pass_rate")


@dataclass
class ProgressLog(waiting.ProgressLog):
    """:class:`airflow_provider_modelarts.waiting.ProgressLog` watching an acceptance's figures: its status,
    round, counts and pass rate."""

    watched: tuple[str, ...] = _WATCHED


def _progress(stats: CheckStats | None) -> str:
    return "no acceptance figures yet" if stats is None else stats.progress()


def evaluate_snapshot(snapshot: AcceptanceSnapshot, criteria: AcceptanceCriteria) -> AcceptanceEvaluation:
    """:func:`evaluate` on what :func:`~airflow_provider_modelarts.acceptance.figures.read_snapshot` read."""
    return evaluate(
        snapshot.task,
        snapshot.report,
        criteria,
        checking_task_id=snapshot.awaited_round,
        workforce_task_id=snapshot.workforce_task_id,
    )
