"""The hand-off against the emulator over real HTTP: an acceptance that passes announces the team task's
accepted labels and the export writes exactly those samples; a rejection announces nothing and exports none;
a dataset export walks every page; an export to an object store replaces the object whole or not at all."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

import pytest
from airflow.sdk import AssetAlias
from airflow.sdk.execution_time.context import OutletEventAccessors
from airflow.sdk.io import attach
from fsspec.implementations.memory import MemoryFileSystem

from airflow_provider_modelarts.errors import ModelArtsServerError
from airflow_provider_modelarts.operators.acceptance import AcceptanceOperator
from airflow_provider_modelarts.operators.base import LABELS_ACCEPTED_ALIAS, SAMPLES_ADDED_ALIAS
from airflow_provider_modelarts.operators.export import ExportLabelsOperator
from airflow_provider_modelarts.operators.samples import AddSamplesOperator
from modelarts_emulator.seed import DEFAULT_DATASET_ID as DS
from modelarts_emulator.seed import DEFAULT_TASK_ID as TASK
from modelarts_emulator.testing import EmulatorServer

pytestmark = pytest.mark.usefixtures("modelarts_conn_env")


@pytest.fixture(autouse=True)
def manual_clock(emulator: EmulatorServer) -> None:
    emulator.admin.configure(step_seconds=None)


def _review(emulator: EmulatorServer, pass_rate: float) -> None:
    emulator.admin.configure(reviewer_pass_rate=pass_rate, reviewer_pace=10)
    with emulator.client() as client:
        client.start_acceptance(DS, TASK, sampling_rate=1.0)
    emulator.admin.advance(steps=2)  # sampling -> accepting, then one step checks every sample


def _decide(emulator: EmulatorServer) -> tuple[dict[str, Any], list[Any]]:
    accessors = OutletEventAccessors()
    op = AcceptanceOperator(task_id="decide", dataset_id=DS, workforce_task_id=TASK, min_pass_rate=0.8)
    result = op.execute(context={"outlet_events": accessors})  # type: ignore[arg-type]
    return result, accessors[AssetAlias(LABELS_ACCEPTED_ALIAS)].asset_alias_events


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_a_pass_announces_the_team_task_and_the_export_writes_its_accepted_samples(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    _review(emulator, pass_rate=1.0)
    result, events = _decide(emulator)
    assert result["decision"] == "pass_all"
    (event,) = events
    host = emulator.base_url.split("://", 1)[1].rstrip("/")
    assert (
        event.dest_asset_key.uri
        == f"modelarts://{host}/{emulator.project_id}/datasets/{DS}/workforce-tasks/{TASK}"
    )
    assert event.extra["workforce_task_id"] == TASK and event.extra["sample_count"] == 6

    # What the export DAG does with the event: the accepted samples of that team task, in pages of 4.
    extra = event.extra
    export = ExportLabelsOperator(
        task_id="export",
        dataset_id=extra["dataset_id"],
        workforce_task_id=extra["workforce_task_id"],
        path=str(tmp_path / "accepted.jsonl"),
        page_size=4,
    )
    summary = export.execute(context={})
    rows = _lines(tmp_path / "accepted.jsonl")
    task_rows = {r["sample_id"]: r for r in emulator.admin.samples(DS) if TASK in r["tasks"]}
    assert summary["samples"] == len(rows) == 6 and summary["source"] == event.dest_asset_key.uri
    for row in rows:
        expected = task_rows[row["sample_id"]]["tasks"][TASK]["labels"]
        assert [label["name"] for label in row["labels"]] == [label["name"] for label in expected]
    assert summary["labels"] == sum(len(r["labels"]) for r in rows)


def test_a_rejection_announces_nothing_and_the_team_task_has_nothing_accepted(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    _review(emulator, pass_rate=0.0)
    result, events = _decide(emulator)
    assert result["decision"] == "reject_all"
    assert events == []
    summary = ExportLabelsOperator(
        task_id="export", dataset_id=DS, workforce_task_id=TASK, path=str(tmp_path / "none.jsonl")
    ).execute(context={})
    assert summary["samples"] == 0 and (tmp_path / "none.jsonl").read_text() == ""


def test_a_dataset_export_walks_every_page_and_writes_labeled_samples_only(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    samples = [
        {"name": f"s{i:03d}.jpg", "sample_type": 0, "data": "aGVsbG8=",
         "labels": [{"name": "cat" if i % 2 else "dog", "type": 0}]}
        for i in range(230)
    ]  # fmt: skip
    accessors = OutletEventAccessors()
    added = AddSamplesOperator(task_id="add", dataset_id=DS, samples=samples).execute(
        context={"outlet_events": accessors}  # type: ignore[arg-type]
    )
    assert added["added"] == 230
    ((event_extra),) = [e.extra for e in accessors[AssetAlias(SAMPLES_ADDED_ALIAS)].asset_alias_events]
    assert event_extra["added"] == 230
    emulator.admin.reset_stats()

    summary = ExportLabelsOperator(task_id="export", dataset_id=DS, path=str(tmp_path / "ds.jsonl")).execute(
        context={}
    )

    rows = _lines(tmp_path / "ds.jsonl")
    labeled = {
        r["sample_name"] for r in emulator.admin.samples(DS) if r["labels"] and not r["to_be_confirmed"]
    }
    assert {r["sample_name"] for r in rows} == labeled and len(rows) == summary["samples"] >= 230
    assert summary["label_counts"]["cat"] >= 115 and summary["label_counts"]["dog"] >= 115
    # 230+ samples in pages of 100: every page read (a walk may read them again to prove nothing moved,
    # client/_paging.py), and no more than twice over with one empty page each time.
    assert 3 <= emulator.admin.stats()["routes"]["list_samples"]["applied"] <= 8


class _Bucket(MemoryFileSystem):
    """An object store of its own, attached as Airflow's ``s3`` filesystem for one connection."""

    store: ClassVar[dict[str, Any]] = {}
    pseudo_dirs: ClassVar[list[str]] = [""]


