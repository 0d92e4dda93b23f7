"""Sample sources of bulk runs: manifests stream record by record, files are expanded and typed; local or
through fsspec (``memory://`` stands in for an object store)."""

from __future__ import annotations

import base64
import gzip
import io
import json
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import fsspec
import pytest
from fsspec.implementations.memory import MemoryFileSystem
from hypothesis import given
from hypothesis import strategies as st

from airflow_provider_modelarts.bulk.sources import (
    BadRecord,
    FileSource,
    ListSource,
    ManifestError,
    ManifestSource,
    SourceNotFoundError,
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
    with pytest.raises(SourceNotFoundError, match="does not exist"):
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


# -- remote manifests and files (fsspec; memory:// stands in for an object store) -----------------------


@pytest.fixture
def store() -> Iterator[MemoryFileSystem]:
    """fsspec's in-memory filesystem, emptied after the test (its store is global)."""
    fs = fsspec.filesystem("memory")
    yield fs
    fs.store.clear()
    fs.pseudo_dirs[:] = [""]


def _put(fs: MemoryFileSystem, key: str, data: bytes) -> None:
    with fs.open(key, "wb") as fh:
        fh.write(data)


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("as_array", [False, True])
def test_a_url_manifest_streams_like_a_local_one(
    store: MemoryFileSystem, compress: bool, as_array: bool
) -> None:
    samples = _samples(40)
    text = json.dumps(samples) if as_array else "\n".join(json.dumps(s) for s in samples)
    key = "/landing/m.jsonl" + (".gz" if compress else "")
    _put(store, key, gzip.compress(text.encode()) if compress else text.encode())
    source = ManifestSource(f"memory://{key}", chunk_size=16)
    assert [raw for _, raw in source] == samples
    assert [raw for _, raw in source] == samples  # re-iterable
    assert source.describe() == f"manifest memory://{key} ({'JSON array' if as_array else 'JSON Lines'})"


class _CountingFile(io.BytesIO):
    """A remote file that records the size of every read the parser makes."""

    def __init__(self, data: bytes, sizes: list[int]) -> None:
        super().__init__(data)
        self.sizes = sizes

    def read(self, size: int | None = -1) -> bytes:
        self.sizes.append(-1 if size is None or size < 0 else size)
        return super().read(size)

    def read1(self, size: int = -1) -> bytes:
        return self.read(size)

    def readinto(self, buffer: Any) -> int:
        self.sizes.append(len(buffer))
        return super().readinto(buffer)


class _CountingMemory(MemoryFileSystem):
    protocol = "countingmem"
    sizes: list[int] = []

    @classmethod
    def _strip_protocol(cls, path: Any) -> Any:
        return super()._strip_protocol(str(path).replace("countingmem://", "memory://", 1))

    def _open(self, path: str, mode: str = "rb", **kwargs: Any) -> Any:
        return _CountingFile(self.cat_file(path), self.sizes)


@pytest.mark.parametrize("as_array", [False, True])
def test_a_remote_manifest_is_read_in_chunks_never_whole(store: MemoryFileSystem, as_array: bool) -> None:
    fsspec.register_implementation("countingmem", _CountingMemory, clobber=True)
    samples = [{"name": f"img-{i}.jpg", "data": base64.b64encode(b"x" * 300).decode()} for i in range(2_000)]
    text = json.dumps(samples) if as_array else "\n".join(json.dumps(s) for s in samples)
    _put(store, "/big.json", text.encode())  # ~900 KB; the memory store is shared by both protocols
    _CountingMemory.sizes = sizes = []
    chunk = 4096
    count = sum(1 for _ in ManifestSource("countingmem:///big.json", chunk_size=chunk))
    assert count == 2_000
    assert -1 not in sizes, "the manifest was read whole"
    assert max(sizes) <= max(chunk, 8192)  # the parser's chunk, or the text layer's own buffer
    assert sum(sizes) >= len(text)  # and yet every byte was read


_NAMES = ["a.png", "b.PNG", "c.jpg", "d.txt", "sub/e.png", "sub/deep/f.jpg", "g.bin"]
_PATTERNS = ["*.png", "*.jpg", "**/*.png", "sub/*", "*.gif", "nothing-*", "**"]


def _glob_regex(pattern: str) -> re.Pattern[str]:
    """What a glob means in fsspec: ``*`` within one folder, ``**/`` any folders (none too), ``**`` any."""
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out + r"\Z")


@given(names=st.sets(st.sampled_from(_NAMES)), pattern=st.sampled_from(_PATTERNS), allow_empty=st.booleans())
def test_a_url_glob_matches_as_the_pattern_says_and_nothing_matched_is_an_error(
    names: set[str], pattern: str, allow_empty: bool
) -> None:
    fs = fsspec.filesystem("memory")
    fs.store.clear()
    for name in names:  # each file holds its own relative name
        _put(fs, f"/drop/{name}", name.encode())
    expected = sorted(n for n in names if _glob_regex(pattern).match(n))
    source = FileSource(f"memory:///drop/{pattern}", sample_type=0, allow_empty=allow_empty)
    if not expected and not allow_empty:
        with pytest.raises(SourceNotFoundError) as raised:
            list(source)
        message = str(raised.value)
        assert f"'memory:///drop/{pattern}'" in message and f"on host {socket.gethostname()}" in message
        return
    refs = [ref for _, ref in source]
    relative = [ref.path.removeprefix("memory:///drop/") for ref in refs]
    assert sorted(relative) == expected
    assert source.describe() == f"remote files ({len(expected):,} matched)"
    for ref, name in zip(refs, relative, strict=True):  # sizes from the listing; bytes when batched
        assert ref.problem is None and ref.size == len(name) and ref.name == name.rpartition("/")[2]
        assert base64.b64decode(ref.read_sample()["data"]) == name.encode()
    fs.store.clear()


def test_a_missing_url_literal_alone_is_not_there_beside_a_file_it_is_invalid(
    store: MemoryFileSystem,
) -> None:
    _put(store, "/drop/a.png", b"png")
    with pytest.raises(SourceNotFoundError, match=r"memory:///drop/gone\.png"):
        list(FileSource("memory:///drop/gone.png"))
    refs = [ref for _, ref in FileSource(["memory:///drop/gone.png", "memory:///drop/a.png"])]
    assert refs[0].problem == ("file", "cannot read memory:///drop/gone.png: No such file")
    assert refs[1].problem is None and refs[1].read_sample()["data"] == base64.b64encode(b"png").decode()


def test_a_local_glob_matching_nothing_is_an_error_unless_allowed(tmp_path: Path) -> None:
    pattern = str(tmp_path / "incoming" / "*.png")
    with pytest.raises(SourceNotFoundError) as raised:
        list(FileSource(pattern))
    assert str(raised.value).startswith(
        f"files= matched no file on host {socket.gethostname()}: {pattern!r} (allow_empty=True accepts that; "
    )
    empty = FileSource(pattern, allow_empty=True)
    assert list(empty) == [] and empty.describe() == "local files (0 matched)"
    assert issubclass(SourceNotFoundError, FileNotFoundError)  # retryable where the caller maps OSError


def test_a_missing_url_manifest_is_not_there_and_names_no_credentials(store: MemoryFileSystem) -> None:
    with pytest.raises(SourceNotFoundError) as raised:
        list(ManifestSource("memory://user:s3cret-pw@drop/m.jsonl"))
    message = str(raised.value)
    assert "s3cret-pw" not in message and "user" not in message.split(" on host ")[0]
    assert message.startswith("manifest memory://drop/m.jsonl does not exist or is not a file on host ")
    assert SourceNotFoundError("x").is_transient
