"""Where bulk runs read samples from: an in-memory list, a manifest, or files, each local or remote.

Every source can be iterated more than once and yields ``(index, raw)`` pairs from the start each time. The
bulk run relies on that: a first pass validates everything and keeps only the problems, a second pass builds
and sends the batches. Manifests and files are re-read on each pass, so memory stays flat however many
samples a manifest holds; only the in-memory list is (necessarily) held whole.

Local and remote manifests and files are told apart, opened and named by
:mod:`airflow_provider_modelarts.bulk.places` ("Local or remote"); one that is not there raises its
:class:`~airflow_provider_modelarts.bulk.places.SourceNotFoundError` (retryable; "Not there"). A remote
manifest is streamed like a local one (``chunk_size`` bytes at a time, never read whole); a remote file is
read when the batch holding it is built, one at a time, like a local one. ``files`` that name no existing
file at all on this host (no glob matched, no literal path exists) are not there, unless
``allow_empty=True``.
"""

from __future__ import annotations

import base64
import contextlib
import glob
import gzip
import io
import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any, cast

import ijson

from airflow_provider_modelarts.bulk.places import (
    Place,
    SourceNotFoundError,
    locate,
    not_there,
    place_name,
)
from airflow_provider_modelarts.errors import ModelArtsError
from airflow_provider_modelarts.export import local_target, public_location
from airflow_provider_modelarts.models import MAX_SAMPLE_BYTES

__all__ = [
    "EXTENSION_SAMPLE_TYPES",
    "BadRecord",
    "FileRef",
    "FileSource",
    "ListSource",
    "ManifestError",
    "ManifestSource",
    "Source",
    "SourceNotFoundError",
    "expand_file_patterns",
]

_BOM = b"\xef\xbb\xbf"

# Sample type codes (models.SampleType) by file extension, as plain ints: the API's JSON carries ints.
_IMAGE, _TEXT, _SPEECH, _TABLE, _VIDEO = 0, 1, 2, 4, 6
EXTENSION_SAMPLE_TYPES: dict[str, int] = {
    **dict.fromkeys((".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff"), _IMAGE),
    **dict.fromkeys((".txt",), _TEXT),
    **dict.fromkeys((".wav", ".mp3", ".m4a", ".aac", ".flac", ".ogg", ".wma", ".amr"), _SPEECH),
    **dict.fromkeys((".csv", ".tsv"), _TABLE),
    **dict.fromkeys(
        (".mp4", ".avi", ".mov", ".mkv", ".flv", ".wmv", ".webm", ".ts", ".mpeg", ".mpg"), _VIDEO
    ),
}


class ManifestError(ModelArtsError, ValueError):
    """The manifest cannot be read as a whole (not JSON, a broken JSON array)."""


@dataclass(frozen=True)
class BadRecord:
    """A manifest record that is not valid JSON (JSON Lines only: the other lines can still be read)."""

    line: int
    message: str


class Source:
    """Re-iterable ``(index, raw)`` pairs; ``describe()`` says where they come from, for logs and XCom."""

    def __iter__(self) -> Iterator[tuple[int, Any]]:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError


