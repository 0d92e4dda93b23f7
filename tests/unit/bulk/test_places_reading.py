"""bulk/places.py: what a Place reads and reports (size, problem, whether anything is there), local and
remote, and the exact "Not there" message (the module's "Local or remote" and "Not there")."""

from __future__ import annotations

import socket
import uuid
from pathlib import Path

import fsspec
import pytest

from airflow_provider_modelarts.bulk.places import Place, locate, not_there

NOT_A_FILE = "is not a file (use a glob such as dir/*.jpg)"
BINARY = b"\xff\xfe\x00manifest\n"  # not text in any encoding a text-mode open would use


def remote(tmp_key: str, content: bytes | None) -> Place:
    """A memory:// place with ``content`` (None: a folder holding one file)."""
    fs = fsspec.filesystem("memory")
    if content is None:
        fs.pipe(f"{tmp_key}/inner.jpg", b"x")
    else:
        fs.pipe(tmp_key, content)
    return locate(f"memory://{tmp_key}")


@pytest.fixture
def key() -> str:
    return f"/places-{uuid.uuid4().hex}/m.jsonl"


def test_a_local_file_is_opened_as_bytes(tmp_path: Path) -> None:
    (tmp_path / "m.jsonl").write_bytes(BINARY)
    with locate(tmp_path / "m.jsonl").open() as stream:
        assert stream.read() == BINARY


def test_a_remote_file_is_opened_as_bytes(key: str) -> None:
    with remote(key, BINARY).open() as stream:
        assert stream.read() == BINARY


def test_a_local_file_reports_its_size(tmp_path: Path) -> None:
    (tmp_path / "m.jsonl").write_bytes(BINARY)
    (tmp_path / "empty.jsonl").write_bytes(b"")
    assert locate(tmp_path / "m.jsonl").stat() == (len(BINARY), "", True)
    assert locate(tmp_path / "empty.jsonl").stat() == (0, "", True)


def test_a_missing_local_file_is_not_there(tmp_path: Path) -> None:
    place = locate(tmp_path / "absent.jsonl")
    assert place.stat() == (None, f"cannot read {place.name}: No such file or directory", False)


def test_a_local_folder_is_there_but_not_a_file(tmp_path: Path) -> None:
    place = locate(tmp_path)
    assert place.stat() == (None, f"{place.name} {NOT_A_FILE}", True)


def test_a_remote_file_reports_its_size(key: str) -> None:
    assert remote(key, BINARY).stat() == (len(BINARY), "", True)


def test_an_empty_remote_file_has_size_zero(key: str) -> None:
    assert remote(key, b"").stat() == (0, "", True)


def test_a_remote_folder_is_there_but_not_a_file(key: str) -> None:
    place = remote(key, None)
    assert place.stat() == (None, f"{place.name} {NOT_A_FILE}", True)


def test_not_there_without_a_remedy_or_detail_says_only_what_where_and_why() -> None:
    error = not_there("manifest m does not exist")
    assert str(error) == (
        f"manifest m does not exist on host {socket.gethostname()} (a task reads only its own machine's "
        "disk: put what one task writes for another in an object store every worker reads (a URL such as "
        "s3://bucket/key))"
    )


def test_not_there_puts_the_detail_after_the_host_and_the_remedy_before_why() -> None:
    error = not_there("file f", detail=" (pattern f*)", remedy="write it first")
    host = socket.gethostname()
    assert str(error).startswith(f"file f on host {host} (pattern f*) (write it first; a task reads ")
