"""Configuration shared by both clients: endpoint resolution, TLS contexts, default headers, page sources.

Everything here is set up once per client, never per call, and free of ``await``, so it is written once and
used as is by the async client (the source, ``_async/``) and the sync client generated from it (``_sync/``).
What happens to each call (retries, options, parsing) is in ``_async/core.py``.
"""

from __future__ import annotations

import functools
import os
import random
import re
import ssl
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

import anyio
import httpx

from airflow_provider_modelarts import __version__
from airflow_provider_modelarts.client._paging import Pager
from airflow_provider_modelarts.client._requests.call import ApiCall
from airflow_provider_modelarts.errors import ModelArtsConfigError
from airflow_provider_modelarts.retries import RetryPolicy

__all__ = [
    "DEFAULT_ASYNC_SLEEP",
    "DEFAULT_SLEEP",
    "OTC_REGIONS",
    "AsyncSleep",
    "ClientBase",
    "Sleep",
    "item_id",
    "resolve_endpoint",
]


T = TypeVar("T")

#: Sleep functions the clients accept (tests pass fake clocks); the sync names are what unasync produces.
AsyncSleep = Callable[[float], Awaitable[Any]]
Sleep = Callable[[float], Any]
#: anyio so the async client works under asyncio and trio alike.
DEFAULT_ASYNC_SLEEP: AsyncSleep = anyio.sleep
DEFAULT_SLEEP: Sleep = time.sleep

#: Regions served from Open Telekom Cloud rather than Huawei Cloud.
OTC_REGIONS = frozenset({"eu-de", "eu-nl", "eu-ch2"})
_REGION_RE = re.compile(r"^[a-z]{2,}(-[a-z0-9]+)+$")
_USER_AGENT = f"airflow-provider-modelarts/{__version__} httpx/{httpx.__version__}"


def resolve_endpoint(region: str | None, endpoint: str | None) -> str:
    """The API base URL: an explicit endpoint wins (https if no scheme), else derived from the region."""
    if endpoint and endpoint.strip():
        value = endpoint.strip().rstrip("/")
        if "://" not in value:
            value = "https://" + value
        url = httpx.URL(value)
        if url.scheme not in ("http", "https") or not url.host:
            raise ModelArtsConfigError(f"endpoint must be an http(s) URL with a host, got {endpoint!r}")
        if url.query or url.fragment:
            raise ModelArtsConfigError("endpoint must not contain a query string or fragment")
        return value
    if region and region.strip():
        region = region.strip().lower()
        if not _REGION_RE.match(region):
            raise ModelArtsConfigError(
                f"region {region!r} does not look like a region name such as 'cn-north-4'"
            )
        if region in OTC_REGIONS:
            return f"https://modelarts.{region}.otc.t-systems.com"
        return f"https://modelarts.{region}.myhuaweicloud.com"
    raise ModelArtsConfigError("either a region or an endpoint is required to reach ModelArts")


def ssl_verify(verify: bool | str | ssl.SSLContext) -> bool | ssl.SSLContext:
    """The TLS setting to hand httpx, with contexts shared between clients.

    Building an SSL context loads the whole CA bundle (~45 ms); httpx does it for every client it creates.
    A triggerer running a thousand AcceptanceTriggers creates a client per trigger, so the contexts are
    built once per CA source and shared (an SSLContext is safe to share between connections and threads).
    """
    if verify is True:
        return _shared_ssl_context(None)
    if isinstance(verify, str):
        return _shared_ssl_context(verify)
    return verify


@functools.lru_cache(maxsize=8)
def _shared_ssl_context(ca_source: str | None) -> ssl.SSLContext:
    if ca_source is None:
        return httpx.create_ssl_context()
    # httpx 0.28 deprecates CA-bundle paths; build the context ourselves so users can still pass a path.
    try:
        if os.path.isdir(ca_source):
            return ssl.create_default_context(capath=ca_source)
        return ssl.create_default_context(cafile=ca_source)
    except (OSError, ssl.SSLError) as exc:
        raise ModelArtsConfigError(
            f"verify={ca_source!r} is not a readable CA bundle file or directory ({type(exc).__name__})"
        ) from exc


def item_id(key: str) -> Callable[[Any], str | None]:
    """The id of a listed item, for de-duplicating pages (items a lenient read kept raw are dicts)."""

    def get(item: Any) -> str | None:
        value = item.get(key) if isinstance(item, Mapping) else getattr(item, key, None)
        return value if isinstance(value, str) else None

    return get


class ClientBase:
    """Configuration shared by both clients (per client, not per call)."""

    project_id: str
    base_url: str
    retry: RetryPolicy
    retry_count: int
    throttle_count: int

    def _configure(
        self,
        *,
        project_id: str,
        region: str | None,
        endpoint: str | None,
        timeout: float | httpx.Timeout,
        retry: RetryPolicy | None,
        max_connections: int,
        headers: Mapping[str, str] | None,
        clock: Callable[[], float] | None,
        rng: random.Random | None,
        auth: httpx.Auth | None,
        verify: bool | str | ssl.SSLContext,
        transport: Any,
    ) -> dict[str, Any]:
        """Check and store the settings; returns the keyword arguments for the httpx client."""
        if not isinstance(project_id, str) or not project_id.strip():
            raise ModelArtsConfigError("project_id is required (the ModelArts project id of the region)")
        if max_connections < 1:
            raise ModelArtsConfigError(f"max_connections must be at least 1, got {max_connections}")
        self.project_id = project_id
        self.base_url = resolve_endpoint(region, endpoint)
        self.retry = retry or RetryPolicy()
        self.retry_count = 0
        self.throttle_count = 0
        self._clock = clock or time.monotonic
        self._rng = rng or random.Random()
        self._timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        default_headers = {
            "User-Agent": _USER_AGENT,
            "Accept": "application/json",
            "X-Project-Id": project_id,
        }
        default_headers.update(headers or {})
        return {
            "base_url": self.base_url,
            "timeout": self._timeout,
            "headers": default_headers,
            "limits": httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
            "auth": auth,
            "verify": ssl_verify(verify),
            "transport": transport,
        }

    def _page_source(
        self,
        builder: Callable[..., ApiCall[T]],
        ids: Sequence[str],
        page_size: int,
        max_page_size: int,
        key: str,
        *,
        on_incomplete: str = "raise",
        count_may_be_page_size: bool = False,
        **arguments: Any,
    ) -> tuple[Callable[[int], ApiCall[T]], Pager[Any]]:
        """The page builder and pager of an ``iter_*`` method (``key``: the items' id field, see _paging.py);
        the arguments are checked now, not at the first ``next()``, so a typo fails where it is made."""
        pager: Pager[Any] = Pager(
            page_size,
            max_page_size,
            item_id(key),
            count_may_be_page_size=count_may_be_page_size,
            on_incomplete=on_incomplete,
        )
        build = functools.partial(builder, self.project_id, *ids, limit=page_size, **arguments)
        first = build(offset=0)
        pager.what = f"{first.method} {first.path}"
        return (lambda offset: build(offset=offset)), pager

    def __repr__(self) -> str:
        # Only what identifies the target; never the auth object, headers or tokens.
        return f"{type(self).__name__}(project_id={self.project_id!r}, base_url={self.base_url!r})"
