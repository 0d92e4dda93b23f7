"""Where a bulk run's manifest or file is: on this machine's disk, or in a filesystem fsspec opens; and what
it means when it is not there.

**Local or remote** (:func:`locate`): a path (``str`` / ``PathLike``), a ``file://`` URL or a ``file``
``ObjectStoragePath`` is local; a URL fsspec opens (``s3://bucket/key``, ``memory://...``) or a path object
with its own ``fs`` (Airflow's ``ObjectStoragePath``, a ``UPath``) is remote. These are the export's rules
(:func:`~airflow_provider_modelarts.export.local_target`,
:func:`~airflow_provider_modelarts.export.target_filesystem`): what a task can write there, a bulk run can
read. A local place is named absolute (:func:`~airflow_provider_modelarts.lineage.local_path`), a remote one
by its public location (:func:`~airflow_provider_modelarts.export.remote_location`: no credentials, no query
string), in logs, errors, XCom and lineage alike.

**Not there** (:class:`SourceNotFoundError`, retryable: the data may still arrive, or the retry may run on a
machine that has it): the message (:func:`not_there`) names what is missing and the host the task ran on,
and says why: a task reads only its own machine's disk, so whatever one task writes for another belongs in
an object store every worker reads.

Airflow-free: an ``ObjectStoragePath`` is used through the public ``fs`` and ``path`` it shares with UPath.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from typing import IO, Any

from airflow_provider_modelarts.errors import ModelArtsError
from airflow_provider_modelarts.export import local_target, remote_location, target_filesystem

__all__ = ["Place", "SourceNotFoundError", "locate", "not_there", "place_name"]

#: Why a task cannot see another task's local files: said wherever a source is not there.
_SHARE_HINT = (
    "a task reads only its own machine's disk: put what one task writes for another in an object store "
    "every worker reads (a URL such as s3://bucket/key)"
)


class SourceNotFoundError(ModelArtsError, FileNotFoundError):
    """The manifest, or any file ``files`` names, is not there on this host (the module's "Not there")."""

    @property
    def is_transient(self) -> bool:
        return True


@dataclass(frozen=True)
class Place:
    """One manifest or file: a local path (``fs`` is None) or ``key`` in the fsspec filesystem ``fs``.

    ``name`` is how it is reported: the absolute local path, or the public location of a remote one.
    """

    key: str
    name: str
    fs: Any = None

    def open(self) -> IO[bytes]:
        return open(self.key, "rb") if self.fs is None else self.fs.open(self.key, "rb")

    def is_file(self) -> bool:
        return os.path.isfile(self.key) if self.fs is None else bool(self.fs.isfile(self.key))

    def stat(self) -> tuple[int | None, str, bool]:
        """``(size, "", True)`` for a regular file; else ``(None, problem, there)``, ``there`` False only
        when nothing at all is at the place."""
        if self.fs is not None:
            try:
                info = self.fs.info(self.key)
            except FileNotFoundError:
                return None, f"cannot read {self.name}: No such file", False
            if info.get("type") != "file":
                return None, f"{self.name} is not a file (use a glob such as dir/*.jpg)", True
            return int(info.get("size") or 0), "", True
        try:
            size = os.stat(self.key).st_size
        except OSError as exc:
            there = not isinstance(exc, FileNotFoundError)
            return None, f"cannot read {self.name}: {exc.strerror}", there
        if not os.path.isfile(self.key):
            return None, f"{self.name} is not a file (use a glob such as dir/*.jpg)", True
        return size, "", True


def locate(location: Any) -> Place:
    """Where ``location`` (a path, a URL or a path object) is, by the module's "Local or remote" rule."""
    local = local_target(location)
    if local is not None:
        return Place(str(local), str(local))
    fs, key = target_filesystem(location)
    return Place(key, remote_location(location), fs)


def place_name(location: Any) -> str:
    """How ``location`` is reported (what :func:`locate` names it), without opening its filesystem."""
    local = local_target(location)
    return str(local) if local is not None else remote_location(location)


def not_there(what: str, detail: str = "", remedy: str = "") -> SourceNotFoundError:
    """The error for ``what`` not being there (``<what> on host <host><detail> (<remedy>; <why>)``): names
    this host and says why (the module's "Not there")."""
    also = f"{remedy}; " if remedy else ""
    return SourceNotFoundError(f"{what} on host {socket.gethostname()}{detail} ({also}{_SHARE_HINT})")
