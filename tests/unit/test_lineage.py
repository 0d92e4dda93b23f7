"""OpenLineage: the datasets each operator reports (with the ``openlineage`` extra installed, as in every
venv here), the ``modelarts://`` asset converter, and that nothing of OpenLineage is imported without need."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from airflow.providers.common.compat.openlineage.facet import Dataset
from airflow.providers.openlineage.extractors import OperatorLineage
from airflow.sdk import Asset

from airflow_provider_modelarts.lineage import (
    convert_asset_to_openlineage,
    local_path,
    openlineage_name,
    operator_lineage,
)
from airflow_provider_modelarts.operators.acceptance import AcceptanceOperator
from airflow_provider_modelarts.operators.export import ExportLabelsOperator
from airflow_provider_modelarts.operators.labels import UpdateLabelsOperator
from airflow_provider_modelarts.operators.samples import AddSamplesOperator
from unit.hooks._helpers import UNIT_ENDPOINT, set_unit_conn

ENDPOINT = UNIT_ENDPOINT
HOST = "modelarts.unit.test"
TASK_URL = f"{ENDPOINT}/v2/p1/datasets/d1/workforce-tasks/t1"
DATASET = f"modelarts://{HOST}/p1/datasets/d1"
TEAM_TASK = f"{DATASET}/workforce-tasks/t1"


@pytest.fixture(autouse=True)
def _connection(monkeypatch: pytest.MonkeyPatch) -> None:
    set_unit_conn(monkeypatch)


@pytest.mark.parametrize(
    ("uri", "namespace", "name"),
    [
        (TEAM_TASK, f"modelarts://{HOST}", "p1/datasets/d1/workforce-tasks/t1"),
        ("/data/manifest.jsonl", "file", "/data/manifest.jsonl"),
        ("file:///data/manifest.jsonl", "file", "/data/manifest.jsonl"),
        ("s3://bucket/exports/a.jsonl", "s3://bucket", "exports/a.jsonl"),
    ],
)
def test_openlineage_names_follow_the_naming_spec(uri: str, namespace: str, name: str) -> None:
    assert openlineage_name(uri) == (namespace, name)


# -- one rule for a local path's name (lineage.local_path) ------------------------------------------------


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory (``work``) and a home directory (``home``) of their own."""
    (tmp_path / "work").mkdir()
    (tmp_path / "home").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return tmp_path


class _BytesPath:
    def __init__(self, path: str) -> None:
        self.path = path

    def __fspath__(self) -> bytes:
        return os.fsencode(self.path)


@pytest.mark.parametrize(
    ("location", "where"),
    [
        ("m.jsonl", "work/m.jsonl"),
        ("./in/../m.jsonl", "work/in/../m.jsonl"),  # ".." is the file system's to resolve (a link)
        ("~/m.jsonl", "home/m.jsonl"),
        ("file://exports/m.jsonl", "work/exports/m.jsonl"),  # what the export writes for that URL
        (Path("sub//m.jsonl"), "work/sub/m.jsonl"),
        (_BytesPath("b.jsonl"), "work/b.jsonl"),
    ],
)
def test_a_local_path_is_named_absolute_where_it_is_used(home: Path, location: Any, where: str) -> None:
    assert local_path(location) == f"{home}/{where}"
    if isinstance(location, str):
        assert openlineage_name(location) == ("file", f"{home}/{where}")
    assert local_path(f"{home}/abs.jsonl") == f"{home}/abs.jsonl"
    assert local_path(f"file://{home}/abs.jsonl") == f"{home}/abs.jsonl"


@pytest.mark.parametrize("url", ["s3://bucket/m.jsonl", "memory://m.jsonl", "simplecache::s3://b/k"])
def test_a_url_is_no_local_path(url: str) -> None:
    assert local_path(url) is None


def _run_bulk(op: Any) -> None:
    with respx.mock(assert_all_called=False) as router:
        router.post(f"{ENDPOINT}/v2/p1/datasets/d1/data-annotations/samples").mock(
            return_value=httpx.Response(200, json={"success": True, "results": [{"success": True}]})
        )
        router.put(f"{ENDPOINT}/v2/p1/datasets/d1/data-annotations/samples").mock(
            return_value=httpx.Response(200, json={"success": True, "results": [{"success": True}]})
        )
        op.execute(context={})


