"""AcceptanceSensor in poke, reschedule and deferrable modes against the emulator over real HTTP.

The emulator's clock is stopped (``step_seconds=None``): reviewers only move when a test advances them, so
nothing here sleeps to wait for them.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
from airflow.triggers.base import TriggerEvent

from airflow_provider_modelarts._compat import (
    AirflowFailException,
    AirflowRescheduleException,
    AirflowSensorTimeout,
    AirflowSkipException,
    TaskDeferred,
)
from airflow_provider_modelarts.emulator import DEFAULT_SECRET_KEY
from airflow_provider_modelarts.emulator.testing import EmulatorServer
from airflow_provider_modelarts.models import AcceptanceAction
from airflow_provider_modelarts.sensors.acceptance import AcceptanceSensor
from airflow_provider_modelarts.triggers.acceptance import AcceptanceTrigger

DATASET = "ds-images"
TASK = "task-1"  # default seed: 6 labeled samples waiting for acceptance


@pytest.fixture
def world(emulator: EmulatorServer, modelarts_conn_env: dict[str, Any]) -> EmulatorServer:
    emulator.admin.configure(step_seconds=None, reviewer_pace=5, reviewer_pass_rate=1.0)
    return emulator


def start_round(emulator: EmulatorServer) -> str:
    with emulator.client() as client:
        checking_task_id = client.start_acceptance(DATASET, TASK, sampling_rate=1.0).task_id
    assert checking_task_id
    return checking_task_id


def decide(emulator: EmulatorServer, action: AcceptanceAction) -> None:
    with emulator.client() as client:
        client.update_acceptance_status(DATASET, TASK, action)
    emulator.admin.advance(steps=5)  # synchronizing -> accepted / rejected


def review_all(emulator: EmulatorServer) -> None:
    emulator.admin.advance(steps=10)  # sampling -> accepting, then 5 checks per step


class FakeTI:
    """What reschedule mode asks of the task instance: when the first try started."""

    def __init__(self, first_reschedule_date: dt.datetime | None = None) -> None:
        self.first = first_reschedule_date

    def get_first_reschedule_date(self, context: Any) -> dt.datetime | None:
        return self.first


def ti_context(first_reschedule_date: dt.datetime | None = None) -> Any:
    return {"ti": FakeTI(first_reschedule_date)}


def make_sensor(**kwargs: Any) -> AcceptanceSensor:
    kwargs.setdefault("poke_interval", 0.05)
    kwargs.setdefault("timeout", 60)
    kwargs.setdefault("deferrable", False)
    return AcceptanceSensor(
        task_id="wait_for_acceptance", dataset_id=DATASET, workforce_task_id=TASK, **kwargs
    )


def check_complete_sensor(checking_task_id: str | None = None, **kwargs: Any) -> AcceptanceSensor:
    return make_sensor(target_statuses=None, check_complete=True, checking_task_id=checking_task_id, **kwargs)


def polls(emulator: EmulatorServer) -> int:
    return int(emulator.admin.stats()["routes"].get("get_workforce_task", {}).get("requests", 0))


def run_trigger(
    trigger: AcceptanceTrigger, emulator: EmulatorServer, meanwhile: Callable[[], None] | None = None
) -> TriggerEvent:
    """Run the trigger as the triggerer would; ``meanwhile`` runs once the trigger has polled (it waits)."""

    async def scenario() -> TriggerEvent:
        async def first() -> TriggerEvent:
            events = [event async for event in trigger.run()]
            assert len(events) == 1, events
            return events[0]

        before = polls(emulator)
        runner = asyncio.ensure_future(first())
        if meanwhile is not None:
            while polls(emulator) <= before + 1 and not runner.done():
                await asyncio.sleep(0.02)
            assert not runner.done(), "the trigger ended before anything happened"
            meanwhile()
        return await asyncio.wait_for(runner, timeout=30)

    try:
        return asyncio.run(scenario())
    finally:
        asyncio.run(trigger.cleanup())


def defer(sensor: AcceptanceSensor) -> AcceptanceTrigger:
    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute({})
    trigger = deferred.value.trigger
    assert isinstance(trigger, AcceptanceTrigger)
    assert deferred.value.method_name == "execute_complete"
    return trigger


# -- poke ----------------------------------------------------------------------------------------------------


def test_poke_mode_waits_for_the_check_then_returns_figures(world: EmulatorServer) -> None:
    round_id = start_round(world)
    sensor = check_complete_sensor(round_id)
    assert not sensor.poke({})  # still sampling
    review_all(world)
    result = sensor.execute({})
    assert result == {
        "status": 2,
        "status_name": "ACCEPTING",
        "checking_task_id": round_id,
        "pass_rate": 1.0,
        "sampled": 6,
        "checked": 6,
        "accepted": 6,
        "rejected": 0,
        "score": "A",
    }


def test_poke_mode_default_waits_for_accepted(world: EmulatorServer) -> None:
    start_round(world)
    review_all(world)
    sensor = make_sensor()
    assert not sensor.poke({})  # reviewed, but the owner has not decided
    decide(world, AcceptanceAction.PASS_ALL)
    assert sensor.execute({})["status_name"] == "ACCEPTED"


def test_poke_mode_fails_on_rejection(world: EmulatorServer) -> None:
    start_round(world)
    review_all(world)
    decide(world, AcceptanceAction.REJECT_ALL)
    with pytest.raises(AirflowFailException, match="was REJECTED"):
        make_sensor().execute({})


def test_poke_mode_soft_fail_skips_a_rejection(world: EmulatorServer) -> None:
    start_round(world)
    review_all(world)
    decide(world, AcceptanceAction.REJECT_ALL)
    with pytest.raises(AirflowSkipException):
        make_sensor(soft_fail=True).execute({})


def test_poke_mode_fails_early_when_pass_rate_is_out_of_reach(world: EmulatorServer) -> None:
    world.admin.configure(reviewer_pass_rate=0.0)
    round_id = start_round(world)
    world.admin.advance(steps=2)  # sampling done, first 5 of 6 checks (all rejected)
    with pytest.raises(AirflowFailException, match=r"can no longer reach 90\.00%"):
        check_complete_sensor(round_id, min_pass_rate=0.9).execute({})


def test_poke_mode_times_out(world: EmulatorServer) -> None:
    start_round(world)
    with pytest.raises(AirflowSensorTimeout, match="timed out"):
        check_complete_sensor(timeout=0.2).execute({})


def test_poke_mode_treats_throttling_as_not_yet(world: EmulatorServer) -> None:
    start_round(world)
    review_all(world)
    # More throttled answers than the client's own retries: the poke says "not yet" instead of failing.
    world.admin.faults(route="get_workforce_task", status=429, retry_after=0, count=6)
    sensor = check_complete_sensor()
    assert not sensor.poke({})
    assert sensor.poke({})
    assert world.admin.stats()["faulted"] == 6


# -- reschedule ----------------------------------------------------------------------------------------------


def test_reschedule_mode_frees_the_slot_then_succeeds(world: EmulatorServer) -> None:
    round_id = start_round(world)
    sensor = check_complete_sensor(round_id, mode="reschedule", poke_interval=300)
    context = ti_context()
    before = dt.datetime.now(dt.timezone.utc)
    with pytest.raises(AirflowRescheduleException) as rescheduled:
        sensor.execute(context)
    assert rescheduled.value.reschedule_date >= before + dt.timedelta(seconds=299)
    review_all(world)
    assert sensor.execute(context)["checked"] == 6


def test_reschedule_mode_fails_when_the_round_is_cancelled(world: EmulatorServer) -> None:
    round_id = start_round(world)
    review_all(world)
    decide(world, AcceptanceAction.CANCEL)
    with pytest.raises(AirflowFailException, match="cancelled"):
        check_complete_sensor(round_id, mode="reschedule").execute(ti_context())


def test_reschedule_mode_soft_fail(world: EmulatorServer) -> None:
    start_round(world)
    review_all(world)
    decide(world, AcceptanceAction.REJECT_ALL)
    with pytest.raises(AirflowSkipException):
        make_sensor(mode="reschedule", soft_fail=True).execute(ti_context())


@pytest.mark.parametrize(
    ("soft_fail", "expected"), [(False, AirflowSensorTimeout), (True, AirflowSkipException)]
)
def test_reschedule_mode_times_out_from_the_first_try(
    world: EmulatorServer, soft_fail: bool, expected: type[Exception]
) -> None:
    start_round(world)
    first_try = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=2)
    sensor = check_complete_sensor(mode="reschedule", timeout=3600, soft_fail=soft_fail)
    with pytest.raises(expected):
        sensor.execute(ti_context(first_try))


# -- deferrable ----------------------------------------------------------------------------------------------


def test_deferrable_mode_waits_in_the_trigger(world: EmulatorServer) -> None:
    round_id = start_round(world)
    sensor = check_complete_sensor(round_id, deferrable=True)
    trigger = defer(sensor)
    serialized = repr(trigger.serialize())
    assert DEFAULT_SECRET_KEY not in serialized
    assert round_id in serialized

    event = run_trigger(trigger, world, meanwhile=lambda: review_all(world))
    assert event.payload["status"] == "success"
    result = sensor.execute_complete({}, event.payload)
    assert result["checked"] == 6 and result["checking_task_id"] == round_id


def test_deferrable_mode_does_not_defer_when_already_done(world: EmulatorServer) -> None:
    start_round(world)
    review_all(world)
    decide(world, AcceptanceAction.PASS_ALL)
    assert make_sensor(deferrable=True).execute({})["status_name"] == "ACCEPTED"


def test_deferrable_mode_failure_and_soft_fail(world: EmulatorServer) -> None:
    start_round(world)
    review_all(world)
    strict, lenient = make_sensor(deferrable=True), make_sensor(deferrable=True, soft_fail=True)
    trigger = defer(strict)
    assert isinstance(defer(lenient), AcceptanceTrigger)
    event = run_trigger(trigger, world, meanwhile=lambda: decide(world, AcceptanceAction.REJECT_ALL))
    assert event.payload["status"] == "failure"
    with pytest.raises(AirflowFailException, match="was REJECTED"):
        strict.execute_complete({}, event.payload)
    with pytest.raises(AirflowSkipException, match=r"soft_fail: .*was REJECTED"):
        lenient.execute_complete({}, event.payload)


def test_deferrable_mode_times_out(world: EmulatorServer) -> None:
    start_round(world)
    sensor = check_complete_sensor(deferrable=True, timeout=0.5)
    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute({})
    # The triggerer's own timeout is a backstop behind the trigger's deadline.
    assert deferred.value.timeout is not None and deferred.value.timeout.total_seconds() > 0.5
    event = run_trigger(deferred.value.trigger, world)
    assert event.payload["status"] == "timeout"
    assert "0/6 sampled samples checked" in event.payload["message"] or "SAMPLING" in event.payload["message"]
    with pytest.raises(AirflowSensorTimeout):
        sensor.execute_complete({}, event.payload)


def test_deferrable_mode_survives_server_errors_while_polling(world: EmulatorServer) -> None:
    round_id = start_round(world)
    sensor = check_complete_sensor(round_id, deferrable=True)
    trigger = defer(sensor)

    def outage_then_review() -> None:
        # Longer than the trigger client's 3 attempts: whole polls fail, and the wait goes on.
        world.admin.faults(route="get_workforce_task", status=503, retry_after=0, count=4)
        review_all(world)

    event = run_trigger(trigger, world, meanwhile=outage_then_review)
    assert event.payload["status"] == "success"
    assert world.admin.stats()["routes"]["get_workforce_task"]["faulted"] == 4
    assert sensor.execute_complete({}, event.payload)["checked"] == 6


def test_trigger_runs_with_iam_password_connection(
    world: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_MODELARTS_IAM", json.dumps(world.connection_dict(auth="password")))
    start_round(world)
    review_all(world)
    trigger = AcceptanceTrigger(
        dataset_id=DATASET,
        workforce_task_id=TASK,
        criteria={"target_statuses": [], "check_complete": True},
        poll_interval=0.05,
        modelarts_conn_id="modelarts_iam",
    )
    assert "emulator-password" not in repr(trigger)
    event = run_trigger(trigger, world)
    assert event.payload["status"] == "success"
