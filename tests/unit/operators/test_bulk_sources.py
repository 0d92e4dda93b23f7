"""Where the bulk operators read from: a local path or an object store's URL, and a source that is not there
fails the task retryably (``AirflowException``, not ``AirflowFailException``), naming it and the host."""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import fsspec
import httpx
import pytest
import respx
from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException
from airflow.sdk.io import attach
from fsspec.implementations.memory import MemoryFileSystem

from airflow_provider_modelarts.operators.labels import UpdateLabelsOperator
from airflow_provider_modelarts.operators.samples import AddSamplesOperator
from unit.hooks._helpers import UNIT_ENDPOINT, set_unit_conn

SAMPLES_URL = f"{UNIT_ENDPOINT}/v2/p1/datasets/d1/data-annotations/samples"


@pytest.fixture(autouse=True)
def _connection(monkeypatch: pytest.MonkeyPatch) -> None:
    set_unit_conn(monkeypatch)


@pytest.fixture
def store() -> Iterator[MemoryFileSystem]:
    """fsspec's in-memory filesystem as an object store ``ObjectStoragePath`` reaches (``attach``: Airflow
    registers no ``memory`` scheme of its own)."""
    fs = fsspec.filesystem("memory")
    attach("memory", fs=fs)
    yield fs
    fs.store.clear()


@pytest.fixture
def sent() -> Iterator[list[dict[str, Any]]]:
    """The samples each request carried (the service accepts them all)."""
    bodies: list[dict[str, Any]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        samples = json.loads(request.content)["samples"]
        bodies.extend(samples)
        return httpx.Response(200, json={"success": True, "results": [{"success": True}] * len(samples)})

    with respx.mock(assert_all_called=False) as router:
        router.post(SAMPLES_URL).mock(side_effect=answer)
        router.put(SAMPLES_URL).mock(side_effect=answer)
        yield bodies


def test_files_matching_nothing_fail_retryably_naming_the_pattern_and_host(
    tmp_path: Path, sent: list[dict[str, Any]]
) -> None:
    """The README's first example on a worker that does not have the files: it used to succeed having
    added nothing (XCom ``"source": "local files (0 matched)"``)."""
    pattern = str(tmp_path / "in" / "*.png")
    with pytest.raises(AirflowException) as raised:
        AddSamplesOperator(task_id="add", dataset_id="d1", files=pattern).execute(context={})
    assert not isinstance(raised.value, AirflowFailException)  # Airflow retries it
    assert str(raised.value).startswith(f"files= matched no file on host {socket.gethostname()}: {pattern!r}")
    assert sent == []


def test_allow_empty_keeps_the_empty_run(tmp_path: Path, sent: list[dict[str, Any]]) -> None:
    op = AddSamplesOperator(task_id="add", dataset_id="d1", files=str(tmp_path / "*.png"), allow_empty=True)
    summary = op.execute(context={})
    assert summary["source"] == "local files (0 matched)"
    assert (summary["total"], summary["added"]) == (0, 0) and sent == []


@pytest.mark.parametrize("userinfo", ["", "store_conn@", "key:Zq-secret-77@"])
def test_a_url_pattern_matching_nothing_names_it_without_credentials(
    store: MemoryFileSystem, userinfo: str
) -> None:
    """``ObjectStoragePath`` takes a URL's userinfo for a connection id; the message names the place only."""
    if userinfo:
        attach("memory", conn_id=userinfo.rstrip("@"), fs=store)
    op = AddSamplesOperator(task_id="add", dataset_id="d1", files=[f"memory://{userinfo}drop/none-*.png"])
    with pytest.raises(AirflowException) as raised:
        op.execute(context={})
    assert not isinstance(raised.value, AirflowFailException)
    # As ObjectStoragePath spells it: memory://drop/... or, once it took the userinfo, memory:///drop/...
    assert re.search(r"'memory:///?drop/none-\*\.png'", str(raised.value))
    assert "Zq-secret" not in str(raised.value) and "store_conn" not in str(raised.value)


def test_files_from_a_url_are_added_one_sample_each(
    store: MemoryFileSystem, sent: list[dict[str, Any]]
) -> None:
    for name in ("a.png", "b.png", "notes.txt"):
        with store.open(f"/drop/{name}", "wb") as fh:
            fh.write(name.encode())
    summary = AddSamplesOperator(task_id="add", dataset_id="d1", files="memory:///drop/*.png").execute(
        context={}
    )
    assert summary["source"] == "remote files (2 matched)" and summary["added"] == 2
    assert sorted(s["name"] for s in sent) == ["a.png", "b.png"]


@pytest.mark.parametrize("operator", [AddSamplesOperator, UpdateLabelsOperator])
def test_a_missing_manifest_fails_retryably_naming_it_and_the_host(
    tmp_path: Path, operator: type, sent: list[dict[str, Any]]
) -> None:
    manifest = tmp_path / "batch" / "manifest.jsonl"
    with pytest.raises(AirflowException) as raised:
        operator(task_id="bulk", dataset_id="d1", manifest=str(manifest)).execute(context={})
    assert not isinstance(raised.value, AirflowFailException)
    assert str(raised.value).startswith(
        f"manifest {manifest} does not exist or is not a file on host {socket.gethostname()}"
    )
    assert sent == []


@pytest.mark.parametrize("operator", [AddSamplesOperator, UpdateLabelsOperator])
def test_a_url_manifest_is_read_and_reported_by_its_public_location(
    store: MemoryFileSystem, operator: type, sent: list[dict[str, Any]]
) -> None:
    line = (
        {"name": "a.jpg"}
        if operator is AddSamplesOperator
        else {"sample_id": "s1", "labels": [{"name": "c"}]}
    )
    with store.open("/drop/batch.jsonl", "w") as fh:
        fh.write(json.dumps(line) + "\n")
    op = operator(task_id="bulk", dataset_id="d1", manifest="memory://drop/batch.jsonl")
    summary = op.execute(context={})
    # Named as ObjectStoragePath spells the place: memory://drop/... on Airflow 3.3, memory:///drop/... on 3.1
    # (the memory store has no buckets; an s3:// URL is spelled alike by both).
    place = op.lineage_uris[0]
    assert len(place) == 1 and re.fullmatch(r"memory:///?drop/batch\.jsonl", place[0])
    assert summary["source"] == f"manifest {place[0]} (JSON Lines)"
    assert sent == [line]


def test_the_storage_connection_is_templated(tmp_path: Path) -> None:
    op = AddSamplesOperator(
        task_id="add", dataset_id="d1", files="s3://b/*.png", storage_conn_id="{{ params.store }}"
    )
    op.render_template_fields({"params": {"store": "obs_default"}})  # type: ignore[arg-type]
    assert op.storage_conn_id == "obs_default"


def test_a_url_keeps_the_connection_it_names_unless_one_is_given() -> None:
    """``s3://<conn_id>@bucket/key`` names its Airflow connection (ObjectStoragePath's reading); an explicit
    storage_conn_id wins. Airflow 3.1 keeps an explicit ``conn_id=None`` over the URL's, so none is passed."""
    from airflow_provider_modelarts.operators.base import storage_location

    # str() spells the connection as the userinfo on every supported minor.
    assert str(storage_location("s3://from_url@bucket/key.jsonl")) == "s3://from_url@bucket/key.jsonl"
    assert str(storage_location("s3://bucket/key.jsonl", "given")) == "s3://given@bucket/key.jsonl"
    assert str(storage_location("s3://bucket/key.jsonl")) == "s3://bucket/key.jsonl"
    assert storage_location("/local/key.jsonl") == "/local/key.jsonl"
