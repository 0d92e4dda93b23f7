"""AcceptanceSensor, deferrable: AcceptanceTrigger polls the emulator over real HTTP, as in a triggerer.

The emulator's clock is stopped: reviewers move only when a test advances them (``meanwhile``, once the
trigger has polled). The hook's clients are NOT swapped for fast-retry ones here (see the ``in_flight``
override): the trigger's own short retry policy is part of what these tests check.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import (
    AirflowFailException,
    AirflowSensorTimeout,
    AirflowSkipException,
    TaskDeferred,
)
from airflow.triggers.base import TriggerEvent
from stepped_trigger import SteppedTrigger

from airflow_provider_modelarts.models import AcceptanceAction
from airflow_provider_modelarts.sensors.acceptance import AcceptanceSensor
from airflow_provider_modelarts.triggers.acceptance import AcceptanceTrigger
from integration._acceptance_helpers import (
    DATASET,
    TASK,
    check_complete_sensor,
    decide,
    make_sensor,
    review_all,
    start_round,
    stop_the_clock,
)
from modelarts_emulator import DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY
from modelarts_emulator.testing import EmulatorServer, connection_dict


@pytest.fixture(autouse=True)
def in_flight() -> None:
    """Overrides the folder's client swap: the trigger keeps its own retry policy (3 quick attempts)."""


@pytest.fixture
def world(emulator: EmulatorServer, modelarts_conn_env: dict[str, Any]) -> EmulatorServer:
    return stop_the_clock(emulator)


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


def test_after_a_key_rotation_new_waits_use_the_new_key_and_old_ones_recover_after_one_refusal(
    world: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over HTTP: the emulator rotates the SK while a wait is deferred; the connection is updated. A wait
    deferred after that signs with the new key at once; the older one is refused once, lets its client go,
    reads the connection again and goes on with the new key."""
    rotated = "emulator-secret-key-after-rotation"
    round_id = start_round(world)
    old_kwargs = defer(check_complete_sensor(round_id, deferrable=True)).serialize()[1]

    def rotate() -> None:
        world.admin.call("PUT", f"access-keys/{DEFAULT_ACCESS_KEY}", {"secret_key": rotated})
        connection = connection_dict(world.base_url, world.project_id, secret_key=rotated)
        monkeypatch.setenv("AIRFLOW_CONN_MODELARTS_DEFAULT", json.dumps(connection))
        review_all(world)

    async def scenario() -> tuple[TriggerEvent, TriggerEvent]:
        old = SteppedTrigger(**old_kwargs)
        old_run = asyncio.ensure_future(anext(old.run()))
        await old.asleep.wait()  # it polled with the first key: nothing checked yet
        await asyncio.to_thread(rotate)
        assert world.admin.stats()["refused"] == 0
        new = AcceptanceTrigger(**{**old_kwargs, "poll_interval": 0.05})
        new_event = await anext(new.run())
        assert world.admin.stats()["refused"] == 0  # the new wait signed with the new key at once
        old.wake.set()
        old_event = await old_run
        await old.cleanup()
        await new.cleanup()
        return old_event, new_event

    old_event, new_event = asyncio.run(scenario())
    assert new_event.payload["status"] == "success" and old_event.payload["status"] == "success"
    assert old_event.payload["figures"]["checked"] == 6
    stats = world.admin.stats()
    assert stats["refused"] == 1  # the old wait's first request with the old key, and nothing more
    assert stats["routes"]["get_workforce_task"]["status_401"] == 1
