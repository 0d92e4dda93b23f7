"""The example pipelines in the production-shaped deployment (``production_deployment.py``: PostgreSQL,
Celery with two workers on separate folders, two schedulers, two triggerers, an S3-compatible store for the
data), day after day, driven only through Airflow's public REST API.

One test, because the runs share the deployment and each other's emulator state on purpose: a daily pipeline
must keep working on its second and third day (issue 9). It triggers a run with no logical date (the REST
API's and the UI's default), lets the scheduler add its own latest scheduled run when the DAG is unpaused,
backfills three consecutive days, and runs the label-update DAG beside them. Every run must succeed, every
pipeline run must have created its own team labeling task, every acceptance sensor must have been deferred
and resumed by a triggerer, and the tasks must have run on both workers, which share no folder: the batch
moved between them through the object store only. The run table (worker per task, triggerer per sensor) is
reported at the end of the session.

The order in which things start is fixed where Airflow needs it. The first asset event for a new asset,
and the first through each alias to it, make Airflow's API server insert the asset (and the alias link) when
the task reports success; two tasks reporting such a first event at the same moment both insert, one hits the
unique constraint, and Airflow (3.1.8, 3.3.2) marks that task failed without a retry (the API server logs
"Error updating Task Instance state"). Every ``import_samples`` here announces the same dataset asset through
the same alias, so the first pipeline run imports its samples alone: the backfill is paused as soon as it is
created and the label-update DAG stays paused until that first ``import_samples`` has succeeded; then both run
beside the remaining runs. README, *Assets*, says what users may see. (On PostgreSQL a backfill is simply
created: the SQLite-only retries of creating it are gone with SQLite.)

No timing assumptions: the emulator's clock (imports, reviewers, sampling, synchronizing) moves only when this
test advances it, one step at a time, and it never does while a sensor is about to take its first look, so
the sensor always finds the reviewers unfinished and defers; an import needs several steps, so its first look,
right after create, finds it unfinished too and defers. Deadlines only bound a broken run.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
from production_deployment import WORKERS, ProductionDeployment
from system_api import (
    TERMINAL,
    failed_task_logs,
    run_table,
    runs,
    task_log_with,
    task_states,
    triggerers_of,
    wait_parsed,
    xcom,
)
from system_deployment import poll

from modelarts_emulator import DEFAULT_SECRET_KEY

PIPELINE = "modelarts_labeling_pipeline"
UPDATES = "modelarts_dataset_label_updates"
BACKFILL = ("2025-03-10", "2025-03-12")  # inclusive: three consecutive logical dates
BACKFILL_BATCHES = ["20250310", "20250311", "20250312"]
RUNS_TIMEOUT = 600.0
# Sensor states in which it has not yet taken its first look (or is about to look again after a resume).
BEFORE_DEFERRAL = {None, "none", "scheduled", "queued", "running", "up_for_retry", "up_for_reschedule"}


def _first_samples_imported(deployment: ProductionDeployment, api: httpx.Client) -> bool | None:
    """True once a pipeline run's ``import_samples`` succeeded; fails at once if one ended otherwise. Moves
    the emulator's clock a step per look, so the import goes on (no run is at its sensor before that)."""
    for run_id in runs(api, PIPELINE):
        state = task_states(api, PIPELINE, run_id).get("import_samples")
        if state == "success":
            return True
        if state in ("failed", "upstream_failed"):
            raise AssertionError(
                f"{run_id}: import_samples {state}\n{failed_task_logs(api, [runs(api, PIPELINE)[run_id]])}"
            )
    deployment.emulator.advance(steps=1)
    return None


def _drive(deployment: ProductionDeployment, api: httpx.Client) -> set[str]:
    """Advance the emulator's clock until every run has ended; return the runs whose sensor was deferred.

    The scheduler adds the latest scheduled run itself once the DAG is unpaused, so the wait also covers
    "at least one scheduled run exists".
    """
    deferred_seen: set[str] = set()

    def step() -> bool | None:
        pipeline_runs = runs(api, PIPELINE)
        update_runs = runs(api, UPDATES)
        may_advance = True
        for run_id, run in pipeline_runs.items():
            if run["state"] in TERMINAL:
                continue
            states = task_states(api, PIPELINE, run_id)
            sensor = states.get("wait_for_acceptance")
            if sensor == "deferred":
                deferred_seen.add(run_id)
            elif states.get("start_acceptance") == "success" and sensor in BEFORE_DEFERRAL:
                may_advance = False  # the sensor has yet to look: the reviewers wait for it
        if may_advance:
            deployment.emulator.advance(steps=1)
        every = [*pipeline_runs.values(), *update_runs.values()]
        scheduled = [run for run in pipeline_runs.values() if run["run_type"] == "scheduled"]
        if scheduled and all(run["state"] in TERMINAL for run in every):
            return True
        return None

    poll("every run finished", step, timeout=RUNS_TIMEOUT, interval=1.0)
    return deferred_seen


