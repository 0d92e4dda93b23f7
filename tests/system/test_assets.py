"""Data-aware scheduling in a real deployment: a pipeline run whose acceptance passes triggers the export DAG
(scheduled on the ``modelarts-labels-accepted`` asset alias), and one whose acceptance is rejected does not;
every run's import starts the test DAG ``modelarts_after_import`` (``tests/system/dags/``, scheduled on
``modelarts-samples-imported``) with the import's figures.

In the session's production-shaped deployment, after ``test_deployment.py`` (whose passes were announced
while the export DAG was paused, so they queue nothing): this test reads only the pipeline runs it started
and the export runs they started. Driven only through the REST API; the exports are read back from the
object store. The emulator's reviewers pass every sample in the first phase and none in
the second, so each phase's decision is known; every pipeline run is still classified by its own decision
(unpausing the pipeline also starts the scheduler's latest scheduled run, which may fall in either phase).
Nothing waits on the clock to prove the negative: asset events are recorded when the deciding task ends, so
once the rejected run has ended, "no event from its decision, none queued for the export DAG, and no export
run triggered by it" is final.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
from production_deployment import DATA_BUCKET, ProductionDeployment
from system_api import run_table
from system_deployment import poll

PIPELINE = "modelarts_labeling_pipeline"
EXPORT = "modelarts_accepted_labels_export"
AFTER_IMPORT = "modelarts_after_import"
DECIDE = "decide_by_pass_rate"
RUN_TIMEOUT = 600.0
TERMINAL = {"success", "failed"}


def _get(api: httpx.Client, path: str, **params: Any) -> Any:
    response = api.get(path, params=params)
    response.raise_for_status()
    return response.json()


def _runs(api: httpx.Client, dag_id: str) -> dict[str, dict[str, Any]]:
    return {run["dag_run_id"]: run for run in _get(api, f"/dags/{dag_id}/dagRuns", limit=100)["dag_runs"]}


def _xcom(api: httpx.Client, dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> Any:
    path = f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/return_value"
    value = _get(api, path, deserialize=True, map_index=map_index)["value"]
    return json.loads(value) if isinstance(value, str) else value


def _events(api: httpx.Client, run_id: str, task_id: str) -> list[dict[str, Any]]:
    """The asset events task ``task_id`` of pipeline run ``run_id`` announced."""
    found = _get(api, "/assets/events", source_dag_id=PIPELINE, source_run_id=run_id, source_task_id=task_id)
    return list(found["asset_events"])


def _pipeline_run(
    deployment: ProductionDeployment, api: httpx.Client, *, reviewers_pass: float, earlier: set[str]
) -> dict[str, str]:
    """Trigger a run with no logical date and move the reviewers until every pipeline run has ended;
    returns the decision (``pass_all`` / ``reject_all``) of each run not in ``earlier``."""
    deployment.emulator.configure(reviewer_pass_rate=reviewers_pass)
    triggered = api.post(f"/dags/{PIPELINE}/dagRuns", json={"logical_date": None})
    assert triggered.status_code == 200, triggered.text
    run_id = triggered.json()["dag_run_id"]
    api.patch(f"/dags/{PIPELINE}", json={"is_paused": False}).raise_for_status()

    def ended() -> dict[str, dict[str, Any]] | None:
        runs = _runs(api, PIPELINE)
        if run_id in runs and all(run["state"] in TERMINAL for run in runs.values()):
            return runs
        deployment.emulator.advance(steps=1)
        return None

    runs = poll(f"{PIPELINE} runs ended", ended, timeout=RUN_TIMEOUT, interval=0.5)
    failed = [rid for rid, run in runs.items() if run["state"] != "success"]
    assert not failed, f"pipeline runs that failed (logs under {deployment.home.parent}): {failed}"
    return {rid: _xcom(api, PIPELINE, rid, DECIDE)["decision"] for rid in runs if rid not in earlier}


def _started_by_imports(api: httpx.Client, pipeline_runs: set[str]) -> dict[str, list[dict[str, Any]]] | None:
    """Each pipeline run -> what the ``modelarts_after_import`` runs its import started returned, once every
    one of ``pipeline_runs`` started one and they all ended; ``None`` before."""
    runs = _runs(api, AFTER_IMPORT)
    if not all(run["state"] in TERMINAL for run in runs.values()):
        return None
    started: dict[str, list[dict[str, Any]]] = {}
    for run_id in runs:
        events = _get(api, f"/dags/{AFTER_IMPORT}/dagRuns/{run_id}/upstreamAssetEvents")["asset_events"]
        for event in events:
            if event["source_dag_id"] == PIPELINE and event["source_task_id"] == "import_samples":
                started.setdefault(event["source_run_id"], []).extend(
                    _xcom(api, AFTER_IMPORT, run_id, "imported_batches")
                )
    return started if set(started) >= pipeline_runs else None


def _export_sources(api: httpx.Client, runs: dict[str, dict[str, Any]]) -> dict[str, set[str]]:
    """Each ended export run -> the pipeline runs whose events triggered it.

    Only ended runs: Airflow 3.3.2 answers 500 for the upstream events of a run that has not started yet
    (the events' ``created_dagruns`` carry its ``start_date`` None, which the response model refuses).
    """
    sources = {}
    for run_id, run in runs.items():
        if run["state"] in TERMINAL:
            events = _get(api, f"/dags/{EXPORT}/dagRuns/{run_id}/upstreamAssetEvents")["asset_events"]
            sources[run_id] = {event["source_run_id"] for event in events}
    return sources


def test_a_pass_triggers_the_export_and_a_rejection_does_not(
    production: ProductionDeployment, system_report: list[str]
) -> None:
    deployment = production
    with deployment.api() as api:
        for dag_id in (PIPELINE, EXPORT, AFTER_IMPORT):

            def parsed(dag_id: str = dag_id) -> bool | None:
                return True if api.get(f"/dags/{dag_id}").status_code == 200 else None

            poll(f"{dag_id} parsed by the dag-processor", parsed, timeout=300)
        # Paused DAGs are not queued by asset events: unpause the export before anything can pass.
        earlier = set(_runs(api, PIPELINE))
        for dag_id in (EXPORT, AFTER_IMPORT):
            api.patch(f"/dags/{dag_id}", json={"is_paused": False}).raise_for_status()

        decisions = _pipeline_run(deployment, api, reviewers_pass=1.0, earlier=earlier)
        passed = {rid for rid, decision in decisions.items() if decision == "pass_all"}
        assert passed, decisions

        def exported() -> dict[str, set[str]] | None:
            runs = _runs(api, EXPORT)
            if not all(run["state"] in TERMINAL for run in runs.values()):
                return None
            sources = _export_sources(api, runs)
            return sources if set().union(*sources.values(), set()) >= passed else None

        poll(f"{EXPORT} ran for every pass", exported, timeout=RUN_TIMEOUT)

        decisions.update(_pipeline_run(deployment, api, reviewers_pass=0.0, earlier=earlier))
        passed = {rid for rid, decision in decisions.items() if decision == "pass_all"}
        rejected = {rid for rid, decision in decisions.items() if decision == "reject_all"}
        assert passed and rejected, decisions
        sources = poll(f"{EXPORT} ran for every pass", exported, timeout=RUN_TIMEOUT)

        # A pass announced the team task's accepted labels; a rejection announced nothing.
        for run_id in passed:
            (event,) = _events(api, run_id, DECIDE)
            team_task = _xcom(api, PIPELINE, run_id, "create_team_task")["workforce_task_id"]
            assert event["uri"].endswith(f"/datasets/ds-images/workforce-tasks/{team_task}"), event
            assert (
                event["extra"]["decision"] == "pass_all" and event["extra"]["workforce_task_id"] == team_task
            )
        for run_id in rejected:
            assert _events(api, run_id, DECIDE) == []
        # So the export ran for the passes only, and nothing is left queued that could start it again.
        assert set().union(*sources.values()) & rejected == set()
        queued = api.get(f"/dags/{EXPORT}/assets/queuedEvents")
        assert queued.status_code == 404 or queued.json()["queued_events"] == [], queued.text
        runs = _runs(api, EXPORT)
        assert {run["run_type"] for run in runs.values()} == {"asset_triggered"}

        # Every run's import announced the dataset through modelarts-samples-imported, once, and that event
        # started modelarts_after_import, which read the import's figures from it.
        started = poll(
            f"{AFTER_IMPORT} ran for every import",
            lambda: _started_by_imports(api, set(decisions)),
            timeout=RUN_TIMEOUT,
        )
        for run_id in decisions:
            (event,) = _events(api, run_id, "import_samples")
            imported = _xcom(api, PIPELINE, run_id, "import_samples")
            assert event["uri"].endswith("/datasets/ds-images"), event
            assert event["extra"]["import_task_id"] == imported["import_task_id"], (event, imported)
            assert event["extra"]["imported"] == imported["imported"] == 6, event
            reported = [batch["import_task_id"] for batch in started[run_id]]
            assert imported["import_task_id"] in reported, (run_id, started[run_id])
        assert {run["run_type"] for run in _runs(api, AFTER_IMPORT).values()} == {"asset_triggered"}
        assert all(run["state"] == "success" for run in runs.values()), runs

        # Each export wrote the accepted samples of its team task: all six images of the batch.
        for run_id in runs:
            summary = _xcom(api, EXPORT, run_id, "export_labels", map_index=0)
            assert summary["workforce_task_id"] and summary["samples"] == 6, summary
            # Written by export_labels on one worker, read by train on any: the store holds it.
            place = summary["path"]
            assert place.startswith(f"s3://{DATA_BUCKET}/exports/"), summary
            key = place.removeprefix(f"s3://{DATA_BUCKET}/")
            lines = deployment.store.read(DATA_BUCKET, key).decode().splitlines()
            assert len(lines) == 6 and all(json.loads(line)["labels"] for line in lines)

        # The run table of this test's pipeline runs and the export runs they started.
        mine = [run for rid, run in _runs(api, PIPELINE).items() if rid in decisions]
        table, _ = run_table(deployment, api, [*mine, *runs.values()], "wait_for_acceptance")
        system_report.append(f"### Runs, asset-triggered export\n\n{table}")
