"""waiting.py: what every wait shares (outcomes, event statuses, which looks are worth a log line)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from airflow_provider_modelarts.acceptance import AcceptanceState
from airflow_provider_modelarts.acceptance import ProgressLog as AcceptanceProgressLog
from airflow_provider_modelarts.waiting import EVENT_STATUSES, HEARTBEAT_SECONDS, ProgressLog, WaitState


@dataclass(frozen=True)
class Look:
    message: str
    figures: dict[str, Any] = field(default_factory=dict)
    state: WaitState = WaitState.PENDING

    @property
    def done(self) -> bool:
        return False


def test_the_acceptance_names_are_the_shared_ones() -> None:
    assert AcceptanceState is WaitState
    assert EVENT_STATUSES == ("success", "failure", "timeout")
    assert AcceptanceProgressLog().watched[0] == "status" and isinstance(AcceptanceProgressLog(), ProgressLog)


def test_only_the_watched_figures_make_a_line() -> None:
    log = ProgressLog(watched=("done",))
    assert log.line(Look("a", {"done": 1, "noise": 1}), 0.0) == "a"
    assert log.line(Look("b", {"done": 1, "noise": 2}), 1.0) is None  # an unwatched figure moved
    assert log.line(Look("c", {"done": 2}), 2.0) == "c"


def test_a_silent_wait_says_so_once_per_heartbeat() -> None:
    log = ProgressLog(watched=("done",))
    log.line(Look("a", {"done": 1}), 0.0)
    quiet = [log.line(Look("a", {"done": 1}), float(t)) for t in range(1, int(HEARTBEAT_SECONDS))]
    assert quiet == [None] * len(quiet)
    assert log.line(Look("a", {"done": 1}), HEARTBEAT_SECONDS) == (
        f"Still waiting, no change in {len(quiet) + 1} looks: a"
    )
