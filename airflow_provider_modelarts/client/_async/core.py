"""How the ModelArts client sends one call: its retries, request options, the HTTP exchange, error mapping,
reply parsing, then paging and closing. Everything a call goes through after its request is built is here.

``_async/core.py`` and ``_async/client.py`` are the source of both clients: ``scripts/unasync.py`` writes
``_sync/core.py`` and ``_sync/client.py`` from them by replacing tokens, the way httpcore does, and
``make lint`` fails when a generated file is out of date. Edit the async files, then run
``python scripts/unasync.py``. What to send (one method per API call) is in ``_async/client.py``.
"""

from __future__ import annotations

import logging
import random
import ssl
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from types import TracebackType
from typing import Any, TypeVar

import httpx
from tenacity import AsyncRetrying

from airflow_provider_modelarts.client._base import DEFAULT_ASYNC_SLEEP, AsyncSleep, ClientBase
from airflow_provider_modelarts.client._paging import Pager
from airflow_provider_modelarts.client._requests import labeling as req
from airflow_provider_modelarts.client._requests.call import JSON_HEADERS, ApiCall, UnparsedReply
from airflow_provider_modelarts.errors import (
    ModelArtsThrottledError,
    ModelArtsTransportError,
    error_from_response,
)
from airflow_provider_modelarts.retries import CallRetries, RetryPolicy

__all__ = ["AsyncClientCore"]

log = logging.getLogger("airflow_provider_modelarts.client")

T = TypeVar("T")
C = TypeVar("C", bound="AsyncClientCore")
P = TypeVar("P")  # a page (list reply)
ItemT = TypeVar("ItemT")  # an item of a page


class AsyncClientCore(ClientBase):
    """Connection, retries and parsing of every call; the API methods are added by the client class.

    ``async_sleep``, ``clock`` and ``rng`` exist so tests and callers with their own scheduling can control
    time. Failed calls raise :mod:`.errors` exceptions after the retries of ``retry`` (a
    :class:`RetryPolicy`); ``retry_count`` counts the retries made so far, ``throttle_count`` the answers in
    which the service asked to slow down (429 / ``ModelArts.6101``).
    """

    def __init__(
        self,
        *,
        project_id: str,
        region: str | None = None,
        endpoint: str | None = None,
        auth: httpx.Auth | None = None,
        timeout: float | httpx.Timeout = 30.0,
        verify: bool | str | ssl.SSLContext = True,
        retry: RetryPolicy | None = None,
        max_connections: int = 20,
        transport: httpx.AsyncBaseTransport | None = None,
        headers: Mapping[str, str] | None = None,
        async_sleep: AsyncSleep | None = None,
        clock: Callable[[], float] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        options = self._configure(
            project_id=project_id,
            region=region,
            endpoint=endpoint,
            timeout=timeout,
            retry=retry,
            max_connections=max_connections,
            headers=headers,
            clock=clock,
            rng=rng,
            auth=auth,
            verify=verify,
            transport=transport,
        )
        self._sleep = async_sleep or DEFAULT_ASYNC_SLEEP
        self._http = httpx.AsyncClient(**options)

    # ------------------------------------------------------------------------------------------ lifecycle

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self: C) -> C:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    # ------------------------------------------------------------------------------------------- sending

    def _retries(self, call: ApiCall[Any]) -> CallRetries:
        return CallRetries(
            call.method,
            call.path,
            self.retry,
            clock=self._clock,
            rng=self._rng,
            on_retry=self._count_retry,
            repeatable=call.repeatable,
        )

    def _count_retry(self) -> None:
        self.retry_count += 1

    def _request_options(self, call: ApiCall[Any], retries: CallRetries) -> dict[str, Any]:
        timeout = retries.attempt_timeout(self._timeout)
        return {
            "params": call.params,
            "content": call.body,
            "headers": JSON_HEADERS if call.body is not None else None,
            "timeout": httpx.USE_CLIENT_DEFAULT if timeout is None else timeout,
        }

    def _parse(self, call: ApiCall[T], response: httpx.Response) -> T:
        result = call.parse(response.content)
        if isinstance(result, UnparsedReply):
            # Applied but unreadable: say so once, without the body (it may echo sample data).
            log.warning(
                "%s %s was applied (HTTP %d) but its reply did not match the documented shape; the raw "
                "reply is kept on the result (%s).",
                call.method,
                call.path,
                response.status_code,
                "; ".join(result.parse_problems[:3]),
            )
        return result

    async def _send(self, call: ApiCall[Any]) -> httpx.Response:
        """One call with its retries. The first attempt is made directly (the usual call needs no retry,
        and tenacity's machinery cost a fifth of a bulk batch's client time); when it fails, tenacity takes
        over and judges that failure as its own first attempt, so every decision is :class:`CallRetries`'."""
        retries = self._retries(call)
        try:
            return await self._attempt(call, retries)
        except Exception as exc:
            first: Exception | None = exc

        async def attempt() -> httpx.Response:
            nonlocal first
            if first is not None:
                error, first = first, None
                raise error
            return await self._attempt(call, retries)

        retrying = AsyncRetrying(sleep=self._sleep, **retries.tenacity_options())
        response: httpx.Response = await retrying(attempt)
        return response

    async def _attempt(self, call: ApiCall[Any], retries: CallRetries) -> httpx.Response:
        try:
            response = await self._http.request(
                call.method, call.path, **self._request_options(call, retries)
            )
        except httpx.TransportError as exc:
            raise ModelArtsTransportError(
                method=call.method, path=call.path, cause=exc, attempts=retries.attempt
            ) from exc
        if response.is_success:
            return response
        error = error_from_response(response)
        if isinstance(error, ModelArtsThrottledError):
            self.throttle_count += 1  # bulk runs slow down when this grows (bulk/concurrency.py)
        raise error

    async def _call(self, call: ApiCall[T]) -> T:
        return self._parse(call, await self._send(call))

    async def _pages(
        self,
        build: Callable[[int], ApiCall[P]],
        pager: Pager[ItemT],
        read: Callable[[P], tuple[Sequence[ItemT] | None, object]],
    ) -> AsyncIterator[ItemT]:
        """Walk a list page by page, pass after pass, until the pager is done; ``read`` gives a page's items
        and its documented count. A walk it cannot prove complete raises or warns at the end (_paging.py)."""
        while not pager.done:
            items, total = read(await self._call(build(pager.offset)))
            for item in pager.accept_counted(items, total):
                yield item
        pager.finish()

    async def send_raw(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | Sequence[tuple[str, Any]] | None = None,
        json_body: bytes | Any = None,
    ) -> httpx.Response:
        """Any request through the same auth, retry and error mapping; returns the successful response.

        ``path`` is relative to the base URL and sent as given (percent-encode ids yourself); ``json_body`` is
        bytes sent unchanged, or any JSON-serialisable value / pydantic model, serialised once.
        """
        return await self._send(req.raw_call(method, path, params=params, body=json_body))
