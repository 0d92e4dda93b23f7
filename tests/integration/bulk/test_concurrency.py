"""Adaptive concurrency against the emulator: a request limit, network-like latency, fast failures, and a
service that refuses everything.

What is asserted holds whatever the timing: every sample is added exactly once (or fails, and then is
counted as failed), every throttled answer the emulator gave is counted in the operator's result, the
concurrency stays within its bounds, and how many requests were in flight when each was sent (counts, not
seconds). How many answers are throttled, and how fast, depends on timing and is measured in ``bench/``.
"""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest
from retry_policies import FAST_RETRY

from airflow_provider_modelarts.bulk.planning import DEFAULT_MAX_CONCURRENCY
from airflow_provider_modelarts.bulk.sending import REFUSAL_BUDGET
from airflow_provider_modelarts.client import AsyncModelArtsClient, RetryPolicy
from airflow_provider_modelarts.errors import ModelArtsServiceRefusingError
from airflow_provider_modelarts.hooks.modelarts import ModelArtsHook
from airflow_provider_modelarts.operators.samples import AddSamplesOperator
from integration._helpers import InFlightCounter
from modelarts_emulator.seed import DEFAULT_DATASET_ID as DS
from modelarts_emulator.testing import EmulatorServer

pytestmark = pytest.mark.usefixtures("modelarts_conn_env")


def _samples(count: int) -> list[dict[str, Any]]:
    return [
        {"name": f"adapt-{i:05d}.jpg", "sample_type": 0, "data": base64.b64encode(b"x%d" % i).decode()}
        for i in range(count)
    ]


def _throttled(emulator: EmulatorServer) -> int:
    return int(emulator.admin.stats()["routes"].get("add_samples", {}).get("throttled", 0))


def test_a_run_against_a_request_limit_adds_everything_once_and_counts_the_throttled_answers(
    emulator: EmulatorServer, in_flight: InFlightCounter
) -> None:
    emulator.admin.configure(throttle_concurrency=2)
    emulator.admin.faults(latency_ms=20)
    emulator.admin.reset_stats()
    op = AddSamplesOperator(
        task_id="add", dataset_id=DS, samples=_samples(600), batch_size=20, client_retry=FAST_RETRY
    )
    result = op.execute(context={})
    names = [s["sample_name"] for s in emulator.admin.samples(DS) if s["sample_name"].startswith("adapt-")]
    assert sorted(names) == [f"adapt-{i:05d}.jpg" for i in range(600)]  # all there, none twice
    assert result["added"] == 600 and result["failed"] == 0
    assert result["throttled"] == _throttled(emulator)  # the client saw every 429 the emulator sent
    assert 1 <= result["peak_concurrency"] <= 16 and in_flight.peak <= 16


def test_a_pinned_concurrency_sends_exactly_that_many_at_a_time(
    emulator: EmulatorServer, in_flight: InFlightCounter
) -> None:
    emulator.admin.faults(latency_ms=20)
    op = AddSamplesOperator(
        task_id="add",
        dataset_id=DS,
        samples=_samples(200),
        batch_size=20,
        max_concurrency=3,
        adaptive_concurrency=False,
        client_retry=FAST_RETRY,
    )
    result = op.execute(context={})
    assert result["added"] == 200 and result["peak_concurrency"] == 3 == in_flight.peak


class _InFlightAtSend(httpx.AsyncBaseTransport):
    """A real transport noting, for each add-samples request, how many were in flight when it was sent."""

    def __init__(self) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self.in_flight = 0
        self.seen: list[int] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.in_flight += 1
        if request.method == "POST" and request.url.path.endswith("/samples"):
            self.seen.append(self.in_flight)
        try:
            response = await self._inner.handle_async_request(request)
            await response.aread()
            return response
        finally:
            self.in_flight -= 1

    async def aclose(self) -> None:
        await self._inner.aclose()


@pytest.fixture
def at_send(monkeypatch: pytest.MonkeyPatch) -> _InFlightAtSend:
    """Every async client of the test through one :class:`_InFlightAtSend`, keeping the task's retry policy
    (the autouse ``in_flight`` fixture would force its own)."""
    transport = _InFlightAtSend()

    class CountingClient(AsyncModelArtsClient):
        def __init__(self, **kwargs: Any) -> None:
            kwargs["transport"] = transport
            super().__init__(**kwargs)

    monkeypatch.setattr(ModelArtsHook, "async_client_class", CountingClient)
    return transport


