"""Dataset-level label updates from a JSON Lines manifest (for example a labeling vendor's delivery).

Each line of the manifest is one ``SampleLabels`` object: the ``sample_id`` and its new ``labels``.
``update_labels`` streams the file in batches (memory does not grow with its size), validates every line
before sending anything, and refuses lines without labels (ModelArts would delete all labels of those
samples).
``verify_labels`` then reads the samples back and checks that ModelArts holds what the manifest said.

Trigger it with the manifest to apply: ``airflow dags trigger modelarts_dataset_label_updates -c
'{"manifest": "/data/deliveries/2024-06-01.jsonl"}'``. The defaults apply the shipped example manifest to the
local emulator's ``ds-images`` dataset.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pendulum
from airflow.sdk import DAG, Param, get_current_context, task

from airflow_provider_modelarts.operators.labels import UpdateLabelsOperator

EXAMPLE_MANIFEST = Path(__file__).parent / "data" / "label_updates.jsonl"
log = logging.getLogger(__name__)

with DAG(
    dag_id="modelarts_dataset_label_updates",
    description="Apply a JSON Lines manifest of label updates to a ModelArts dataset and verify the result",
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    params={
        "dataset_id": Param("ds-images", type="string", description="Dataset whose samples are relabeled."),
        "manifest": Param(str(EXAMPLE_MANIFEST), type="string", description="Local JSON Lines file."),
    },
    tags=["modelarts", "example"],
    doc_md=__doc__,
) as dag:
    update_labels = UpdateLabelsOperator(
        task_id="update_labels",
        dataset_id="{{ params.dataset_id }}",
        manifest="{{ params.manifest }}",
        batch_size=50,
    )

    @task
    def verify_labels() -> dict[str, Any]:
        """Read each updated sample back and compare its label names with the manifest's."""
        from airflow_provider_modelarts.hooks.modelarts import ModelArtsHook

        context = get_current_context()
        params = context["params"]
        updated = int(context["ti"].xcom_pull(task_ids="update_labels")["updated"])
        expected: dict[str, set[str]] = {}
        with open(params["manifest"]) as lines:
            for line in lines:
                if line.strip():
                    record = json.loads(line)
                    expected[record["sample_id"]] = {label["name"] for label in record["labels"]}
        mismatched = []
        with ModelArtsHook().get_client() as client:
            for sample in client.iter_samples(params["dataset_id"]):
                if sample.sample_id in expected:
                    names = {label.name for label in sample.labels or () if label.name}
                    if names != expected.pop(sample.sample_id):
                        mismatched.append(sample.sample_id)
        if mismatched or expected:
            raise ValueError(
                f"Labels differ from the manifest for {sorted(mismatched)}; not found: {sorted(expected)}"
            )
        log.info("All %d updated samples carry the manifest's labels", updated)
        return {"verified": updated}

    update_labels >> verify_labels()
