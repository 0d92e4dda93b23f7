"""The export: which list and filter it reads, what one manifest line holds, the counts, and where it writes
(any target replaced whole, never half: test_export_targets.py varies the failures). Only the network edge
is mocked."""

from __future__ import annotations

import io
import json
from collections import Counter
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import fsspec
import httpx
import pytest
import respx
from airflow.providers.common.compat.sdk import AirflowFailException
from airflow.sdk import ObjectStoragePath
from pydantic import BaseModel, Field
from structlog.testing import capture_logs
from upath import UPath

from airflow_provider_modelarts.client import ModelArtsClient
from airflow_provider_modelarts.export import (
    ExportResult,
    export_labels,
    manifest_line,
    open_target,
    public_location,
    sample_state_filter,
    write_manifest,
)
from airflow_provider_modelarts.hooks.modelarts import ModelArtsHook
from airflow_provider_modelarts.operators.export import ExportLabelsOperator
from unit.hooks._helpers import UNIT_ENDPOINT, set_unit_conn

ENDPOINT = UNIT_ENDPOINT
DATASET_LIST = f"{ENDPOINT}/v2/p1/datasets/d1/data-annotations/samples"
TASK_LIST = f"{ENDPOINT}/v2/p1/datasets/d1/workforce-tasks/t1/data-annotations/samples"


@pytest.fixture(autouse=True)
def _connection(monkeypatch: pytest.MonkeyPatch) -> None:
    set_unit_conn(monkeypatch)


def _sample(i: int, labels: list[str] | None = None) -> dict[str, Any]:
    return {
        "sample_id": f"s{i:04d}",
        "sample_name": f"img-{i}.png",
        "sample_type": 0,
        "labels": [{"name": name, "type": 0} for name in (labels if labels is not None else ["cat"])],
    }


def _pages(samples: list[dict[str, Any]], seen: list[httpx.Request]) -> Any:
    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        limit, page = int(request.url.params["limit"]), int(request.url.params["offset"])
        chunk = samples[page * limit : (page + 1) * limit]
        return httpx.Response(200, json={"sample_count": len(samples), "samples": chunk})

    return answer


def _client() -> ModelArtsClient:
    return ModelArtsClient(project_id="p1", endpoint=ENDPOINT, auth=httpx.BasicAuth("a", "b"))


def test_a_dataset_export_asks_for_labeled_samples_page_by_page(tmp_path: Path) -> None:
    samples = [_sample(i, ["cat"] if i % 3 else ["dog", "cat"]) for i in range(25)]
    seen: list[httpx.Request] = []
    with respx.mock() as router, _client() as client:
        router.get(DATASET_LIST).mock(side_effect=_pages(samples, seen))
        result = export_labels(client, "d1", tmp_path / "out" / "labels.jsonl", page_size=10)
    assert {r.url.params["sample_state"] for r in seen} == {"__ALL__"}  # "labeled" on the list page
    # offset counts pages; the walk may read them again to prove nothing moved (client/_paging.py)
    assert [int(r.url.params["offset"]) for r in seen][:3] == [0, 1, 2]
    lines = (tmp_path / "out" / "labels.jsonl").read_text().splitlines()
    assert [json.loads(line)["sample_id"] for line in lines] == [s["sample_id"] for s in samples]
    assert json.loads(lines[0]) == samples[0]  # the list page's own field names, nothing added
    assert (result.samples, result.labels) == (25, 25 + 9)
    assert result.label_counts == {"cat": 25, "dog": 9}
    assert result.bytes == (tmp_path / "out" / "labels.jsonl").stat().st_size
    assert not list((tmp_path / "out").glob(".*"))  # the temporary file was renamed into place


