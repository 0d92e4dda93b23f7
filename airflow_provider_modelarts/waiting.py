"""Waiting on remote work, whatever the work: the outcome of a look, the event statuses, the progress log.

A wait (a sensor's pokes, an operator's poll in the worker, a trigger's polls in the triggerer) looks at
something remote again and again until one evaluation says it is over. What "over" means belongs to each
domain, defined once there and used by every way of waiting: an acceptance
(:mod:`airflow_provider_modelarts.acceptance.waiting`), an import task
(:mod:`airflow_provider_modelarts.import_tasks`). What they share lives here: the three outcomes
(:class:`WaitState`), the shape of an evaluation (:class:`Evaluation`), the statuses a trigger event may
carry (:data:`EVENT_STATUSES`) and which pending looks are worth a log line (:class:`ProgressLog`). Imports
no Airflow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from airflow_provider_modelarts._models._enums import StrEnum

__all__ = ["EVENT_STATUSES", "HEARTBEAT_SECONDS", "Evaluation", "ProgressLog", "WaitState"]

# The only values a polling trigger puts in an event's "status"; execute_complete rejects anything else.
EVENT_STATUSES = ("success", "failure", "timeout")

#: Longest silence while a wait's figures do not move: a wait of a working day logs a few dozen lines,
#: not one per poll (500 at a 60 s interval).
HEARTBEAT_SECONDS = 600.0


class WaitState(StrEnum):
    """Outcome of one evaluation; the string values are what a trigger puts in its event."""

    PENDING = "pending"
    SUCCESS = "success"
    FAILURE = "failure"


class Evaluation(Protocol):
    """One look at remote work: ``state``, a sentence for the log / exception, small figures for XCom."""

    @property
    def state(self) -> WaitState: ...

    @property
    def message(self) -> str: ...

    @property
    def figures(self) -> dict[str, Any]: ...

    @property
    def done(self) -> bool: ...


@dataclass
class ProgressLog:
    """Which pending evaluations of a wait are worth a log line (pokes and polls alike).

    The first, any change of one of the ``watched`` figures, and otherwise a heartbeat once ``heartbeat``
    seconds passed since the last line. Time is passed in, so tests need no clock.
    """

    heartbeat: float = HEARTBEAT_SECONDS
    watched: tuple[str, ...] = ()
    _last: tuple[Any, ...] | None = field(default=None, repr=False)
    _logged_at: float = field(default=0.0, repr=False)
    _unchanged: int = field(default=0, repr=False)

    def line(self, evaluation: Evaluation, now: float) -> str | None:
        """The line to log for this look at the wait, or ``None`` to stay quiet."""
        key = tuple(evaluation.figures.get(name) for name in self.watched)
        if key != self._last:
            self._last, self._logged_at, self._unchanged = key, now, 0
            return evaluation.message
        self._unchanged += 1
        if now - self._logged_at < self.heartbeat:
            return None
        looks, self._logged_at, self._unchanged = self._unchanged, now, 0
        return f"Still waiting, no change in {looks} look{'s' if looks != 1 else ''}: {evaluation.message}"
