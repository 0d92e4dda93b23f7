"""The acceptance world of the sensor and trigger tests: an emulator whose reviewers move only when told.

Imported by name (pytest puts this directory on ``sys.path``). The emulator's clock is stopped
(``step_seconds=None``): reviewers only move when a test advances them, so nothing waits for them.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_modelarts.models import AcceptanceAction
from airflow_provider_modelarts.sensors.acceptance import AcceptanceSensor
from modelarts_emulator.seed import DEFAULT_DATASET_ID as DATASET
from modelarts_emulator.seed import DEFAULT_TASK_ID as TASK
from modelarts_emulator.testing import EmulatorServer


def stop_the_clock(emulator: EmulatorServer) -> EmulatorServer:
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


def make_sensor(**kwargs: Any) -> AcceptanceSensor:
    kwargs.setdefault("poke_interval", 0.05)
    kwargs.setdefault("timeout", 60)
    kwargs.setdefault("deferrable", False)
    return AcceptanceSensor(
        task_id="wait_for_acceptance", dataset_id=DATASET, workforce_task_id=TASK, **kwargs
    )


def check_complete_sensor(checking_task_id: str | None = None, **kwargs: Any) -> AcceptanceSensor:
    return make_sensor(target_statuses=None, check_complete=True, checking_task_id=checking_task_id, **kwargs)
