"""triggers/polling.py: the poll loop every trigger of the provider shares, with a scripted subclass.

No network and no real client: ``_get_client`` and ``_close_client`` are replaced, ``_look`` plays back the
evaluations (or errors) the test gives, time moves only when the trigger sleeps.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from airflow.triggers.base import TriggerEvent

from airflow_provider_modelarts.errors import (
    ModelArtsTransportError,
    ModelArtsValidationError,
)
from airflow_provider_modelarts.triggers.polling import PollingTrigger
from airflow_provider_modelarts.waiting import WaitState


@dataclass(frozen=True)
class Look:
    state: WaitState
    message: str
    figures: dict[str, Any] = field(default_factory=dict)

    @property
    def done(self) -> bool:
        return self.state is not WaitState.PENDING


PENDING = Look(WaitState.PENDING, "still going", {"n": 1})
DONE = Look(WaitState.SUCCESS, "done", {"n": 2})


class Scripted(PollingTrigger):
    def __init__(self, *script: Any, deadline: float | None = None) -> None:
        super().__init__()
        self.script = list(script)
        self.poll_interval, self.deadline = 10.0, deadline
        self.modelarts_conn_id, self.project_id = "unused", None
        self.now, self.closed = 0.0, 0

    async def _get_client(self) -> Any:
        return object()

    async def _close_client(self, *, refused: bool = False) -> None:
        self.closed += 1

    def _now(self) -> float:
        return self.now

    async def _sleep(self, seconds: float) -> None:
        self.now += seconds

    async def _look(self, client: Any) -> Any:
        step = self.script.pop(0)
        if isinstance(step, BaseException):
            raise step
        return step

    def _subject(self) -> str:
        return "the scripted job"

    def _event_ids(self) -> dict[str, Any]:
        return {"job": "j-1"}

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return ("tests.Scripted", {})


def run(trigger: PollingTrigger) -> list[TriggerEvent]:
    async def scenario() -> list[TriggerEvent]:
        return [event async for event in trigger.run()]

    return asyncio.run(scenario())


def test_one_event_when_the_evaluation_is_done_with_the_subclass_ids() -> None:
    trigger = Scripted(PENDING, PENDING, DONE)
    [event] = run(trigger)
    assert event.payload == {"status": "success", "message": "done", "figures": {"n": 2}, "job": "j-1"}
    assert trigger.now == 20.0 and trigger.closed >= 1


def test_a_transient_error_is_shrugged_off_and_a_lasting_one_ends_the_wait_as_an_api_error() -> None:
    lost = ModelArtsTransportError(method="GET", path="/x", cause=httpx.ConnectError("refused"))
    [event] = run(Scripted(lost, DONE))
    assert event.payload["status"] == "success"
    refused = ModelArtsValidationError(status=400, error_code="ModelArts.0104", error_msg="bad")
    [event] = run(Scripted(PENDING, refused))
    assert (event.payload["status"], event.payload["api_error"]) == ("failure", True)
    assert event.payload["message"].startswith("Stopped waiting for the scripted job: ")
    assert event.payload["figures"] == {"n": 1}  # what it last saw


def test_a_wait_started_after_its_deadline_still_reports_its_first_look() -> None:
    [event] = run(Scripted(PENDING, deadline=-5.0))
    assert event.payload["status"] == "timeout"
    assert event.payload["message"] == "Timed out waiting for the scripted job. Last state: still going"


def test_the_timeout_after_only_errors_says_the_last_error() -> None:
    lost = ModelArtsTransportError(method="GET", path="/x", cause=httpx.ConnectError("refused"))
    [event] = run(Scripted(lost, lost, deadline=15.0))
    assert (
        event.payload["status"] == "timeout"
        and "no successful poll (last error: GET /x" in event.payload["message"]
    )


class Bare(PollingTrigger):
    def serialize(self) -> tuple[str, dict[str, Any]]:
        return ("tests.Bare", {})


def test_the_base_says_what_a_subclass_must_give() -> None:
    base = Bare()
    with pytest.raises(NotImplementedError):
        base._subject()
    with pytest.raises(NotImplementedError):
        base._event_ids()
    with pytest.raises(NotImplementedError):
        asyncio.run(base._look(object()))  # type: ignore[arg-type]
