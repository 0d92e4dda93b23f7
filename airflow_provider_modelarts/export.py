"""Export the labeled samples of a dataset, or the accepted samples of a team labeling task, to JSON Lines.

The hand-off to whatever comes after labeling (training, a data lake): one JSON object per line, the sample
as the list pages describe it (``sample_id``, ``sample_name``, ``sample_type``, ``source``, ``labels``,
``metadata``, ... under the pages' own field names, empty fields left out). Samples are read page by page
through the client's sample walk and written as they arrive, so memory does not grow with the dataset: a page
(at most 100 samples, the pages' ``limit`` maximum) is the most held at once.

Which samples (the ``sample_state`` filter of ``querying_the_sample_list.rst`` and
``querying_the_sample_list_of_a_team_labeling_task_by_page.rst``, which list the same values):

* a dataset: ``__ALL__``, documented as "labeled";
* a team labeling task: ``__ACCEPTED__``, "accepted" (the labels its acceptance passed).

Any other documented filter value can be given instead; anything else is refused before any request.
A sample that comes back without labels is counted (``unlabeled_skipped``) and not written: the manifest
holds labeled samples only, whatever the filter let through.

Where to (``target``): a local path (written to a temporary file beside it and renamed into place once every
page was written, so a reader never sees half a manifest), anything with an ``open(mode)`` method (Airflow's
``ObjectStoragePath``, a ``UPath``), or a URL fsspec can open (``s3://...``; written in place, as object
stores have no rename). Airflow-free: the hook passes its client in.
"""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from airflow_provider_modelarts.errors import ModelArtsError

__all__ = [
    "DATASET_SAMPLE_STATE",
    "TEAM_TASK_SAMPLE_STATE",
    "ExportArgumentError",
    "ExportResult",
    "export_labels",
    "manifest_line",
    "open_target",
    "public_location",
    "sample_state_filter",
    "write_manifest",
]

#: ``__ALL__``: "labeled" (``querying_the_sample_list.rst``, ``sample_state``).
DATASET_SAMPLE_STATE = "__ALL__"
#: ``__ACCEPTED__``: "accepted" (``querying_the_sample_list_of_a_team_labeling_task_by_page.rst``).
TEAM_TASK_SAMPLE_STATE = "__ACCEPTED__"
#: Distinct label names listed in the summary (a summary travels by XCom: it stays small).
LABEL_NAMES_SHOWN = 50


class ExportArgumentError(ModelArtsError, ValueError):
    """An export argument the pages do not allow (nothing was requested or written)."""


def sample_state_filter(value: Any, default: str) -> str:
    """The ``sample_state`` to send: ``default``, or one of the filter values both list pages document.

    ``SampleStatus`` also holds ``MANUAL_ANNOTATION`` / ``UN_ANNOTATION``, which the pages show only in
    replies (``sample_status``): those are no filter, so they are refused like any unknown value.
    """
    from airflow_provider_modelarts.models import SampleStatus

    if value is None:
        return default
    try:
        state = str(SampleStatus.parse(value))
    except ValueError:
        state = ""
    if not state.startswith("__"):
        valid = ", ".join(str(s) for s in SampleStatus if str(s).startswith("__"))
        raise ExportArgumentError(f"sample_state {value!r} is not a filter of the sample-list pages: {valid}")
    return state


@dataclass
class ExportResult:
    """What an export wrote: counts, never the samples."""

    path: str
    samples: int = 0
    labels: int = 0
    unlabeled_skipped: int = 0
    bytes: int = 0
    label_counts: Counter[str] = field(default_factory=Counter)

    def summary(self) -> dict[str, Any]:
        """A small JSON-safe dict (XCom, asset event ``extra``): the most frequent label names only."""
        return {
            "path": self.path,
            "samples": self.samples,
            "labels": self.labels,
            "unlabeled_skipped": self.unlabeled_skipped,
            "bytes": self.bytes,
            "label_counts": dict(self.label_counts.most_common(LABEL_NAMES_SHOWN)),
            "label_names": len(self.label_counts),
        }


def manifest_line(sample: Any) -> str:
    """One sample as a JSON line (a reply model under the pages' field names, or a plain dict)."""
    if hasattr(sample, "model_dump"):
        sample = sample.model_dump(mode="json", by_alias=True, exclude_none=True)
    return json.dumps(sample, ensure_ascii=False, separators=(",", ":")) + "\n"


