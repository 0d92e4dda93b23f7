"""Where a bulk run's manifest or file is (local or remote, by the export's rules) and how it is named."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import fsspec
import pytest

from airflow_provider_modelarts.bulk.places import Place, locate, not_there, place_name


@pytest.mark.parametrize(
    ("location", "name"),
    [
        ("batch.jsonl", "{cwd}/batch.jsonl"),
        ("file://in/batch.jsonl", "{cwd}/in/batch.jsonl"),
        (Path("in") / "b.jsonl", "{cwd}/in/b.jsonl"),
    ],
)
def test_a_local_place_is_named_absolute_and_has_no_filesystem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, location: Any, name: str
) -> None:
    monkeypatch.chdir(tmp_path)
    place = locate(location)
    assert place == Place(name.format(cwd=os.getcwd()), name.format(cwd=os.getcwd()))
    assert place_name(location) == place.name


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("memory:///drop/m.jsonl", "memory:///drop/m.jsonl"),
        ("memory://user:pw-9f3@drop/m.jsonl?sig=abc", "memory://drop/m.jsonl"),
    ],
)
def test_a_url_is_remote_and_named_without_credentials_or_query(url: str, name: str) -> None:
    place = locate(url)
    assert place.fs is not None and place.name == name == place_name(url)
    assert "pw-9f3" not in place.name and "sig" not in place.name


def test_a_path_object_goes_through_its_own_filesystem() -> None:
    fs = fsspec.filesystem("memory")

    class StorePath:  # what ObjectStoragePath / UPath offer: protocol, fs, path, str()
        protocol = "memory"
        path = "/drop/x.png"

        def __init__(self) -> None:
            self.fs = fs

        def __str__(self) -> str:
            return "memory:///drop/x.png"

    place = locate(StorePath())
    assert (place.key, place.name, place.fs) == ("/drop/x.png", "memory:///drop/x.png", fs)
    assert place.stat() == (None, "cannot read memory:///drop/x.png: No such file", False)


def test_not_there_names_the_host_and_why() -> None:
    import socket

    error = not_there("manifest m does not exist", remedy="try again")
    assert str(error).startswith(f"manifest m does not exist on host {socket.gethostname()} (try again; ")
    assert "object store" in str(error) and error.is_transient and isinstance(error, FileNotFoundError)
