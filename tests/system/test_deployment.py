"""The example pipelines in a real deployment, day after day, driven only through Airflow's public REST API.

One test, because the runs share the deployment and each other's emulator state on purpose: a daily pipeline
must keep working on its second and third day (issue 9). It triggers a run with no logical date (the REST
API's and the UI's default), lets the scheduler add its own latest scheduled run when the DAG is unpaused,
backfills three consecutive days, and runs the label-update DAG beside them. Every run must succeed, every
pipeline run must have created its own team labeling task, and every acceptance sensor must have been
deferred and resumed by the triggerer.

The order in which things start is fixed where Airflow needs it. The first asset event for a new asset,
and the first through each alias to it, make Airflow's API server insert the asset (and the alias link) when
the task reports success; two tasks reporting such a first event at the same moment both insert, one hits the
unique constraint, and Airflow (3.1.8, 3.3.2) marks that task failed without a retry (the API server logs
"Error updating Task Instance state"). Every ``add_samples`` here announces the same dataset asset through the
same alias, so the first pipeline run adds its samples alone: the backfill is paused as soon as it is created
(the DAG is still paused then) and the label-update DAG stays paused until that first ``add_samples`` has
succeeded; then both run beside the remaining runs. README, *Assets*, says what users may see. All runs are
created before anything runs, because creating a backfill on SQLite fails when another process writes at
the same moment (``_create_backfill`` below).

No timing assumptions: the emulator's clock (reviewers, sampling, synchronizing) moves only when this test
advances it, and it never does while a sensor is about to take its first look, so the sensor always finds
the reviewers unfinished and defers. Deadlines only bound a broken run.
"""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
from system_deployment import SystemDeployment, poll

from modelarts_emulator import DEFAULT_SECRET_KEY

PIPELINE = "modelarts_labeling_pipeline"
UPDATES = "modelarts_dataset_label_updates"
BACKFILL = ("2025-03-10", "2025-03-12")  # inclusive: three consecutive logical dates
BACKFILL_BATCHES = ["20250310", "20250311", "20250312"]
RUNS_TIMEOUT = 600.0
TERMINAL = {"success", "failed"}
# Sensor states in which it has not yet taken its first look (or is about to look again after a resume).
BEFORE_DEFERRAL = {None, "none", "scheduled", "queued", "running", "up_for_retry", "up_for_reschedule"}


def _runs(api: httpx.Client, dag_id: str) -> list[dict[str, Any]]:
    response = api.get(f"/dags/{dag_id}/dagRuns", params={"limit": 100})
    response.raise_for_status()
    return list(response.json()["dag_runs"])


def _task_states(api: httpx.Client, dag_id: str, run_id: str) -> dict[str, str | None]:
    response = api.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances", params={"limit": 100})
    response.raise_for_status()
    return {ti["task_id"]: ti["state"] for ti in response.json()["task_instances"]}


def _xcom(api: httpx.Client, dag_id: str, run_id: str, task_id: str) -> Any:
    response = api.get(
        f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/return_value",
        params={"deserialize": True},
    )
    response.raise_for_status()
    value = response.json()["value"]
    return json.loads(value) if isinstance(value, str) else value


def _task_log(api: httpx.Client, dag_id: str, run_id: str, task_id: str, try_number: int) -> str:
    response = api.get(
        f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/logs/{try_number}",
        params={"full_content": True},
        headers={"Accept": "application/json"},
    )
    response.raise_for_status()
    return json.dumps(response.json())


