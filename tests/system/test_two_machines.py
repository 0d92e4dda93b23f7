"""The bulk operators on two workers that share no folder (``dags/modelarts_two_machines.py`` pins each task
to one worker through its Celery queue): images written on worker-1 are added on worker-2 from the object
store, and a local pattern that exists only on worker-1 fails on worker-2, retryably (the task is retried,
not failed outright), with a message naming the pattern and the host, instead of succeeding having added
nothing (issue 27).
"""

from __future__ import annotations

import json
import socket

from production_deployment import ProductionDeployment
from system_api import TERMINAL, runs, task_instances, task_log, task_log_with, wait_parsed, xcom
from system_deployment import poll

DAG_ID = "modelarts_two_machines"
BATCH = "two-machines-1"


def test_files_reach_the_other_worker_through_the_store_and_a_local_pattern_fails_there(
    production: ProductionDeployment, system_report: list[str]
) -> None:
    deployment = production
    with deployment.api() as api:
        wait_parsed(api, DAG_ID)
        api.patch(f"/dags/{DAG_ID}", json={"is_paused": False}).raise_for_status()
        before = deployment.emulator.samples("ds-images")
        triggered = api.post(f"/dags/{DAG_ID}/dagRuns", json={"logical_date": None, "conf": {"batch": BATCH}})
        assert triggered.status_code == 200, triggered.text
        run_id = triggered.json()["dag_run_id"]
        run = poll(
            f"{DAG_ID} ended",
            lambda: (
                found if (found := runs(api, DAG_ID).get(run_id)) and found["state"] in TERMINAL else None
            ),
            timeout=600,
        )
        tis = {ti["task_id"]: ti for ti in task_instances(api, DAG_ID, run_id)}
        hosts = {task_id: ti["hostname"] for task_id, ti in tis.items()}
        assert hosts == {"land": "worker-1", "add_from_store": "worker-2", "add_from_local_disk": "worker-2"}

        # From the store: every image written on worker-1 was added by worker-2.
        assert tis["add_from_store"]["state"] == "success", task_log(api, DAG_ID, run_id, "add_from_store", 1)
        added = xcom(api, DAG_ID, run_id, "add_from_store")
        assert added["added"] == 6 and added["failed"] == 0, json.dumps(added)
        names = {sample["sample_name"] for sample in deployment.emulator.samples("ds-images")}
        assert {f"{BATCH}_{image}" for image in ("cat_001.png", "dog_003.png")} <= names
        assert len(deployment.emulator.samples("ds-images")) == len(before) + 6

        # From worker-1's disk, on worker-2: nothing there, a retryable failure (tried twice), named.
        local = tis["add_from_local_disk"]
        assert local["state"] == "failed" and local["try_number"] == 2, local
        pattern = xcom(api, DAG_ID, run_id, "land")
        for attempt in (1, 2):
            task_log_with(
                api,
                DAG_ID,
                run_id,
                "add_from_local_disk",
                attempt,
                pattern,
                f"on host {socket.gethostname()}",
            )
        assert run["state"] == "failed"

    system_report.append(
        "### Two machines, no shared folder\n\n"
        f"`{DAG_ID}` run `{run_id}`: `land` on {hosts['land']}; "
        f"`add_from_store` on {hosts['add_from_store']} added {added['added']} images from the store; "
        f"`add_from_local_disk` on "
        f"{hosts['add_from_local_disk']} failed twice (retried), naming `{pattern}` and the host."
    )
