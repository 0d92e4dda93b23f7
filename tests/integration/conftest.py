"""Fixtures of the operator tests: run operators against the emulator over real HTTP.

The hook's client classes (``client_class`` / ``async_client_class``) are swapped for subclasses that only
change two things: retries back off in milliseconds instead of seconds (so fault-injection tests stay fast),
and async requests go through a real HTTP transport that records how many were in flight at once
(``in_flight`` fixture).
"""

from __future__ import annotations

from typing import Any

import pytest
from retry_policies import FAST_RETRY

from airflow_provider_modelarts.client import AsyncModelArtsClient, ModelArtsClient
from airflow_provider_modelarts.hooks.modelarts import ModelArtsHook
from integration._helpers import InFlightCounter


@pytest.fixture(autouse=True)
def in_flight(monkeypatch: pytest.MonkeyPatch) -> InFlightCounter:
    counter = InFlightCounter()

    class TestAsyncClient(AsyncModelArtsClient):
        def __init__(self, **kwargs: Any) -> None:
            kwargs["transport"] = counter.transport()
            kwargs["retry"] = FAST_RETRY
            super().__init__(**kwargs)

    class TestClient(ModelArtsClient):
        def __init__(self, **kwargs: Any) -> None:
            kwargs["retry"] = FAST_RETRY
            super().__init__(**kwargs)

    monkeypatch.setattr(ModelArtsHook, "async_client_class", TestAsyncClient)
    monkeypatch.setattr(ModelArtsHook, "client_class", TestClient)
    return counter
