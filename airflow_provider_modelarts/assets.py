"""Airflow Asset URIs for ModelArts datasets and team labeling tasks: the rules, the handler, the factory.

One URI per thing a pipeline hands on, following the official providers (``s3://<bucket>/<key>``,
``postgres://<host>:<port>/<database>/<schema>/<table>``): the scheme, the service host, then the path the
API itself uses for the thing, without the ``/v2`` version prefix::

    modelarts://<host>/<project_id>/datasets/<dataset_id>
    modelarts://<host>/<project_id>/datasets/<dataset_id>/workforce-tasks/<workforce_task_id>

``<host>`` is the ModelArts endpoint host the connection talks to: ``modelarts.<region>.myhuaweicloud.com``
when the connection names a region (``modelarts.eu-de.otc.t-systems.com`` on Open Telekom Cloud), else its
``endpoint`` override's host and port (a private cloud, the local emulator). The same dataset reached through
two endpoints is two assets, as one bucket reached through two S3 endpoints would be.

:func:`sanitize_uri` is the handler Airflow calls for every ``modelarts://`` URI (registered under
``asset-uris`` in :func:`airflow_provider_modelarts.get_provider_info`): it refuses a URI that names no host,
no project or no dataset, and normalises what is equal anyway (host case, the default https port). The pages
state no format for project, dataset or task ids, so any non-empty path segment is accepted (percent-encoded
when :func:`asset_uri` builds it). :func:`create_asset` is the factory; :func:`modelarts_asset` is what a
DAG file calls.

Airflow-free except :func:`create_asset` / :func:`modelarts_asset`, which import ``airflow.sdk.Asset`` when
called; nothing here imports the client, so DAG files that name an asset stay cheap to parse.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import SplitResult, quote, unquote, urlsplit, urlunsplit

from airflow_provider_modelarts.errors import ModelArtsError

if TYPE_CHECKING:
    from airflow.sdk import Asset

__all__ = [
    "SCHEME",
    "AssetUriError",
    "ModelArtsAssetRef",
    "asset_uri",
    "create_asset",
    "endpoint_host",
    "modelarts_asset",
    "parse_uri",
    "sanitize_uri",
]

SCHEME = "modelarts"


class AssetUriError(ModelArtsError, ValueError):
    """A ``modelarts://`` URI that does not name a host, project and dataset (nothing was sent)."""


@dataclass(frozen=True)
class ModelArtsAssetRef:
    """What a ``modelarts://`` URI names; :attr:`uri` builds it back."""

    host: str
    project_id: str
    dataset_id: str
    workforce_task_id: str | None = None

    @property
    def uri(self) -> str:
        return asset_uri(self.host, self.project_id, self.dataset_id, self.workforce_task_id)

    @property
    def dataset_uri(self) -> str:
        """The URI of the dataset (the same as :attr:`uri` unless this names a team task)."""
        return asset_uri(self.host, self.project_id, self.dataset_id)


def endpoint_host(endpoint: str) -> str:
    """The host part of an endpoint URL (``https://modelarts.cn-north-4.myhuaweicloud.com`` ->
    ``modelarts.cn-north-4.myhuaweicloud.com``; a port other than https's 443 is kept)."""
    parts = urlsplit(endpoint if "://" in endpoint else f"https://{endpoint}")
    if not parts.hostname:
        raise AssetUriError(f"endpoint {endpoint!r} names no host")
    return _host(parts)


def asset_uri(host: str, project_id: str, dataset_id: str, workforce_task_id: str | None = None) -> str:
    """The normalised URI of a dataset, or of one of its team labeling tasks."""
    segments = {"host": host, "project_id": project_id, "dataset_id": dataset_id}
    if workforce_task_id is not None:
        segments["workforce_task_id"] = workforce_task_id
    for name, value in segments.items():
        if not isinstance(value, str) or not value.strip():
            raise AssetUriError(f"{name} must be a non-empty string, got {value!r}")
    path = f"/{_segment(project_id)}/datasets/{_segment(dataset_id)}"
    if workforce_task_id is not None:
        path += f"/workforce-tasks/{_segment(workforce_task_id)}"
    return urlunsplit(sanitize_uri(SplitResult(SCHEME, host.strip(), path, "", "")))