def test_a_team_task_export_asks_for_accepted_samples_and_skips_unlabeled(tmp_path: Path) -> None:
    samples = [_sample(1), _sample(2, []), _sample(3)]
    seen: list[httpx.Request] = []
    with respx.mock() as router, _client() as client:
        router.get(TASK_LIST).mock(side_effect=_pages(samples, seen))
        result = export_labels(client, "d1", str(tmp_path / "t1.jsonl"), workforce_task_id="t1")
    assert seen[0].url.params["sample_state"] == "__ACCEPTED__"
    assert (result.samples, result.unlabeled_skipped) == (2, 1)
    summary = result.summary()
    assert summary["path"] == str(tmp_path / "t1.jsonl") and summary["label_counts"] == {"cat": 2}
    json.dumps(summary)


def test_an_undocumented_sample_state_is_refused_before_any_request_or_file(tmp_path: Path) -> None:
    with respx.mock(assert_all_called=False) as router, _client() as client:
        route = router.get(DATASET_LIST)
        with pytest.raises(ValueError, match="sample_state"):
            export_labels(client, "d1", tmp_path / "x.jsonl", sample_state="__LABELED__")
    assert not route.called and not list(tmp_path.iterdir())


def test_a_failed_walk_leaves_the_previous_manifest_and_no_partial_file(tmp_path: Path) -> None:
    target = tmp_path / "labels.jsonl"
    target.write_text("previous\n")
    with respx.mock() as router, _client() as client:
        router.get(DATASET_LIST).mock(
            side_effect=[
                httpx.Response(200, json={"sample_count": 200, "samples": [_sample(i) for i in range(100)]}),
                httpx.Response(400, json={"error_code": "ModelArts.4352", "error_msg": "dataset gone"}),
            ]
        )
        with pytest.raises(Exception, match="4352"):
            export_labels(client, "d1", target)
    assert target.read_text() == "previous\n"
    assert [p.name for p in tmp_path.iterdir()] == ["labels.jsonl"]


def test_remote_targets_go_through_fsspec_or_their_own_filesystem() -> None:
    """(Airflow registers no ``memory://`` filesystem for ObjectStoragePath; its base, UPath, has one.)"""
    with open_target("memory://exports/a.jsonl") as (stream, where):
        stream.write(manifest_line(_sample(1)))
    assert where == "memory://exports/a.jsonl"
    with fsspec.open("memory://exports/a.jsonl", "r") as written:
        assert json.loads(written.read())["sample_id"] == "s0001"
    with open_target(UPath("memory://exports/b.jsonl")) as (stream, _):  # ObjectStoragePath is a UPath
        stream.write("{}\n")
    with fsspec.open("memory://exports/b.jsonl", "r") as written:
        assert written.read() == "{}\n"


def test_a_local_object_storage_path_is_written_as_a_local_file(tmp_path: Path) -> None:
    with open_target(ObjectStoragePath(f"file://{tmp_path}/c.jsonl")) as (stream, where):
        stream.write("{}\n")
    assert where == str(tmp_path / "c.jsonl") and (tmp_path / "c.jsonl").read_text() == "{}\n"


def test_the_operator_returns_the_counts_and_the_source_uri(tmp_path: Path) -> None:
    op = ExportLabelsOperator(
        task_id="export", dataset_id="d1", workforce_task_id="t1", path=str(tmp_path / "t1.jsonl")
    )
    with respx.mock() as router:
        router.get(TASK_LIST).mock(side_effect=_pages([_sample(1), _sample(2, ["dog"])], []))
        summary = op.execute(context={})
    assert summary["source"] == "modelarts://modelarts.unit.test/p1/datasets/d1/workforce-tasks/t1"
    assert (summary["samples"], summary["labels"], summary["label_counts"]) == (2, 2, {"cat": 1, "dog": 1})
    assert summary["path"] == str(tmp_path / "t1.jsonl")
    assert op.lineage_uris == ([summary["source"]], [summary["path"]])


