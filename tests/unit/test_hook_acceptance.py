"""ModelArtsHook's acceptance operations (hooks/acceptance.py): start or adopt a round, apply an action once.

Only the network edge is mocked (respx). What the figures mean is decided by the acceptance package
(test_acceptance_*.py); the operator on top is tested in test_operators_acceptance.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx

from airflow_provider_modelarts.errors import ModelArtsAPIError
from airflow_provider_modelarts.hooks.modelarts import ModelArtsHook
from airflow_provider_modelarts.models import AcceptanceAction

ENDPOINT = "https://modelarts.hook-acceptance.example.com"
TASK_URL = f"{ENDPOINT}/v2/p1/datasets/d1/workforce-tasks/t1"


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[respx.MockRouter]:
    conn = {
        "conn_type": "modelarts",
        "login": "HOOKACCEPTANCEAK00001",
        "password": "hook-acceptance-secret-key-9e1d",  # unique per module for the secret scan
        "extra": {"endpoint": ENDPOINT, "project_id": "p1"},
    }
    monkeypatch.setenv("AIRFLOW_CONN_MODELARTS_DEFAULT", json.dumps(conn))
    with respx.mock(assert_all_called=False) as router:
        yield router


def task(status: int, checking_task_id: str | None = None) -> httpx.Response:
    body: dict[str, Any] = {"task_id": "t1", "status": status}
    if checking_task_id:
        body["checking_task_desc"] = {"checking_task_id": checking_task_id}
    return httpx.Response(200, json=body)


def refused(code: str) -> httpx.Response:
    return httpx.Response(400, json={"error_code": code, "error_msg": "refused"})


def test_start_adopts_the_round_an_earlier_try_started(api: respx.MockRouter) -> None:
    start = api.post(f"{TASK_URL}/acceptance").mock(return_value=refused("ModelArts.4623"))
    api.get(TASK_URL).mock(return_value=task(2, "chk-earlier"))
    started = ModelArtsHook().start_acceptance("d1", "t1", sampling_rate=0.5)
    assert (started.checking_task_id, started.already_started) == ("chk-earlier", True)
    assert start.call_count == 1


def test_start_returns_the_new_round(api: respx.MockRouter) -> None:
    api.post(f"{TASK_URL}/acceptance").mock(return_value=httpx.Response(200, json={"task_id": "chk-new"}))
    started = ModelArtsHook().start_acceptance("d1", "t1", sampling_num=5)
    assert (started.checking_task_id, started.already_started) == ("chk-new", False)


def test_an_action_refused_because_it_was_applied_already_counts_once(api: respx.MockRouter) -> None:
    """PASS_ALL refused, but the task is ACCEPTED (3): an earlier try applied it and lost the answer."""
    status = api.put(url__startswith=f"{TASK_URL}/acceptance/status").mock(
        return_value=refused("ModelArts.4631")
    )
    api.get(TASK_URL).mock(return_value=task(3))
    applied = ModelArtsHook().apply_acceptance_action("d1", "t1", "pass_all")
    assert (applied.action, applied.already_applied) == (AcceptanceAction.PASS_ALL, True)
    assert status.call_count == 1


def test_an_action_refused_for_another_reason_is_raised(api: respx.MockRouter) -> None:
    """REJECT_ALL refused while the task is still RUNNING (1): it was not applied, so the refusal stands."""
    api.put(url__startswith=f"{TASK_URL}/acceptance/status").mock(return_value=refused("ModelArts.4631"))
    api.get(TASK_URL).mock(return_value=task(1))
    with pytest.raises(ModelArtsAPIError, match=r"ModelArts\.4631"):
        ModelArtsHook().apply_acceptance_action("d1", "t1", AcceptanceAction.REJECT_ALL)