class ListSource(Source):
    """Samples handed over as a Python list (``samples=``), possibly rendered from a template or XCom."""

    def __init__(self, items: Sequence[Any]) -> None:
        self.items = items

    def __iter__(self) -> Iterator[tuple[int, Any]]:
        return enumerate(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def describe(self) -> str:
        return f"samples list ({len(self.items):,} items)"


class ManifestSource(Source):
    """A JSON array or JSON Lines file (optionally gzipped), local or remote, streamed record by record.

    The format is sniffed from the first non-blank character rather than the extension: ``[`` means one JSON
    array of sample objects, ``{`` means JSON Lines (one object per line), which covers ``.json`` files
    written either way. A JSON Lines line that is not valid JSON is yielded as a :class:`BadRecord` so it is
    reported with the other invalid samples; a broken JSON array raises :class:`ManifestError` because nothing
    after the break can be located reliably. A manifest that is not there raises
    :class:`SourceNotFoundError` (retryable).
    """

    def __init__(self, location: Any, *, chunk_size: int = 1 << 16) -> None:
        self.place = locate(location)
        #: How the manifest is reported: an absolute local path or a public location.
        self.path = self.place.name
        self.chunk_size = chunk_size
        self.format: str | None = None

    def describe(self) -> str:
        kind = {"array": "JSON array", "lines": "JSON Lines"}.get(self.format or "", "JSON")
        return f"manifest {self.path} ({kind})"

    @contextlib.contextmanager
    def _open(self) -> Iterator[IO[bytes]]:
        if not self.place.is_file():
            raise not_there(f"manifest {self.path} does not exist or is not a file")
        with self.place.open() as raw:
            if self.place.key.endswith(".gz"):
                with gzip.GzipFile(fileobj=raw, mode="rb") as unzipped:
                    yield cast("IO[bytes]", unzipped)
            else:
                yield raw

    def __iter__(self) -> Iterator[tuple[int, Any]]:
        with self._open() as fh:
            first = _first_significant_byte(fh, self.chunk_size)
            if first == b"":
                self.format = "lines"
                return
            if first == b"[":
                self.format = "array"
                yield from enumerate(_iter_json_array(fh, self.path, self.chunk_size))
            elif first == b"{":
                self.format = "lines"
                yield from enumerate(_iter_json_lines(io.TextIOWrapper(fh, encoding="utf-8")))
            else:
                raise ManifestError(
                    f"manifest {self.path} must be a JSON array of sample objects or JSON Lines "
                    f"(one sample object per line); it starts with {first.decode('utf-8', 'replace')!r}"
                )


def _first_significant_byte(fh: IO[bytes], chunk_size: int) -> bytes:
    """Peek at the first non-whitespace byte, then rewind to just after a UTF-8 byte-order mark, if any."""
    start = len(_BOM) if fh.read(len(_BOM)) == _BOM else 0
    fh.seek(start)
    while True:
        chunk = fh.read(chunk_size)
        if not chunk:
            fh.seek(start)
            return b""
        stripped = chunk.lstrip()
        if stripped:
            fh.seek(start)
            return stripped[:1]


def _iter_json_lines(fh: IO[str]) -> Iterator[Any]:
    for line_no, line in enumerate(fh, start=1):
        if not line.strip():
            continue
        try:
            yield json.loads(line)
        except ValueError as exc:
            yield BadRecord(line=line_no, message=f"line {line_no} is not valid JSON: {_json_reason(exc)}")


def _json_reason(exc: ValueError) -> str:
    return exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)


