"""Where bulk runs read samples from: an in-memory list, a manifest file, or local files.

Every source can be iterated more than once and yields ``(index, raw)`` pairs from the start each time. The
bulk run relies on that: a first pass validates everything and keeps only the problems, a second pass builds
and sends the batches. Manifests and files are re-read from disk on each pass, so memory stays flat however
many samples a manifest holds; only the in-memory list is (necessarily) held whole.
"""

from __future__ import annotations

import base64
import glob
import gzip
import io
import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast

import ijson

from airflow_provider_modelarts.errors import ModelArtsError
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
    """The manifest cannot be read as a whole (missing file, not JSON, broken JSON array)."""


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
    """A local JSON array or JSON Lines file (optionally gzip-compressed), streamed record by record.

    The format is sniffed from the first non-blank character rather than the extension: ``[`` means one JSON
    array of sample objects, ``{`` means JSON Lines (one object per line), which covers ``.json`` files
    written either way. A JSON Lines line that is not valid JSON is yielded as a :class:`BadRecord` so it is
    reported with the other invalid samples; a broken JSON array raises :class:`ManifestError` because nothing
    after the break can be located reliably.
    """

    def __init__(self, path: str | os.PathLike[str], *, chunk_size: int = 1 << 16) -> None:
        self.path = Path(path).expanduser()
        self.chunk_size = chunk_size
        self.format: str | None = None

    def describe(self) -> str:
        kind = {"array": "JSON array", "lines": "JSON Lines"}.get(self.format or "", "JSON")
        return f"manifest {self.path} ({kind})"

    def _open(self) -> IO[bytes]:
        if not self.path.is_file():
            raise ManifestError(f"manifest {self.path} does not exist or is not a file")
        if self.path.suffix == ".gz":
            return cast("IO[bytes]", gzip.open(self.path, "rb"))
        return open(self.path, "rb")

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


def _iter_json_array(fh: IO[bytes], path: Path, chunk_size: int) -> Iterator[Any]:
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
    """One local file to upload; ``problem`` is set when it cannot be (missing, too big, unknown type)."""

    path: str
    name: str
    size: int
    sample_type: int | None
    problem: tuple[str, str] | None = None  # (field, message)

    def read_sample(self) -> dict[str, Any]:
        """The sample payload for this file: bytes base64-encoded as ``data``, as the API expects."""
        with open(self.path, "rb") as fh:
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


def expand_file_patterns(patterns: str | os.PathLike[str] | Sequence[str | os.PathLike[str]]) -> list[str]:
    """Expand globs (``**`` recursive) in order, dropping duplicates; literal paths are kept even if missing.

    A literal path that does not exist is kept so validation can name it; a glob that matches nothing simply
    contributes no file (an empty incoming folder is normal for a scheduled pipeline).
    """
    if isinstance(patterns, (str, os.PathLike)):
        patterns = [patterns]
    seen: set[str] = set()
    paths: list[str] = []
    for pattern in patterns:
        text = os.path.expanduser(os.fspath(pattern))
        if glob.has_magic(text):
            matches = sorted(p for p in glob.glob(text, recursive=True) if os.path.isfile(p))
        else:
            matches = [text]
        for match in matches:
            key = os.path.realpath(match)
            if key not in seen:
                seen.add(key)
                paths.append(match)
    return paths


class FileSource(Source):
    """Local files (paths or glob patterns), each becoming one sample named after the file.

    The first pass yields :class:`FileRef` objects built from ``stat`` alone (name, size, inferred type), so
    validating 10,000 images reads no image; the bytes are read and base64-encoded only when the batch holding
    the file is built.
    """

    def __init__(
        self,
        patterns: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
        *,
        sample_type: int | None = None,
        max_sample_bytes: int = MAX_SAMPLE_BYTES,
    ) -> None:
        self.patterns = patterns
        self.sample_type = sample_type
        self.max_sample_bytes = max_sample_bytes
        self._paths: list[str] | None = None

    @property
    def paths(self) -> list[str]:
        # Expanded once: both passes must see the same file list even if the folder changes in between.
        if self._paths is None:
            self._paths = expand_file_patterns(self.patterns)
        return self._paths

    def describe(self) -> str:
        return f"local files ({len(self.paths):,} matched)"

    def __iter__(self) -> Iterator[tuple[int, FileRef]]:
        for index, path in enumerate(self.paths):
            yield index, self._ref(path)

    def _ref(self, path: str) -> FileRef:
        name = os.path.basename(path)
        sample_type = self.sample_type
        try:
            st = os.stat(path)
        except OSError as exc:
            return FileRef(path, name, 0, sample_type, ("file", f"cannot read {path}: {exc.strerror}"))
        if not os.path.isfile(path):
            return FileRef(
                path, name, 0, sample_type, ("file", f"{path} is not a file (use a glob such as dir/*.jpg)")
            )
        if st.st_size == 0:
            # Also what /proc and /sys files report: their content is generated on read, never a sample.
            return FileRef(path, name, 0, sample_type, ("file", f"{path} is empty"))
        if st.st_size > self.max_sample_bytes:
            return FileRef(
                path,
                name,
                st.st_size,
                sample_type,
                (
                    "data",
                    f"{path} is {st.st_size:,} bytes; ModelArts accepts at most {self.max_sample_bytes:,} "
                    "bytes per sample (ModelArts.4656)",
                ),
            )
        if sample_type is None:
            ext = os.path.splitext(name)[1].lower()
            sample_type = EXTENSION_SAMPLE_TYPES.get(ext)
            if sample_type is None:
                return FileRef(
                    path,
                    name,
                    st.st_size,
                    None,
                    (
                        "sample_type",
                        f"cannot infer the sample type of {name!r} from its extension; pass sample_type= "
                        f"(known extensions: {', '.join(sorted(EXTENSION_SAMPLE_TYPES))})",
                    ),
                )
        return FileRef(path, name, st.st_size, sample_type)
