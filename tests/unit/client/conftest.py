"""Fixtures of the client unit tests: a fake clock, respx at the service's base URL, a sync client on both."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import respx

from airflow_provider_modelarts.client import ModelArtsClient
from unit.client._helpers import BASE, FakeClock, make_client


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def client_api() -> Iterator[respx.MockRouter]:
    """respx at ``BASE`` (paths relative to it); routes a test does not call are fine."""
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        yield router


@pytest.fixture
def client(clock: FakeClock) -> Iterator[ModelArtsClient]:
    with make_client(clock) as c:
        yield c