def _create_backfill(api: httpx.Client, attempts: int = 10) -> int:
    """Create the three days' backfill; returns its id.

    On SQLite, creating a backfill fails with "database is locked" whenever another process commits between
    its reads and its first write (a savepoint's snapshot cannot be upgraded; the busy timeout does not
    apply), and the scheduler and dag-processor commit every few seconds even when nothing runs. Airflow
    3.3 answers 503 "Backfill creation is not supported on SQLite under concurrent access" and removes what
    it had written; 3.1 answers 500 and leaves the backfill without runs, so it is cancelled before the next
    attempt. Each attempt fails only by that coincidence, so a few attempts make a failure negligible.
    """
    body = {
        "dag_id": PIPELINE,
        "from_date": f"{BACKFILL[0]}T00:00:00Z",
        "to_date": f"{BACKFILL[1]}T00:00:00Z",
        "max_active_runs": 1,
    }
    answers = []
    for _ in range(attempts):
        created = api.post("/backfills", json=body)
        if created.status_code == 200:
            return int(created.json()["id"])
        assert created.status_code in (500, 503), created.text
        answers.append(created.status_code)
        listed = api.get("/backfills", params={"dag_id": PIPELINE})
        listed.raise_for_status()
        for backfill in listed.json()["backfills"]:
            if backfill["completed_at"] is None:
                api.put(f"/backfills/{backfill['id']}/cancel").raise_for_status()
    raise AssertionError(f"creating the backfill failed {attempts} times: {answers}")


def _first_samples_added(api: httpx.Client) -> bool | None:
    """True once a pipeline run's ``add_samples`` succeeded; fails at once if one ended otherwise."""
    for run in _runs(api, PIPELINE):
        state = _task_states(api, PIPELINE, run["dag_run_id"]).get("add_samples")
        if state == "success":
            return True
        assert state not in ("failed", "upstream_failed"), (run["dag_run_id"], state)
    return None


def _failed_task_logs(api: httpx.Client, runs: list[dict[str, Any]]) -> str:
    """The end of the last try's log of every failed task of ``runs``, so a failure in CI explains itself."""
    parts = []
    for run in runs:
        dag_id, run_id = run["dag_id"], run["dag_run_id"]
        response = api.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances", params={"limit": 100})
        response.raise_for_status()
        for ti in response.json()["task_instances"]:
            if ti["state"] != "failed":
                continue
            try_number = max(1, int(ti.get("try_number") or 1))
            try:
                log = _task_log(api, dag_id, run_id, ti["task_id"], try_number)
            except httpx.HTTPError as exc:
                log = f"(no log: {exc})"
            parts.append(f"--- {dag_id} {run_id} {ti['task_id']} try {try_number}:\n{log[-3000:]}")
    return "\n".join(parts)


def _drive(deployment: SystemDeployment, api: httpx.Client) -> set[str]:
    """Advance the emulator's clock until every run has ended; return the runs whose sensor was deferred.

    The scheduler adds the latest scheduled run itself once the DAG is unpaused, so the wait also covers
    "at least one scheduled run exists".
    """
    deferred_seen: set[str] = set()

    def step() -> bool | None:
        pipeline_runs = _runs(api, PIPELINE)
        update_runs = _runs(api, UPDATES)
        may_advance = True
        for run in pipeline_runs:
            if run["state"] in TERMINAL:
                continue
            states = _task_states(api, PIPELINE, run["dag_run_id"])
            sensor = states.get("wait_for_acceptance")
            if sensor == "deferred":
                deferred_seen.add(run["dag_run_id"])
            elif states.get("start_acceptance") == "success" and sensor in BEFORE_DEFERRAL:
                may_advance = False  # the sensor has yet to look: the reviewers wait for it
        if may_advance:
            deployment.emulator.advance(steps=1)
        all_runs = pipeline_runs + update_runs
        scheduled = [run for run in pipeline_runs if run["run_type"] == "scheduled"]
        if scheduled and all(run["state"] in TERMINAL for run in all_runs):
            return True
        return None

    poll("every run finished", step, timeout=RUNS_TIMEOUT, interval=1.0)
    return deferred_seen


