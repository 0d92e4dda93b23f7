"""Typed HTTP clients for the ModelArts data-labeling API (sync and async).

The client owns everything HTTP: base URL, connection pool, timeouts, retries and error mapping. Request
building and response parsing are shared with the async client through ``_requests``; only the send/sleep
loop is written twice. No Airflow import here, so the client is usable as a plain library and in the emulator
tests.

Retry semantics (both clients):

* Retried: HTTP 429, 408 and 5xx, ``ModelArts.6101`` ("system busy") whatever its status, and transport
  errors (connect/read failures, timeouts). Other 4xx are raised at once: sending the same request again would
  fail the same way.
* Delay: ``Retry-After`` when the service sends it (seconds or an HTTP date), otherwise exponential backoff
  with full jitter (``uniform(0, min(backoff_max, backoff_base * 2**(retry-1)))``).
* Budget: at most ``max_attempts`` attempts and never past ``deadline`` seconds from the start of the call: if
  the next delay would end after the deadline, the last error is raised instead of sleeping.
* Non-idempotent calls are retried too. ``add_samples`` (POST) may therefore reach the service twice when an
  answer is lost; the second attempt then reports ``ModelArts.4422`` (sample already exists) for samples the
  first attempt stored, which the operators treat as success. ``start_acceptance`` likewise answers
  ``ModelArts.4623`` (task already being checked), which the operators handle.
"""

from __future__ import annotations

import functools
import logging
import os
import random
import re
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from types import TracebackType
from typing import Any, TypeVar

import anyio
import httpx

from airflow_provider_modelarts import __version__
from airflow_provider_modelarts import _requests as req
from airflow_provider_modelarts.errors import (
    ModelArtsAPIError,
    ModelArtsConfigError,
    ModelArtsThrottledError,
    ModelArtsTransportError,
    error_from_response,
    parse_retry_after,
)
from airflow_provider_modelarts.models import (
    AcceptanceAction,
    AcceptanceReport,
    BatchResponse,
    CreateWorkforceSamplingTaskResponse,
    DescribeSampleResp,
    LabelFormat,
    ListSamplesResponse,
    Sample,
    SampleLabels,
    UpdateAcceptanceStatusResponse,
    UploadSamplesResponse,
    WorkforceTask,
)

__all__ = [
    "AsyncModelArtsClient",
    "ModelArtsClient",
    "RetryPolicy",
    "resolve_endpoint",
]

log = logging.getLogger("airflow_provider_modelarts.client")

T = TypeVar("T")

