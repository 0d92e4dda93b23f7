"""Test-only DAG scheduled on the ``modelarts-samples-imported`` asset alias: each run reports the import
events that started it (what ``test_assets.py`` checks an import's asset event carried).

A user's DAG would start its own work here (say, a pre-labeling model over the newly imported samples).
"""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.sdk import DAG, AssetAlias, get_current_context, task

from airflow_provider_modelarts.operators.base import SAMPLES_IMPORTED_ALIAS

IMPORTED = AssetAlias(SAMPLES_IMPORTED_ALIAS)

with DAG(
    dag_id="modelarts_after_import",
    schedule=IMPORTED,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    tags=["modelarts", "test"],
):

    @task
    def imported_batches() -> list[dict[str, Any]]:
        """The imports that started this run: each event's dataset asset and the import's figures."""
        events = get_current_context()["triggering_asset_events"].get(IMPORTED, [])
        return [{"uri": event.asset.uri, **(event.extra or {})} for event in events]

    imported_batches()
