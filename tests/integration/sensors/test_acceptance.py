"""AcceptanceSensor in poke and reschedule modes against the emulator over real HTTP.

The emulator's clock is stopped (``step_seconds=None``): reviewers only move when a test advances them, so
nothing here sleeps to wait for them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import (
    AirflowFailException,
    AirflowSensorTimeout,
    AirflowSkipException,
)

from integration._acceptance_helpers import (
    check_complete_sensor,
    decide,
    make_sensor,
    review_all,
    start_round,
    stop_the_clock,
)

try:
    from airflow.sdk.exceptions import AirflowRescheduleException
except ImportError:  # Airflow 3.1 (task SDK 1.1) keeps it in airflow.exceptions only
    from airflow.exceptions import AirflowRescheduleException  # type: ignore[no-redef]

from airflow_provider_modelarts.models import AcceptanceAction
from modelarts_emulator.testing import EmulatorServer


@pytest.fixture
def world(emulator: EmulatorServer, modelarts_conn_env: dict[str, Any]) -> EmulatorServer:
    return stop_the_clock(emulator)


class FakeTI:
    """What reschedule mode asks of the task instance: when the first try started."""

    def __init__(self, first_reschedule_date: dt.datetime | None = None) -> None:
        self.first = first_reschedule_date

    def get_first_reschedule_date(self, context: Any) -> dt.datetime | None:
        return self.first


def ti_context(first_reschedule_date: dt.datetime | None = None) -> Any:
    return {"ti": FakeTI(first_reschedule_date)}


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
    before = dt.datetime.now(dt.UTC)
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
    first_try = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
    sensor = check_complete_sensor(mode="reschedule", timeout=3600, soft_fail=soft_fail)
    with pytest.raises(expected):
        sensor.execute(ti_context(first_try))