class _LineCounter:
    """A binary reader that counts the newlines handed to the parser, so errors can say where they are."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self.newlines = 0

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        self.newlines += data.count(b"\n")
        return data


def _iter_json_array(fh: IO[bytes], path: str, chunk_size: int) -> Iterator[Any]:
    """Yield the elements of a top-level JSON array without loading the array (ijson, C backend if present).

    The parser reads ``chunk_size`` bytes at a time and holds one element at once, so memory stays at the
    largest element. Errors name the line the parser had read up to (exact for files smaller than a read).
    """
    reader = _LineCounter(fh)
    try:
        yield from ijson.items(reader, "item", use_float=True, buf_size=chunk_size)
    except ijson.JSONError as exc:
        detail = str(exc).splitlines()[0].removeprefix("parse error: ").strip() or type(exc).__name__
        line = reader.newlines + 1
        raise ManifestError(f"manifest {path}: invalid JSON array ({detail}) at line {line}") from None


@dataclass(frozen=True)
class FileRef:
    """One file to upload; ``problem`` is set when it cannot be (missing, too big, unknown type).

    ``path`` names it (absolute local path, or public location); a remote file is read as ``key`` of ``fs``.
    """

    path: str
    name: str
    size: int
    sample_type: int | None
    problem: tuple[str, str] | None = None  # (field, message)
    key: str | None = None
    fs: Any = None

    def read_sample(self) -> dict[str, Any]:
        """The sample payload for this file: bytes base64-encoded as ``data``, as the API expects."""
        place = Place(self.path if self.key is None else self.key, self.path, self.fs)
        with place.open() as fh:
            raw = fh.read(self.size + 1)
        if len(raw) != self.size:
            raise OSError(
                f"{self.path} changed since it was validated ({self.size:,} -> {len(raw):,}+ bytes)"
            )
        data = base64.b64encode(raw).decode("ascii")
        sample: dict[str, Any] = {"name": self.name, "data": data}
        if self.sample_type is not None:
            sample["sample_type"] = self.sample_type
        return sample

    def encoded_size(self) -> int:
        """Characters the file's bytes take once base64-encoded: its share of a batch's data budget."""
        return 4 * ((self.size + 2) // 3)

    def describe_sample(self) -> dict[str, Any]:
        """What the first (validation) pass checks: everything except the bytes."""
        sample: dict[str, Any] = {"name": self.name}
        if self.sample_type is not None:
            sample["sample_type"] = self.sample_type
        return sample


Patterns = Any  # a path, URL or path object, or a sequence of them


def _as_list(patterns: Patterns) -> list[Any]:
    if isinstance(patterns, (str, os.PathLike)) or hasattr(patterns, "protocol"):
        return [patterns]
    return list(patterns)


def _expand(pattern: Any) -> list[tuple[Place, int | None]]:
    """The places one pattern names, with the size the listing gave (remote globs) or None."""
    place = locate(pattern)
    if place.fs is None:
        if not glob.has_magic(place.key):
            return [(place, None)]
        found = sorted(p for p in glob.glob(place.key, recursive=True) if os.path.isfile(p))
        return [(Place(p, p), None) for p in found]
    fs = place.fs
    if not glob.has_magic(place.key):
        return [(place, None)]
    listed = fs.glob(place.key, detail=True)
    return [
        (Place(key, public_location(fs.unstrip_protocol(key)), fs), info.get("size"))
        for key, info in sorted(listed.items())
        if info.get("type") == "file"
    ]


def _matches(patterns: Patterns) -> list[tuple[Place, int | None]]:
    seen: set[tuple[int, str]] = set()
    matches: list[tuple[Place, int | None]] = []
    for pattern in _as_list(patterns):
        for place, size in _expand(pattern):
            key = (id(place.fs), os.path.realpath(place.key) if place.fs is None else place.key)
            if key not in seen:
                seen.add(key)
                matches.append((place, size))
    return matches


def expand_file_patterns(patterns: Patterns) -> list[str]:
    """Expand globs (``**`` recursive) in order, dropping duplicates; literal paths are kept even if missing.

    Each place by its reported name (an absolute local path, or a remote file's public location). A
    literal path that does not exist is kept so validation can name it; a glob that matches nothing
    contributes no file (:class:`FileSource` decides whether nothing at all is an error).
    """
    return [place.name for place, _ in _matches(patterns)]


class FileSource(Source):
    """Files (local or remote paths, or glob patterns), each becoming one sample named after the file.

    The first pass yields :class:`FileRef` objects built from ``stat`` (or the remote listing) alone (name,
    size, inferred type), so validating 10,000 images reads no image; the bytes are read and base64-encoded
    only when the batch holding the file is built. When the patterns name no existing file at all, the
    first pass raises :class:`SourceNotFoundError` (retryable; the module's "Not there"), unless
    ``allow_empty`` (then the run has nothing to send).
    """

    def __init__(
        self,
        patterns: Patterns,
        *,
        sample_type: int | None = None,
        max_sample_bytes: int = MAX_SAMPLE_BYTES,
        allow_empty: bool = False,
    ) -> None:
        self.patterns = patterns
        self.sample_type = sample_type
        self.max_sample_bytes = max_sample_bytes
        self.allow_empty = allow_empty
        self._refs: list[FileRef] | None = None

    @property
    def refs(self) -> list[FileRef]:
        # Expanded once: both passes must see the same file list even if the folder changes in between.
        if self._refs is None:
            refs: list[FileRef] = []
            found = False
            for place, size in _matches(self.patterns):
                ref, there = self._ref(place, size)
                refs.append(ref)
                found = found or there
            if not found and not self.allow_empty:
                shown = ", ".join(repr(place_name(p)) for p in _as_list(self.patterns))
                raise not_there("files= matched no file", f": {shown}", "allow_empty=True accepts that")
            self._refs = refs
        return self._refs

    @property
    def paths(self) -> list[str]:
        return [ref.path for ref in self.refs]

    def describe(self) -> str:
        """``local files (N matched)`` (the XCom ``source``), or ``remote files ...`` if a pattern is."""
        remote = any(local_target(pattern) is None for pattern in _as_list(self.patterns))
        return f"{'remote' if remote else 'local'} files ({len(self.refs):,} matched)"

    def __iter__(self) -> Iterator[tuple[int, FileRef]]:
        yield from enumerate(self.refs)

    def _ref(self, place: Place, listed_size: int | None) -> tuple[FileRef, bool]:
        """The file's :class:`FileRef`, and whether anything is there at all (missing: the only False)."""
        path, name = place.name, os.path.basename(place.key.rstrip("/"))
        sample_type = self.sample_type
        remote = {"key": place.key, "fs": place.fs} if place.fs is not None else {}
        size, problem, there = (listed_size, "", True) if listed_size is not None else place.stat()
        if size is None:
            return FileRef(path, name, 0, sample_type, ("file", problem), **remote), there
        if size == 0:
            # Also what /proc and /sys files report: their content is generated on read, never a sample.
            return FileRef(path, name, 0, sample_type, ("file", f"{path} is empty"), **remote), True
        if size > self.max_sample_bytes:
            too_big = (
                f"{path} is {size:,} bytes; ModelArts accepts at most {self.max_sample_bytes:,} "
                "bytes per sample (ModelArts.4656)"
            )
            return FileRef(path, name, size, sample_type, ("data", too_big), **remote), True
        if sample_type is None:
            sample_type = EXTENSION_SAMPLE_TYPES.get(os.path.splitext(name)[1].lower())
            if sample_type is None:
                unknown = (
                    f"cannot infer the sample type of {name!r} from its extension; pass sample_type= "
                    f"(known extensions: {', '.join(sorted(EXTENSION_SAMPLE_TYPES))})"
                )
                return FileRef(path, name, size, None, ("sample_type", unknown), **remote), True
        return FileRef(path, name, size, sample_type, **remote), True
