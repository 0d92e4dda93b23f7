"""Fixtures shared by unit test modules (only the network edge is ever mocked, with respx)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import respx

from unit._helpers import AK, ENDPOINT, PROJECT, SK, FakeService


@pytest.fixture
def service(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeService]:
    conn = {"conn_type": "modelarts", "login": AK, "password": SK}
    conn["extra"] = {"project_id": PROJECT, "endpoint": ENDPOINT}  # type: ignore[assignment]
    monkeypatch.setenv("AIRFLOW_CONN_MODELARTS_DEFAULT", json.dumps(conn))
    with respx.mock(assert_all_called=False) as router:
        yield FakeService(router)


@pytest.fixture
def mock_router() -> Iterator[respx.MockRouter]:
    """respx at the network edge; routes a test does not call are fine (not every test uses all of them)."""
    with respx.mock(assert_all_called=False) as router:
        yield router