def test_pipelines_run_day_after_day_on_two_workers(
    production: ProductionDeployment, system_report: list[str]
) -> None:
    deployment = production
    started = time.monotonic()
    with deployment.api() as api:
        wait_parsed(api, PIPELINE, UPDATES)
        # Created while both DAGs are paused, then paused itself (the module docstring says why).
        body = {
            "dag_id": PIPELINE,
            "from_date": f"{BACKFILL[0]}T00:00:00Z",
            "to_date": f"{BACKFILL[1]}T00:00:00Z",
            "max_active_runs": 1,
        }
        created = api.post("/backfills", json=body)
        assert created.status_code == 200, created.text
        backfill_id = created.json()["id"]
        api.put(f"/backfills/{backfill_id}/pause").raise_for_status()
        # Runs with no logical date, as the UI's Trigger button and the REST API create them by default.
        for dag_id in (PIPELINE, UPDATES):
            triggered = api.post(f"/dags/{dag_id}/dagRuns", json={"logical_date": None})
            assert triggered.status_code == 200, triggered.text
            assert triggered.json()["logical_date"] is None
        api.patch(f"/dags/{PIPELINE}", json={"is_paused": False}).raise_for_status()
        # The first asset event for the dataset alone, then everything else beside the remaining runs.
        poll(
            "a pipeline run's samples imported",
            lambda: _first_samples_imported(deployment, api),
            timeout=RUNS_TIMEOUT,
            interval=1.0,
        )
        api.put(f"/backfills/{backfill_id}/unpause").raise_for_status()
        api.patch(f"/dags/{UPDATES}", json={"is_paused": False}).raise_for_status()

        deferred_seen = _drive(deployment, api)

        pipeline_runs = runs(api, PIPELINE)
        update_runs = runs(api, UPDATES)
        every = [*pipeline_runs.values(), *update_runs.values()]
        unsuccessful = [run for run in every if run["state"] != "success"]
        failed = {
            run["dag_run_id"]: task_states(api, run["dag_id"], run["dag_run_id"]) for run in unsuccessful
        }
        logs = failed_task_logs(api, unsuccessful)
        assert not failed, (
            f"runs that did not succeed (logs under {deployment.home.parent}): {failed}\n{logs}"
        )
        by_type: dict[str, list[dict[str, Any]]] = {}
        for run in pipeline_runs.values():
            by_type.setdefault(run["run_type"], []).append(run)
        assert sorted(run["logical_date"][:10] for run in by_type["backfill"]) == [
            "2025-03-10",
            "2025-03-11",
            "2025-03-12",
        ]
        assert [run["logical_date"] for run in by_type["manual"]] == [None]
        assert len(by_type["scheduled"]) >= 1
        assert [run["logical_date"] for run in update_runs.values()] == [None]

        # Each run labeled its own batch in its own team labeling task, named after its batch.
        created_tasks = {run_id: xcom(api, PIPELINE, run_id, "create_team_task") for run_id in pipeline_runs}
        task_ids = [result["workforce_task_id"] for result in created_tasks.values()]
        assert len(set(task_ids)) == len(pipeline_runs), created_tasks
        names: dict[str, list[str]] = {}
        for run_id, run in pipeline_runs.items():
            names.setdefault(run["run_type"], []).append(created_tasks[run_id]["task_name"])
        assert sorted(names["backfill"]) == [f"labeling-{batch}" for batch in BACKFILL_BATCHES]
        assert all(name.startswith("labeling-m") for name in names["manual"]), names
        assert all(result["created"] for result in created_tasks.values()), created_tasks

        # Every acceptance sensor was deferred, and a triggerer ran its trigger and fired it.
        assert deferred_seen == set(pipeline_runs)
        for run_id in pipeline_runs:
            # The import too: the service imported the batch while a triggerer waited for it, once.
            task_log_with(
                api, PIPELINE, run_id, "import_samples", 1, "Pausing task as DEFERRED", "Trigger fired event"
            )
            assert triggerers_of(deployment, PIPELINE, run_id, "import_samples"), run_id
            imported = xcom(api, PIPELINE, run_id, "import_samples")
            assert imported["status"] == "COMPLETED", imported
            assert imported["imported"] == imported["total"] == 6, imported
            assert imported["import_path"].startswith("s3://data/landing/"), imported
            # The worker's "Pausing task as DEFERRED", then the triggerer's own log lines (Airflow merges the
            # trigger's log into the task's log, here read back from the object store).
            task_log_with(
                api,
                PIPELINE,
                run_id,
                "wait_for_acceptance",
                1,
                "Pausing task as DEFERRED",
                "Trigger fired event",
            )
            assert triggerers_of(deployment, PIPELINE, run_id, "wait_for_acceptance"), run_id
            decision = xcom(api, PIPELINE, run_id, "decide_by_pass_rate")
            assert decision["decision"] in ("pass_all", "reject_all"), decision
        # One import per run, whoever ran it (emulator /stats): no create was sent twice.
        assert deployment.emulator.stats()["routes"]["create_import_task"]["requests"] == len(pipeline_runs)

        # The batches went through the object store, and the tasks ran on both workers.
        landed = deployment.store.keys("data", "landing/")
        for batch in BACKFILL_BATCHES:
            assert any(key.startswith(f"landing/{batch}/") for key in landed), (batch, landed[:10])
        table, workers = run_table(deployment, api, every, "wait_for_acceptance")
        assert workers == set(WORKERS), table
        system_report.append(f"### Runs, day after day ({time.monotonic() - started:.0f} s)\n\n{table}")

    leaks = [
        str(path)
        for component in deployment.components.values()
        for path in component.home.rglob("*")
        if path.is_file() and DEFAULT_SECRET_KEY.encode() in path.read_bytes()
    ]
    assert not leaks, leaks