def sanitize_uri(uri: SplitResult) -> SplitResult:
    """Airflow's URI handler for ``modelarts://``: validate, then normalise (host lower case, no :443)."""
    if uri.scheme != SCHEME:
        raise AssetUriError(f"not a {SCHEME}:// URI: {urlunsplit(uri)!r}")
    if uri.username or uri.password:
        raise AssetUriError(f"{SCHEME}:// URIs carry no credentials: name the host only")
    if not uri.hostname:
        raise AssetUriError(
            f"{SCHEME}:// URI needs the endpoint host, e.g. "
            f"{SCHEME}://modelarts.cn-north-4.myhuaweicloud.com/<project_id>/datasets/<dataset_id>"
        )
    if uri.query:
        raise AssetUriError(f"{SCHEME}:// URIs take no query string, got {uri.query!r}")
    parts = uri.path.removeprefix("/").rstrip("/").split("/")
    shapes = (["<project_id>", "datasets", "<dataset_id>"], ["workforce-tasks", "<workforce_task_id>"])
    if (
        len(parts) not in (3, 5)
        or parts[1] != "datasets"
        or (len(parts) == 5 and parts[3] != "workforce-tasks")
    ):
        raise AssetUriError(
            f"{SCHEME}:// URI path must be /{'/'.join(shapes[0])}[/{'/'.join(shapes[1])}], got {uri.path!r}"
        )
    names = ("project_id", "datasets", "dataset_id", "workforce-tasks", "workforce_task_id")
    for name, part in zip(names, parts, strict=False):
        if not unquote(part).strip():
            raise AssetUriError(f"{SCHEME}:// URI has an empty {name} in {uri.path!r}")
    return uri._replace(netloc=_host(uri), path="/" + "/".join(parts), fragment="")


def parse_uri(uri: str) -> ModelArtsAssetRef:
    """The host, project, dataset (and team task) a ``modelarts://`` URI names; :class:`AssetUriError` if
    it is not one."""
    parts = sanitize_uri(urlsplit(uri))
    path = [unquote(part) for part in parts.path.removeprefix("/").split("/")]
    return ModelArtsAssetRef(parts.netloc, path[0], path[2], path[4] if len(path) == 5 else None)


def create_asset(
    *,
    host: str,
    project_id: str,
    dataset_id: str,
    workforce_task_id: str | None = None,
    extra: dict[str, Any] | None = None,
) -> Asset:
    """The Asset factory registered for ``modelarts://`` (as ``create_asset`` of the official providers)."""
    from airflow.sdk import Asset

    return Asset(uri=asset_uri(host, project_id, dataset_id, workforce_task_id), extra=extra or {})


def modelarts_asset(
    dataset_id: str,
    *,
    project_id: str,
    region: str | None = None,
    endpoint: str | None = None,
    workforce_task_id: str | None = None,
) -> Asset:
    """The Asset of a dataset (or team task), for ``outlets`` / ``schedule`` in a DAG file.

    ``project_id`` with ``region`` or ``endpoint``, as in the connection: nothing is looked up, so it is cheap
    at every parse. For the URI of a connection's dataset, ``ModelArtsHook(conn_id).asset_uri(dataset_id)``
    (a connection lookup: better in a task than at parse time).
    """
    from airflow_provider_modelarts.client import resolve_endpoint

    host = endpoint_host(resolve_endpoint(region, endpoint))
    return create_asset(
        host=host, project_id=project_id, dataset_id=dataset_id, workforce_task_id=workforce_task_id
    )


def _host(parts: SplitResult) -> str:
    host = (parts.hostname or "").lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        raise AssetUriError(f"{SCHEME}:// URI has an invalid port in {parts.netloc!r}") from None
    return host if port in (None, 443) else f"{host}:{port}"


def _segment(value: str) -> str:
    return quote(value.strip(), safe="-._~")
