"""ModelArtsHook's acceptance operations (hooks/modelarts.py, acceptance/rounds.py): start or adopt a round,
apply an action once.

Only the network edge is mocked (respx). What the figures mean is decided by the acceptance package
(tests/unit/acceptance/); the operator on top is tested in tests/unit/operators/test_acceptance.py.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
import respx
from structlog.testing import capture_logs

from airflow_provider_modelarts.acceptance import (
    AcceptanceCriteria,
    AcceptanceNotDecidableError,
    AcceptanceState,
)
from airflow_provider_modelarts.errors import ModelArtsAPIError, ModelArtsError
from airflow_provider_modelarts.hooks.modelarts import ModelArtsHook
from airflow_provider_modelarts.models import AcceptanceAction

ENDPOINT = "https://modelarts.hook-acceptance.example.com"
TASK_URL = f"{ENDPOINT}/v2/p1/datasets/d1/workforce-tasks/t1"


@pytest.fixture
def acceptance_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[respx.MockRouter]:
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


def test_start_adopts_the_round_an_earlier_try_started(acceptance_api: respx.MockRouter) -> None:
    start = acceptance_api.post(f"{TASK_URL}/acceptance").mock(return_value=refused("ModelArts.4623"))
    acceptance_api.get(TASK_URL).mock(return_value=task(2, "chk-earlier"))
    started = ModelArtsHook().start_acceptance("d1", "t1", sampling_rate=0.5)
    assert (started.checking_task_id, started.already_started) == ("chk-earlier", True)
    assert start.call_count == 1


def test_start_returns_the_new_round(acceptance_api: respx.MockRouter) -> None:
    acceptance_api.post(f"{TASK_URL}/acceptance").mock(
        return_value=httpx.Response(200, json={"task_id": "chk-new"})
    )
    started = ModelArtsHook().start_acceptance("d1", "t1", sampling_num=5)
    assert (started.checking_task_id, started.already_started) == ("chk-new", False)


def test_an_action_refused_because_it_was_applied_already_counts_once(
    acceptance_api: respx.MockRouter,
) -> None:
    """PASS_ALL refused, but the task is ACCEPTED (3): an earlier try applied it and lost the answer."""
    status = acceptance_api.put(url__startswith=f"{TASK_URL}/acceptance/status").mock(
        return_value=refused("ModelArts.4631")
    )
    acceptance_api.get(TASK_URL).mock(return_value=task(3))
    applied = ModelArtsHook().apply_acceptance_action("d1", "t1", "pass_all")
    assert (applied.action, applied.already_applied) == (AcceptanceAction.PASS_ALL, True)
    assert status.call_count == 1


def test_an_action_refused_for_another_reason_is_raised(acceptance_api: respx.MockRouter) -> None:
    """REJECT_ALL refused while the task is still RUNNING (1): it was not applied, so the refusal stands."""
    acceptance_api.put(url__startswith=f"{TASK_URL}/acceptance/status").mock(
        return_value=refused("ModelArts.4631")
    )
    acceptance_api.get(TASK_URL).mock(return_value=task(1))
    with pytest.raises(ModelArtsAPIError, match=r"ModelArts\.4631"):
        ModelArtsHook().apply_acceptance_action("d1", "t1", AcceptanceAction.REJECT_ALL)


@contextmanager
def hook_warnings(caplog: pytest.LogCaptureFixture) -> Iterator[list[str]]:
    """The warnings a hook logs, whether its logger is structlog's (Airflow 3) or the standard library's."""
    warnings: list[str] = []
    with capture_logs() as events, caplog.at_level(logging.WARNING):
        yield warnings
    warnings += [e["event"] for e in events if e.get("log_level") == "warning"]
    warnings += [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


def test_adopting_a_running_round_says_which_round_and_why(
    acceptance_api: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    acceptance_api.post(f"{TASK_URL}/acceptance").mock(return_value=refused("ModelArts.4623"))
    acceptance_api.get(TASK_URL).mock(return_value=task(7, "chk-earlier"))
    with hook_warnings(caplog) as warnings:
        ModelArtsHook().start_acceptance("d1", "t1", sampling_rate=0.5)
    assert warnings == [
        "Team labeling task t1 is already being checked (ModelArts.4623); continuing with its running "
        "acceptance round chk-earlier, most likely started by an earlier try of this task."
    ]


def test_start_refused_as_checking_without_a_round_to_adopt_is_raised(
    acceptance_api: respx.MockRouter,
) -> None:
    acceptance_api.post(f"{TASK_URL}/acceptance").mock(return_value=refused("ModelArts.4623"))
    acceptance_api.get(TASK_URL).mock(return_value=task(2))
    with pytest.raises(ModelArtsAPIError, match=r"ModelArts\.4623"):
        ModelArtsHook().start_acceptance("d1", "t1", sampling_rate=0.5)


def test_start_refused_for_another_reason_is_raised_without_reading_the_task(
    acceptance_api: respx.MockRouter,
) -> None:
    acceptance_api.post(f"{TASK_URL}/acceptance").mock(return_value=refused("ModelArts.4621"))
    read = acceptance_api.get(TASK_URL).mock(return_value=task(2, "chk-other"))
    with pytest.raises(ModelArtsAPIError, match=r"ModelArts\.4621"):
        ModelArtsHook().start_acceptance("d1", "t1", sampling_rate=0.5)
    assert read.call_count == 0


def test_a_start_reply_without_the_round_id_takes_it_from_the_task_details(
    acceptance_api: respx.MockRouter,
) -> None:
    acceptance_api.post(f"{TASK_URL}/acceptance").mock(return_value=httpx.Response(200, json={}))
    acceptance_api.get(TASK_URL).mock(return_value=task(7, "chk-from-details"))
    started = ModelArtsHook().start_acceptance("d1", "t1", sampling_rate=0.5)
    assert (started.checking_task_id, started.already_started) == ("chk-from-details", False)


def test_a_started_round_nobody_names_is_an_error_not_a_guess(acceptance_api: respx.MockRouter) -> None:
    acceptance_api.post(f"{TASK_URL}/acceptance").mock(return_value=httpx.Response(200, json={}))
    acceptance_api.get(TASK_URL).mock(return_value=task(7))
    with pytest.raises(ModelArtsError) as info:
        ModelArtsHook().start_acceptance("d1", "t1", sampling_rate=0.5)
    assert str(info.value) == (
        "ModelArts started the acceptance of team labeling task t1, but neither the reply nor the task "
        "details name the round's id."
    )


def test_an_action_is_sent_with_its_options_and_reports_the_reply(acceptance_api: respx.MockRouter) -> None:
    status = acceptance_api.put(url__startswith=f"{TASK_URL}/acceptance/status").mock(
        return_value=httpx.Response(200, json={"sample_count": 42, "samples": [{"sample_id": "s1"}]})
    )
    applied = ModelArtsHook().apply_acceptance_action("d1", "t1", "reject_all", overwrite_last_result=True)
    assert applied.summary() == {
        "action": "REJECT_ALL",
        "action_code": 1,
        "sample_count": 42,
        "samples_preview": ["s1"],
        "samples_truncated": 0,
        "already_applied": False,
    }
    sent = status.calls.last.request
    assert sent.url.params["locale"] == "en-us"  # the API's mandatory locale, English by default
    assert json.loads(sent.content) == {"action": 1, "overwrite_last_result": True}
    ModelArtsHook().apply_acceptance_action("d1", "t1", 0, locale="zh-cn")
    assert status.calls.last.request.url.params["locale"] == "zh-cn"
    assert json.loads(status.calls.last.request.content) == {"action": 0}


def test_an_action_applied_by_an_earlier_try_is_logged_and_counts_no_samples(
    acceptance_api: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    acceptance_api.put(url__startswith=f"{TASK_URL}/acceptance/status").mock(
        return_value=refused("ModelArts.4631")
    )
    acceptance_api.get(TASK_URL).mock(return_value=task(4))
    with hook_warnings(caplog) as warnings:
        applied = ModelArtsHook().apply_acceptance_action("d1", "t1", "reject_all")
    assert applied.summary()["sample_count"] == 0 and applied.already_applied
    assert warnings == [
        "ModelArts refused REJECT_ALL, but team labeling task t1 is already REJECTED: treating the action as "
        "applied by an earlier try."
    ]


def _stats(sampled: int, accepted: int, rejected: int) -> dict[str, Any]:
    return {
        "sampled_sample_count": sampled,
        "checked_sample_count": accepted + rejected,
        "unchecked_sample_count": sampled - accepted - rejected,
        "accepted_sample_count": accepted,
        "rejected_sample_count": rejected,
    }


def test_decide_reads_the_round_and_applies_the_decision_once(acceptance_api: respx.MockRouter) -> None:
    acceptance_api.get(TASK_URL).mock(return_value=task(2, "chk-1"))
    report = acceptance_api.get(f"{TASK_URL}/acceptance/report", params={"checking_task_id": "chk-1"}).mock(
        return_value=httpx.Response(200, json={"checking_stats": _stats(10, 8, 2)})
    )
    status = acceptance_api.put(url__startswith=f"{TASK_URL}/acceptance/status").mock(
        return_value=httpx.Response(200, json={})
    )
    decision, applied = ModelArtsHook().decide_acceptance(
        "d1", "t1", min_pass_rate=0.9, checking_task_id="chk-1"
    )
    assert (decision.checking_task_id, decision.rate, decision.action) == (
        "chk-1",
        0.8,
        AcceptanceAction.REJECT_ALL,
    )
    assert applied.action is AcceptanceAction.REJECT_ALL and report.call_count == 1
    assert status.call_count == 1
    sent = status.calls.last.request
    assert json.loads(sent.content) == {"action": 1} and sent.url.params["locale"] == "en-us"
    ModelArtsHook().decide_acceptance(
        "d1", "t1", min_pass_rate=0.5, overwrite_last_result=False, locale="zh-cn"
    )
    sent = status.calls.last.request
    assert json.loads(sent.content) == {"action": 0, "overwrite_last_result": False}
    assert sent.url.params["locale"] == "zh-cn"


def test_decide_waits_for_every_sampled_sample_unless_told_otherwise(
    acceptance_api: respx.MockRouter,
) -> None:
    acceptance_api.get(TASK_URL).mock(return_value=task(2, "chk-1"))
    acceptance_api.get(f"{TASK_URL}/acceptance/report").mock(
        return_value=httpx.Response(200, json={"checking_stats": _stats(10, 4, 0)})
    )
    status = acceptance_api.put(url__startswith=f"{TASK_URL}/acceptance/status").mock(
        return_value=httpx.Response(200, json={})
    )
    with pytest.raises(AcceptanceNotDecidableError, match="4 of 10 sampled samples checked"):
        ModelArtsHook().decide_acceptance("d1", "t1", min_pass_rate=0.9)
    assert status.call_count == 0
    decision, _ = ModelArtsHook().decide_acceptance("d1", "t1", min_pass_rate=0.9, require_all_checked=False)
    assert decision.passed and status.call_count == 1


def test_evaluate_reads_the_awaited_round(acceptance_api: respx.MockRouter) -> None:
    acceptance_api.get(TASK_URL).mock(return_value=task(2, "chk-2"))
    report = acceptance_api.get(f"{TASK_URL}/acceptance/report").mock(
        return_value=httpx.Response(200, json={"checking_stats": _stats(4, 4, 0)})
    )
    criteria = AcceptanceCriteria.build(target_statuses=None, check_complete=True)
    evaluation = ModelArtsHook().evaluate_acceptance("d1", "t1", criteria, checking_task_id="chk-1")
    assert evaluation.state is AcceptanceState.FAILURE  # chk-1 was replaced by chk-2
    assert "t1 was replaced by round chk-2" in evaluation.message
    assert report.calls.last.request.url.params["checking_task_id"] == "chk-1"
    current = ModelArtsHook().evaluate_acceptance("d1", "t1", criteria)
    assert current.state is AcceptanceState.SUCCESS and current.figures["checking_task_id"] == "chk-2"
