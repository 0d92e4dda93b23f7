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

Where to (``target``), and the rule every target kind follows: **all or nothing**. The manifest is written
under a temporary name beside the target (``.<name>.<random hex>.part``, in the same directory or under the
same key prefix) and moved onto the target only once every page was written; when anything fails first (a
page the walk cannot read, a sample the manifest cannot hold, the move itself, the task being killed), the
temporary is deleted and the error raised. So a failed try leaves the target as it was (absent, or the
previous manifest byte for byte), never a truncated file that looks complete. The target kinds:

* a local path (``str`` / ``PathLike`` without ``://``, a ``file://`` URL, a ``file`` ``ObjectStoragePath``):
  a temporary file renamed into place with ``os.replace`` (atomic on one filesystem);
* a URL fsspec can open (``s3://bucket/key``, ``memory://...``, chained URLs), through
  ``fsspec.core.url_to_fs``, and a path object (Airflow's ``ObjectStoragePath``, a ``UPath``), through its
  public ``fs`` and ``path`` (for ``ObjectStoragePath`` the filesystem attached for its connection): the
  temporary key is written with ``fs.open``, moved with ``fs.mv`` (an object store copies it, then deletes it:
  a reader sees the previous object or the new one; where the target's directory holds a glob character,
  which ``mv`` would expand, ``fs.cp_file`` then ``fs.rm_file``) and deleted with ``fs.rm_file`` on failure
  (only a store that cannot be reached then keeps it). A temporary key is needed because fsspec's buffered
  files upload what they hold when closed, also when the writer raised.

Where it went (:attr:`ExportResult.path`; the log, XCom, lineage and asset event all take it from there):

* a local path is written and reported as :func:`airflow_provider_modelarts.lineage.local_path` names it
  (absolute against the working directory of the try, ``~`` expanded), so its asset URI
  (:func:`location_uri`) is ``file:///abs/path``, never ``file://exports/...`` (host "exports");
* a URL is reported by :func:`public_location`: without credentials, query string or fragment.

The bulk operators' sources (:mod:`airflow_provider_modelarts.bulk.sources`) tell a local place from a
remote one, open it and name it by the same three functions: :func:`local_target`,
:func:`target_filesystem` and :func:`remote_location`.

Airflow-free: the hook passes its client in.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from airflow_provider_modelarts.errors import ModelArtsError
from airflow_provider_modelarts.lineage import local_path

__all__ = [
    "CONTAINER_AT_ACCOUNT",
    "DATASET_SAMPLE_STATE",
    "TEAM_TASK_SAMPLE_STATE",
    "ExportArgumentError",
    "ExportResult",
    "export_labels",
    "local_target",
    "location_uri",
    "manifest_line",
    "open_target",
    "public_location",
    "remote_location",
    "sample_state_filter",
    "target_filesystem",
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
    with contextlib.suppress(ValueError):
        state = str(SampleStatus.parse(value))
        if state.startswith("__"):
            return state
    valid = ", ".join(str(s) for s in SampleStatus if str(s).startswith("__"))
    raise ExportArgumentError(f"sample_state {value!r} is not a filter of the sample-list pages: {valid}")


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
    """``(text stream, where it goes)`` for ``target``; what was written replaces the target only when the
    ``with`` block ends without an error (the module's all-or-nothing rule)."""
    path = local_target(target)
    if path is not None:
        with _replace_local(path) as stream:
            yield stream, str(path)
        return
    fs, key = target_filesystem(target)
    with _replace_remote(fs, key) as stream:
        yield stream, remote_location(target)


#: What fsspec's ``mv`` and ``rm`` read as a glob in a path (they expand it before acting).
_GLOB = re.compile(r"[*?[]")


def _temporary_name(name: str) -> str:
    """The name written first, beside the target: hidden, never ending like a manifest, unique per try, and
    without a glob character."""
    return f".{_GLOB.sub('_', name)}.{uuid.uuid4().hex}.part"


@contextlib.contextmanager
def _replace_local(path: Path) -> Iterator[IO[str]]:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Created with the umask's permissions (unlike mkstemp's 0600): whoever reads the manifest next may be
    # another user, as a plain open() would allow.
    tmp = path.with_name(_temporary_name(path.name))
    try:
        with open(tmp, "x", encoding="utf-8", newline="\n") as stream:
            yield stream
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def _replace_remote(fs: Any, key: str) -> Iterator[IO[str]]:
    directory, slash, name = key.rpartition("/")
    tmp = f"{directory}{slash}{_temporary_name(name)}"
    try:
        with fs.open(tmp, "w", encoding="utf-8", newline="\n") as stream:
            yield stream
        if _GLOB.search(tmp):  # the target's directory holds one: fsspec's one-file steps, which never glob
            fs.cp_file(tmp, key)
            fs.rm_file(tmp)
        else:
            fs.mv(tmp, key)  # a rename where the filesystem has one
    except BaseException:
        with contextlib.suppress(Exception):  # not there (the open failed), or the store is unreachable
            fs.rm_file(tmp)
        raise


#: fsspec protocols whose URLs name a container before ``@`` (adlfs: ``abfs://container@account.dfs.core.
#: windows.net/path``): there the part before ``@`` is where the data is, not a credential.
CONTAINER_AT_ACCOUNT = frozenset({"abfs", "abfss", "az", "adl", "wasb", "wasbs"})


def public_location(url: str) -> str:
    """``url`` as the export reports it (log, XCom, lineage, asset event): the place, no credentials.

    * The userinfo goes (``s3://aws_default@bucket/key``: Airflow's ``ObjectStoragePath`` keeps its
      ``conn_id`` there; ``sftp://user:password@host/...``), except where the protocol names a container
      there (:data:`CONTAINER_AT_ACCOUNT`, a userinfo without ``:``).
    * Where the userinfo ends: at the last ``@`` of the authority (RFC 3986: up to the first ``/``, ``?`` or
      ``#``), as a host never holds one. Passwords are pasted unencoded, though, and a ``/``, ``?`` or ``#``
      in one ends the authority early (``sftp://user:pa/ss@host/key``, which ``urlsplit`` reads as host
      ``user``, port ``pa``); an ``@`` in one comes before the host's. So when the authority holds a ``:``
      (a password, or a port: the two cannot be told apart), the userinfo ends at the first ``@`` after
      which the host and path (up to the next ``?`` or ``#``) are not empty and hold no ``@`` (or else at
      the last ``@``). A path holding an ``@`` in such a URL loses its start too, and a password with an
      ``@`` and later a ``?`` or ``#`` reads as a host, a path and a query of its own: whatever the
      userinfo holds, no password is ever kept whole.
    * The query string and fragment go (``?sig=...``, ``?X-Amz-Signature=...``: tokens, not a place).

    A path (no ``://``) is returned as it is.
    """
    scheme, separator, rest = url.partition("://")
    if not separator:
        return url
    at = _userinfo_end(rest)
    userinfo, place = rest[: max(at, 0)], rest[at + 1 :]
    if userinfo and ":" not in userinfo and scheme.rpartition("::")[2].lower() in CONTAINER_AT_ACCOUNT:
        place = f"{userinfo}@{place}"
    try:
        parts = urlsplit(f"//{place}")
    except ValueError:  # a host urllib refuses (an unbalanced "[" ...): the same split by hand
        return f"{scheme}://{re.split('[?#]', place)[0]}"
    return f"{scheme}://{parts.netloc}{parts.path}"


def _userinfo_end(rest: str) -> int:
    """Where the userinfo of ``rest`` (a URL after ``://``) ends: at this ``@``, or -1 (none); the rule is
    :func:`public_location`'s."""
    authority = re.split("[/?#]", rest)[0]
    if ":" not in authority:
        return authority.rfind("@")
    for at in re.finditer("@", rest):
        place = re.split("[?#]", rest[at.end() :])[0]
        if place and "@" not in place:
            return at.start()
    return rest.rfind("@")


def location_uri(location: str) -> str:
    """The asset URI of a reported location: a URL as it is, a local (absolute) path as a ``file:`` URI."""
    return location if "://" in location else Path(location).as_uri()


def remote_location(target: Any) -> str:
    """Where a remote ``target`` goes: without the ``conn_id`` an ``ObjectStoragePath`` puts in its URL (an
    Azure container sits in the same place, so the connection is removed by name, not by position). A
    "connection id" with a ``:`` is a ``user:password`` that ``ObjectStoragePath`` took for one (a connection
    id holds none): :func:`public_location` removes it as credentials."""
    scheme, separator, rest = str(target).partition("://")
    # Airflow 3.2+ has ``conn_id``; 3.1 keeps it only in the (public) ``storage_options`` of the UPath.
    conn_id = getattr(target, "conn_id", None) or (getattr(target, "storage_options", None) or {}).get(
        "conn_id"
    )
    if conn_id and ":" not in conn_id and rest.startswith(f"{conn_id}@"):
        rest = rest[len(conn_id) + 1 :]
    return public_location(f"{scheme}{separator}{rest}")


def local_target(target: Any) -> Path | None:
    """The absolute local file ``target`` names (:func:`~airflow_provider_modelarts.lineage.local_path`'s
    rule), or None when it is remote (fsspec writes it)."""
    protocol = getattr(target, "protocol", None)
    if isinstance(protocol, str):  # ObjectStoragePath / UPath
        target = target.path if protocol in ("", "file", "local") else None
    if isinstance(target, (str, os.PathLike)):
        path = local_path(target)
        return None if path is None else Path(path)
    return None


def target_filesystem(target: Any) -> tuple[Any, str]:
    """``(fsspec filesystem, path in it)`` of a URL or of a path object (``ObjectStoragePath``, ``UPath``)."""
    if isinstance(target, str):
        from fsspec.core import url_to_fs

        return url_to_fs(target)
    fs, path = getattr(target, "fs", None), getattr(target, "path", None)
    if fs is None or not isinstance(path, str):
        raise ExportArgumentError(
            f"target must be a local path, a URL or a path object such as ObjectStoragePath, "
            f"got {type(target).__name__}"
        )
    return fs, path


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

    ``filters`` go to the client's sample walk as they are: the pages' other filters, and ``on_incomplete``
    (``"raise"``, the walk's default: a walk that cannot prove it read every sample raises
    ``IncompleteListError`` and nothing replaces the target; ``"warn"``: it logs that, and the manifest
    holds what was read). The sample walk is built first, so a bad argument (a ``sample_state`` the pages do
    not list, a ``page_size`` outside 1-100) fails before anything is requested or written.
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
