"""Daily labeling pipeline: each run imports its own batch of images from object storage and labels it in
its own team labeling task.

Every run (scheduled, backfilled, or triggered by hand or through the REST API):

1. ``simulate_daily_drop`` stands in for your upstream export: it puts the batch's images and the model's
   predictions into ``<landing_dir>/<batch>/`` in object storage.
2. ``build_manifest`` writes the batch's import manifest there, ``batch.manifest``: a line per image naming
   its object, with the model's prediction as a pre-label (it reads the predictions, never an image).
3. ``import_samples`` has ModelArts import them (``ImportFromObsOperator``): the service reads the objects,
   no image byte passes through a worker, and the triggerer waits. They join the *to be confirmed* set
   (``final_annotation=False``) in the dataset folder ``daily-drops`` (a re-run imports no file twice).
4. ``create_team_task`` creates and starts this batch's team labeling task, ``labeling-<batch>``, which takes
   in the dataset's unlabeled samples. A retry or a cleared run finds the task by that name and adopts it
   instead of creating a second one. Accepted tasks are final, so every batch gets its own.
   ``check_batch`` reads that task's status now and goes where a run can go on from it (see "A re-run"
   below): to the labeling, to the acceptance round already open, or to ``batch_already_accepted``.
5. ``team_task_labels`` picks each new sample's label in that task: the model's prediction, unless a person
   corrected it in the batch's ``corrections.json``; it finds the batch's files among the task's samples.
6. ``update_labels`` writes those labels into the team task, which queues the samples for acceptance.
7. ``start_acceptance`` starts an acceptance round; its ``checking_task_id`` goes to the next tasks by XCom.
8. ``wait_for_acceptance`` waits, deferred (no worker slot), until reviewers checked every sampled sample.
9. ``decide_by_pass_rate`` passes all samples when the round's pass rate reaches ``min_pass_rate``, otherwise
   rejects all so the team relabels in that task.

**Where the batch lives.** These tasks may run on different workers, so no task reads what another wrote on
its local disk, and ModelArts must read the images too: ``landing_dir`` is an object-storage location,
``s3://<conn_id>@bucket/prefix``. The workers write and read it through Airflow's ``ObjectStoragePath``
(``<conn_id>`` names the Airflow connection: in production one whose endpoint is your OBS endpoint); the
import task is given the same place without the connection, ``s3://bucket/prefix/...`` (page
``creating_an_import_task``: ModelArts reads OBS with its own access). Data that is not in OBS is added with
``AddSamplesOperator`` instead: the ``modelarts_add_samples`` example.

**A re-run** of a batch (a cleared run, a retry, a backfill over done days, a batch named again) goes on from
the status its team task is in when ``check_batch`` reads it (the team task details page's ``status``), so it
never writes labels where the service refuses them (:data:`NEXT_STEP`):

* RUNNING (1) or REJECTED (4): it labels (again), starts a new acceptance round and waits for it.
* ACCEPTING (2), SAMPLING (7) or SYNCHRONIZING (5): a round is open (say the wait timed out after 3 days and
  the run was cleared) and labels are refused meanwhile (``ModelArts.4623``): the labeling is skipped,
  ``start_acceptance`` adopts the open round, the run waits for it and applies (or finds) its outcome.
* ACCEPTED (3): final; the run ends in ``batch_already_accepted`` (that row green, the rest skipped).
* CREATED (6), STARTING (0) or a status the page does not list: ``check_batch`` fails, naming it.

**The batch** of a run is the ``batch`` param. Its default, ``auto``, means the logical day (``YYYYMMDD``)
for scheduled runs and backfills, so a re-run of a day works on that day's folder and task, and a batch of
its own for every other run (Trigger button, REST API, ``dags trigger`` / ``dags test``), named after its
``dag_run.run_after`` (``mYYYYMMDDTHHMMSSffffff``), even though the 3.3 Trigger form fills in a logical
date. Type a name (``20250314``) to (re)run that batch. No template relies on ``ds`` or ``logical_date``.

The dataset, sampling and quality bar are DAG params (defaults match the local emulator's seed); override
them per run (``airflow dags trigger -c '{"dataset_id": "..."}'``) or in the trigger form.
``MODELARTS_EXAMPLE_POKE_INTERVAL`` (seconds, default 300) sets how often the import and the acceptance are
polled; the demo and the tests set it to 1 because their simulated service finishes in seconds.
``MODELARTS_EXAMPLE_LANDING_DIR`` sets ``landing_dir``'s default where the DAG is parsed, so scheduled runs
and backfills (which take the defaults) use the deployment's store, e.g. ``s3://object_store@data/landing``.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pendulum
from airflow.providers.common.compat.sdk import AirflowException
from airflow.sdk import DAG, ObjectStoragePath, Param, get_current_context, task

from airflow_provider_modelarts.acceptance import read_status, status_name
from airflow_provider_modelarts.models import TaskStatus
from airflow_provider_modelarts.operators.acceptance import (
    DecideAcceptanceOperator,
    StartAcceptanceOperator,
)
from airflow_provider_modelarts.operators.base import LABELS_ACCEPTED_ALIAS
from airflow_provider_modelarts.operators.import_tasks import ImportFromObsOperator
from airflow_provider_modelarts.operators.labels import UpdateLabelsOperator
from airflow_provider_modelarts.operators.team_tasks import CreateTeamTaskOperator
from airflow_provider_modelarts.sensors.acceptance import AcceptanceSensor

DAILY_DROP = Path(__file__).parent / "data" / "daily_drop"
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp"}
POKE_INTERVAL = timedelta(seconds=float(os.environ.get("MODELARTS_EXAMPLE_POKE_INTERVAL", "300")))
# Templates every task renders the same way, whatever kind of run it is (see "The batch" above).
BATCH = "{{ batch_of(dag_run, params.batch) }}"
BATCH_DIR = "{{ batch_dir(params.landing_dir, batch_of(dag_run, params.batch)) }}"
#: The batch's import manifest (written by ``build_manifest``), as ModelArts is given it: no connection name.
MANIFEST = "batch.manifest"
IMPORT_PATH = "{{ service_path(batch_dir(params.landing_dir, batch_of(dag_run, params.batch))) }}/" + MANIFEST
#: The dataset folder every batch is imported into: one fixed name for this source, so a re-run of a batch
#: imports no file twice (page ``creating_an_import_task``, ``import_folder``).
IMPORT_FOLDER = "daily-drops"
#: The ``batch`` param's default: the logical day for scheduled runs and backfills, a new batch otherwise.
AUTO = "auto"
#: Run types that label their logical day under ``auto`` (DagRunType values).
DAY_RUNS = frozenset({"scheduled", "backfill"})
# The team task created by ``create_team_task`` and the acceptance round started by ``start_acceptance``
# (both return small dicts; XCom carries them).
TEAM_TASK_ID = "{{ ti.xcom_pull(task_ids='create_team_task')['workforce_task_id'] }}"
CHECKING_TASK_ID = "{{ ti.xcom_pull(task_ids='start_acceptance')['checking_task_id'] }}"
log = logging.getLogger(__name__)

#: Where ``check_batch`` sends a run, by the team task's status (the team task details page, ``status``;
#: see "A re-run" above). Labels can be written only in RUNNING and REJECTED; in the statuses of an open
#: acceptance round the service refuses them (``ModelArts.4623``) and the round is adopted, waited on and
#: decided instead; ACCEPTED is final. Any other status has no step here: ``check_batch`` fails on it.
NEXT_STEP: dict[int, str] = {
    TaskStatus.RUNNING: "team_task_labels",
    TaskStatus.REJECTED: "team_task_labels",
    TaskStatus.ACCEPTING: "start_acceptance",
    TaskStatus.SAMPLING: "start_acceptance",
    TaskStatus.SYNCHRONIZING: "start_acceptance",
    TaskStatus.ACCEPTED: "batch_already_accepted",
}


def batch_of(dag_run: Any, batch: str = AUTO) -> str:
    """A run's batch: ``batch`` if named; under ``auto`` the logical day of scheduled runs and backfills, and
    the time any other run was triggered.

    A manual run gets a batch of its own even when it has a logical date: the 3.3 Trigger form fills in now,
    and "Unpause on trigger" starts today's scheduled run too, whose batch would be the same day's, so the
    manual run would only find that batch accepted. All of these stay fixed for the life of the run, so
    retries and cleared tasks render the same batch.
    """
    if batch and batch != AUTO:
        return batch
    run_type = str(getattr(dag_run.run_type, "value", dag_run.run_type))
    if dag_run.logical_date is not None and run_type in DAY_RUNS:
        return str(dag_run.logical_date.strftime("%Y%m%d"))
    return "m" + str(dag_run.run_after.strftime("%Y%m%dT%H%M%S%f"))


def next_step(client: Any, dataset_id: str, workforce_task_id: str) -> str:
    """The task a run of the batch goes on with, by its team task's status as it is now (:data:`NEXT_STEP`).

    Read now, not taken from ``create_team_task``'s XCom: a run cleared from ``check_batch`` on meets the
    task as the earlier run left it. Raises ``AirflowException`` for a status with no step (CREATED,
    STARTING, one the page does not list, none), naming it.
    """
    status = read_status(client.get_workforce_task(dataset_id, workforce_task_id))
    step = NEXT_STEP.get(status) if status is not None else None
    if step is None:
        raise AirflowException(
            f"Team labeling task {workforce_task_id} is {status_name(status)} ({status}): labels cannot be "
            "written into it and no acceptance round is open to wait on, so this run cannot go on. Start the "
            "task (CREATED, 6) or wait until it is RUNNING, then clear this task."
        )
    log.info("Team labeling task %s is %s (%s): going on with %s.", workforce_task_id, status_name(status),
             status, step)  # fmt: skip
    return step


def batch_dir(landing_dir: str, batch: str) -> str:
    """``<landing_dir>/<batch>``: the batch's folder in object storage (``s3://<conn_id>@bucket/prefix/...``)."""
    return f"{landing_dir.rstrip('/')}/{batch}"


