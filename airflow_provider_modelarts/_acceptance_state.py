"""The one place that decides whether a team labeling acceptance is done, failed or still pending.

``AcceptanceSensor`` polls with the sync client (poke and reschedule modes) and ``AcceptanceTrigger`` polls
with the async client (deferrable mode). Both read through :func:`fetch_and_evaluate` /
:func:`fetch_and_evaluate_async` (same reads) and decide with :func:`evaluate` (same decision), so the two
paths cannot disagree about when a wait ends.

This module does not import Airflow: the decision is plain data in, plain data out, which keeps it cheap to
test exhaustively and usable from the triggerer's event loop.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any

# The enum module alone (not ``models``): DAG files import the sensor on every parse, and the pydantic models
# are only needed once a poll runs.
from airflow_provider_modelarts._models._enums import TaskStatus
from airflow_provider_modelarts.errors import (
    ModelArtsAPIError,
    ModelArtsAuthError,
    ModelArtsError,
    ModelArtsNotFoundError,
    ModelArtsServerError,
    ModelArtsThrottledError,
    ModelArtsTransportError,
)

if TYPE_CHECKING:
    from airflow_provider_modelarts.client import AsyncModelArtsClient, ModelArtsClient
    from airflow_provider_modelarts.models import AcceptanceReport, WorkforceTask

__all__ = [
    "EVENT_STATUSES",
    "AcceptanceCriteria",
    "AcceptanceEvaluation",
    "AcceptanceState",
    "CheckStats",
    "evaluate",
    "fetch_and_evaluate",
    "fetch_and_evaluate_async",
    "is_token_expiry",
    "is_transient",
    "parse_status",
    "status_name",
]

# The only values an AcceptanceTrigger puts in an event's "status"; execute_complete rejects anything else.
EVENT_STATUSES = ("success", "failure", "timeout")

# Rounding noise in a service-computed pass rate (0.95 reported as 0.9499999) must not flip a decision.
_RATE_EPSILON = 1e-9

# Statuses in which the acceptance round is still being prepared or decided: nothing final can be read.
_IN_FLIGHT = frozenset({TaskStatus.SAMPLING, TaskStatus.ACCEPTING, TaskStatus.SYNCHRONIZING})
# Statuses in which no acceptance round is open (never started, or cancelled back to labeling).
_NO_ROUND = frozenset({TaskStatus.CREATED, TaskStatus.STARTING, TaskStatus.RUNNING})
_FINAL = frozenset({TaskStatus.ACCEPTED, TaskStatus.REJECTED})

# IAM token / temporary-credential expiry: a new client (re-reading the connection) fixes these.
_TOKEN_EXPIRY_CODES = frozenset({"ModelArts.4127", "ModelArts.4201", "ModelArts.0202", "ModelArts.6620"})


class AcceptanceState(str, Enum):
    """Outcome of one evaluation; the string values are what the trigger puts in its event."""

    PENDING = "pending"
    SUCCESS = "success"
    FAILURE = "failure"

    def __str__(self) -> str:
        return self.value


def parse_status(value: TaskStatus | int | str) -> int:
    """Accept ``TaskStatus.ACCEPTED``, ``3``, ``"3"`` or ``"accepted"``; return the int code."""
    if isinstance(value, bool):
        raise ValueError(f"Invalid team labeling task status {value!r}.")
    if isinstance(value, int):
        return int(value)
    text = str(value).strip()
    if text.lstrip("-").isdigit():
        return int(text)
    try:
        return int(TaskStatus[text.upper().replace("-", "_")])
    except KeyError:
        valid = ", ".join(f"{s.name.lower()} ({s.value})" for s in TaskStatus)
        raise ValueError(f"Invalid team labeling task status {value!r}; valid statuses: {valid}.") from None


def status_name(value: int | None) -> str:
    """``3`` -> ``"ACCEPTED"``; codes the API reference does not list keep their number."""
    if value is None:
        return "UNKNOWN"
    try:
        return TaskStatus(value).name
    except ValueError:
        return f"UNKNOWN_{value}"


@dataclass(frozen=True)
class AcceptanceCriteria:
    """What the caller waits for. Every enabled condition must hold (logical AND).

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
        if self.min_pass_rate is not None:
            rate = self.min_pass_rate
            if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0.0 <= rate <= 1.0:
                raise ValueError(f"min_pass_rate must be a number between 0 and 1, got {rate!r}.")
            if math.isnan(rate):
                raise ValueError("min_pass_rate must be a number between 0 and 1, got nan.")
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
        failures = frozenset(parse_status(s) for s in (failure_statuses or ()))
        rate: float | None
        if min_pass_rate is None or (
            isinstance(min_pass_rate, str) and min_pass_rate.strip() in ("", "None")
        ):
            rate = None
        else:
            try:
                rate = float(min_pass_rate)
            except (TypeError, ValueError):
                raise ValueError(
                    f"min_pass_rate must be a number between 0 and 1, got {min_pass_rate!r}."
                ) from None
        return cls(
            target_statuses=targets,
            check_complete=bool(check_complete),
            min_pass_rate=rate,
            failure_statuses=failures,
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
        targets = data.get("target_statuses")
        failures = data.get("failure_statuses")
        return cls(
            target_statuses=defaults.target_statuses
            if targets is None
            else frozenset(int(s) for s in targets),
            check_complete=bool(data.get("check_complete", False)),
            min_pass_rate=None if data.get("min_pass_rate") is None else float(data["min_pass_rate"]),
            failure_statuses=defaults.failure_statuses
            if failures is None
            else frozenset(int(s) for s in failures),
        )

    @property
    def needs_stats(self) -> bool:
        return self.check_complete or self.min_pass_rate is not None

    def describe(self) -> str:
        parts = []
        if self.target_statuses:
            parts.append(
                "status in {" + ", ".join(status_name(s) for s in sorted(self.target_statuses)) + "}"
            )
        if self.check_complete:
            parts.append("every sampled sample checked")
        if self.min_pass_rate is not None:
            parts.append(f"pass rate >= {self.min_pass_rate:g}")
        return " and ".join(parts)


@dataclass(frozen=True)
class CheckStats:
    """The figures of one acceptance round, from the report or (fallback) the task details."""

    sampled: int | None = None
    checked: int | None = None
    unchecked: int | None = None
    accepted: int | None = None
    rejected: int | None = None
    pass_rate: float | None = None
    score: str | None = None

    @classmethod
    def from_model(cls, stats: Any) -> CheckStats | None:
        """Read a ``CheckTaskStats`` model (or mapping); ``None`` if it carries no sampling figures."""
        if stats is None:
            return None

        def get(name: str) -> Any:
            if isinstance(stats, Mapping):
                return stats.get(name)
            return getattr(stats, name, None)

        def as_int(name: str) -> int | None:
            value = get(name)
            try:
                return None if value is None else int(value)
            except (TypeError, ValueError):
                return None

        rate = get("pass_rate")
        try:
            pass_rate = None if rate is None else float(rate)
        except (TypeError, ValueError):
            pass_rate = None
        score = get("score")
        result = cls(
            sampled=as_int("sampled_sample_count"),
            checked=as_int("checked_sample_count"),
            unchecked=as_int("unchecked_sample_count"),
            accepted=as_int("accepted_sample_count"),
            rejected=as_int("rejected_sample_count"),
            pass_rate=pass_rate,
            score=None if score is None else str(score),
        )
        if result.sampled is None and result.checked is None and result.pass_rate is None:
            return None
        return result

    @property
    def complete(self) -> bool:
        """Every sampled sample has been checked (a round that sampled nothing is not complete)."""
        if not self.sampled:
            return False
        if self.unchecked is not None:
            return self.unchecked <= 0
        return self.checked is not None and self.checked >= self.sampled

    @property
    def rate(self) -> float | None:
        """Pass rate of the checked samples: the service's figure, else accepted / checked."""
        if self.pass_rate is not None:
            return self.pass_rate
        if self.accepted is not None and self.checked:
            return self.accepted / self.checked
        return None

    @property
    def best_reachable_rate(self) -> float | None:
        """The highest pass rate the round can still end with if every unchecked sample is accepted."""
        if not self.sampled or self.rejected is None:
            return None
        return (self.sampled - self.rejected) / self.sampled


@dataclass(frozen=True)
class AcceptanceEvaluation:
    """One decision: ``state``, a sentence for the log / exception, and small figures for XCom."""

    state: AcceptanceState
    message: str
    figures: dict[str, Any] = field(default_factory=dict)

    @property
    def done(self) -> bool:
        return self.state is not AcceptanceState.PENDING


def _status_of(task: WorkforceTask | Any) -> int | None:
    value = getattr(task, "status", None)
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def current_checking_task_id(task: WorkforceTask | Any) -> str | None:
    """The id of the task's current acceptance round, as the task details report it."""
    desc = getattr(task, "checking_task_desc", None)
    if desc is None:
        return None
    value = (
        desc.get("checking_task_id") if isinstance(desc, Mapping) else getattr(desc, "checking_task_id", None)
    )
    return str(value) if value else None


def _stats(task: WorkforceTask | Any, report: AcceptanceReport | Any | None) -> CheckStats | None:
    """Real-time figures of the round, preferring the report over the task details' embedded copy."""
    sources: list[Any] = []
    if report is not None:
        sources += [getattr(report, "checking_stats", None), getattr(report, "total_stats", None)]
    desc = getattr(task, "checking_task_desc", None)
    if desc is not None:
        if isinstance(desc, Mapping):
            sources += [desc.get("checking_stats"), desc.get("total_stats")]
        else:
            sources += [getattr(desc, "checking_stats", None), getattr(desc, "total_stats", None)]
    for source in sources:
        stats = CheckStats.from_model(source)
        if stats is not None:
            return stats
    return None


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


def _progress(stats: CheckStats | None) -> str:
    if stats is None or stats.sampled is None:
        return "no acceptance figures yet"
    checked = stats.checked if stats.checked is not None else (stats.sampled - (stats.unchecked or 0))
    text = f"{checked}/{stats.sampled} sampled samples checked"
    if stats.rejected is not None:
        text += f", {stats.rejected} rejected"
    if stats.rate is not None and checked:
        text += f", pass rate {stats.rate:.2%}"
    return text


def evaluate(
    task: WorkforceTask | Any,
    report: AcceptanceReport | Any | None,
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
    status = _status_of(task)
    name = status_name(status)
    label = f"team labeling task {workforce_task_id or getattr(task, 'task_id', None) or '?'}"
    current_round = current_checking_task_id(task)
    round_id = checking_task_id or current_round
    stats = _stats(task, report)
    figures = _figures(status, round_id, stats)

    def result(state: AcceptanceState, message: str) -> AcceptanceEvaluation:
        return AcceptanceEvaluation(state=state, message=message, figures=figures)

    targets = criteria.target_statuses
    if status is not None and status in criteria.failure_statuses and status not in targets:
        return result(
            AcceptanceState.FAILURE,
            f"The {label} was {name} ({status}); waited for {criteria.describe()}. {_progress(stats)}.",
        )

    if checking_task_id and status is not None and criteria.needs_stats:
        if status in _NO_ROUND:
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
    if criteria.min_pass_rate is not None and stats is not None:
        best = stats.best_reachable_rate
        if best is not None and not stats.complete and best + _RATE_EPSILON < criteria.min_pass_rate:
            return result(
                AcceptanceState.FAILURE,
                f"The pass rate of the {label} can no longer reach {criteria.min_pass_rate:.2%}: "
                f"{stats.rejected} of {stats.sampled} sampled samples are already rejected, so at most "
                f"{best:.2%} can pass ({_progress(stats)}).",
            )
        rate = stats.rate
        if rate_decidable and rate is not None and rate + _RATE_EPSILON < criteria.min_pass_rate:
            return result(
                AcceptanceState.FAILURE,
                f"The pass rate of the {label} is {rate:.2%}, below the required "
                f"{criteria.min_pass_rate:.2%} ({_progress(stats)}).",
            )

    waiting: list[str] = []
    if targets and status not in targets:
        waiting.append(f"status is {name} ({status})")
    if criteria.min_pass_rate is not None and not rate_decidable:
        waiting.append("pass rate not final yet")
    if waiting or (criteria.check_complete and not (stats is not None and stats.complete)):
        # Reviewer progress goes in every pending message: it is what a person watching the log wants.
        if stats is not None or criteria.check_complete:
            waiting.append(_progress(stats))
        return result(
            AcceptanceState.PENDING,
            f"Waiting for {criteria.describe()} on the {label}: " + "; ".join(waiting) + ".",
        )
    figures_text = f", {_progress(stats)}" if stats is not None else ""
    return result(
        AcceptanceState.SUCCESS,
        f"The {label} reached {criteria.describe()}: status {name} ({status}){figures_text}.",
    )


def should_fetch_report(task: WorkforceTask | Any, checking_task_id: str | None) -> bool:
    """Read the report only when a round exists and is past sampling (before that there is nothing in it)."""
    if not checking_task_id:
        return False
    status = _status_of(task)
    return status not in (int(TaskStatus.SAMPLING), *(int(s) for s in _NO_ROUND))


def is_token_expiry(exc: BaseException) -> bool:
    """An expired / revoked IAM token or temporary credential: rebuilding the client may fix it."""
    return isinstance(exc, ModelArtsAuthError) and exc.error_code in _TOKEN_EXPIRY_CODES


def is_transient(exc: BaseException) -> bool:
    """Errors worth waiting out: 5xx, throttling, network failures and token expiry.

    Everything else (bad ids, missing permissions, invalid AK/SK) will not heal by itself, so a wait that
    could last days must stop and say so instead of polling an error until its timeout.
    """
    if isinstance(exc, (ModelArtsServerError, ModelArtsThrottledError, ModelArtsTransportError)):
        return True
    return is_token_expiry(exc)


def _report_or_none(exc: ModelArtsError) -> None:
    """A 404 on the report means the round has no report yet: treat as 'no figures', not as an error."""
    if not isinstance(exc, ModelArtsNotFoundError):
        raise exc


def fetch_and_evaluate(
    client: ModelArtsClient,
    dataset_id: str,
    workforce_task_id: str,
    criteria: AcceptanceCriteria,
    checking_task_id: str | None = None,
) -> AcceptanceEvaluation:
    """Read task details (+ report when useful) with the sync client and evaluate them."""
    task = client.get_workforce_task(dataset_id, workforce_task_id)
    round_id = checking_task_id or current_checking_task_id(task)
    report = None
    if should_fetch_report(task, round_id):
        try:
            report = client.get_acceptance_report(dataset_id, workforce_task_id, round_id)
        except ModelArtsAPIError as exc:
            _report_or_none(exc)
    return evaluate(
        task, report, criteria, checking_task_id=checking_task_id, workforce_task_id=workforce_task_id
    )


async def fetch_and_evaluate_async(
    client: AsyncModelArtsClient,
    dataset_id: str,
    workforce_task_id: str,
    criteria: AcceptanceCriteria,
    checking_task_id: str | None = None,
) -> AcceptanceEvaluation:
    """The async twin of :func:`fetch_and_evaluate`; same reads, same decision."""
    task = await client.get_workforce_task(dataset_id, workforce_task_id)
    round_id = checking_task_id or current_checking_task_id(task)
    report = None
    if should_fetch_report(task, round_id):
        try:
            report = await client.get_acceptance_report(dataset_id, workforce_task_id, round_id)
        except ModelArtsAPIError as exc:
            _report_or_none(exc)
    return evaluate(
        task, report, criteria, checking_task_id=checking_task_id, workforce_task_id=workforce_task_id
    )