@pytest.mark.parametrize("rendered", ["", "None"])
def test_a_rendered_empty_team_task_means_the_dataset(tmp_path: Path, rendered: str) -> None:
    op = ExportLabelsOperator(
        task_id="export", dataset_id="d1", workforce_task_id=rendered, path=str(tmp_path / "d.jsonl")
    )
    with respx.mock() as router:
        route = router.get(DATASET_LIST).mock(side_effect=_pages([_sample(1)], []))
        assert op.execute(context={})["workforce_task_id"] is None
    assert route.called


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"page_size": 0}, "page_size must be an integer from 1 to 100"),
        ({"page_size": 101}, "page_size must be an integer from 1 to 100"),
        ({"path": ["a"]}, "path must be a string"),
    ],
)
def test_bad_arguments_fail_when_the_dag_is_parsed(kwargs: dict[str, Any], message: str) -> None:
    arguments: dict[str, Any] = {"task_id": "export", "dataset_id": "d1", "path": "/tmp/x.jsonl", **kwargs}
    with pytest.raises(ValueError, match=message):
        ExportLabelsOperator(**arguments)


def test_rendered_bad_values_fail_for_good_before_any_request(tmp_path: Path) -> None:
    with respx.mock(assert_all_called=False) as router:
        route = router.get(DATASET_LIST)
        with pytest.raises(AirflowFailException, match="path must not be empty"):
            ExportLabelsOperator(task_id="e", dataset_id="d1", path=" ").execute(context={})
        with pytest.raises(AirflowFailException, match="sample_state"):
            ExportLabelsOperator(
                task_id="e", dataset_id="d1", path=str(tmp_path / "x.jsonl"), sample_state="labeled!"
            ).execute(context={})
    assert not route.called


def test_the_hook_hands_its_client_to_the_export(tmp_path: Path) -> None:
    with respx.mock() as router:
        router.get(DATASET_LIST).mock(side_effect=_pages([_sample(1)], []))
        result = ModelArtsHook().export_labels("d1", tmp_path / "h.jsonl")
    assert isinstance(result, ExportResult) and result.samples == 1


def test_the_export_announces_its_manifest_only_through_an_alias_it_is_given(tmp_path: Path) -> None:
    from airflow.sdk import AssetAlias
    from airflow.sdk.execution_time.context import OutletEventAccessors

    quiet = ExportLabelsOperator(task_id="q", dataset_id="d1", path=str(tmp_path / "q.jsonl"))
    loud = ExportLabelsOperator(
        task_id="l", dataset_id="d1", path=str(tmp_path / "l.jsonl"), asset_alias="labels-exported"
    )
    assert quiet.outlets == [] and loud.outlets == [AssetAlias("labels-exported")]
    accessors = OutletEventAccessors()
    with respx.mock() as router:
        router.get(DATASET_LIST).mock(side_effect=_pages([_sample(1)], []))
        quiet.execute(context={"outlet_events": accessors})  # type: ignore[arg-type]
        loud.execute(context={"outlet_events": accessors})  # type: ignore[arg-type]
    ((event),) = accessors[AssetAlias("labels-exported")].asset_alias_events
    assert event.dest_asset_key.uri == f"file://{tmp_path / 'l.jsonl'}"
    assert event.extra["samples"] == 1 and event.extra["path"] == str(tmp_path / "l.jsonl")


def test_the_operator_writes_a_remote_path_through_airflow_object_storage_with_its_connection() -> None:
    """A URL ``path`` goes through Airflow's own ``ObjectStoragePath`` with ``storage_conn_id``, as an
    ``s3://`` target would: the filesystem attached for that connection (Airflow's public ``attach``; an
    in-memory one here, since no cloud is reachable) receives the manifest, and the summary names the URL."""
    from airflow.sdk.io import attach

    memory = fsspec.filesystem("memory")
    attach("memory", conn_id="export_unit_store", fs=memory)
    op = ExportLabelsOperator(
        task_id="export",
        dataset_id="d1",
        path="memory://exports/remote-d1.jsonl",
        storage_conn_id="export_unit_store",
    )
    assert isinstance(op._target(), ObjectStoragePath)
    with respx.mock() as router:
        router.get(DATASET_LIST).mock(side_effect=_pages([_sample(1), _sample(2, ["dog"])], []))
        summary = op.execute(context={})
    # Where it went, without the connection id ObjectStoragePath keeps in the URL's userinfo.
    assert summary["path"] == "memory:///exports/remote-d1.jsonl"
    with memory.open("/exports/remote-d1.jsonl", "r") as written:
        lines = [json.loads(line) for line in written.read().splitlines()]
    assert [line["sample_id"] for line in lines] == ["s0001", "s0002"]