@pytest.mark.parametrize("operator", [AddSamplesOperator, UpdateLabelsOperator])
@pytest.mark.parametrize(
    ("manifest", "where"),
    [
        ("batch.jsonl", "work/batch.jsonl"),
        ("  in/batch.jsonl ", "work/in/batch.jsonl"),  # a rendered template's blanks are not the file's
        ("~/batch.jsonl", "home/batch.jsonl"),
        ("file://in/batch.jsonl", "work/in/batch.jsonl"),
    ],
)
def test_a_bulk_operator_reads_and_reports_the_manifest_under_one_absolute_name(
    home: Path, operator: type, manifest: str, where: str
) -> None:
    """The file read is the file named in lineage, whatever way a relative path is written."""
    line = (
        {"name": "a.jpg"}
        if operator is AddSamplesOperator
        else {"sample_id": "s1", "labels": [{"name": "c"}]}
    )
    for folder in ("work", "work/in", "home"):
        (home / folder / "batch.jsonl").parent.mkdir(parents=True, exist_ok=True)
        (home / folder / "batch.jsonl").write_text(json.dumps(line) + "\n")
    op = operator(task_id="bulk", dataset_id="d1", manifest=manifest)
    _run_bulk(op)
    assert op.lineage_uris[0] == [f"{home}/{where}"]
    lineage = op.get_openlineage_facets_on_complete(None)
    assert lineage.inputs == [Dataset(namespace="file", name=f"{home}/{where}")]


@pytest.mark.parametrize("operator", [AddSamplesOperator, UpdateLabelsOperator])
def test_a_manifest_url_is_read_and_named_in_lineage_by_its_location(home: Path, operator: type) -> None:
    """An object store's manifest is read like a local one; lineage names its place, never its userinfo."""
    import fsspec

    line = (
        {"name": "a.jpg"}
        if operator is AddSamplesOperator
        else {"sample_id": "s1", "labels": [{"name": "c"}]}
    )
    from airflow.sdk.io import attach

    fs = fsspec.filesystem("memory")
    attach("memory", fs=fs)  # Airflow's ObjectStoragePath registers no memory:// of its own
    with fs.open("/bucket/batch.jsonl", "w") as fh:
        fh.write(json.dumps(line) + "\n")
    try:
        op = operator(task_id="bulk", dataset_id="d1", manifest="memory://bucket/batch.jsonl")
        _run_bulk(op)
    finally:
        fs.store.clear()
    # As ObjectStoragePath spells the place: memory://bucket/... on Airflow 3.3, memory:///bucket/... on 3.1
    # (the memory store has no buckets; an s3:// URL is spelled alike by both). Lineage names that place.
    place = op.lineage_uris[0]
    assert len(place) == 1 and re.fullmatch(r"memory:///?bucket/batch\.jsonl", place[0])
    lineage = op.get_openlineage_facets_on_complete(None)
    assert [f"{dataset.namespace}/{dataset.name}" for dataset in lineage.inputs] == place
    assert "@" not in place[0]


@pytest.mark.parametrize(
    ("path", "where"),
    [
        ("out.jsonl", "work/out.jsonl"),
        ("~/out.jsonl", "home/out.jsonl"),
        ("file://x/out.jsonl", "work/x/out.jsonl"),
    ],
)
def test_the_export_writes_and_reports_its_manifest_under_the_same_absolute_name(
    home: Path, path: str, where: str
) -> None:
    op = ExportLabelsOperator(task_id="export", dataset_id="d1", path=path)
    with respx.mock(assert_all_called=False) as router:
        router.get(f"{ENDPOINT}/v2/p1/datasets/d1/data-annotations/samples").mock(
            return_value=httpx.Response(200, json={"sample_count": 0, "samples": []})
        )
        op.execute(context={})
    assert (home / where).is_file()
    lineage = op.get_openlineage_facets_on_complete(None)
    assert lineage.outputs == [Dataset(namespace="file", name=f"{home}/{where}")]


def test_the_asset_converter_is_what_the_openlineage_provider_uses_for_modelarts_assets() -> None:
    from airflow.providers.openlineage.utils.utils import translate_airflow_asset

    asset = Asset(DATASET)
    expected = Dataset(namespace=f"modelarts://{HOST}", name="p1/datasets/d1")
    assert convert_asset_to_openlineage(asset, None) == expected
    assert translate_airflow_asset(asset, None) == expected


def test_operator_lineage_is_the_openlineage_providers_type() -> None:
    lineage = operator_lineage(["/in.jsonl"], [DATASET])
    assert isinstance(lineage, OperatorLineage)
    assert lineage.inputs == [Dataset(namespace="file", name="/in.jsonl")]
    assert lineage.outputs == [Dataset(namespace=f"modelarts://{HOST}", name="p1/datasets/d1")]