def _labels(sample: Any) -> list[Any]:
    labels = sample.get("labels") if isinstance(sample, dict) else getattr(sample, "labels", None)
    return list(labels) if isinstance(labels, (list, tuple)) else []


def _label_name(label: Any) -> str | None:
    name = label.get("name") if isinstance(label, dict) else getattr(label, "name", None)
    return name if isinstance(name, str) else None


def write_manifest(samples: Iterable[Any], stream: IO[str], result: ExportResult) -> ExportResult:
    """Write each labeled sample as one line as it arrives; counts go into ``result``."""
    for sample in samples:
        labels = _labels(sample)
        if not labels:
            result.unlabeled_skipped += 1
            continue
        line = manifest_line(sample)
        stream.write(line)
        result.samples += 1
        result.labels += len(labels)
        result.bytes += len(line.encode("utf-8"))
        result.label_counts.update(name for label in labels if (name := _label_name(label)))
    return result


@contextlib.contextmanager
def open_target(target: Any) -> Iterator[tuple[IO[str], str]]:
    """``(text stream, where it goes)`` for a local path, an object with ``open()``, or an fsspec URL."""
    path = _local_path(target)
    if path is None:
        with _open_remote(target) as stream:
            yield stream, public_location(str(target))
        return
    path = path.expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    # Created with the umask's permissions (unlike mkstemp's 0600): whoever reads the manifest next may be
    # another user, as a plain open() would allow.
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")
    try:
        with open(tmp, "x", encoding="utf-8", newline="\n") as stream:
            yield stream, str(path)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def public_location(url: str) -> str:
    """``url`` without its userinfo, as the export reports it (log, XCom, lineage, asset event).

    Airflow's ``ObjectStoragePath`` writes its ``conn_id`` there (``s3://aws_default@bucket/key``), and a URL
    may carry a user and password: the location of the data is ``s3://bucket/key`` whichever connection
    wrote it, and a password must never reach a log or XCom.
    """
    scheme, separator, rest = url.partition("://")
    authority, slash, tail = rest.partition("/")
    if not separator or "@" not in authority:
        return url
    return f"{scheme}://{authority.rpartition('@')[2]}{slash}{tail}"


def _local_path(target: Any) -> Path | None:
    """The local file ``target`` names, or None when it is remote (written through its own ``open``)."""
    protocol = getattr(target, "protocol", None)
    if isinstance(protocol, str):  # ObjectStoragePath / UPath
        return Path(target.path) if protocol in ("", "file", "local") else None
    if isinstance(target, (str, os.PathLike)):
        text = os.fspath(target)
        if isinstance(text, bytes):
            text = os.fsdecode(text)
        if text.startswith("file://"):
            return Path(text[len("file://") :])
        return None if "://" in text else Path(text)
    return None


def _open_remote(target: Any) -> Any:
    """ObjectStoragePath / UPath open themselves; a URL string goes through fsspec (Airflow installs it)."""
    if hasattr(target, "open") and not isinstance(target, str):
        return target.open("w", encoding="utf-8")
    import fsspec

    return fsspec.open(target, "w", encoding="utf-8")


def export_labels(
    client: Any,
    dataset_id: str,
    target: Any,
    *,
    workforce_task_id: str | None = None,
    sample_state: str | None = None,
    page_size: int = 100,
    **filters: Any,
) -> ExportResult:
    """Stream the labeled samples of ``dataset_id`` (or the accepted ones of ``workforce_task_id``) into a
    JSON Lines manifest at ``target``, page by page; ``client`` is a sync ``ModelArtsClient``.

    The sample walk is built first, so a bad argument (a ``sample_state`` the pages do not list, a
    ``page_size`` outside 1-100) fails before anything is requested or written.
    """
    if workforce_task_id:
        state = sample_state_filter(sample_state, TEAM_TASK_SAMPLE_STATE)
        samples = client.iter_workforce_task_samples(
            dataset_id, workforce_task_id, sample_state=state, page_size=page_size, **filters
        )
    else:
        state = sample_state_filter(sample_state, DATASET_SAMPLE_STATE)
        samples = client.iter_samples(dataset_id, sample_state=state, page_size=page_size, **filters)
    with open_target(target) as (stream, where):
        return write_manifest(samples, stream, ExportResult(where))