@pytest.mark.parametrize(
    ("url", "reported"),
    [
        ("s3://aws_default@bucket/labels/d1.jsonl", "s3://bucket/labels/d1.jsonl"),
        ("sftp://user:s3cret-pass@host:22/labels.jsonl", "sftp://host:22/labels.jsonl"),
        ("gs://bucket/labels.jsonl", "gs://bucket/labels.jsonl"),
        ("memory://store@/exports/a.jsonl", "memory:///exports/a.jsonl"),
        (
            "https://acct.blob.core.windows.net/c/l.jsonl?sv=2024&sig=AbC%2F",
            "https://acct.blob.core.windows.net/c/l.jsonl",
        ),
        ("s3://bucket/labels.jsonl#frag", "s3://bucket/labels.jsonl"),
        ("sftp://user:pa/ss@host/labels.jsonl", "sftp://host/labels.jsonl"),
    ],
)
def test_a_remote_location_is_reported_without_its_userinfo(url: str, reported: str) -> None:
    """A connection id, a user and password or a query token in the URL never reach the log, XCom or an
    asset event."""
    assert public_location(url) == reported


# -- one line, the counts, the filter -------------------------------------------------------------------


class _Label(BaseModel):
    name: str | None = None
    type: int = 0


class _Unnamed(BaseModel):
    type: int = 0


class _Reply(BaseModel):
    """A reply model the way the pages' models are built: aliased keys, values JSON has no type for."""

    hard: int | None = Field(default=None, alias="@modelarts:hard")
    created: datetime | None = None
    note: str | None = None
    labels: list[_Label | _Unnamed] | None = None


def test_a_line_is_compact_json_under_the_pages_keys_with_text_as_it_is() -> None:
    reply = _Reply.model_validate(
        {"@modelarts:hard": 1, "created": datetime(2024, 5, 6, 7, 8, 9), "labels": []}
    )
    assert manifest_line(reply) == '{"@modelarts:hard":1,"created":"2024-05-06T07:08:09","labels":[]}\n'
    assert manifest_line({"name": "猫 ü", "labels": [1, 2]}) == '{"name":"猫 ü","labels":[1,2]}\n'


def test_odd_samples_and_labels_are_counted_not_trusted() -> None:
    """Labels that are no list, a sample without labels at all, a label without a name or with a number for
    one: read leniently, counted, never a crash."""
    samples: list[Any] = [
        {"sample_id": "a", "labels": [{"name": "cat"}, {"name": 5}, {"type": 0}]},
        {"sample_id": "b", "labels": None},
        {"sample_id": "c", "labels": "cat"},
        SimpleNamespace(sample_id="d"),
        _Reply(labels=[_Label(name="dog"), _Unnamed()]),
    ]
    stream = io.StringIO()
    result = write_manifest(samples, stream, ExportResult("x"))
    assert (result.samples, result.labels, result.unlabeled_skipped) == (2, 5, 3)
    assert result.label_counts == {"cat": 1, "dog": 1}
    assert result.bytes == len(stream.getvalue().encode()) and len(stream.getvalue().splitlines()) == 2


