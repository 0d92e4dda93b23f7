"""One operator per acceptance verb (operators/acceptance.py): each takes only its own arguments, makes its
one hook call and returns the XCom summary of the ``AcceptanceOperator`` mode it replaces. Only the network
edge is mocked (respx)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import respx
from airflow.providers.common.compat.sdk import AirflowFailException
from airflow.sdk import AssetAlias
from airflow.sdk.execution_time.context import OutletEventAccessors

from airflow_provider_modelarts.operators.acceptance import (
    ApplyAcceptanceActionOperator,
    DecideAcceptanceOperator,
    StartAcceptanceOperator,
)
from airflow_provider_modelarts.operators.acceptance_base import AcceptanceBaseOperator
from airflow_provider_modelarts.operators.base import LABELS_ACCEPTED_ALIAS

ENDPOINT = "https://modelarts.verbs.test"
TASK_URL = f"{ENDPOINT}/v2/p1/datasets/d1/workforce-tasks/t1"
TEAM_TASK = "modelarts://modelarts.verbs.test/p1/datasets/d1/workforce-tasks/t1"
IDS = {"task_id": "verb", "dataset_id": "d1", "workforce_task_id": "t1"}
FIGURES = {"sampled_sample_count": 4, "checked_sample_count": 4, "unchecked_sample_count": 0}


@pytest.fixture(autouse=True)
def _connection(monkeypatch: pytest.MonkeyPatch) -> None:
    conn = {"conn_type": "modelarts", "login": "AK", "password": "SK-verbs-test"}
    conn["extra"] = {"endpoint": ENDPOINT, "project_id": "p1"}  # type: ignore[assignment]
    monkeypatch.setenv("AIRFLOW_CONN_MODELARTS_DEFAULT", json.dumps(conn))


def _events(accessors: OutletEventAccessors) -> list[tuple[str, dict[str, Any]]]:
    events = accessors[AssetAlias(LABELS_ACCEPTED_ALIAS)].asset_alias_events
    return [(e.dest_asset_key.uri, e.extra) for e in events]


def test_each_verb_has_its_own_template_fields_alias_and_base() -> None:
    start = StartAcceptanceOperator(**IDS, sampling_rate=0.5)
    apply = ApplyAcceptanceActionOperator(**IDS, action="pass_all")
    decide = DecideAcceptanceOperator(**IDS, min_pass_rate=0.9)
    assert all(isinstance(op, AcceptanceBaseOperator) for op in (start, apply, decide))
    common = ("dataset_id", "workforce_task_id", "project_id")
    assert set(start.template_fields) == {*common, "sampling_rate", "sampling_num"}
    assert set(apply.template_fields) == {*common, "action", "locale"}
    assert set(decide.template_fields) == {*common, "min_pass_rate", "checking_task_id", "locale"}
    assert start.outlets == [] and start.asset_alias is None  # starting a round accepts no labels
    assert apply.outlets == decide.outlets == [AssetAlias(LABELS_ACCEPTED_ALIAS)]


@pytest.mark.parametrize(
    ("operator", "arguments", "message"),
    [
        (StartAcceptanceOperator, {}, "StartAcceptanceOperator needs sampling_rate"),
        (StartAcceptanceOperator, {"sampling_rate": 0.5, "sampling_num": 2}, "not both"),
        (ApplyAcceptanceActionOperator, {"action": None}, "needs an action"),
        (ApplyAcceptanceActionOperator, {"action": 0, "locale": 7}, "locale must be a language code"),
        (ApplyAcceptanceActionOperator, {"action": 0, "overwrite_last_result": "y"}, "overwrite_last_result"),
        (DecideAcceptanceOperator, {"min_pass_rate": None}, "needs min_pass_rate"),
        (DecideAcceptanceOperator, {"min_pass_rate": 95}, "between 0 and 1"),
    ],
)
def test_each_verb_refuses_its_own_bad_arguments_when_the_dag_is_parsed(
    operator: type[AcceptanceBaseOperator], arguments: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        operator(**IDS, **arguments)


def test_a_verb_refuses_the_arguments_of_another_verb() -> None:
    with pytest.raises(TypeError, match="min_pass_rate"):
        ApplyAcceptanceActionOperator(**IDS, action="pass_all", min_pass_rate=0.9)
    with pytest.raises(TypeError, match="action"):
        StartAcceptanceOperator(**IDS, sampling_rate=0.5, action="pass_all")


@respx.mock
def test_start_returns_the_round_and_announces_nothing() -> None:
    respx.post(f"{TASK_URL}/acceptance").mock(return_value=httpx.Response(200, json={"task_id": "chk-1"}))
    accessors = OutletEventAccessors()
    result = StartAcceptanceOperator(**IDS, sampling_num="3").execute(context={"outlet_events": accessors})  # type: ignore[arg-type]
    assert result == {
        "mode": "start_acceptance",
        "dataset_id": "d1",
        "workforce_task_id": "t1",
        "checking_task_id": "chk-1",
        "already_started": False,
        "sampling_rate": None,
        "sampling_num": 3,
    }
    assert _events(accessors) == []


def test_start_fails_for_good_on_a_rendered_rate_out_of_range() -> None:
    with respx.mock(assert_all_called=False) as router:
        sent = router.route(host="modelarts.verbs.test").mock(return_value=httpx.Response(200, json={}))
        with pytest.raises(AirflowFailException, match=r"sampling_rate must be in \(0, 1\]"):
            StartAcceptanceOperator(**IDS, sampling_rate="1.5").execute(context={})
    assert not sent.called


@pytest.mark.parametrize(("action", "code", "announced"), [("pass_all", 0, True), ("reject_all", 1, False)])
def test_apply_sends_the_action_once_and_announces_only_accepted_labels(
    action: str, code: int, announced: bool
) -> None:
    accessors = OutletEventAccessors()
    with respx.mock(assert_all_called=False) as router:
        status = router.put(f"{TASK_URL}/acceptance/status").mock(
            return_value=httpx.Response(200, json={"sample_count": 2})
        )
        op = ApplyAcceptanceActionOperator(**IDS, action=action, locale=" zh-cn ")
        result = op.execute(context={"outlet_events": accessors})  # type: ignore[arg-type]
    assert json.loads(status.calls[0].request.content)["action"] == code
    assert status.calls[0].request.url.params["locale"] == "zh-cn"
    assert result["mode"] == "action" and result["action_code"] == code and result["sample_count"] == 2
    expected = [(TEAM_TASK, {"dataset_id": "d1", "workforce_task_id": "t1", "action": action.upper(),
                             "sample_count": 2})]  # fmt: skip
    assert _events(accessors) == (expected if announced else [])
    assert op.lineage_uris == ([TEAM_TASK], [TEAM_TASK] if announced else [])


def test_apply_fails_for_good_on_an_unknown_rendered_action() -> None:
    with pytest.raises(AirflowFailException, match="pass_al"):
        ApplyAcceptanceActionOperator(**IDS, action="pass_al").execute(context={})


@pytest.mark.parametrize(("rate", "decision"), [(1.0, "pass_all"), (0.5, "reject_all")])
def test_decide_reads_the_round_and_applies_the_decision(rate: float, decision: str) -> None:
    figures = {**FIGURES, "accepted_sample_count": int(4 * rate), "rejected_sample_count": 4 - int(4 * rate)}
    accessors = OutletEventAccessors()
    with respx.mock(assert_all_called=False) as router:
        router.get(TASK_URL).mock(return_value=httpx.Response(200, json={"task_id": "t1", "status": 2}))
        report = router.get(f"{TASK_URL}/acceptance/report").mock(
            return_value=httpx.Response(200, json={"checking_stats": {**figures, "pass_rate": rate}})
        )
        router.put(f"{TASK_URL}/acceptance/status").mock(return_value=httpx.Response(200, json={}))
        op = DecideAcceptanceOperator(**IDS, min_pass_rate="0.8", checking_task_id="chk-9")
        result = op.execute(context={"outlet_events": accessors})  # type: ignore[arg-type]
    assert report.calls[0].request.url.params["checking_task_id"] == "chk-9"
    assert result["mode"] == "pass_rate_decision" and result["decision"] == decision
    assert result["min_pass_rate"] == 0.8 and result["checking_task_id"] == "chk-9"
    assert [uri for uri, _ in _events(accessors)] == ([TEAM_TASK] if rate == 1.0 else [])


def test_each_verb_maps_and_checks_what_partial_receives() -> None:
    decide = DecideAcceptanceOperator.partial(task_id="d", dataset_id="d1", min_pass_rate=0.9)
    assert decide.expand(workforce_task_id=["t1", "t2"]).task_type == "DecideAcceptanceOperator"
    start = StartAcceptanceOperator.partial(task_id="s", dataset_id="d1")
    assert start.expand(workforce_task_id=["t1"], sampling_rate=[0.5]).task_type == "StartAcceptanceOperator"
    with pytest.raises(ValueError, match="not both"):
        StartAcceptanceOperator.partial(task_id="s", sampling_rate=0.5, sampling_num=1)
