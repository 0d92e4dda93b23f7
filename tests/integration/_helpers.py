"""Helpers of the operator integration tests (imported by name: pytest puts this folder on sys.path)."""

from __future__ import annotations

from typing import Any

import httpx


class InFlightCounter:
    """Counts requests, and the most that were in flight at once, over every client of a test."""

    def __init__(self) -> None:
        self.in_flight = 0
        self.peak = 0
        self.requests = 0

    def transport(self) -> httpx.AsyncBaseTransport:
        return _CountingTransport(self)


class _CountingTransport(httpx.AsyncBaseTransport):
    """A real HTTP transport reporting to an :class:`InFlightCounter`."""

    def __init__(self, counter: InFlightCounter) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self._counter = counter

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        counter = self._counter
        counter.in_flight += 1
        counter.requests += 1
        counter.peak = max(counter.peak, counter.in_flight)
        try:
            response = await self._inner.handle_async_request(request)
            await response.aread()
            return response
        finally:
            counter.in_flight -= 1

    async def aclose(self) -> None:
        await self._inner.aclose()


def names(samples: list[dict[str, Any]]) -> list[str]:
    return sorted(s["sample_name"] for s in samples)


class StateStore:
    """``context["task_state_store"]`` of one task instance (Airflow 3.3+): JSON values kept across tries."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def set(self, key: str, value: Any) -> None:
        self.values[key] = value
