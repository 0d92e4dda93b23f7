"""Daily labeling pipeline: new images with model pre-labels, team review, accept or reject by pass rate.

Every day:

1. ``simulate_daily_drop`` stands in for your upstream export: it puts the day's images and the model's
   predictions into ``<landing_dir>/<ds>/`` (skip it when something real lands files there).
2. ``build_manifest`` turns that folder into a JSON Lines manifest: one sample per image, named
   ``<ds_nodash>_<file>`` so each day's files are new samples, with the model's prediction as a pre-label.
3. ``add_samples`` adds them to the dataset's *to be confirmed* set (``final_annotation=False``).
4. ``team_task_labels`` picks each new sample's label for the team task: the model's prediction, unless a
   person corrected it in the day's ``corrections.json``; it resolves file names to the task's sample ids.
5. ``update_labels`` writes those labels into the team labeling task, which queues the samples for acceptance.
6. ``start_acceptance`` starts an acceptance round; its ``checking_task_id`` goes to the next tasks by XCom.
7. ``wait_for_acceptance`` waits, deferred (no worker slot), until reviewers checked every sampled sample.
8. ``decide_by_pass_rate`` passes all samples when the round's pass rate reaches ``min_pass_rate``, otherwise
   rejects all so the team relabels.

The dataset, team task, sampling and quality bar are DAG params (defaults match the local emulator's seed);
override them per run (``airflow dags trigger -c '{"dataset_id": "..."}'``) or in the trigger form.
``MODELARTS_EXAMPLE_POKE_INTERVAL`` (seconds, default 300) sets how often the acceptance is polled; the demo
and the tests set it to 1 because their simulated reviewers finish in seconds.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

import pendulum
from airflow.sdk import DAG, Param, get_current_context, task

from airflow_provider_modelarts.operators.acceptance import AcceptanceOperator
from airflow_provider_modelarts.operators.labels import UpdateLabelsOperator
from airflow_provider_modelarts.operators.samples import AddSamplesOperator
from airflow_provider_modelarts.sensors.acceptance import AcceptanceSensor

DAILY_DROP = Path(__file__).parent / "data" / "daily_drop"
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp"}
POKE_INTERVAL = timedelta(seconds=float(os.environ.get("MODELARTS_EXAMPLE_POKE_INTERVAL", "300")))
# The acceptance round started by ``start_acceptance`` (its return value is a small dict; XCom carries it).
CHECKING_TASK_ID = "{{ ti.xcom_pull(task_ids='start_acceptance')['checking_task_id'] }}"
log = logging.getLogger(__name__)


def _landing_root(configured: str) -> Path:
    """``landing_dir`` param, else ``$AIRFLOW_HOME/modelarts_landing``."""
    if configured:
        return Path(configured)
    return Path(os.environ.get("AIRFLOW_HOME", Path.home() / "airflow")) / "modelarts_landing"


with DAG(
    dag_id="modelarts_labeling_pipeline",
    description="Add the day's images with pre-labels, label them in the team task, accept by pass rate",
    schedule="@daily",
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,  # rounds of one team task must not overlap: ModelArts allows one acceptance at a time
    default_args={"retries": 1, "retry_delay": timedelta(seconds=30)},
    params={
        "dataset_id": Param("ds-images", type="string", description="Image classification dataset."),
        "workforce_task_id": Param("task-1", type="string", description="Team labeling task on it."),
        "landing_dir": Param("", type="string", description="Root of the daily folders (<root>/<ds>/)."),
        "sampling_rate": Param(1.0, type="number", exclusiveMinimum=0, maximum=1),
        "min_pass_rate": Param(0.8, type="number", minimum=0, maximum=1),
    },
    tags=["modelarts", "example"],
    doc_md=__doc__,
) as dag:

    @task
    def simulate_daily_drop(day: str) -> str:
        """Demo stand-in for the upstream export: copy the shipped images into the day's landing folder."""
        day_dir = _landing_root(get_current_context()["params"]["landing_dir"]) / day
        day_dir.mkdir(parents=True, exist_ok=True)
        for source in DAILY_DROP.iterdir():
            if not (day_dir / source.name).exists():
                shutil.copy2(source, day_dir / source.name)
        log.info("Landed %d files in %s", len(list(day_dir.iterdir())), day_dir)
        return str(day_dir)

    @task
    def build_manifest(day_dir: str, day_tag: str) -> dict[str, Any]:
        """One JSON line per image: base64 bytes plus the model's prediction as a to-be-confirmed label.

        The manifest stays on disk and only its path travels by XCom: image bytes never go to the metadata DB.
        """
        folder = Path(day_dir)
        predictions = json.loads((folder / "predictions.json").read_text())["predictions"]
        manifest = folder / "manifest.jsonl"
        count = 0
        with manifest.open("w") as out:
            for image in sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES):
                sample: dict[str, Any] = {
                    "name": f"{day_tag}_{image.name}",
                    "sample_type": 0,
                    "data": base64.b64encode(image.read_bytes()).decode("ascii"),
                }
                prediction = predictions.get(image.name)
                if prediction:
                    sample["labels"] = [
                        {"name": prediction["label"], "type": 0, "score": prediction["score"]}
                    ]
                out.write(json.dumps(sample) + "\n")
                count += 1
        log.info("Wrote %d samples to %s", count, manifest)
        return {"manifest": str(manifest), "samples": count}

    @task
    def team_task_labels(day_dir: str, day_tag: str, added: dict[str, Any]) -> list[dict[str, Any]]:
        """Labels for today's samples in the team task: the model's prediction unless a person corrected it.

        New dataset samples join the team task unlabeled; labeling them there is what puts them in line for
        acceptance. Returns only sample ids and labels (a few bytes each) for UpdateLabelsOperator.
        """
        from airflow_provider_modelarts.hooks.modelarts import ModelArtsHook

        params = get_current_context()["params"]
        folder = Path(day_dir)
        predictions = json.loads((folder / "predictions.json").read_text())["predictions"]
        corrections_file = folder / "corrections.json"
        corrections = json.loads(corrections_file.read_text()) if corrections_file.exists() else {}
        wanted = {
            f"{day_tag}_{name}": corrections.get(name, prediction["label"])
            for name, prediction in predictions.items()
        }
        with ModelArtsHook().get_client() as client:
            updates = [
                {"sample_id": sample.sample_id, "labels": [{"name": wanted[sample.sample_name], "type": 0}]}
                for sample in client.iter_workforce_task_samples(
                    params["dataset_id"], params["workforce_task_id"]
                )
                if sample.sample_name in wanted and sample.sample_id
            ]
        if len(updates) < len(wanted):
            log.warning(
                "%d of today's files are not in team task %s (is it synchronizing new data?)",
                len(wanted) - len(updates),
                params["workforce_task_id"],
            )
        log.info(
            "%d samples to label in the team task (%d corrected by people); %s added to the dataset today",
            len(updates),
            sum(1 for name in corrections if f"{day_tag}_{name}" in wanted),
            added.get("added"),
        )
        return updates

    # Task arguments are templates too: each run works on its own day's folder and sample names.
    day_dir = simulate_daily_drop(day="{{ ds }}")
    manifest = build_manifest(day_dir, day_tag="{{ ds_nodash }}")

    add_samples = AddSamplesOperator(
        task_id="add_samples",
        dataset_id="{{ params.dataset_id }}",
        manifest=manifest["manifest"],
        final_annotation=False,  # model pre-labels go to "to be confirmed", not to the labeled set
    )

    labels = team_task_labels(day_dir, "{{ ds_nodash }}", add_samples.output)

    update_labels = UpdateLabelsOperator(
        task_id="update_labels",
        dataset_id="{{ params.dataset_id }}",
        workforce_task_id="{{ params.workforce_task_id }}",
        samples=labels,
    )

    start_acceptance = AcceptanceOperator(
        task_id="start_acceptance",
        dataset_id="{{ params.dataset_id }}",
        workforce_task_id="{{ params.workforce_task_id }}",
        start_acceptance=True,
        sampling_rate="{{ params.sampling_rate }}",
    )

    wait_for_acceptance = AcceptanceSensor(
        task_id="wait_for_acceptance",
        dataset_id="{{ params.dataset_id }}",
        workforce_task_id="{{ params.workforce_task_id }}",
        checking_task_id=CHECKING_TASK_ID,
        target_statuses=None,  # the decision is the next task's job; here we wait for the reviewers
        check_complete=True,
        deferrable=True,
        poke_interval=POKE_INTERVAL,
        timeout=timedelta(days=3),
    )

    decide_by_pass_rate = AcceptanceOperator(
        task_id="decide_by_pass_rate",
        dataset_id="{{ params.dataset_id }}",
        workforce_task_id="{{ params.workforce_task_id }}",
        checking_task_id=CHECKING_TASK_ID,
        min_pass_rate="{{ params.min_pass_rate }}",
    )

    update_labels >> start_acceptance >> wait_for_acceptance >> decide_by_pass_rate
