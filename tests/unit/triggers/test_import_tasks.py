"""ImportTaskTrigger with only the network edge mocked (respx): one event per wait, deadlines, no secrets.

The poll loop is the shared PollingTrigger's (tests/unit/triggers/test_acceptance.py covers its refusals,
token expiry and shared clients through AcceptanceTrigger); these tests hold what is the import's own.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import pytest
import respx
from airflow.serialization.serialized_objects import BaseSerialization
from airflow.triggers.base import TriggerEvent

from airflow_provider_modelarts.triggers.import_tasks import ImportTaskTrigger

ENDPOINT = "https://modelarts.import-unit.test"
SECRET_KEY = "import-trigger-unit-secret-4c1d9e"
TASK_URL = f"{ENDPOINT}/v2/p1/datasets/d1/import-tasks/imp-1"


@pytest.fixture(autouse=True)
def _connection(monkeypatch: pytest.MonkeyPatch) -> None:
    connection = {
        "conn_type": "modelarts",
        "login": "IMPORTUNITAK00000001",
        "password": SECRET_KEY,
        "extra": {"endpoint": ENDPOINT, "project_id": "p1"},
    }
    monkeypatch.setenv("AIRFLOW_CONN_MODELARTS_IMPORT_UNIT", json.dumps(connection))


class FakeClockTrigger(ImportTaskTrigger):
    """Sleeping moves the clock at once (starts at t = 1,000 s)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.now = 1_000.0

    def _now(self) -> float:
        return self.now

    async def _sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


def make(cls: type[ImportTaskTrigger] = FakeClockTrigger, **overrides: Any) -> ImportTaskTrigger:
    kwargs: dict[str, Any] = {
        "dataset_id": "d1",
        "import_task_id": "imp-1",
        "criteria": {"allow_partial": True},
        "poll_interval": 30.0,
        "deadline": 1_000.0 + 3_600,
        "modelarts_conn_id": "modelarts_import_unit",
    }
    kwargs.update(overrides)
    return cls(**kwargs)


def status(state: str, imported: int = 0, total: int = 10, **extra: Any) -> httpx.Response:
    body = {"task_id": "imp-1", "status": state, "import_type": 0, "import_path": "obs://b/p/",
            "total_sample_count": total, "imported_sample_count": imported, **extra}  # fmt: skip
    return httpx.Response(200, json=body)


def events(trigger: ImportTaskTrigger) -> list[TriggerEvent]:
    async def run() -> list[TriggerEvent]:
        return [event async for event in trigger.run()]

    return asyncio.run(run())


def test_serialize_round_trip_holds_ids_timing_and_no_secret() -> None:
    trigger = make(ImportTaskTrigger, deadline=time.time() + 60, project_id="p1")
    classpath, kwargs = trigger.serialize()
    assert classpath == "airflow_provider_modelarts.triggers.import_tasks.ImportTaskTrigger"
    assert ImportTaskTrigger(**kwargs).serialize() == (classpath, kwargs)
    assert set(kwargs) == {"dataset_id", "import_task_id", "criteria", "poll_interval", "deadline",
                           "modelarts_conn_id", "project_id"}  # fmt: skip
    encoded = json.dumps(BaseSerialization.serialize(kwargs))
    for text in (repr(trigger.serialize()), repr(trigger), encoded):
        assert SECRET_KEY not in text and "IMPORTUNITAK" not in text


@respx.mock
def test_one_success_event_once_the_import_completes() -> None:
    route = respx.get(TASK_URL).mock(
        side_effect=[status("QUEUING"), status("RUNNING", 4), status("RUNNING", 9), status("COMPLETED", 10)]
    )
    [event] = events(make())
    assert event.payload["status"] == "success" and route.call_count == 4
    assert (event.payload["dataset_id"], event.payload["import_task_id"]) == ("d1", "imp-1")
    assert event.payload["figures"]["imported"] == 10 and event.payload["figures"]["not_imported"] == 0


@respx.mock
def test_a_failed_import_is_a_failure_event_with_its_code() -> None:
    respx.get(TASK_URL).mock(return_value=status("FAILED", error_code="ModelArts.4374", error_msg="no file"))
    [event] = events(make())
    assert event.payload["status"] == "failure" and "ModelArts.4374" in event.payload["message"]
    assert "api_error" not in event.payload


@respx.mock
def test_a_partial_import_refused_by_the_criteria_is_a_failure() -> None:
    respx.get(TASK_URL).mock(return_value=status("COMPLETED", 7))
    [event] = events(make(criteria={"allow_partial": False}))
    assert event.payload["status"] == "failure" and event.payload["figures"]["status"] == "COMPLETED"


@respx.mock
def test_a_task_gone_is_a_failure_not_an_api_error() -> None:
    respx.get(TASK_URL).mock(return_value=httpx.Response(404, json={"error_code": "ModelArts.4612"}))
    [event] = events(make())
    assert event.payload["status"] == "failure" and "no longer exists" in event.payload["message"]


@respx.mock
def test_an_error_that_will_not_heal_ends_the_wait_as_an_api_error() -> None:
    respx.get(TASK_URL).mock(return_value=httpx.Response(400, json={"error_code": "ModelArts.4352"}))
    [event] = events(make())
    assert event.payload["status"] == "failure" and event.payload["api_error"] is True


@respx.mock
def test_the_deadline_ends_the_wait_with_a_timeout_event_saying_what_it_last_saw() -> None:
    route = respx.get(TASK_URL).mock(return_value=status("RUNNING", 3))
    trigger = make(deadline=1_000.0 + 95)
    [event] = events(trigger)
    assert event.payload["status"] == "timeout"
    assert "3/10 samples imported" in event.payload["message"]
    assert route.call_count == 4  # t = 0, 30, 60, 90; it wakes at the deadline (95) and stops there
    assert trigger.now == 1_095.0


@respx.mock
def test_an_expired_token_gets_a_fresh_client_and_the_wait_goes_on(monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow_provider_modelarts.hooks.modelarts import ModelArtsHook

    built: list[object] = []
    real_get_async_client = ModelArtsHook.get_async_client

    async def counting(self: ModelArtsHook, **kwargs: Any) -> Any:
        client = await real_get_async_client(self, **kwargs)
        built.append(client)
        return client

    monkeypatch.setattr(ModelArtsHook, "get_async_client", counting)
    expired = httpx.Response(401, json={"error_code": "ModelArts.4127", "error_msg": "Token expired."})
    respx.get(TASK_URL).mock(side_effect=[expired, status("COMPLETED", 10)])
    trigger = make()
    [event] = events(trigger)
    assert (
        event.payload["status"] == "success" and len(built) == 2
    )  # the second client read the connection again
    assert trigger._client is None  # released at the end


@respx.mock
def test_on_kill_only_releases_the_client() -> None:
    route = respx.get(TASK_URL).mock(return_value=status("RUNNING", 1))
    trigger = make()

    async def scenario() -> None:
        await trigger._get_client()
        await trigger.on_kill()

    asyncio.run(scenario())
    assert trigger._client is None and route.call_count == 0  # nothing sent: no page cancels an import
