"""What the system and chaos tests read from a deployment, only through Airflow's public REST API
(``/api/v2``), plus the run table they report: which worker ran each task, which triggerer ran each sensor.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable
from typing import Any

import httpx
from production_deployment import TRIGGERERS, ProductionDeployment
from system_deployment import poll

TERMINAL = {"success", "failed"}


def get(api: httpx.Client, path: str, **params: Any) -> Any:
    response = api.get(path, params=params)
    response.raise_for_status()
    return response.json()


def runs(api: httpx.Client, dag_id: str) -> dict[str, dict[str, Any]]:
    found = get(api, f"/dags/{dag_id}/dagRuns", limit=100, order_by="run_after")["dag_runs"]
    return {run["dag_run_id"]: run for run in found}


def task_instances(api: httpx.Client, dag_id: str, run_id: str) -> list[dict[str, Any]]:
    return list(get(api, f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances", limit=100)["task_instances"])


def task_states(api: httpx.Client, dag_id: str, run_id: str) -> dict[str, str | None]:
    return {ti["task_id"]: ti["state"] for ti in task_instances(api, dag_id, run_id)}


def xcom(api: httpx.Client, dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> Any:
    path = f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/return_value"
    value = get(api, path, deserialize=True, map_index=map_index)["value"]
    if isinstance(value, str):  # a JSON document as a string (3.1), or a plain string value
        with contextlib.suppress(ValueError):
            return json.loads(value)
    return value


def task_log(api: httpx.Client, dag_id: str, run_id: str, task_id: str, try_number: int) -> str:
    response = api.get(
        f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/logs/{try_number}",
        params={"full_content": True},
        headers={"Accept": "application/json"},
    )
    response.raise_for_status()
    return json.dumps(response.json())


def task_log_with(
    api: httpx.Client, dag_id: str, run_id: str, task_id: str, try_number: int, *needles: str
) -> str:
    """The log of a try once it holds every one of ``needles``. A worker uploads a try's log to the store
    (remote logging) after the try's state is recorded, so a log read at once may not be there yet (the
    api-server then tries the worker's log server); a deadline bounds only a log that never comes."""
    last = ""

    def complete() -> str | None:
        nonlocal last
        last = task_log(api, dag_id, run_id, task_id, try_number)
        return last if all(needle in last for needle in needles) else None

    try:
        return poll(f"{dag_id} {run_id} {task_id} try {try_number}'s log", complete, timeout=180, interval=2)
    except TimeoutError as exc:
        raise AssertionError(f"{exc}: missing {needles}; last read:\n{last[-2000:]}") from None


def wait_parsed(api: httpx.Client, *dag_ids: str) -> None:
    for dag_id in dag_ids:

        def parsed(dag_id: str = dag_id) -> bool | None:
            return True if api.get(f"/dags/{dag_id}").status_code == 200 else None

        poll(f"{dag_id} parsed by the dag-processor", parsed, timeout=300)


def failed_task_logs(api: httpx.Client, ended: Iterable[dict[str, Any]]) -> str:
    """The end of the last try's log of every failed task of ``ended``, so a failure in CI explains itself."""
    parts = []
    for run in ended:
        dag_id, run_id = run["dag_id"], run["dag_run_id"]
        for ti in task_instances(api, dag_id, run_id):
            if ti["state"] != "failed":
                continue
            try_number = max(1, int(ti.get("try_number") or 1))
            try:
                log = task_log(api, dag_id, run_id, ti["task_id"], try_number)
            except httpx.HTTPError as exc:
                log = f"(no log: {exc})"
            parts.append(f"--- {dag_id} {run_id} {ti['task_id']} try {try_number}:\n{log[-3000:]}")
    return "\n".join(parts)


def triggerers_of(deployment: ProductionDeployment, dag_id: str, run_id: str, task_id: str) -> list[str]:
    """The triggerers that ran a trigger of this task, by the trigger log each wrote on its own machine
    (``<task log>.trigger.<triggerer job id>.log`` under its log folder), ordered by job id."""
    found = []
    for name in TRIGGERERS:
        folder = deployment.components[name].home / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}"
        for path in (folder / f"task_id={task_id}").glob("*.trigger.*.log"):
            found.append((int(path.name.rsplit(".", 2)[-2]), name))
    return [name for _, name in sorted(set(found))]


def run_table(
    deployment: ProductionDeployment, api: httpx.Client, dag_runs: Iterable[dict[str, Any]], sensor: str
) -> tuple[str, set[str]]:
    """A markdown table of ``dag_runs`` (run, type, logical date, state, the tasks each worker ran, the
    triggerer(s) that ran ``sensor``), and the set of workers that ran anything."""
    rows = [
        "| DAG | run | type | logical date | state | tasks per worker | sensor's triggerer |",
        "|---|---|---|---|---|---|---|",
    ]
    workers: set[str] = set()
    for run in dag_runs:
        dag_id, run_id = run["dag_id"], run["dag_run_id"]
        by_worker: dict[str, int] = {}
        for ti in task_instances(api, dag_id, run_id):
            host = ti.get("hostname")
            if host and ti["state"] not in ("skipped", None):
                by_worker[host] = by_worker.get(host, 0) + 1
        workers |= set(by_worker)
        triggerers = " then ".join(triggerers_of(deployment, dag_id, run_id, sensor)) or "-"
        per_worker = ", ".join(f"{host}: {count}" for host, count in sorted(by_worker.items()))
        rows.append(
            f"| {dag_id} | {run_id} | {run['run_type']} | {(run['logical_date'] or 'none')[:10]} "
            f"| {run['state']} | {per_worker} | {triggerers} |"
        )
    return "\n".join(rows), workers