def test_an_export_to_an_object_store_replaces_the_object_whole_or_not_at_all(
    emulator: EmulatorServer,
) -> None:
    """Through Airflow's ``ObjectStoragePath`` (``storage_conn_id``): a complete export puts the manifest in
    place; a later try whose walk fails (the list answers 503 past the client's retries) leaves that object
    byte for byte, no temporary beside it, and raises the transient error itself, so Airflow retries."""
    samples = [
        {
            "name": f"o{i:02d}.jpg",
            "sample_type": 0,
            "data": "aGVsbG8=",
            "labels": [{"name": "cat", "type": 0}],
        }
        for i in range(10)
    ]
    AddSamplesOperator(task_id="add", dataset_id=DS, samples=samples, asset_alias=None).execute(context={})
    bucket = _Bucket()
    attach("s3", conn_id="export_it_bucket", fs=bucket)
    arguments = {"task_id": "export", "dataset_id": DS, "page_size": 4, "storage_conn_id": "export_it_bucket"}
    path = "s3://labels/exports/ds-images.jsonl"
    summary = ExportLabelsOperator(path=path, **arguments).execute(context={})  # type: ignore[arg-type]
    written = bucket.cat_file("labels/exports/ds-images.jsonl")
    assert summary["path"] == path and summary["samples"] == len(written.splitlines()) >= 10
    assert bucket.find("labels/exports") == ["/labels/exports/ds-images.jsonl"]

    emulator.admin.faults(route="list_samples", status=503, retry_after=0, count=6)  # every attempt of a page
    with pytest.raises(ModelArtsServerError):
        ExportLabelsOperator(path=path, **arguments).execute(context={})  # type: ignore[arg-type]
    assert bucket.cat_file("labels/exports/ds-images.jsonl") == written
    assert bucket.find("labels/exports") == ["/labels/exports/ds-images.jsonl"]
