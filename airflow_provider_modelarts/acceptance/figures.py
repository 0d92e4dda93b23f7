"""Reading a team labeling task and its acceptance report: the figures, leniently.

Replies are read, not judged: a missing field, a number sent as text or a value of an odd type reads as
"unknown" (``None``) and never crashes a wait that may last days. Models and raw dicts (a reply kept raw
because it did not fit a model) read the same way.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_provider_modelarts._text import quote
from airflow_provider_modelarts.errors import ModelArtsNotFoundError

# ``models`` loads its pydantic models on first use only: DAG files import the sensor on every parse, and
# the models are needed once a poll runs.
from airflow_provider_modelarts.models import TaskStatus

if TYPE_CHECKING:
    from airflow_provider_modelarts.client import AsyncModelArtsClient, ModelArtsClient

__all__ = [
    "NO_ROUND",
    "AcceptanceSnapshot",
    "CheckStats",
    "aread_snapshot",
    "current_checking_task_id",
    "field_of",
    "parse_status",
    "read_count",
    "read_number",
    "read_snapshot",
    "read_status",
    "report_round",
    "should_fetch_report",
    "status_name",
]

# Statuses in which no acceptance round is open (never started, or cancelled back to labeling).
NO_ROUND = frozenset({TaskStatus.CREATED, TaskStatus.STARTING, TaskStatus.RUNNING})


def field_of(obj: Any, name: str) -> Any:
    """``obj.name`` for models, ``obj[name]`` for raw replies kept as dicts; ``None`` when absent."""
    if obj is None:
        return None
    if isinstance(obj, Mapping):
        return obj.get(name)
    return getattr(obj, name, None)


def read_number(value: Any) -> float | None:
    """A number from a reply or user input (text included); ``None`` for anything else, bools too."""
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError):
        return None


def read_count(value: Any) -> int | None:
    """A sample count, or ``None`` for anything that is not a non-negative whole number."""
    number = read_number(value)
    return int(number) if number is not None and number.is_integer() and number >= 0 else None


def _as_rate(value: Any) -> float | None:
    """A pass rate in [0, 1], or ``None`` (then the rate is computed from the counts)."""
    rate = read_number(value)
    return rate if rate is not None and 0.0 <= rate <= 1.0 else None  # also drops nan


def read_status(task: Any) -> int | None:
    """The task's status code; ``None`` when the reply has none or an odd one."""
    return read_count(field_of(task, "status"))


def parse_status(value: TaskStatus | int | str) -> int:
    """Accept ``TaskStatus.ACCEPTED``, ``3``, ``"3"`` or ``"accepted"``; return the int code."""
    if isinstance(value, bool):
        raise ValueError(f"Invalid team labeling task status {quote(value)}.")
    if isinstance(value, int):
        return int(value)
    text = str(value).strip()
    if text.lstrip("-").isdigit():
        return int(text)
    try:
        return int(TaskStatus[text.upper().replace("-", "_")])
    except KeyError:
        valid = ", ".join(f"{s.name.lower()} ({s.value})" for s in TaskStatus)
        raise ValueError(
            f"Invalid team labeling task status {quote(value)}; valid statuses: {valid}."
        ) from None


def status_name(value: int | None) -> str:
    """``3`` -> ``"ACCEPTED"``; codes the API reference does not list keep their number."""
    if value is None:
        return "UNKNOWN"
    try:
        return TaskStatus(value).name
    except ValueError:
        return f"UNKNOWN_{value}"


def current_checking_task_id(task: Any) -> str | None:
    """The id of the task's current acceptance round, as the task details report it."""
    value = field_of(field_of(task, "checking_task_desc"), "checking_task_id")
    return str(value) if value else None


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
        score = field_of(stats, "score")
        result = cls(
            sampled=read_count(field_of(stats, "sampled_sample_count")),
            checked=read_count(field_of(stats, "checked_sample_count")),
            unchecked=read_count(field_of(stats, "unchecked_sample_count")),
            accepted=read_count(field_of(stats, "accepted_sample_count")),
            rejected=read_count(field_of(stats, "rejected_sample_count")),
            pass_rate=_as_rate(field_of(stats, "pass_rate")),
            score=None if score is None else str(score),
        )
        if result.sampled is None and result.checked is None and result.pass_rate is None:
            return None
        return result

    @classmethod
    def read(cls, task: Any, report: Any | None) -> CheckStats | None:
        """Real-time figures of the round, preferring the report over the task details' embedded copy."""
        desc = field_of(task, "checking_task_desc")
        for holder in (report, desc):
            for name in ("checking_stats", "total_stats"):
                stats = cls.from_model(field_of(holder, name))
                if stats is not None:
                    return stats
        return None

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

    def progress(self) -> str:
        """Reviewer progress in words, for log lines and messages."""
        if self.sampled is None:
            return "no acceptance figures yet"
        checked = self.checked if self.checked is not None else self.sampled - (self.unchecked or 0)
        text = f"{checked}/{self.sampled} sampled samples checked"
        if self.rejected is not None:
            text += f", {self.rejected} rejected"
        if self.rate is not None and checked:
            text += f", pass rate {self.rate:.2%}"
        return text


def should_fetch_report(task: Any, checking_task_id: str | None) -> bool:
    """Read the report only when a round exists and is past sampling (before that there is nothing in it)."""
    if not checking_task_id:
        return False
    return read_status(task) not in (int(TaskStatus.SAMPLING), *(int(s) for s in NO_ROUND))


@dataclass(frozen=True)
class AcceptanceSnapshot:
    """One look at a team labeling task: its details and, when its round has one, the acceptance report."""

    workforce_task_id: str
    task: Any
    report: Any | None
    awaited_round: str | None  # the round the caller named, if any

    @property
    def round_id(self) -> str | None:
        """The round the figures are about: the awaited one, else the task's current one."""
        return self.awaited_round or current_checking_task_id(self.task)

    @property
    def stats(self) -> CheckStats | None:
        return CheckStats.read(self.task, self.report)


def report_round(task: Any, checking_task_id: str | None) -> str | None:
    """The round whose report is worth reading after this task read (the awaited or the current one)."""
    round_id = checking_task_id or current_checking_task_id(task)
    return round_id if should_fetch_report(task, round_id) else None


# A 404 on the report means the round has no report yet: "no figures", not an error. The sync and async
# readers below are the same steps; only the awaits differ.
_NO_REPORT_YET = (ModelArtsNotFoundError,)


def read_snapshot(
    client: ModelArtsClient, dataset_id: str, workforce_task_id: str, checking_task_id: str | None = None
) -> AcceptanceSnapshot:
    """Read the task details, then the report when it can hold figures, with a sync client."""
    task = client.get_workforce_task(dataset_id, workforce_task_id)
    report = None
    if round_id := report_round(task, checking_task_id):
        with contextlib.suppress(*_NO_REPORT_YET):
            report = client.get_acceptance_report(dataset_id, workforce_task_id, round_id)
    return AcceptanceSnapshot(workforce_task_id, task, report, checking_task_id)


async def aread_snapshot(
    client: AsyncModelArtsClient, dataset_id: str, workforce_task_id: str, checking_task_id: str | None = None
) -> AcceptanceSnapshot:
    """:func:`read_snapshot` with an async client (the trigger's)."""
    task = await client.get_workforce_task(dataset_id, workforce_task_id)
    report = None
    if round_id := report_round(task, checking_task_id):
        with contextlib.suppress(*_NO_REPORT_YET):
            report = await client.get_acceptance_report(dataset_id, workforce_task_id, round_id)
    return AcceptanceSnapshot(workforce_task_id, task, report, checking_task_id)
