"""The example pipeline re-run on a batch whose team task is in any status, against the emulator over HTTP.

``check_batch`` decides with ``next_step``: labels go in only where the service takes them; an open
acceptance round (ACCEPTING 2, SAMPLING 7, SYNCHRONIZING 5) is adopted, waited on and decided, never labeled
again (labeling there is refused with ``ModelArts.4623``). The emulator's clock is stopped: reviewers move
only when a test advances them.
"""

from __future__ import annotations

import copy
import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowException
from hypothesis import given
from hypothesis import strategies as st

from airflow_provider_modelarts.acceptance import read_status
from airflow_provider_modelarts.errors import ModelArtsAPIError
from airflow_provider_modelarts.models import AcceptanceAction, TaskStatus
from airflow_provider_modelarts.operators.acceptance_base import AcceptanceBaseOperator
from integration._acceptance_helpers import (
    DATASET,
    TASK,
    check_complete_sensor,
    review_all,
    start_round,
    stop_the_clock,
)
from modelarts_emulator.seed import default_seed
from modelarts_emulator.testing import EmulatorServer

PIPELINE_FILE = Path(__file__).resolve().parents[2] / "dags_examples" / "modelarts_labeling_pipeline.py"
OPEN_ROUND = (TaskStatus.ACCEPTING, TaskStatus.SAMPLING, TaskStatus.SYNCHRONIZING)
LABEL = [{"name": "cat", "type": 0}]


@pytest.fixture(scope="module")
def pipeline() -> ModuleType:
    """The DAG file, loaded as the DAG processor loads it (not put in ``sys.modules``)."""
    spec = importlib.util.spec_from_file_location("modelarts_labeling_pipeline_under_test", PIPELINE_FILE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def world(emulator: EmulatorServer, modelarts_conn_env: dict[str, Any]) -> EmulatorServer:
    return stop_the_clock(emulator)


def put_in_status(world: EmulatorServer, status: int) -> None:
    """Bring the seeded team task (6 labeled samples) into ``status`` the way the service gets there."""
    if status in (0, 1, 3, 4, 6):  # statuses a seed may hold
        seed = copy.deepcopy(default_seed())
        (task,) = [t for d in seed["datasets"] if d["dataset_id"] == DATASET for t in d["workforce_tasks"]]
        task["status"] = status
        world.admin.reset(seed)
        stop_the_clock(world)
    else:
        start_round(world)  # SAMPLING (7)
        if status != TaskStatus.SAMPLING:
            review_all(world)  # ACCEPTING (2), every sampled sample checked
        if status == TaskStatus.SYNCHRONIZING:
            with world.client() as client:  # the owner's decision, still being applied
                client.update_acceptance_status(DATASET, TASK, AcceptanceAction.PASS_ALL)
    assert world.admin.task(DATASET, TASK)["status"] == status


def first_sample_id(world: EmulatorServer) -> str:
    with world.client() as client:
        return str(next(iter(client.iter_workforce_task_samples(DATASET, TASK))).sample_id)


def labels_are_taken(world: EmulatorServer, sample_id: str) -> bool:
    """Whether the service writes a label into the team task now (what ``update_labels`` would do)."""
    try:
        with world.client() as client:
            client.update_workforce_task_samples(DATASET, TASK, [{"sample_id": sample_id, "labels": LABEL}])
    except ModelArtsAPIError:
        return False
    return True


@pytest.mark.parametrize("status", [int(s) for s in TaskStatus])
def test_a_rerun_labels_exactly_where_the_service_takes_labels(
    world: EmulatorServer, pipeline: ModuleType, status: int
) -> None:
    """By class, for every status of the page: the decision sends a run to the labeling only when a label
    write would succeed, and never sends it anywhere that would write labels in an open round."""
    put_in_status(world, status)
    sample_id = first_sample_id(world)
    with world.client() as client:
        try:
            step: str | None = pipeline.next_step(client, DATASET, TASK)
        except AirflowException as exc:
            step = None
            assert f"({status})" in str(exc)  # the failure names the status
    assert world.admin.task(DATASET, TASK)["status"] == status  # deciding changed nothing

    assert (step == "team_task_labels") == labels_are_taken(world, sample_id)
    if status in OPEN_ROUND:
        assert step == "start_acceptance"
    if status == TaskStatus.ACCEPTED:
        assert step == "batch_already_accepted"


@pytest.mark.parametrize("status", [int(s) for s in OPEN_ROUND])
def test_an_open_round_is_adopted_waited_on_and_decided_not_labeled_again(
    world: EmulatorServer, pipeline: ModuleType, status: int
) -> None:
    put_in_status(world, status)
    (open_round,) = [r["checking_task_id"] for r in world.admin.task(DATASET, TASK)["rounds"]]
    with world.client() as client:
        assert pipeline.next_step(client, DATASET, TASK) == "start_acceptance"

    # What the run does from there: the DAG's own start_acceptance, wait and decide, as configured. The
    # labeling rows are skipped, so start_acceptance must run on check_batch's success alone.
    dag = pipeline.dag
    adopt = dag.get_task("start_acceptance")
    assert adopt.upstream_task_ids == {"check_batch", "update_labels"}
    assert adopt.trigger_rule == "none_failed_min_one_success"
    started = _copy(dag.get_task("start_acceptance"), workforce_task_id=TASK, sampling_rate=1.0).execute({})
    assert started["checking_task_id"] == open_round and started["already_started"] is True
    review_all(world)
    waited = check_complete_sensor(started["checking_task_id"]).execute({})
    assert waited["checking_task_id"] == open_round
    decide = _copy(
        dag.get_task("decide_by_pass_rate"),
        workforce_task_id=TASK,
        checking_task_id=open_round,
        min_pass_rate=0.8,
    )
    decided = decide.execute({})
    assert decided["passed"] is True
    world.admin.advance(steps=5)  # synchronizing -> accepted

    task = world.admin.task(DATASET, TASK)
    assert task["status"] == TaskStatus.ACCEPTED
    assert [r["checking_task_id"] for r in task["rounds"]] == [open_round]  # no second round
    stats = world.admin.stats()["routes"]
    assert "update_workforce_task_samples" not in stats  # nothing was labeled again


def _copy(op: AcceptanceBaseOperator, **fields: Any) -> AcceptanceBaseOperator:
    """The DAG's operator with its templated fields given as rendered values (what a run renders)."""
    return type(op)(
        task_id=op.task_id,
        dataset_id=DATASET,
        trigger_rule=op.trigger_rule,
        asset_alias=op.asset_alias,
        **fields,
    )


@given(status=st.one_of(st.none(), st.integers(-5, 20), st.text(max_size=4), st.floats(allow_nan=True)))
def test_any_status_read_goes_to_a_branch_of_check_batch_or_fails_named(
    pipeline: ModuleType, status: Any
) -> None:
    """Whatever ``status`` a reply carries: the run goes to one of ``check_batch``'s branches, to the
    labeling only when the status reads as RUNNING or REJECTED, or fails with a clear message."""

    class Client:
        def get_workforce_task(self, dataset_id: str, task_id: str) -> dict[str, Any]:
            return {"task_id": task_id, "status": status}

    branches = pipeline.dag.get_task("check_batch").downstream_task_ids
    try:
        step = pipeline.next_step(Client(), DATASET, "t1")
    except AirflowException as exc:
        assert "cannot go on" in str(exc)
        assert read_status({"status": status}) not in pipeline.NEXT_STEP
        return
    assert step in branches
    if step == "team_task_labels":
        assert read_status({"status": status}) in (TaskStatus.RUNNING, TaskStatus.REJECTED)