def _added(emulator: EmulatorServer) -> list[str]:
    return sorted(
        s["sample_name"] for s in emulator.admin.samples(DS) if s["sample_name"].startswith("adapt-")
    )


def test_network_like_latency_over_http_adds_every_sample_once_within_the_bounds(
    emulator: EmulatorServer, at_send: _InFlightAtSend
) -> None:
    """Lognormal jitter of sigma 0.5 on every answer and no limit: every sample is added once, nothing is
    throttled, and the requests in flight stay within 1..max_concurrency. How close to max_concurrency the
    run stays depends on how the answers' times fall on this machine (an asserted median failed once in four
    runs on a busy 2-core machine), so that claim is proven with a virtual clock by
    ``tests/unit/bulk/test_concurrency.py::test_without_a_limit_jitter_sizes_and_fast_failures_keep_it_near_pinned_max_concurrency``
    and measured by ``make bench`` (the jitter rows)."""
    assert emulator.admin.configure(latency_jitter_sigma=0.5)["latency_jitter_sigma"] == 0.5
    emulator.admin.faults(latency_ms=30)
    op = AddSamplesOperator(
        task_id="add", dataset_id=DS, samples=_samples(1200), batch_size=10, client_retry=FAST_RETRY
    )
    result = op.execute(context={})
    assert _added(emulator) == [f"adapt-{i:05d}.jpg" for i in range(1200)]
    assert result["added"] == 1200 and result["throttled"] == 0
    assert min(at_send.seen) >= 1
    assert max(at_send.seen) == result["peak_concurrency"] <= DEFAULT_MAX_CONCURRENCY


def test_batches_failing_fast_do_not_drag_the_concurrency_down(
    emulator: EmulatorServer, at_send: _InFlightAtSend
) -> None:
    """5% of the batches answered 500 at once (no retries): they fail and are counted, each sample is
    added once or counted failed, never both. That their instant answers do not drag the concurrency
    down is timing (asserted with a virtual clock in the unit simulation named above, and measured in
    ``make bench``)."""
    emulator.admin.faults(
        {"latency_ms": 30}, {"route": "add_samples", "status": 500, "immediate": True, "rate": 0.05}
    )
    op = AddSamplesOperator(
        task_id="add",
        dataset_id=DS,
        samples=_samples(1200),
        batch_size=10,
        on_failure="warn",
        client_retry=RetryPolicy(max_attempts=1),
    )
    result = op.execute(context={})
    faulted = emulator.admin.stats()["routes"]["add_samples"]["faulted"]
    assert faulted >= 1  # the rule fired (about 6 of 120 batches)
    assert result["failed"] == 10 * faulted and result["added"] == 1200 - 10 * faulted
    assert len(_added(emulator)) == result["added"]  # each added once, the failed ones not at all
    assert max(at_send.seen) <= DEFAULT_MAX_CONCURRENCY


@pytest.mark.parametrize("status", [429, 500, 503])
def test_a_service_refusing_everything_stops_the_run_early_with_a_retryable_error(
    emulator: EmulatorServer, in_flight: InFlightCounter, status: int
) -> None:
    emulator.admin.faults(route="add_samples", status=status, retry_after=None)
    emulator.admin.reset_stats()
    op = AddSamplesOperator(
        task_id="add", dataset_id=DS, samples=_samples(2000), batch_size=10, client_retry=FAST_RETRY
    )
    with pytest.raises(ModelArtsServiceRefusingError) as info:
        op.execute(context={})
    error = info.value
    requests = emulator.admin.stats()["routes"]["add_samples"]["requests"]
    attempts = FAST_RETRY.max_attempts
    # Not the 200 batches: the budget, and those in flight when it ran out (at most 4: a run starts there).
    assert requests <= (REFUSAL_BUDGET + 3) * attempts and requests % attempts == 0
    assert (error.applied, error.not_sent) == (0, 2000 - error.failed)
    assert error.failed == 10 * requests // attempts  # each batch sent once (its attempts aside)
    assert _added(emulator) == []
    assert error.is_transient  # not an AirflowFailException: Airflow retries the task
    assert f"HTTP {status}" in str(error)
