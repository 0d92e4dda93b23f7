"""OpenLineage: the datasets a ModelArts task read and wrote, in OpenLineage's naming; and what a local path
is called wherever a task reports one.

The OpenLineage part is used only when ``apache-airflow-providers-openlineage`` is installed (the
``openlineage`` extra): its listener calls an operator's ``get_openlineage_facets_on_complete``, which calls
:func:`operator_lineage`. Every OpenLineage import happens inside these functions, so without the extra this
module imports nothing beyond the standard library and nothing changes.

**A local path's name** (:func:`local_path`, the one rule, used by the export for its target and what it
reports, by the bulk operators for their manifest, and here for lineage names): a ``file://`` prefix is
removed, a leading ``~`` expanded, and a relative path made absolute against the working directory of the
try, when the path is used, since a later reader (the openlineage listener, a downstream task) may run
elsewhere. ``.`` segments and doubled slashes go, ``..`` stays: ``a/../b`` is ``b`` beside ``a``'s target
when ``a`` is a symbolic link, so only the file system may resolve it. Anything else holding ``://`` is a
URL, not a local path.

Naming follows the OpenLineage dataset naming spec as the official providers apply it (``s3://<bucket>`` +
key, ``postgres://<host>:<port>`` + ``db.schema.table``): the namespace is ``modelarts://<host>``, the name
the rest of the asset URI without the leading slash (``<project_id>/datasets/<dataset_id>[/workforce-tasks/
<workforce_task_id>]``). Files and object-store paths (the bulk operators' manifests, the export's output)
get ``file`` + absolute path, or ``<scheme>://<bucket>`` + key.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from airflow.providers.common.compat.openlineage.facet import Dataset as OpenLineageDataset
    from airflow.providers.openlineage.extractors import OperatorLineage

__all__ = [
    "convert_asset_to_openlineage",
    "local_path",
    "openlineage_dataset",
    "openlineage_name",
    "operator_lineage",
]

#: What a ``file`` URL starts with; the rest is the path (``file://exports/a`` is ``exports/a``, relative).
FILE_URL = "file://"


def local_path(location: str | os.PathLike[str] | os.PathLike[bytes]) -> str | None:
    """The absolute path of the local file ``location`` names, or ``None`` for a URL (a remote place).

    The module's rule: ``file://`` removed, ``~`` expanded, absolute against the working directory, ``..``
    kept. A ``PathLike`` that gives bytes is decoded as the file system encodes names.
    """
    text = os.fspath(location)
    if isinstance(text, bytes):
        text = os.fsdecode(text)
    if text.startswith(FILE_URL):
        text = text[len(FILE_URL) :]
    elif "://" in text:
        return None
    return str(Path(text).expanduser().absolute())


def openlineage_name(uri: str) -> tuple[str, str]:
    """``(namespace, name)`` of a ``modelarts://`` URI, a URL or a local path (``file`` and the path as
    :func:`local_path` names it)."""
    path = local_path(uri)
    if path is not None:
        return "file", path
    parts = urlsplit(uri)
    return f"{parts.scheme}://{parts.netloc}", parts.path.lstrip("/")


def openlineage_dataset(uri: str) -> OpenLineageDataset:
    """An OpenLineage dataset for a URI (needs the openlineage extra)."""
    from airflow.providers.common.compat.openlineage.facet import Dataset

    namespace, name = openlineage_name(uri)
    return Dataset(namespace=namespace, name=name)


def convert_asset_to_openlineage(asset: Any, lineage_context: Any = None) -> OpenLineageDataset:
    """The ``to_openlineage_converter`` registered for ``modelarts://`` assets."""
    return openlineage_dataset(asset.uri)


def operator_lineage(inputs: Iterable[str], outputs: Iterable[str]) -> OperatorLineage:
    """What ``get_openlineage_facets_on_complete`` returns for a task that read ``inputs`` and wrote
    ``outputs`` (URIs or paths)."""
    from airflow.providers.openlineage.extractors import OperatorLineage

    return OperatorLineage(
        inputs=[openlineage_dataset(uri) for uri in inputs],
        outputs=[openlineage_dataset(uri) for uri in outputs],
    )