#: Regions served from Open Telekom Cloud rather than Huawei Cloud.
OTC_REGIONS = frozenset({"eu-de", "eu-nl", "eu-ch2"})
_REGION_RE = re.compile(r"^[a-z]{2,}(-[a-z0-9]+)+$")
_USER_AGENT = f"airflow-provider-modelarts/{__version__} httpx/{httpx.__version__}"


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try before giving up; see the module docstring for the exact rules.

    ``max_attempts`` counts the first attempt (1 disables retries); ``deadline`` is the total wall time in
    seconds one client call may spend, including sleeps.
    """

    max_attempts: int = 6
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    deadline: float = 300.0
    jitter: bool = True

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ModelArtsConfigError(
                f"RetryPolicy.max_attempts must be at least 1, got {self.max_attempts}"
            )
        if self.backoff_base < 0 or self.backoff_max < 0:
            raise ModelArtsConfigError("RetryPolicy backoff values must not be negative")
        if self.deadline <= 0:
            raise ModelArtsConfigError(f"RetryPolicy.deadline must be positive, got {self.deadline}")

    def backoff(self, retry: int, rng: random.Random) -> float:
        """Delay before retry number ``retry`` (1-based) when the server gave no ``Retry-After``."""
        ceiling = min(self.backoff_max, self.backoff_base * (2.0 ** (retry - 1)))
        return rng.uniform(0.0, ceiling) if self.jitter else ceiling


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


def _is_retryable_transport_error(exc: httpx.TransportError) -> bool:
    # A URL with an unsupported scheme will fail the same way every time.
    return not isinstance(exc, httpx.UnsupportedProtocol)


def _is_retryable_status(status: int, error: ModelArtsAPIError) -> bool:
    return status in (408, 429) or status >= 500 or isinstance(error, ModelArtsThrottledError)


class _Attempts:
    """Book-keeping for one call's retries; decides the next delay or raises the error that ends the call.

    Created only after a first failure, so the success path pays for nothing but one clock read.
    """

    __slots__ = ("_clock", "_rng", "attempt", "call", "policy", "started")

    def __init__(
        self,
        call: req.ApiCall[Any],
        policy: RetryPolicy,
        clock: Callable[[], float],
        rng: random.Random,
        started: float,
    ) -> None:
        self.call = call
        self.policy = policy
        self._clock = clock
        self._rng = rng
        self.started = started
        self.attempt = 0

    def remaining(self) -> float:
        return self.policy.deadline - (self._clock() - self.started)

    def after_response(self, response: httpx.Response) -> float:
        error = error_from_response(response)
        if not _is_retryable_status(response.status_code, error):
            raise error
        if isinstance(error, ModelArtsThrottledError):
            retry_after = error.retry_after
        else:  # 503 often carries Retry-After too
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
        reason = f"HTTP {response.status_code}" + (f" {error.error_code}" if error.error_code else "")
        return self._next_delay(error, None, retry_after, reason)

    def after_exception(self, exc: httpx.TransportError) -> float:
        error = ModelArtsTransportError(
            method=self.call.method, path=self.call.path, cause=exc, attempts=self.attempt + 1
        )
        if not _is_retryable_transport_error(exc):
            raise error from exc
        return self._next_delay(error, exc, None, type(exc).__name__)

    def _next_delay(
        self, error: Exception, cause: BaseException | None, retry_after: float | None, reason: str
    ) -> float:
        self.attempt += 1
        if self.attempt >= self.policy.max_attempts:
            raise error from cause
        delay = retry_after if retry_after is not None else self.policy.backoff(self.attempt, self._rng)
        if delay > self.remaining():
            raise error from cause
        log.warning(
            "Retrying %s %s (attempt %d of %d) in %.2fs after %s.",
            self.call.method,
            self.call.path,
            self.attempt + 1,
            self.policy.max_attempts,
            delay,
            reason,
        )
        return delay


def _ssl_verify(verify: bool | str | ssl.SSLContext) -> bool | ssl.SSLContext:
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


class _BaseClient:
    """Configuration and request building shared by both clients."""

    project_id: str
    base_url: str
    retry: RetryPolicy
    retry_count: int

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
    ) -> dict[str, Any]:
        if not isinstance(project_id, str) or not project_id.strip():
            raise ModelArtsConfigError("project_id is required (the ModelArts project id of the region)")
        if max_connections < 1:
            raise ModelArtsConfigError(f"max_connections must be at least 1, got {max_connections}")
        self.project_id = project_id
        self.base_url = resolve_endpoint(region, endpoint)
        self.retry = retry or RetryPolicy()
        self.retry_count = 0
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
        }

    def _attempt_timeout(self, attempts: _Attempts | None) -> httpx.Timeout | None:
        """A shorter timeout for a retry that would otherwise outlive the deadline; None keeps the default."""
        if attempts is None:
            return None
        remaining = max(attempts.remaining(), 0.001)
        configured = self._timeout.read
        if configured is not None and configured <= remaining:
            return None
        return httpx.Timeout(remaining)

    def __repr__(self) -> str:
        # Only what identifies the target; never the auth object, headers or tokens.
        return f"{type(self).__name__}(project_id={self.project_id!r}, base_url={self.base_url!r})"


def _parse(call: req.ApiCall[T], response: httpx.Response) -> T:
    return call.parse(response.content)


class ModelArtsClient(_BaseClient):
    """Synchronous client. Thread-safe for concurrent calls (httpx.Client is); close it when done.

    ``sleep``, ``clock`` and ``rng`` exist so tests and callers with their own scheduling can control time.
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
        transport: httpx.BaseTransport | None = None,
        headers: Mapping[str, str] | None = None,
        sleep: Callable[[float], None] | None = None,
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
        )
        self._sleep = sleep or time.sleep
        self._http = httpx.Client(auth=auth, verify=_ssl_verify(verify), transport=transport, **options)

    # ------------------------------------------------------------------------------------------ lifecycle

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ModelArtsClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # ------------------------------------------------------------------------------------------- sending

    def _send(self, call: req.ApiCall[Any]) -> httpx.Response:
        started = self._clock()
        attempts: _Attempts | None = None
        headers = req.JSON_HEADERS if call.body is not None else None
        while True:
            timeout = self._attempt_timeout(attempts)
            try:
                if timeout is None:
                    response = self._http.request(
                        call.method, call.path, params=call.params, content=call.body, headers=headers
                    )
                else:
                    response = self._http.request(
                        call.method,
                        call.path,
                        params=call.params,
                        content=call.body,
                        headers=headers,
                        timeout=timeout,
                    )
            except httpx.TransportError as exc:
                attempts = attempts or _Attempts(call, self.retry, self._clock, self._rng, started)
                delay = attempts.after_exception(exc)
            else:
                if response.is_success:
                    return response
                attempts = attempts or _Attempts(call, self.retry, self._clock, self._rng, started)
                delay = attempts.after_response(response)
            self.retry_count += 1
            self._sleep(delay)

    def _call(self, call: req.ApiCall[T]) -> T:
        return _parse(call, self._send(call))

    def send_raw(
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
        return self._send(req.raw_call(method, path, params=params, body=json_body))

    # --------------------------------------------------------------------------------------- API methods

    def add_samples(
        self,
        dataset_id: str,
        samples: Sequence[Sample | Mapping[str, Any]],
        *,
        final_annotation: bool | None = None,
        label_format: LabelFormat | Mapping[str, Any] | None = None,
    ) -> UploadSamplesResponse:
        """Add samples to a dataset (one POST; per-sample failures come back in ``results``, not as errors).

        Mappings are validated into :class:`Sample` first and every invalid sample is reported together
        (``SampleValidationError``) before anything is sent.
        """
        return self._call(
            req.add_samples(
                self.project_id,
                dataset_id,
                samples,
                final_annotation=final_annotation,
                label_format=label_format,
            )
        )

    def update_samples(
        self,
        dataset_id: str,
        samples: Sequence[SampleLabels | Mapping[str, Any]],
        *,
        email: str | None = None,
    ) -> BatchResponse:
        """Replace the labels of dataset samples; a sample with ``labels=[]`` loses all its labels."""
        return self._call(req.update_samples(self.project_id, dataset_id, samples, email=email))

    def update_workforce_task_samples(
        self,
        dataset_id: str,
        workforce_task_id: str,
        samples: Sequence[SampleLabels | Mapping[str, Any]],
        *,
        email: str | None = None,
    ) -> BatchResponse:
        """Replace labels of samples inside a team labeling task (as reviewer/owner ``email``, if given)."""
        return self._call(
            req.update_workforce_task_samples(
                self.project_id, dataset_id, workforce_task_id, samples, email=email
            )
        )

    def update_acceptance_status(
        self,
        dataset_id: str,
        workforce_task_id: str,
        action: AcceptanceAction | int | str,
        *,
        overwrite_last_result: bool | None = None,
        locale: str = "en-us",
    ) -> UpdateAcceptanceStatusResponse:
        """Finish (or cancel) a team labeling task's acceptance; ``action`` may be a name like "pass_all"."""
        return self._call(
            req.update_acceptance_status(
                self.project_id,
                dataset_id,
                workforce_task_id,
                action,
                overwrite_last_result=overwrite_last_result,
                locale=locale,
            )
        )

    def start_acceptance(
        self,
        dataset_id: str,
        workforce_task_id: str,
        *,
        sampling_rate: float | None = None,
        sampling_num: int | None = None,
        **extra: Any,
    ) -> CreateWorkforceSamplingTaskResponse:
        """Start acceptance sampling of a team labeling task; returns the checking task id."""
        return self._call(
            req.start_acceptance(
                self.project_id,
                dataset_id,
                workforce_task_id,
                sampling_rate=sampling_rate,
                sampling_num=sampling_num,
                **extra,
            )
        )

    def get_workforce_task(
        self,
        dataset_id: str,
        workforce_task_id: str,
        *,
        sample_stats: bool | None = None,
        label_stats: bool | None = None,
        workforce_stats: bool | None = None,
    ) -> WorkforceTask:
        """Team labeling task details; the ``*_stats`` flags ask the service to include those statistics."""
        return self._call(
            req.get_workforce_task(
                self.project_id,
                dataset_id,
                workforce_task_id,
                sample_stats=sample_stats,
                label_stats=label_stats,
                workforce_stats=workforce_stats,
            )
        )

    def get_acceptance_report(
        self, dataset_id: str, workforce_task_id: str, checking_task_id: str | None = None
    ) -> AcceptanceReport:
        """Acceptance statistics; without ``checking_task_id`` the service reports the current acceptance."""
        return self._call(
            req.get_acceptance_report(self.project_id, dataset_id, workforce_task_id, checking_task_id)
        )

    def list_samples(
        self,
        dataset_id: str,
        *,
        sample_state: str | Enum | None = None,
        limit: int = 100,
        offset: int = 0,
        **filters: Any,
    ) -> ListSamplesResponse:
        """One page of a dataset's samples (``offset`` is the page number, see :meth:`iter_samples`)."""
        return self._call(
            req.list_samples(
                self.project_id, dataset_id, sample_state=sample_state, limit=limit, offset=offset, **filters
            )
        )

    def iter_samples(
        self, dataset_id: str, *, sample_state: str | Enum | None = None, page_size: int = 100, **filters: Any
    ) -> Iterator[DescribeSampleResp]:
        """Every sample matching the filters, fetched page by page as the iterator is consumed.

        Arguments are checked now, not at the first ``next()``, so a typo fails where it is made.
        """
        build = functools.partial(
            req.list_samples,
            self.project_id,
            dataset_id,
            sample_state=sample_state,
            limit=page_size,
            **filters,
        )
        pager = req.SamplePager(page_size)
        build(offset=0)  # check the filters now
        return self._pages(build, pager)

    def _pages(
        self, build: Callable[..., req.ApiCall[ListSamplesResponse]], pager: req.SamplePager
    ) -> Iterator[DescribeSampleResp]:
        while not pager.done:
            yield from pager.accept(self._call(build(offset=pager.offset)))

    def list_workforce_task_samples(
        self,
        dataset_id: str,
        workforce_task_id: str,
        *,
        sample_state: str | Enum | None = None,
        limit: int = 100,
        offset: int = 0,
        **filters: Any,
    ) -> ListSamplesResponse:
        """One page of a team labeling task's samples (``offset`` is the page number)."""
        return self._call(
            req.list_workforce_task_samples(
                self.project_id,
                dataset_id,
                workforce_task_id,
                sample_state=sample_state,
                limit=limit,
                offset=offset,
                **filters,
            )
        )

    def iter_workforce_task_samples(
        self,
        dataset_id: str,
        workforce_task_id: str,
        *,
        sample_state: str | Enum | None = None,
        page_size: int = 100,
        **filters: Any,
    ) -> Iterator[DescribeSampleResp]:
        """Every sample of a team labeling task matching the filters, fetched page by page."""
        build = functools.partial(
            req.list_workforce_task_samples,
            self.project_id,
            dataset_id,
            workforce_task_id,
            sample_state=sample_state,
            limit=page_size,
            **filters,
        )
        pager = req.SamplePager(page_size)
        build(offset=0)  # check the filters now
        return self._pages(build, pager)

    def list_datasets(self, *, limit: int = 1) -> dict[str, Any]:
        """The raw dataset list; with ``limit=1`` the cheapest authenticated call (for connection tests)."""
        return self._call(req.list_datasets(self.project_id, limit=limit))


class AsyncModelArtsClient(_BaseClient):
    """Asynchronous client with the same methods as :class:`ModelArtsClient` (for triggers and async code).

    Works under asyncio and trio (sleeps through anyio). ``async_sleep``, ``clock`` and ``rng`` exist so tests
    can control time.
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
        async_sleep: Callable[[float], Awaitable[Any]] | None = None,
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
        )
        self._sleep = async_sleep or anyio.sleep
        self._http = httpx.AsyncClient(auth=auth, verify=_ssl_verify(verify), transport=transport, **options)

    # ------------------------------------------------------------------------------------------ lifecycle

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncModelArtsClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    # ------------------------------------------------------------------------------------------- sending

    async def _send(self, call: req.ApiCall[Any]) -> httpx.Response:
        started = self._clock()
        attempts: _Attempts | None = None
        headers = req.JSON_HEADERS if call.body is not None else None
        while True:
            timeout = self._attempt_timeout(attempts)
            try:
                if timeout is None:
                    response = await self._http.request(
                        call.method, call.path, params=call.params, content=call.body, headers=headers
                    )
                else:
                    response = await self._http.request(
                        call.method,
                        call.path,
                        params=call.params,
                        content=call.body,
                        headers=headers,
                        timeout=timeout,
                    )
            except httpx.TransportError as exc:
                attempts = attempts or _Attempts(call, self.retry, self._clock, self._rng, started)
                delay = attempts.after_exception(exc)
            else:
                if response.is_success:
                    return response
                attempts = attempts or _Attempts(call, self.retry, self._clock, self._rng, started)
                delay = attempts.after_response(response)
            self.retry_count += 1
            await self._sleep(delay)

    async def _call(self, call: req.ApiCall[T]) -> T:
        return _parse(call, await self._send(call))

    async def send_raw(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | Sequence[tuple[str, Any]] | None = None,
        json_body: bytes | Any = None,
    ) -> httpx.Response:
        """See :meth:`ModelArtsClient.send_raw`."""
        return await self._send(req.raw_call(method, path, params=params, body=json_body))

    # --------------------------------------------------------------------------------------- API methods

    async def add_samples(
        self,
        dataset_id: str,
        samples: Sequence[Sample | Mapping[str, Any]],
        *,
        final_annotation: bool | None = None,
        label_format: LabelFormat | Mapping[str, Any] | None = None,
    ) -> UploadSamplesResponse:
        """See :meth:`ModelArtsClient.add_samples`."""
        return await self._call(
            req.add_samples(
                self.project_id,
                dataset_id,
                samples,
                final_annotation=final_annotation,
                label_format=label_format,
            )
        )

    async def update_samples(
        self,
        dataset_id: str,
        samples: Sequence[SampleLabels | Mapping[str, Any]],
        *,
        email: str | None = None,
    ) -> BatchResponse:
        """See :meth:`ModelArtsClient.update_samples`."""
        return await self._call(req.update_samples(self.project_id, dataset_id, samples, email=email))

    async def update_workforce_task_samples(
        self,
        dataset_id: str,
        workforce_task_id: str,
        samples: Sequence[SampleLabels | Mapping[str, Any]],
        *,
        email: str | None = None,
    ) -> BatchResponse:
        """See :meth:`ModelArtsClient.update_workforce_task_samples`."""
        return await self._call(
            req.update_workforce_task_samples(
                self.project_id, dataset_id, workforce_task_id, samples, email=email
            )
        )

    async def update_acceptance_status(
        self,
        dataset_id: str,
        workforce_task_id: str,
        action: AcceptanceAction | int | str,
        *,
        overwrite_last_result: bool | None = None,
        locale: str = "en-us",
    ) -> UpdateAcceptanceStatusResponse:
        """See :meth:`ModelArtsClient.update_acceptance_status`."""
        return await self._call(
            req.update_acceptance_status(
                self.project_id,
                dataset_id,
                workforce_task_id,
                action,
                overwrite_last_result=overwrite_last_result,
                locale=locale,
            )
        )

    async def start_acceptance(
        self,
        dataset_id: str,
        workforce_task_id: str,
        *,
        sampling_rate: float | None = None,
        sampling_num: int | None = None,
        **extra: Any,
    ) -> CreateWorkforceSamplingTaskResponse:
        """See :meth:`ModelArtsClient.start_acceptance`."""
        return await self._call(
            req.start_acceptance(
                self.project_id,
                dataset_id,
                workforce_task_id,
                sampling_rate=sampling_rate,
                sampling_num=sampling_num,
                **extra,
            )
        )

    async def get_workforce_task(
        self,
        dataset_id: str,
        workforce_task_id: str,
        *,
        sample_stats: bool | None = None,
        label_stats: bool | None = None,
        workforce_stats: bool | None = None,
    ) -> WorkforceTask:
        """See :meth:`ModelArtsClient.get_workforce_task`."""
        return await self._call(
            req.get_workforce_task(
                self.project_id,
                dataset_id,
                workforce_task_id,
                sample_stats=sample_stats,
                label_stats=label_stats,
                workforce_stats=workforce_stats,
            )
        )

    async def get_acceptance_report(
        self, dataset_id: str, workforce_task_id: str, checking_task_id: str | None = None
    ) -> AcceptanceReport:
        """See :meth:`ModelArtsClient.get_acceptance_report`."""
        return await self._call(
            req.get_acceptance_report(self.project_id, dataset_id, workforce_task_id, checking_task_id)
        )

    async def list_samples(
        self,
        dataset_id: str,
        *,
        sample_state: str | Enum | None = None,
        limit: int = 100,
        offset: int = 0,
        **filters: Any,
    ) -> ListSamplesResponse:
        """See :meth:`ModelArtsClient.list_samples`."""
        return await self._call(
            req.list_samples(
                self.project_id, dataset_id, sample_state=sample_state, limit=limit, offset=offset, **filters
            )
        )

    def iter_samples(
        self, dataset_id: str, *, sample_state: str | Enum | None = None, page_size: int = 100, **filters: Any
    ) -> AsyncIterator[DescribeSampleResp]:
        """See :meth:`ModelArtsClient.iter_samples` (use with ``async for``)."""
        build = functools.partial(
            req.list_samples,
            self.project_id,
            dataset_id,
            sample_state=sample_state,
            limit=page_size,
            **filters,
        )
        pager = req.SamplePager(page_size)
        build(offset=0)  # check the filters now
        return self._pages(build, pager)

    async def _pages(
        self, build: Callable[..., req.ApiCall[ListSamplesResponse]], pager: req.SamplePager
    ) -> AsyncIterator[DescribeSampleResp]:
        while not pager.done:
            for sample in pager.accept(await self._call(build(offset=pager.offset))):
                yield sample

    async def list_workforce_task_samples(
        self,
        dataset_id: str,
        workforce_task_id: str,
        *,
        sample_state: str | Enum | None = None,
        limit: int = 100,
        offset: int = 0,
        **filters: Any,
    ) -> ListSamplesResponse:
        """See :meth:`ModelArtsClient.list_workforce_task_samples`."""
        return await self._call(
            req.list_workforce_task_samples(
                self.project_id,
                dataset_id,
                workforce_task_id,
                sample_state=sample_state,
                limit=limit,
                offset=offset,
                **filters,
            )
        )

    def iter_workforce_task_samples(
        self,
        dataset_id: str,
        workforce_task_id: str,
        *,
        sample_state: str | Enum | None = None,
        page_size: int = 100,
        **filters: Any,
    ) -> AsyncIterator[DescribeSampleResp]:
        """See :meth:`ModelArtsClient.iter_workforce_task_samples` (use with ``async for``)."""
        build = functools.partial(
            req.list_workforce_task_samples,
            self.project_id,
            dataset_id,
            workforce_task_id,
            sample_state=sample_state,
            limit=page_size,
            **filters,
        )
        pager = req.SamplePager(page_size)
        build(offset=0)  # check the filters now
        return self._pages(build, pager)

    async def list_datasets(self, *, limit: int = 1) -> dict[str, Any]:
        """See :meth:`ModelArtsClient.list_datasets`."""
        return await self._call(req.list_datasets(self.project_id, limit=limit))
