"""AddSamplesOperator against the emulator over real HTTP: sources, batching, failures, retry safety."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import time
from pathlib import Path
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException

from airflow_provider_modelarts.models import Sample
from airflow_provider_modelarts.operators.samples import AddSamplesOperator
from integration._helpers import InFlightCounter, names
from modelarts_emulator import DEFAULT_SECRET_KEY
from modelarts_emulator.seed import DEFAULT_DATASET_ID as DS
from modelarts_emulator.testing import EmulatorServer

pytestmark = pytest.mark.usefixtures("modelarts_conn_env")

SEEDED = 6


def sample(i: int, prefix: str = "new", **extra: Any) -> dict[str, Any]:
    return {
        "name": f"{prefix}-{i:05d}.jpg",
        "sample_type": 0,
        "data": base64.b64encode(f"bytes of {prefix} {i}".encode()).decode(),
        "labels": [{"name": "cat" if i % 2 else "dog", "type": 0, "score": 0.75}],
        **extra,
    }


def added(emulator: EmulatorServer, prefix: str = "new") -> list[dict[str, Any]]:
    return [s for s in emulator.admin.samples(DS) if s["sample_name"].startswith(prefix + "-")]


def requests(emulator: EmulatorServer, route: str = "add_samples") -> int:
    return int(emulator.admin.stats()["routes"].get(route, {}).get("requests", 0))


def check_xcom(result: dict[str, Any]) -> None:
    text = json.dumps(result)  # XCom needs JSON
    assert len(text) < 32_000  # at most 100 itemised failures, messages cut short
    assert DEFAULT_SECRET_KEY not in text
    assert '"data"' not in text  # summaries, never the payload


def test_samples_list_with_labels_and_models(emulator: EmulatorServer) -> None:
    samples: list[Any] = [sample(i) for i in range(5)]
    samples.append(Sample(name="model-made.jpg", sample_type=0, data=b"raw bytes"))
    result = AddSamplesOperator(task_id="add", dataset_id=DS, samples=samples).execute(context={})
    assert result["added"] == 6 and result["total"] == 6
    assert result["failed"] == result["invalid"] == result["already_present"] == 0
    assert result["batches"] == 1 and result["dataset_id"] == DS
    check_xcom(result)
    rows = {s["sample_name"]: s for s in emulator.admin.samples(DS)}
    assert len(rows) == SEEDED + 6
    assert rows["new-00001.jpg"]["labels"][0]["name"] == "cat"
    assert rows["model-made.jpg"]["sample_size"] == len(b"raw bytes")


@pytest.mark.parametrize("kind", ["array", "lines", "lines.gz"])
def test_manifest_sources(emulator: EmulatorServer, tmp_path: Path, kind: str) -> None:
    samples = [sample(i) for i in range(250)]
    if kind == "array":
        path = tmp_path / "m.json"
        path.write_text(json.dumps(samples, indent=1))
    elif kind == "lines":
        path = tmp_path / "m.jsonl"
        path.write_text("\n".join(json.dumps(s) for s in samples) + "\n")
    else:
        path = tmp_path / "m.jsonl.gz"
        with gzip.open(path, "wt") as fh:
            fh.write("\n".join(json.dumps(s) for s in samples))
    op = AddSamplesOperator(task_id="add", dataset_id=DS, manifest=str(path), batch_size=100)
    result = op.execute(context={})
    assert result["added"] == 250 and result["batches"] == 3
    assert ("JSON array" if kind == "array" else "JSON Lines") in result["source"]
    assert names(added(emulator)) == [s["name"] for s in samples]
    assert requests(emulator) == 3


def test_files_with_globs_and_inferred_types(emulator: EmulatorServer, tmp_path: Path) -> None:
    (tmp_path / "imgs" / "sub").mkdir(parents=True)
    files = {
        "imgs/new-a.jpg": b"\xff\xd8jpeg-a",
        "imgs/sub/new-b.PNG": b"\x89PNG-b",
        "new-c.txt": b"some text",
        "new-d.wav": b"RIFF-audio",
        "new-e.mp4": b"video",
    }
    for rel, data in files.items():
        (tmp_path / rel).write_bytes(data)
    (tmp_path / "imgs" / "ignored.gif").write_bytes(b"not matched by the patterns")
    op = AddSamplesOperator(
        task_id="add",
        dataset_id=DS,
        files=[str(tmp_path / "imgs" / "**" / "*.[jJpP]*[gG]"), str(tmp_path / "new-*")],
    )
    result = op.execute(context={})
    assert result["added"] == 5, result
    rows = {s["sample_name"]: s for s in added(emulator)}
    assert {n: r["sample_type"] for n, r in rows.items()} == {
        "new-a.jpg": 0,
        "new-b.PNG": 0,
        "new-c.txt": 1,
        "new-d.wav": 2,
        "new-e.mp4": 6,
    }
    for rel, data in files.items():  # the emulator hashes the base64 text it received
        name = Path(rel).name
        assert rows[name]["data_md5"] == hashlib.md5(base64.b64encode(data)).hexdigest()
        assert rows[name]["sample_size"] == len(data)


def test_files_explicit_sample_type_and_unknown_extension(emulator: EmulatorServer, tmp_path: Path) -> None:
    (tmp_path / "new-x.bin").write_bytes(b"custom")
    with pytest.raises(AirflowFailException, match=r"new-x\.bin.*sample_type: cannot infer"):
        AddSamplesOperator(task_id="a", dataset_id=DS, files=str(tmp_path / "*.bin")).execute(context={})
    assert requests(emulator) == 0
    result = AddSamplesOperator(
        task_id="a", dataset_id=DS, files=str(tmp_path / "*.bin"), sample_type="custom"
    ).execute(context={})
    assert result["added"] == 1
    assert added(emulator)[0]["sample_type"] == 9


def test_batching_and_bounded_concurrency(emulator: EmulatorServer, in_flight: InFlightCounter) -> None:
    emulator.admin.faults(route="add_samples", latency_ms=60)
    op = AddSamplesOperator(
        task_id="add",
        dataset_id=DS,
        samples=[sample(i) for i in range(1000)],
        batch_size=50,
        max_concurrency=3,
    )
    started = time.monotonic()
    result = op.execute(context={})
    elapsed = time.monotonic() - started
    assert result["batches"] == 20 and result["added"] == 1000
    assert requests(emulator) == 20 == in_flight.requests
    # Reached, never exceeded: three requests were in flight together, so the batches really overlapped. (An
    # upper bound on the wall time said the same by the clock, and failed by chance on a loaded machine.)
    assert in_flight.peak == 3
    # 20 requests of >= 60 ms each, at most 3 at a time: at least 7 rounds of latency.
    assert elapsed >= 7 * 0.06


def test_one_progress_line_per_batch(emulator: EmulatorServer, capsys: pytest.CaptureFixture[str]) -> None:
    AddSamplesOperator(
        task_id="add", dataset_id=DS, samples=[sample(i) for i in range(230)], batch_size=100
    ).execute(context={})
    out = capsys.readouterr()
    lines = [line for line in (out.out + out.err).splitlines() if "] batch " in line or " batch " in line]
    progress = [line for line in lines if "/3: " in line and "done (" in line]
    assert len(progress) == 3
    assert any(
        "batch 3/3: " in line and "230/230 done (" in line and "samples/s)" in line for line in progress
    )
    assert DEFAULT_SECRET_KEY not in out.out + out.err


def test_invalid_samples_fail_before_any_request(emulator: EmulatorServer, tmp_path: Path) -> None:
    bad = [
        sample(0),
        {**sample(1), "labels": [{"name": "cat", "score": 1.5}]},
        {**sample(2), "name": "bad<name>.jpg"},
        {**sample(3), "sample_type": 5},
        {**sample(4), "colour": "red"},
        {
            **sample(5),
            "labels": [
                {
                    "name": "box",
                    "type": 1,
                    "property": {"@modelarts:shape": "bndbox", "@modelarts:feature": [[50, 50], [10, 10]]},
                }
            ],
            "metadata": {"@modelarts:size": [100, 100]},
        },
        sample(0),  # duplicate name
    ]
    manifest = tmp_path / "bad.jsonl"
    manifest.write_text("\n".join(json.dumps(s) for s in bad) + "\n{not json\n")
    with pytest.raises(AirflowFailException) as info:
        AddSamplesOperator(task_id="add", dataset_id=DS, manifest=str(manifest)).execute(context={})
    message = str(info.value)
    for expected in (
        "sample #1 ('new-00001.jpg'): labels[0].score",
        "sample #2 ('bad<name>.jpg'): name",
        "sample #3 ('new-00003.jpg'): sample_type",
        "sample #4 ('new-00004.jpg'): colour: unknown field",
        "sample #5 ('new-00005.jpg'): labels[0].property.@modelarts:feature",
        "sample #6 ('new-00000.jpg'): name: duplicate name 'new-00000.jpg' (also sample #0)",
        "sample #7: json: line 8 is not valid JSON",
        "nothing was sent",
    ):
        assert expected in message, expected
    assert requests(emulator) == 0
    assert emulator.admin.stats()["total"] == 0  # not even a connection check


def test_on_invalid_skip_sends_the_rest(emulator: EmulatorServer) -> None:
    samples = [sample(0), {**sample(1), "labels": [{"score": -1}]}, sample(2)]
    result = AddSamplesOperator(task_id="add", dataset_id=DS, samples=samples, on_invalid="skip").execute(
        context={}
    )
    assert result["added"] == 2 and result["invalid"] == 1 and result["total"] == 3
    assert result["invalid_samples"] == [
        {
            "index": 1,
            "name": "new-00001.jpg",
            "field": "labels[0].score",
            "message": "must be between 0 and 1",
        }
    ]
    assert names(added(emulator)) == ["new-00000.jpg", "new-00002.jpg"]


def _fail_first_batch(emulator: EmulatorServer) -> None:
    # Every attempt of the first request answers 500 (the client tries 6 times), later requests succeed.
    emulator.admin.faults(route="add_samples", status=500, count=6)


def test_partial_failure_on_failure_warn_reports_each_sample(emulator: EmulatorServer) -> None:
    _fail_first_batch(emulator)
    samples = [sample(i) for i in range(250)]
    op = AddSamplesOperator(
        task_id="add", dataset_id=DS, samples=samples, batch_size=100, max_concurrency=1, on_failure="warn"
    )
    result = op.execute(context={})
    assert (result["added"], result["failed"], result["batches"]) == (150, 100, 3)
    assert result["retries"] == 5
    assert len(result["failures"]) == 100 and result["failures_truncated"] == 0
    assert result["failures"][0] == {
        "name": "new-00000.jpg",
        "index": 0,
        "error_code": "ModelArts.6102",
        "error_msg": result["failures"][0]["error_msg"],
    }
    assert [f["index"] for f in result["failures"]] == list(range(100))
    assert result["failure_codes"] == {"ModelArts.6102": 100}
    assert names(added(emulator)) == [s["name"] for s in samples[100:]]
    check_xcom(result)


def test_on_failure_fail_runs_every_batch_then_names_the_failures(emulator: EmulatorServer) -> None:
    _fail_first_batch(emulator)

    class TI:
        pushed: dict[str, Any] = {}

        def xcom_push(self, key: str, value: Any) -> None:
            self.pushed[key] = value

    ti = TI()
    op = AddSamplesOperator(
        task_id="add",
        dataset_id=DS,
        samples=[sample(i) for i in range(250)],
        batch_size=100,
        max_concurrency=1,
    )
    with pytest.raises(AirflowException) as info:
        op.execute(context={"ti": ti})  # type: ignore[typeddict-unknown-key]
    message = str(info.value)
    assert "100 of 250 samples failed in dataset ds-images" in message
    assert "#0 ('new-00000.jpg'): ModelArts.6102" in message and "... and 80 more" in message
    assert len(added(emulator)) == 150  # the later batches ran before the task failed
    assert ti.pushed["bulk_result"]["failed"] == 100


def test_fatal_errors_stop_early(emulator: EmulatorServer) -> None:
    from airflow_provider_modelarts.errors import ModelArtsNotFoundError

    op = AddSamplesOperator(
        task_id="add", dataset_id="no-such-dataset", samples=[sample(i) for i in range(500)]
    )
    with pytest.raises(ModelArtsNotFoundError):
        op.execute(context={})
    assert requests(emulator) <= op.bulk_options.max_concurrency  # no batch started after the first answer


def test_retry_safety_with_connections_dropped_after_applying(emulator: EmulatorServer) -> None:
    """5,000 samples, a third of the requests applied but never answered: exactly 5,000 end up stored."""
    # Never more than 3 drops for one request (faults are decided per request): the 6 attempts always suffice.
    emulator.admin.faults(route="add_samples", drop="after", rate=0.35, max_per_request=3, seed=7)
    samples = [sample(i, prefix="retry") for i in range(5000)]
    first = AddSamplesOperator(task_id="add", dataset_id=DS, samples=samples).execute(context={})
    stats = emulator.admin.stats()["routes"]["add_samples"]
    assert stats["dropped_after"] > 0 and first["retries"] >= stats["dropped_after"]
    assert first["failed"] == 0
    assert first["added"] + first["already_present"] == 5000
    assert first["already_present"] > 0  # the retried batches found their samples already stored
    stored = added(emulator, "retry")
    assert len(stored) == 5000 == len({s["sample_name"] for s in stored})

    # An Airflow task retry runs the whole operator again: nothing is added twice, nothing fails.
    emulator.admin.clear_faults()
    second = AddSamplesOperator(task_id="add", dataset_id=DS, samples=samples).execute(context={})
    assert (second["added"], second["already_present"], second["failed"]) == (0, 5000, 0)
    assert len(added(emulator, "retry")) == 5000
    assert len(emulator.admin.samples(DS)) == SEEDED + 5000


def _deep(levels: int) -> Any:
    value: Any = 1
    for _ in range(levels):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("bad", "field", "reason"),
    [
        ({"labels": [{"name": "c", "property": {"note": float("inf")}}]}, "labels[0].property.note", "inf"),
        ({"labels": [{"name": "\ud83d"}]}, "labels[0].name", "lone surrogate"),
        ({"metadata": {"custom": object()}}, "metadata.custom", "object is not JSON"),
        ({"labels": [{"name": "c", "property": {"deep": _deep(3000)}}]}, "labels[0].property.deep", "deep"),
    ],
)
def test_values_json_cannot_carry_are_invalid_samples(
    emulator: EmulatorServer, bad: dict[str, Any], field: str, reason: str
) -> None:
    samples = [sample(0), {**sample(1), **bad}]
    op = AddSamplesOperator(
        task_id="add", dataset_id=DS, samples=samples
    )  # deep input must not break parsing
    with pytest.raises(AirflowFailException) as info:
        op.execute(context={})
    assert f"sample #1 ('new-00001.jpg'): {field}" in str(info.value)
    assert reason in str(info.value)
    assert requests(emulator) == 0


def test_secrets_in_samples_stay_out_of_logs_xcom_and_rendered_fields(
    emulator: EmulatorServer, capfd: pytest.CaptureFixture[str]
) -> None:
    from airflow.sdk.log import redact

    password = "dws-password-3f9a1c77e2"
    table = {
        "name": "new-table.csv",
        "sample_type": 4,
        "data_source": {"data_type": 1, "source_info": {"user_name": "loader", "user_password": password}},
    }
    op = AddSamplesOperator(
        task_id="add", dataset_id=DS, samples=[table, {**sample(1), "labels": [{"score": 9}]}]
    )
    op.render_template_fields({})  # type: ignore[arg-type]
    assert password not in json.dumps(redact(op.samples, "samples"))  # what the UI shows as rendered
    with pytest.raises(AirflowFailException) as info:
        op.execute(context={})
    assert password not in str(info.value)
    op = AddSamplesOperator(task_id="add", dataset_id=DS, samples=[table], on_failure="warn")
    result = op.execute(context={})
    assert result["added"] == 1
    out = capfd.readouterr()
    for text in (json.dumps(result), out.out, out.err):
        assert password not in text and DEFAULT_SECRET_KEY not in text


def test_files_with_the_same_name_in_two_folders_are_refused(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "new-same.jpg").write_bytes(folder.encode())
    with pytest.raises(AirflowFailException, match=r"sample #1 \('new-same\.jpg'\): name: duplicate name"):
        AddSamplesOperator(task_id="a", dataset_id=DS, files=str(tmp_path / "*" / "*.jpg")).execute(
            context={}
        )
    assert requests(emulator) == 0
