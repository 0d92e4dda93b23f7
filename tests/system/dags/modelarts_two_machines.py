"""Test-only DAG of the production-shaped system tier (copied beside the examples on the dag-processor and the
workers): the bulk operators on two machines that share no folder. Each task is pinned to one machine through
its Celery queue (each worker also serves a queue named after itself), so which worker runs what is fixed.

``land`` (worker-1) writes the batch's images to its own local folder (relative to its working folder) and to
the object store.
``add_from_store`` (worker-2) adds them from the store with ``files="s3://...*.png"``: it works from any
machine. ``add_from_local_disk`` (worker-2) is given worker-1's local pattern: nothing matches there, so it
fails retryably (it is retried once), naming the pattern and the host, instead of adding nothing.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pendulum
from airflow.sdk import DAG, ObjectStoragePath, Param, task

from airflow_provider_modelarts.operators.samples import AddSamplesOperator

IMAGES = Path(__file__).resolve().parents[1] / "data" / "daily_drop"
STORE = os.environ.get("MODELARTS_EXAMPLE_LANDING_DIR", "file:///tmp/modelarts_two_machines")

with DAG(
    dag_id="modelarts_two_machines",
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    params={"batch": Param("two-machines", type="string")},
    tags=["modelarts", "test"],
):

    @task(queue="worker-1")
    def land(params: dict[str, str]) -> str:
        batch = params["batch"]
        # Relative: under this machine's working folder (each worker here has its own, as machines do; an
        # absolute path would reach the other worker's folder, since both run on one host in the test).
        local = Path("landing") / batch
        local.mkdir(parents=True, exist_ok=True)
        remote = ObjectStoragePath(f"{STORE.rstrip('/')}/{batch}")
        remote.mkdir(parents=True, exist_ok=True)
        for image in sorted(IMAGES.glob("*.png")):
            # Bytes of this batch's own (the service tells samples apart by content): new samples each time.
            data = image.read_bytes() + batch.encode()
            (local / f"{batch}_{image.name}").write_bytes(data)
            (remote / f"{batch}_{image.name}").write_bytes(data)
        return f"{local}/*.png"

    local_pattern = land()
    from_store = AddSamplesOperator(
        task_id="add_from_store",
        queue="worker-2",
        dataset_id="ds-images",
        files=f"{STORE.rstrip('/')}/{{{{ params.batch }}}}/*.png",
    )
    from_local_disk = AddSamplesOperator(
        task_id="add_from_local_disk",
        queue="worker-2",
        dataset_id="ds-images",
        files=local_pattern,
        retries=1,
        retry_delay=timedelta(seconds=1),
    )
    local_pattern >> from_store
