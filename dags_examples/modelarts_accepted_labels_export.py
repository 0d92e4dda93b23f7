"""Accepted labels, handed on: runs whenever a labeling pipeline's acceptance passes, and exports them.

A stand-in for training. ``modelarts_labeling_pipeline``'s ``decide_by_pass_rate`` announces a passing
acceptance through the asset alias ``modelarts-labels-accepted`` (the team task's ``modelarts://`` asset,
with the pass rate and counts in the event's ``extra``); this DAG is scheduled on that alias, so Airflow runs
it after every pass and never after a rejection (a rejection announces nothing).

1. ``accepted_batches`` reads the events that triggered the run: the dataset and team task of each accepted
   batch (several, if more than one pass came in before the run started). A run started by hand, with no
   event, exports the ``dataset_id`` param's labeled samples instead.
2. ``export_labels`` (one mapped task per batch) streams the accepted samples, page by page, into
   ``<export_dir>/<dataset>/<team task>.jsonl`` (JSON Lines, one sample with its labels per line).
3. ``train`` stands in for training: it reads each manifest line by line and logs the label counts.

``train`` may run on another worker than ``export_labels``, so ``export_dir`` is an object-storage location
both reach through Airflow's ``ObjectStoragePath``: ``s3://<conn_id>@bucket/prefix`` in production (any
S3-compatible store, OBS included; ``<conn_id>`` names the Airflow connection, and is left out wherever the
location is reported). The default, a folder under
``$AIRFLOW_HOME`` (resolved once, by ``accepted_batches``, into a ``file://`` URL), is for one machine;
``MODELARTS_EXAMPLE_EXPORT_DIR`` sets the default where the DAG is parsed (asset-triggered runs take it), e.g.
``s3://object_store@data/exports``.
"""

from __future__ import annotations

import json
import logging
import os
from collections import Counter
from pathlib import Path
from typing import Any

import pendulum
from airflow.sdk import DAG, AssetAlias, ObjectStoragePath, Param, get_current_context, task

from airflow_provider_modelarts.operators.base import LABELS_ACCEPTED_ALIAS
from airflow_provider_modelarts.operators.export import ExportLabelsOperator

ACCEPTED_LABELS = AssetAlias(LABELS_ACCEPTED_ALIAS)
log = logging.getLogger(__name__)

with DAG(
    dag_id="modelarts_accepted_labels_export",
    description="Export each accepted team task's labels (a stand-in for training)",
    schedule=ACCEPTED_LABELS,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    params={
        "dataset_id": Param("ds-images", type="string", description="Dataset of a run started by hand."),
        "export_dir": Param(
            os.environ.get("MODELARTS_EXAMPLE_EXPORT_DIR", "modelarts_exports"),
            type="string",
            minLength=1,
            description=(
                "Root of the manifests (<root>/<dataset>/<task>.jsonl), read by train on any worker: an "
                "object-store URL (s3://<conn_id>@bucket/prefix, the Airflow connection before the @) or a "
                "file:// URL; a plain path (relative: in AIRFLOW_HOME) only where every task runs on one "
                "machine."
            ),
        ),
    },
    tags=["modelarts", "example"],
    doc_md=__doc__,
) as dag:

    @task
    def accepted_batches() -> list[dict[str, Any]]:
        """One export per accepted team task among the triggering events; the param's dataset otherwise."""
        context = get_current_context()
        params, run_id = context["params"], context["run_id"]
        root = str(params["export_dir"]).rstrip("/")
        if "://" not in root:
            folder = Path(root).expanduser()
            if not folder.is_absolute():
                folder = Path(os.environ.get("AIRFLOW_HOME", Path.home() / "airflow")) / folder
            root = f"file://{folder}"
        events = context["triggering_asset_events"].get(ACCEPTED_LABELS, [])
        batches: dict[tuple[str, str | None], dict[str, Any]] = {}
        for event in events:
            extra = event.extra or {}
            dataset_id, task_id = extra.get("dataset_id"), extra.get("workforce_task_id")
            if dataset_id and task_id:
                log.info("Accepted: %s (pass rate %s)", event.asset.uri, extra.get("pass_rate"))
                batches[dataset_id, task_id] = {"dataset_id": dataset_id, "workforce_task_id": task_id}
        if not batches:  # started by hand: the dataset's labeled samples
            dataset_id = params["dataset_id"]
            batches[dataset_id, None] = {"dataset_id": dataset_id, "workforce_task_id": None}
        for (dataset_id, task_id), batch in batches.items():
            name = task_id or f"dataset-{run_id}".replace(":", "_").replace("+", "_")
            batch["path"] = f"{root}/{dataset_id}/{name}.jsonl"
        return list(batches.values())

    batches = accepted_batches()
    export_labels = ExportLabelsOperator.partial(task_id="export_labels").expand_kwargs(batches)

    @task
    def train(exports: Any, batches: Any) -> dict[str, Any]:
        """Stand-in for training: read each manifest line by line (never whole) and count the labels.

        ``exports``: the summaries of the mapped ``export_labels`` tasks (it runs after them); ``batches``:
        where each wrote, with its connection (a summary's ``path`` is reported without it).
        """
        counts: Counter[str] = Counter()
        samples = 0
        for batch in batches:
            with ObjectStoragePath(batch["path"]).open(encoding="utf-8") as manifest:
                for line in manifest:
                    samples += 1
                    counts.update(label.get("name", "?") for label in json.loads(line).get("labels", []))
        log.info("Would train on %d samples: %s", samples, dict(counts))
        return {"samples": samples, "label_counts": dict(counts)}

    train(export_labels.output, batches)