def test_pipelines_run_day_after_day_in_a_real_deployment(airflow_deployment: SystemDeployment) -> None:
    deployment = airflow_deployment
    started = time.monotonic()
    with deployment.api() as api:
        for dag_id in (PIPELINE, UPDATES):

            def parsed(dag_id: str = dag_id) -> bool | None:
                return True if api.get(f"/dags/{dag_id}").status_code == 200 else None

            poll(f"{dag_id} parsed by the dag-processor", parsed, timeout=300)
        # Everything is created while both DAGs are paused and nothing runs (see the module docstring).
        backfill_id = _create_backfill(api)
        api.put(f"/backfills/{backfill_id}/pause").raise_for_status()
        # Runs with no logical date, as the UI's Trigger button and the REST API create them by default.
        for dag_id in (PIPELINE, UPDATES):
            triggered = api.post(f"/dags/{dag_id}/dagRuns", json={"logical_date": None})
            assert triggered.status_code == 200, triggered.text
            assert triggered.json()["logical_date"] is None
        api.patch(f"/dags/{PIPELINE}", json={"is_paused": False}).raise_for_status()
        # The first asset event for the dataset alone, then everything else beside the remaining runs.
        poll("a pipeline run's samples added", lambda: _first_samples_added(api), timeout=RUNS_TIMEOUT)
        api.put(f"/backfills/{backfill_id}/unpause").raise_for_status()
        api.patch(f"/dags/{UPDATES}", json={"is_paused": False}).raise_for_status()

        deferred_seen = _drive(deployment, api)

        pipeline_runs = _runs(api, PIPELINE)
        update_runs = _runs(api, UPDATES)
        unsuccessful = [run for run in pipeline_runs + update_runs if run["state"] != "success"]
        failed = {
            run["dag_run_id"]: _task_states(api, run["dag_id"], run["dag_run_id"]) for run in unsuccessful
        }
        logs = _failed_task_logs(api, unsuccessful)
        assert not failed, f"runs that did not succeed (see {deployment.log_file}): {failed}\n{logs}"
        by_type: dict[str, list[dict[str, Any]]] = {}
        for run in pipeline_runs:
            by_type.setdefault(run["run_type"], []).append(run)
        assert sorted(run["logical_date"][:10] for run in by_type["backfill"]) == [
            "2025-03-10",
            "2025-03-11",
            "2025-03-12",
        ]
        assert [run["logical_date"] for run in by_type["manual"]] == [None]
        assert len(by_type["scheduled"]) >= 1
        assert [run["logical_date"] for run in update_runs] == [None]

        # Each run labeled its own batch in its own team labeling task, named after its batch.
        created = {
            run["dag_run_id"]: _xcom(api, PIPELINE, run["dag_run_id"], "create_team_task")
            for run in pipeline_runs
        }
        task_ids = [result["workforce_task_id"] for result in created.values()]
        assert len(set(task_ids)) == len(pipeline_runs), created
        names: dict[str, list[str]] = {}
        for run in pipeline_runs:
            names.setdefault(run["run_type"], []).append(created[run["dag_run_id"]]["task_name"])
        assert sorted(names["backfill"]) == [f"labeling-{batch}" for batch in BACKFILL_BATCHES]
        assert all(name.startswith("labeling-m") for name in names["manual"]), names
        assert all(result["created"] for result in created.values()), created

        # Every acceptance sensor was deferred, and the triggerer process resumed it.
        assert deferred_seen == {run["dag_run_id"] for run in pipeline_runs}
        for run in pipeline_runs:
            log = _task_log(api, PIPELINE, run["dag_run_id"], "wait_for_acceptance", 1)
            # The worker's "Pausing task as DEFERRED", then the triggerer's own log lines (Airflow merges the
            # trigger's log file into the task's log): the triggerer process ran the trigger and fired it.
            assert "Pausing task as DEFERRED" in log, log[-2000:]
            assert "Trigger fired event" in log, log[-2000:]
            decision = _xcom(api, PIPELINE, run["dag_run_id"], "decide_by_pass_rate")
            assert decision["decision"] in ("pass_all", "reject_all"), decision

    leaks = [
        str(path)
        for path in deployment.home.rglob("*")
        if path.is_file() and DEFAULT_SECRET_KEY.encode() in path.read_bytes()
    ]
    assert not leaks, leaks
    print(f"system tier: {len(pipeline_runs) + len(update_runs)} runs in {time.monotonic() - started:.0f} s")