def test_the_summary_names_the_50_most_frequent_labels_and_counts_them_all() -> None:
    counts = Counter({f"label-{i:02d}": 100 - i for i in range(60)})
    result = ExportResult("s3://b/k", samples=3, labels=4, unlabeled_skipped=5, bytes=6, label_counts=counts)
    assert result.summary() == {
        "path": "s3://b/k",
        "samples": 3,
        "labels": 4,
        "unlabeled_skipped": 5,
        "bytes": 6,
        "label_counts": {f"label-{i:02d}": 100 - i for i in range(50)},
        "label_names": 60,
    }


FILTERS = (
    "__ALL__, __NONE__, __UNCHECK__, __ACCEPTED__, __REJECTED__, __UNREVIEWED__, __REVIEWED__, "
    "__WORKFORCE_SAMPLED__, __WORKFORCE_SAMPLED_UNCHECK__, __WORKFORCE_SAMPLED_CHECKED__, "
    "__WORKFORCE_SAMPLED_ACCEPTED__, __WORKFORCE_SAMPLED_REJECTED__, __AUTO_ANNOTATION__"
)


@pytest.mark.parametrize("value", ["MANUAL_ANNOTATION", "UN_ANNOTATION", "labeled", 7])
def test_a_value_that_is_no_filter_of_the_pages_is_refused_with_the_ones_that_are(value: Any) -> None:
    with pytest.raises(ValueError) as raised:
        sample_state_filter(value, "__ALL__")
    assert str(raised.value) == f"sample_state {value!r} is not a filter of the sample-list pages: {FILTERS}"


def test_a_documented_filter_is_sent_as_the_pages_spell_it() -> None:
    from airflow_provider_modelarts.models import SampleStatus

    assert sample_state_filter(None, "__ACCEPTED__") == "__ACCEPTED__"
    assert sample_state_filter("__UNCHECK__", "__ALL__") == "__UNCHECK__"
    assert sample_state_filter(SampleStatus("__REJECTED__"), "__ALL__") == "__REJECTED__"


# -- the operator: arguments, result, log line, links ----------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"page_size": True}, "page_size must be an integer from 1 to 100, got True"),
        ({"page_size": "5"}, "page_size must be an integer from 1 to 100, got '5'"),
        ({"path": ("a",)}, "path must be a string (a local path or a URL), got tuple"),
    ],
)
def test_an_argument_of_the_wrong_type_is_refused_saying_what_it_got(
    kwargs: dict[str, Any], message: str
) -> None:
    arguments: dict[str, Any] = {"task_id": "export", "dataset_id": "d1", "path": "/tmp/x.jsonl", **kwargs}
    with pytest.raises(ValueError) as raised:
        ExportLabelsOperator(**arguments)
    assert str(raised.value) == message


@pytest.mark.parametrize(("dataset_id", "path"), [("", "/tmp/x.jsonl"), ("d1", "None")])
def test_an_empty_rendered_value_fails_for_good_quoting_both(dataset_id: str, path: str) -> None:
    with pytest.raises(AirflowFailException) as raised:
        ExportLabelsOperator(task_id="e", dataset_id=dataset_id, path=path).execute(context={})
    assert str(raised.value) == (
        f"dataset_id and path must not be empty (dataset_id {dataset_id!r}, path {path!r})"
    )


def _exported_lines(events: list[dict[str, Any]]) -> list[str]:
    """The task log's "Exported ..." lines (Airflow 3's task logger is structlog's)."""
    lines = [e["event"] % tuple(e.get("positional_args", ())) for e in events]
    return [line for line in lines if line.startswith("Exported")]