def _decide(rate: float) -> AcceptanceOperator:
    figures = {"sampled_sample_count": 2, "checked_sample_count": 2, "unchecked_sample_count": 0,
               "accepted_sample_count": int(rate * 2), "rejected_sample_count": 2 - int(rate * 2),
               "pass_rate": rate}  # fmt: skip
    op = AcceptanceOperator(task_id="decide", dataset_id="d1", workforce_task_id="t1", min_pass_rate=0.8)
    with respx.mock(assert_all_called=False) as router:
        body = {"task_id": "t1", "status": 2, "checking_task_desc": {"checking_task_id": "chk-1"}}
        router.get(TASK_URL).mock(return_value=httpx.Response(200, json=body))
        router.get(f"{TASK_URL}/acceptance/report").mock(
            return_value=httpx.Response(200, json={"checking_stats": figures})
        )
        router.put(f"{TASK_URL}/acceptance/status").mock(
            return_value=httpx.Response(200, json={"sample_count": 2})
        )
        op.execute(context={})
    return op


def test_a_passing_acceptance_reports_the_team_task_read_and_written() -> None:
    lineage = _decide(1.0).get_openlineage_facets_on_complete(None)
    team_task = Dataset(namespace=f"modelarts://{HOST}", name="p1/datasets/d1/workforce-tasks/t1")
    assert lineage.inputs == [team_task] and lineage.outputs == [team_task]


def test_a_rejected_acceptance_reports_no_output() -> None:
    lineage = _decide(0.5).get_openlineage_facets_on_complete(None)
    assert len(lineage.inputs) == 1 and lineage.outputs == []


def test_adding_from_a_manifest_reports_the_file_in_and_the_dataset_out(tmp_path: Path) -> None:
    manifest = tmp_path / "batch.jsonl"
    manifest.write_text(json.dumps({"name": "a.jpg"}) + "\n")
    op = AddSamplesOperator(task_id="add", dataset_id="d1", manifest=str(manifest))
    with respx.mock(assert_all_called=False) as router:
        reply = {"success": True, "results": [{"success": True, "name": "a.jpg"}]}
        router.post(f"{ENDPOINT}/v2/p1/datasets/d1/data-annotations/samples").mock(
            return_value=httpx.Response(200, json=reply)
        )
        op.execute(context={})
    lineage = op.get_openlineage_facets_on_complete(None)
    assert lineage.inputs == [Dataset(namespace="file", name=str(manifest))]
    assert lineage.outputs == [Dataset(namespace=f"modelarts://{HOST}", name="p1/datasets/d1")]


def test_an_operator_that_has_not_run_reports_nothing() -> None:
    op = AcceptanceOperator(task_id="decide", dataset_id="d1", workforce_task_id="t1", min_pass_rate=0.8)
    lineage = op.get_openlineage_facets_on_complete(None)
    assert lineage.inputs == [] and lineage.outputs == []


def test_importing_the_operators_and_dags_imports_nothing_of_openlineage() -> None:
    """Without a call from the openlineage listener, nothing of OpenLineage is loaded: a DAG that uses the
    operators (and the provider's metadata) behaves the same whether the extra is installed or not."""
    code = (
        "import sys\n"
        "import airflow.sdk\n"  # Airflow's own provider discovery loads each provider's get_provider_info
        "names = ('airflow.providers.openlineage', 'openlineage')\n"
        "before = {m for m in sys.modules if m.startswith(names)}\n"
        "import airflow_provider_modelarts.operators.samples, airflow_provider_modelarts.operators.labels\n"
        "import airflow_provider_modelarts.operators.acceptance, airflow_provider_modelarts.lineage\n"
        "import airflow_provider_modelarts.operators.export, airflow_provider_modelarts.assets\n"
        "import airflow_provider_modelarts.operators.team_tasks\n"
        "from airflow_provider_modelarts import get_provider_info\n"
        "get_provider_info()\n"
        "print(sorted(m for m in sys.modules if m.startswith(names) and m not in before))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_the_openlineage_providers_extractor_reports_what_the_operator_recorded() -> None:
    """The path the openlineage listener takes on task success: its extractor manager finds the operator's
    ``get_openlineage_facets_on_complete`` (no extractor of ours is registered) and returns our datasets."""
    from types import SimpleNamespace

    from airflow.providers.openlineage.extractors import ExtractorManager
    from airflow.sdk import DAG
    from airflow.utils.state import TaskInstanceState

    with DAG("lineage_check", schedule=None):
        op = _decide(1.0)
    lineage = ExtractorManager().extract_metadata(
        dagrun=SimpleNamespace(run_id="manual__1"),
        task=op,
        task_instance_state=TaskInstanceState.SUCCESS,
        task_instance=None,
    )
    team_task = Dataset(namespace=f"modelarts://{HOST}", name="p1/datasets/d1/workforce-tasks/t1")
    assert lineage.inputs == [team_task] and lineage.outputs == [team_task]
