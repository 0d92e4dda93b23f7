"""Sample sources of bulk runs: manifests stream record by record, files are expanded and typed."""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path

import pytest

from airflow_provider_modelarts.bulk.sources import (
    BadRecord,
    FileSource,
    ListSource,
    ManifestError,
    ManifestSource,
    expand_file_patterns,
)
from airflow_provider_modelarts.models import MAX_SAMPLE_BYTES


def _samples(n: int) -> list[dict[str, object]]:
    return [{"name": f"img-{i}.jpg", "labels": [{"name": "cat", "score": 0.5}]} for i in range(n)]


def test_list_source_is_reiterable() -> None:
    source = ListSource(_samples(3))
    assert [i for i, _ in source] == [0, 1, 2]
    assert [i for i, _ in source] == [0, 1, 2]
    assert "3 items" in source.describe()


@pytest.mark.parametrize("indent", [None, 2])
def test_json_array_manifest_streams_every_element_in_order(tmp_path: Path, indent: int | None) -> None:
    samples = _samples(250)
    path = tmp_path / "m.json"
    path.write_text(json.dumps(samples, indent=indent))
    # A tiny chunk size forces elements to straddle buffer boundaries many times.
    source = ManifestSource(path, chunk_size=7)
    assert [raw for _, raw in source] == samples
    assert source.format == "array"
    assert [i for i, _ in source][-1] == 249  # re-iterable from the start


def test_json_array_with_an_element_larger_than_the_buffer(tmp_path: Path) -> None:
    big = {"name": "big.jpg", "data": base64.b64encode(b"x" * 300_000).decode()}
    path = tmp_path / "m.json"
    path.write_text(json.dumps([{"name": "a"}, big, {"name": "b"}]))
    assert [raw["name"] for _, raw in ManifestSource(path, chunk_size=1024)] == ["a", "big.jpg", "b"]


def test_json_array_empty_and_numbers_split_across_chunks(tmp_path: Path) -> None:
    path = tmp_path / "empty.json"
    path.write_text("  [ ]  \n")
    assert list(ManifestSource(path)) == []
    path.write_text("[123456789, 2]")
    assert [raw for _, raw in ManifestSource(path, chunk_size=4)] == [123456789, 2]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[{"name": "a"}, {"name": ', "line 1"),
        ('[\n{"name": "a"}\n{"name": "b"}]', "expect ',' or ']'"),
        ('[{"name": "a"}] trailing', "trailing garbage"),
        ('[\n\n{"name": "a",}]', "line 3"),
    ],
)
def test_broken_json_array_names_the_line(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "m.json"
    path.write_text(text)
    with pytest.raises(ManifestError, match=r"m\.json") as info:
        list(ManifestSource(path, chunk_size=5))
    assert expected in str(info.value)


def test_json_lines_manifest_reports_bad_lines_and_keeps_going(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    path.write_text('{"name": "a"}\n\n{"name": \n{"name": "c"}\n')
    records = list(ManifestSource(path))
    assert records[0] == (0, {"name": "a"})
    assert isinstance(records[1][1], BadRecord)
    assert records[1][1].line == 3
    assert "line 3 is not valid JSON" in records[1][1].message
    assert records[2] == (2, {"name": "c"})


def test_gzip_manifest_and_bom(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.write("\ufeff" + "\n".join(json.dumps(s) for s in _samples(5)))
    assert [raw["name"] for _, raw in ManifestSource(path)] == [f"img-{i}.jpg" for i in range(5)]


def test_manifest_that_is_neither_array_nor_lines(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_text('"just a string"')
    with pytest.raises(ManifestError, match="JSON array of sample objects or JSON Lines"):
        list(ManifestSource(path))
    with pytest.raises(ManifestError, match="does not exist"):
        list(ManifestSource(tmp_path / "missing.json"))


def test_expand_file_patterns_globs_dedupes_and_keeps_missing_literals(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    for name in ("a/1.jpg", "a/2.png", "a/skip.txt", "3.jpg"):
        (tmp_path / name).write_bytes(b"x")
    paths = expand_file_patterns(
        [str(tmp_path / "**" / "*.jpg"), str(tmp_path / "a" / "1.jpg"), str(tmp_path / "nope.jpg")]
    )
    assert [Path(p).relative_to(tmp_path).as_posix() for p in paths] == ["3.jpg", "a/1.jpg", "nope.jpg"]
    assert expand_file_patterns(str(tmp_path / "empty" / "*.jpg")) == []


def test_file_source_infers_types_and_flags_problems_without_reading(tmp_path: Path) -> None:
    (tmp_path / "cat.JPG").write_bytes(b"\xff\xd8jpeg")
    (tmp_path / "doc.txt").write_text("hello")
    (tmp_path / "clip.mp4").write_bytes(b"v")
    (tmp_path / "voice.wav").write_bytes(b"w")
    (tmp_path / "table.csv").write_text("a,b")
    (tmp_path / "blob.xyz").write_bytes(b"?")
    (tmp_path / "huge.png").write_bytes(b"")
    with open(tmp_path / "huge.png", "r+b") as fh:
        fh.truncate(MAX_SAMPLE_BYTES + 1)  # sparse: no real disk use
    source = FileSource(str(tmp_path / "*"))
    refs = {ref.name: ref for _, ref in source}
    assert {n: r.sample_type for n, r in refs.items() if r.problem is None} == {
        "cat.JPG": 0,
        "doc.txt": 1,
        "voice.wav": 2,
        "table.csv": 4,
        "clip.mp4": 6,
    }
    assert refs["blob.xyz"].problem is not None and refs["blob.xyz"].problem[0] == "sample_type"
    assert refs["huge.png"].problem is not None and refs["huge.png"].problem[0] == "data"
    assert "12,582,912" in refs["huge.png"].problem[1]
    sample = refs["cat.JPG"].read_sample()
    assert sample == {"name": "cat.JPG", "data": base64.b64encode(b"\xff\xd8jpeg").decode(), "sample_type": 0}


def test_file_source_explicit_type_and_missing_file(tmp_path: Path) -> None:
    (tmp_path / "blob.xyz").write_bytes(b"?")
    source = FileSource(
        [str(tmp_path / "blob.xyz"), str(tmp_path / "gone.jpg"), str(tmp_path)], sample_type=9
    )
    refs = [ref for _, ref in source]
    assert refs[0].problem is None and refs[0].sample_type == 9
    assert refs[1].problem is not None and "cannot read" in refs[1].problem[1]
    assert refs[2].problem is not None and "not a file" in refs[2].problem[1]
