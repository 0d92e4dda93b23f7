"""OpenLineage: the datasets a ModelArts task read and wrote, in OpenLineage's naming.

Used only when ``apache-airflow-providers-openlineage`` is installed (the ``openlineage`` extra): its
listener calls an operator's ``get_openlineage_facets_on_complete``, which calls :func:`operator_lineage`.
Every OpenLineage import happens inside these functions, so without the extra this module imports nothing
beyond the standard library and nothing changes.

Naming follows the OpenLineage dataset naming spec as the official providers apply it (``s3://<bucket>`` +
key, ``postgres://<host>:<port>`` + ``db.schema.table``): the namespace is ``modelarts://<host>``, the name
the rest of the asset URI without the leading slash (``<project_id>/datasets/<dataset_id>[/workforce-tasks/
<workforce_task_id>]``). Files and object-store paths (the bulk operators' manifests, the export's output)
get ``file`` + absolute path, or ``<scheme>://<bucket>`` + key.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from airflow.providers.common.compat.openlineage.facet import Dataset as OpenLineageDataset
    from airflow.providers.openlineage.extractors import OperatorLineage

__all__ = ["convert_asset_to_openlineage", "openlineage_dataset", "openlineage_name", "operator_lineage"]


def openlineage_name(uri: str) -> tuple[str, str]:
    """``(namespace, name)`` of a ``modelarts://`` URI, a URL or a local path."""
    parts = urlsplit(uri)
    if not parts.scheme or parts.scheme == "file" or len(parts.scheme) == 1:  # a path (or C:\...)
        path = parts.path if parts.scheme == "file" else uri
        return "file", path
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