def service_path(url: str) -> str:
    """An object-store URL as ModelArts is given it: ``s3://bucket/key``, without the Airflow connection's
    name (``<conn_id>@``), which only Airflow's ``ObjectStoragePath`` reads; the service reads OBS with its
    own access (page ``creating_an_import_task``)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", ""))


def batch_file(sample: Any, batch: str) -> str | None:
    """The batch's file a sample was imported from, or ``None``: what follows ``/<batch>/`` in its name (the
    emulator names it ``<import_folder>/<key>``) or else in its ``source`` (the object it came from); the
    pages do not say how an import names a sample, so both are looked at."""
    for text in (sample.sample_name or "", sample.source or ""):
        _, found, name = text.rpartition(f"/{batch}/")
        if found and name and "/" not in name:
            return str(name)
    return None


def stored(url: str) -> ObjectStoragePath:
    """An object-storage path every worker reaches (``s3://<conn_id>@bucket/...``: its Airflow connection)."""
    return ObjectStoragePath(url)


with DAG(
    dag_id="modelarts_labeling_pipeline",
    description="Import each batch of images with pre-labels, label it in its own team task, accept it",
    schedule="@daily",
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,  # one acceptance round at a time keeps the emulator's reviewers (and people) sane
    default_args={"retries": 1, "retry_delay": timedelta(seconds=30)},
    user_defined_macros={"batch_of": batch_of, "batch_dir": batch_dir, "service_path": service_path},
    params={
        "batch": Param(
            AUTO,
            type="string",
            title="Batch",
            pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
            description=(
                "Which batch of images to label. auto: a new batch named after the time you trigger "
                "(scheduled runs and backfills take their day, YYYYMMDD). Or a batch folder's name, e.g. "
                "20250314, to label that batch (an accepted one is final: the run then only says so)."
            ),
        ),
        "dataset_id": Param("ds-images", type="string", description="Image classification dataset."),
        "landing_dir": Param(
            os.environ.get("MODELARTS_EXAMPLE_LANDING_DIR", "s3://object_store@modelarts-landing/daily"),
            type="string",
            pattern=r"^s3://[^/]+/?",
            description=(
                "Root of the batch folders (<root>/<batch>/) in object storage, which every worker and "
                "ModelArts read: s3://<conn_id>@bucket/prefix, the Airflow connection (your OBS endpoint) "
                "before the @."
            ),
        ),
        "sampling_rate": Param(1.0, type="number", exclusiveMinimum=0, maximum=1),
        "min_pass_rate": Param(0.8, type="number", minimum=0, maximum=1),
    },
    tags=["modelarts", "example"],
    doc_md=__doc__,
) as dag:

    @task
    def simulate_daily_drop(day_dir: str) -> str:
        """Demo stand-in for the upstream export: copy the shipped files into the batch's landing folder."""
        folder = stored(day_dir)
        folder.mkdir(parents=True, exist_ok=True)
        for source in DAILY_DROP.iterdir():
            if not (folder / source.name).exists():
                (folder / source.name).write_bytes(source.read_bytes())
        log.info("Landed %d files in %s", len(list(folder.iterdir())), day_dir)
        return day_dir

    @task
    def build_manifest(day_dir: str) -> dict[str, Any]:
        """The batch's import manifest, ``<day_dir>/batch.manifest``: a JSON line per image naming its object
        (``source``) with the model's prediction as a label (``annotation``), which the import leaves to be
        confirmed. Only the predictions are read, never an image; only figures travel by XCom."""
        folder = stored(day_dir)
        predictions = json.loads((folder / "predictions.json").read_text())["predictions"]
        images = sorted(
            (p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES), key=lambda p: p.name
        )
        lines = []
        for image in images:
            line: dict[str, Any] = {"source": f"{service_path(day_dir)}/{image.name}"}
            prediction = predictions.get(image.name)
            if prediction:
                line["annotation"] = [
                    {
                        "name": prediction["label"],
                        "type": "modelarts/image_classification",
                        "confidence": prediction["score"],
                        "annotated-by": "model",
                    }
                ]
            lines.append(json.dumps(line))
        (folder / MANIFEST).write_text("".join(line + "\n" for line in lines))  # one put: all or nothing
        log.info("Wrote %d lines to %s/%s", len(lines), service_path(day_dir), MANIFEST)
        return {"manifest": f"{service_path(day_dir)}/{MANIFEST}", "samples": len(lines)}

    @task
    def team_task_labels(day_dir: str, batch: str, workforce_task_id: str) -> list[dict[str, Any]]:
        """Labels for the batch's samples in its team task: the model's prediction unless people corrected it.

        New dataset samples join the team task unlabeled; labeling them there is what puts them in line for
        acceptance. Returns only sample ids and labels (a few bytes each) for UpdateLabelsOperator.
        """
        from airflow_provider_modelarts.hooks.modelarts import ModelArtsHook

        params = get_current_context()["params"]
        folder = stored(day_dir)
        predictions = json.loads((folder / "predictions.json").read_text())["predictions"]
        corrections_file = folder / "corrections.json"
        corrections = json.loads(corrections_file.read_text()) if corrections_file.exists() else {}
        wanted = {
            name: corrections.get(name, prediction["label"]) for name, prediction in predictions.items()
        }
        updates = []
        with ModelArtsHook().get_client() as client:
            for sample in client.iter_workforce_task_samples(params["dataset_id"], workforce_task_id):
                name = batch_file(sample, batch)
                if name in wanted and sample.sample_id:
                    updates.append(
                        {"sample_id": sample.sample_id, "labels": [{"name": wanted[name], "type": 0}]}
                    )
        if len(updates) < len(wanted):
            log.warning(
                "%d of the batch's files are not in team task %s",
                len(wanted) - len(updates),
                workforce_task_id,
            )
        log.info(
            "%d samples to label in team task %s (%d corrected by people)",
            len(updates),
            workforce_task_id,
            sum(1 for name in corrections if name in wanted),
        )
        return updates

    @task.branch
    def check_batch(workforce_task_id: str) -> str:
        """Go on from where the batch's team task is (see "A re-run" in the DAG's docs): label it, adopt and
        wait for its open acceptance round, or end in ``batch_already_accepted`` when it is accepted."""
        from airflow_provider_modelarts.hooks.modelarts import ModelArtsHook

        params = get_current_context()["params"]
        with ModelArtsHook().get_client() as client:
            return next_step(client, params["dataset_id"], workforce_task_id)

    @task(
        doc_md="The batch's team labeling task was already accepted, so this run labeled nothing: accepted "
        "labels are final. To label more images, trigger the DAG with **Batch** set to a new name, or left "
        "on `auto` (a manual run then gets a batch of its own)."
    )
    def batch_already_accepted(batch: str, workforce_task_id: str) -> str:
        """Say, where users look first (this task's name in the grid, then its log and XCom), why the run
        labeled nothing and what to do to label another batch."""
        message = (
            f"Batch {batch} was already accepted in team labeling task labeling-{batch} "
            f"({workforce_task_id}); "
            "its labels are final, so this run labeled nothing. To label another batch, trigger the DAG with "
            "Batch set to a new name, or left on auto (a manual run then gets a batch of its own)."
        )
        log.warning(message)
        return message

    # Task arguments are templates too: each run works on its own batch's folder, samples and team task.
    landed = simulate_daily_drop(day_dir=BATCH_DIR)
    manifest = build_manifest(day_dir=BATCH_DIR)

    # Deferrable by default: the import copies in the service, the triggerer waits; its asset event goes
    # through the alias modelarts-samples-imported.
    import_samples = ImportFromObsOperator(
        task_id="import_samples",
        dataset_id="{{ params.dataset_id }}",
        import_path=IMPORT_PATH,
        import_folder=IMPORT_FOLDER,
        final_annotation=False,  # model pre-labels go to "to be confirmed", not to the labeled set
        poll_interval=POKE_INTERVAL.total_seconds(),
    )

    create_team_task = CreateTeamTaskOperator(
        task_id="create_team_task",
        dataset_id="{{ params.dataset_id }}",
        task_name="labeling-" + BATCH,
    )

    labels = team_task_labels(day_dir=BATCH_DIR, batch=BATCH, workforce_task_id=TEAM_TASK_ID)
    batch_open = check_batch(workforce_task_id=TEAM_TASK_ID)
    already_accepted = batch_already_accepted(batch=BATCH, workforce_task_id=TEAM_TASK_ID)

    update_labels = UpdateLabelsOperator(
        task_id="update_labels",
        dataset_id="{{ params.dataset_id }}",
        workforce_task_id=TEAM_TASK_ID,
        samples=labels,
    )

    # Adopts the round already open when check_batch sends a re-run here.
    start_acceptance = StartAcceptanceOperator(
        task_id="start_acceptance",
        dataset_id="{{ params.dataset_id }}",
        workforce_task_id=TEAM_TASK_ID,
        sampling_rate="{{ params.sampling_rate }}",
        # Runs after update_labels, or straight after check_batch (labeling skipped) for an open round.
        trigger_rule="none_failed_min_one_success",
    )

    wait_for_acceptance = AcceptanceSensor(
        task_id="wait_for_acceptance",
        dataset_id="{{ params.dataset_id }}",
        workforce_task_id=TEAM_TASK_ID,
        checking_task_id=CHECKING_TASK_ID,
        target_statuses=None,  # the decision is the next task's job; here we wait for the reviewers
        check_complete=True,
        deferrable=True,
        poke_interval=POKE_INTERVAL,
        timeout=timedelta(days=3),
    )

    decide_by_pass_rate = DecideAcceptanceOperator(
        task_id="decide_by_pass_rate",
        dataset_id="{{ params.dataset_id }}",
        workforce_task_id=TEAM_TASK_ID,
        checking_task_id=CHECKING_TASK_ID,
        min_pass_rate="{{ params.min_pass_rate }}",
        # On a pass, the team task's accepted labels are announced through this alias (the operator's
        # default, spelled out): modelarts_accepted_labels_export is scheduled on it. A rejection announces
        # nothing, so no export runs.
        asset_alias=LABELS_ACCEPTED_ALIAS,
    )

    landed >> manifest >> import_samples >> create_team_task >> batch_open >> [labels, already_accepted]
    batch_open >> start_acceptance
    update_labels >> start_acceptance >> wait_for_acceptance >> decide_by_pass_rate
