"""ImportFromObsOperator against the emulator over HTTP, the emulator reading a real S3-compatible store.

Exactly one import per run is what these tests count, in the emulator's ``/stats`` (``create_import_task``
applied) and in the dataset's import task list: after a lost create reply, and after a try that ended while
it waited (deferred and never resumed, or failed mid-poll), with the Airflow 3.3 task-state store and
without it (Airflow 3.1/3.2: the search bounded by the dag run's start).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException, TaskDeferred
from airflow.sdk import AssetAlias
from airflow.sdk.execution_time.context import OutletEventAccessors
from retry_policies import FAST_RETRY

from airflow_provider_modelarts.import_tasks import ImportBusyError
from airflow_provider_modelarts.operators.base import SAMPLES_IMPORTED_ALIAS
from airflow_provider_modelarts.operators.import_tasks import ImportFromObsOperator
from airflow_provider_modelarts.triggers.import_tasks import ImportTaskTrigger
from integration._helpers import StateStore
from integration.emulator._import_helpers import BUCKET, put_day, put_manifest
from modelarts_emulator.obs_server import S3Server
from modelarts_emulator.seed import DEFAULT_DATASET_ID as DS
from modelarts_emulator.testing import EmulatorServer


@pytest.fixture
def world(
    emulator: EmulatorServer, obs_store: S3Server, modelarts_conn_env: dict[str, Any]
) -> EmulatorServer:
    emulator.admin.configure(step_seconds=None)  # the import moves when a test (or a helper) says so
    return emulator


def importer(path: str, **kwargs: Any) -> ImportFromObsOperator:
    kwargs.setdefault("client_retry", FAST_RETRY)
    kwargs.setdefault("poll_interval", 0.01)
    return ImportFromObsOperator(task_id="import_images", dataset_id=DS, import_path=path, **kwargs)


def creates(world: EmulatorServer) -> dict[str, int]:
    return dict(world.admin.stats()["routes"].get("create_import_task", {}))


def imports(world: EmulatorServer) -> list[Any]:
    return list(world.client().iter_import_tasks(DS))


def run_clock(world: EmulatorServer) -> None:
    world.admin.configure(step_seconds=0.001)  # every request moves the import on


def context(**extra: Any) -> dict[str, Any]:
    return {"outlet_events": OutletEventAccessors(), **extra}


def announced(ctx: dict[str, Any]) -> list[dict[str, Any]]:
    return [e.extra for e in ctx["outlet_events"][AssetAlias(SAMPLES_IMPORTED_ALIAS)].asset_alias_events]


def run_trigger(trigger: ImportTaskTrigger) -> Any:
    async def scenario() -> Any:
        events = [event async for event in trigger.run()]
        assert len(events) == 1, events
        return events[0]

    try:
        return asyncio.run(asyncio.wait_for(scenario(), timeout=60))
    finally:
        asyncio.run(trigger.cleanup())


def test_a_directory_is_imported_while_the_worker_polls(world: EmulatorServer, obs_store: S3Server) -> None:
    run_clock(world)
    ctx = context()
    result = importer(put_day(obs_store), deferrable=False, import_folder="daily").execute(ctx)  # type: ignore[arg-type]
    assert (result["status"], result["total"], result["imported"], result["adopted"]) == (
        "COMPLETED",
        5,
        5,
        False,
    )
    assert [extra["imported"] for extra in announced(ctx)] == [5]
    assert creates(world)["applied"] == 1


def test_a_manifest_is_imported_through_the_triggerer(world: EmulatorServer, obs_store: S3Server) -> None:
    put_day(obs_store, cats=2, dogs=0)
    path = put_manifest(obs_store, "manifests/V1.manifest", [
        {"source": f"s3://{BUCKET}/day1/cat/cat_000.jpg", "annotation": [{"name": "cat"}]},
        {"source": f"s3://{BUCKET}/day1/cat/cat_001.jpg", "annotation": [{"name": "cat"}]},
    ])  # fmt: skip
    op = importer(path)
    with pytest.raises(TaskDeferred) as deferred:
        op.execute(context())  # type: ignore[arg-type]
    trigger = deferred.value.trigger
    assert isinstance(trigger, ImportTaskTrigger)
    run_clock(world)
    event = run_trigger(trigger)
    assert event.payload["status"] == "success"
    ctx = context()
    result = op.execute_complete(ctx, event.payload, **deferred.value.kwargs)  # type: ignore[arg-type]
    assert (result["import_type"], result["imported"], result["annotated"]) == ("manifest", 2, 2)
    assert announced(ctx)[0]["import_task_id"] == result["import_task_id"]


@pytest.mark.parametrize("with_store", [True, False])
def test_a_lost_create_reply_makes_exactly_one_import(
    world: EmulatorServer, obs_store: S3Server, with_store: bool
) -> None:
    run_clock(world)
    world.admin.faults(route="create_import_task", drop="after", count=1)
    memory = {"task_state_store": StateStore()} if with_store else {}
    result = importer(put_day(obs_store), deferrable=False).execute(context(**memory))  # type: ignore[arg-type]
    assert (result["status"], result["imported"], result["adopted"]) == ("COMPLETED", 5, True)
    assert (creates(world)["applied"], creates(world)["dropped_after"]) == (1, 1)
    assert [task.task_id for task in imports(world)] == [result["import_task_id"]]


def test_a_lost_reply_whose_import_the_list_shows_late_is_still_created_once(
    world: EmulatorServer, obs_store: S3Server
) -> None:
    world.admin.faults(route="create_import_task", drop="after", count=1)
    world.admin.configure(import_list_lag=2, step_seconds=0.01)  # listed two steps (20 ms) late
    result = importer(put_day(obs_store), deferrable=False).execute(context())  # type: ignore[arg-type]
    assert result["adopted"] is True and creates(world)["applied"] == 1 and len(imports(world)) == 1


@pytest.mark.parametrize("with_store", [True, False])
def test_a_try_that_ends_while_deferred_is_adopted_by_the_retry(
    world: EmulatorServer, obs_store: S3Server, with_store: bool
) -> None:
    path = put_day(obs_store)
    started = datetime.now(UTC) - timedelta(minutes=1)
    memory: dict[str, Any] = {"task_state_store": StateStore()} if with_store else {}
    memory.setdefault("dag_run", SimpleNamespace(start_date=started))
    with pytest.raises(TaskDeferred):  # the first try hands over to the triggerer, then its worker dies
        importer(path).execute(context(**memory))  # type: ignore[arg-type]
    world.admin.advance(steps=10)  # the import goes on in the service meanwhile, and completes
    retry = importer(path).execute(context(**memory))  # type: ignore[arg-type]
    assert (retry["adopted"], retry["imported"]) == (True, 5)
    assert creates(world)["applied"] == 1 and len(imports(world)) == 1


def test_a_try_killed_mid_poll_in_the_worker_is_adopted_by_the_retry(
    world: EmulatorServer, obs_store: S3Server
) -> None:
    path, store = put_day(obs_store), StateStore()
    with pytest.raises(AirflowException, match="Timed out waiting"):  # the first try ends mid-wait
        importer(path, deferrable=False, max_wait=0.001).execute(context(task_state_store=store))  # type: ignore[arg-type]
    assert store.values["modelarts_import"]["import_task_id"]
    run_clock(world)
    retry = importer(path, deferrable=False).execute(context(task_state_store=store))  # type: ignore[arg-type]
    assert retry["adopted"] is True and creates(world)["applied"] == 1 and len(imports(world)) == 1


def test_a_stored_import_that_is_gone_is_imported_anew(world: EmulatorServer, obs_store: S3Server) -> None:
    world.admin.configure(not_found_status=404)
    path, store = put_day(obs_store), StateStore()
    run_clock(world)
    first = importer(path, deferrable=False).execute(context(task_state_store=store))  # type: ignore[arg-type]
    world.admin.call("DELETE", f"datasets/{DS}/import-tasks/{first['import_task_id']}")
    second = importer(path, deferrable=False).execute(context(task_state_store=store))  # type: ignore[arg-type]
    assert second["import_task_id"] != first["import_task_id"] and second["adopted"] is False


def test_a_foreign_running_import_makes_the_try_fail_for_airflow_to_retry(
    world: EmulatorServer, obs_store: S3Server
) -> None:
    world.client().create_import_task(DS, {"import_path": put_day(obs_store, "other")})
    with pytest.raises(ImportBusyError, match="another path"):
        importer(put_day(obs_store), deferrable=False).execute(context())  # type: ignore[arg-type]
    assert creates(world)["applied"] == 1


def test_a_partial_import_warns_or_fails_for_good(world: EmulatorServer, obs_store: S3Server) -> None:
    path = put_day(obs_store, cats=2, dogs=0, empty=1)
    run_clock(world)
    result = importer(path, deferrable=False).execute(context())  # type: ignore[arg-type]
    assert (result["total"], result["imported"], result["not_imported"]) == (3, 2, 1)
    world.admin.reset()
    world.admin.configure(**obs_store.emulator_settings(), step_seconds=0.001)
    with pytest.raises(AirflowFailException, match="1 of 3 samples not imported"):
        importer(path, deferrable=False, allow_partial=False).execute(context())  # type: ignore[arg-type]


def test_a_failed_import_fails_the_try_retryably_with_the_code(
    world: EmulatorServer, obs_store: S3Server
) -> None:
    path = put_day(obs_store)
    world.admin.configure(import_fail={"path": path, "error_code": "ModelArts.4921", "after_samples": 1})
    run_clock(world)
    with pytest.raises(AirflowException, match=r"ModelArts\.4921") as failed:
        importer(path, deferrable=False).execute(context())  # type: ignore[arg-type]
    assert not isinstance(failed.value, AirflowFailException)


def test_a_path_error_in_a_failed_task_fails_the_try_naming_the_obs_code(
    world: EmulatorServer, obs_store: S3Server
) -> None:
    world.admin.configure(import_path_errors="task", step_seconds=0.001)
    with pytest.raises(AirflowException, match=r"ModelArts\.4311.*check the path"):
        importer("obs://no-such-bucket/x/", deferrable=False).execute(context())  # type: ignore[arg-type]