def test_the_operator_returns_logs_and_links_what_it_exported(tmp_path: Path) -> None:
    op = ExportLabelsOperator(
        task_id="export",
        dataset_id="d1",
        workforce_task_id="t1",
        sample_state="__REJECTED__",
        path=f"file://{tmp_path}/t1.jsonl",
        page_size=2,
    )
    assert op.console_links == {}
    seen: list[httpx.Request] = []
    with respx.mock() as router, capture_logs() as events:
        router.get(TASK_LIST).mock(
            side_effect=_pages([_sample(1), _sample(2, []), _sample(3, ["dog"])], seen)
        )
        summary = op.execute(context={})
    written = tmp_path / "t1.jsonl"
    source = "modelarts://modelarts.unit.test/p1/datasets/d1/workforce-tasks/t1"
    assert summary == {
        "dataset_id": "d1",
        "workforce_task_id": "t1",
        "sample_state": "__REJECTED__",
        "source": source,
        "path": str(written),
        "samples": 2,
        "labels": 2,
        "unlabeled_skipped": 1,
        "bytes": written.stat().st_size,
        "label_counts": {"cat": 1, "dog": 1},
        "label_names": 2,
    }
    assert {r.url.params["limit"] for r in seen} == {"2"}
    assert {r.url.params["sample_state"] for r in seen} == {"__REJECTED__"}
    assert _exported_lines(events) == [
        f"Exported 2 labeled samples (2 labels) of {source} to {written}; 1 without labels left out."
    ]
    hook = ModelArtsHook()
    assert op.console_links == {
        "dataset": hook.console_url("d1"),
        "workforce_task": hook.console_url("d1", "t1"),
    }
    with respx.mock() as router, capture_logs() as events:
        router.get(DATASET_LIST).mock(side_effect=_pages([_sample(i) for i in range(1200)], []))
        ExportLabelsOperator(task_id="e", dataset_id="d1", path=str(written)).execute(context={})
    source = "modelarts://modelarts.unit.test/p1/datasets/d1"
    assert _exported_lines(events) == [
        f"Exported 1,200 labeled samples (1,200 labels) of {source} to {written}."
    ]


# -- on_incomplete: a dataset that never holds still ------------------------------------------------------


def _busy(seen: list[httpx.Request]) -> Any:
    """A dataset a labeling team is working on: every request finds one more labeled sample at the end, so
    no two passes of the walk read the same pages (``client/_paging.py``)."""
    samples = [_sample(i) for i in range(3)]

    def answer(request: httpx.Request) -> httpx.Response:
        samples.append(_sample(len(samples)))
        return _pages(samples, seen)(request)

    return answer


def test_a_dataset_that_never_holds_still_fails_the_export_retryably_and_keeps_the_manifest(
    tmp_path: Path,
) -> None:
    from airflow_provider_modelarts.errors import IncompleteListError

    target = tmp_path / "labels.jsonl"
    target.write_text("previous\n")
    op = ExportLabelsOperator(task_id="e", dataset_id="d1", path=str(target), page_size=2)
    assert op.on_incomplete == "fail"
    with respx.mock() as router, pytest.raises(IncompleteListError, match="could not prove"):
        router.get(DATASET_LIST).mock(side_effect=_busy([]))
        op.execute(context={})
    assert target.read_text() == "previous\n" and [p.name for p in tmp_path.iterdir()] == ["labels.jsonl"]


def test_on_incomplete_warn_writes_what_the_walk_read_once_each_and_logs_the_numbers(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    target = tmp_path / "labels.jsonl"
    op = ExportLabelsOperator(
        task_id="e", dataset_id="d1", path=str(target), page_size=2, on_incomplete="warn"
    )
    seen: list[httpx.Request] = []
    with respx.mock() as router, caplog.at_level("WARNING", logger="airflow_provider_modelarts.client"):
        router.get(DATASET_LIST).mock(side_effect=_busy(seen))
        summary = op.execute(context={})
    ids = [json.loads(line)["sample_id"] for line in target.read_text().splitlines()]
    assert len(ids) == len(set(ids)) == summary["samples"] > 3  # each once, the new ones included
    assert ids == [f"s{i:04d}" for i in range(len(ids))]
    (warning,) = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert "could not prove every item was read" in warning and f"{len(ids)} distinct items seen" in warning
    assert len(seen) > 4  # it read the list again before giving up
