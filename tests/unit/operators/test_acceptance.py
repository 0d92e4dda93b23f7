"""AcceptanceOperator and the hook's acceptance operations, with only the network edge mocked (respx).

The emulator-backed runs live in tests/integration/operators/test_acceptance.py; these pin the corners a
well-behaved emulator does not produce: replies without the expected fields, refusals, bad rendered values.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import respx
from airflow.providers.common.compat.sdk import AirflowFailException

from airflow_provider_modelarts.errors import ModelArtsAPIError, ModelArtsError
from airflow_provider_modelarts.operators.acceptance import AcceptanceOperator
from unit.hooks._helpers import UNIT_ENDPOINT, set_unit_conn

ENDPOINT = UNIT_ENDPOINT
TASK_URL = f"{ENDPOINT}/v2/p1/datasets/d1/workforce-tasks/t1"
START_URL = f"{TASK_URL}/acceptance"
STATUS_URL = f"{TASK_URL}/acceptance/status"
REPORT_URL = f"{TASK_URL}/acceptance/report"


@pytest.fixture(autouse=True)
def _connection(monkeypatch: pytest.MonkeyPatch) -> None:
    set_unit_conn(monkeypatch, "modelarts_unit")


def run(**kwargs: Any) -> dict[str, Any]:
    op = AcceptanceOperator(
        task_id="acceptance",
        dataset_id="d1",
        workforce_task_id="t1",
        modelarts_conn_id="modelarts_unit",
        **kwargs,
    )
    return op.execute(context={})


def details(status: int, checking_task_id: str | None = "chk-1") -> httpx.Response:
    body: dict[str, Any] = {"task_id": "t1", "status": status}
    if checking_task_id:
        body["checking_task_desc"] = {"checking_task_id": checking_task_id}
    return httpx.Response(200, json=body)


def refusal(code: str) -> httpx.Response:
    return httpx.Response(400, json={"error_code": code, "error_msg": "refused"})


@respx.mock
def test_start_reply_without_an_id_takes_the_round_from_the_task() -> None:
    respx.post(START_URL).mock(return_value=httpx.Response(200, json={}))
    respx.get(TASK_URL).mock(return_value=details(7, "chk-7"))
    result = run(start_acceptance=True, sampling_num="3")
    assert result["checking_task_id"] == "chk-7" and result["already_started"] is False
    assert result["sampling_num"] == 3 and result["sampling_rate"] is None


@respx.mock
def test_start_fails_when_nobody_names_the_round() -> None:
    respx.post(START_URL).mock(return_value=httpx.Response(200, json={}))
    respx.get(TASK_URL).mock(return_value=details(7, None))
    with pytest.raises(ModelArtsError, match="neither the reply nor the task details name the round"):
        run(start_acceptance=True, sampling_rate=0.5)


@respx.mock
def test_already_checking_without_a_running_round_is_not_hidden() -> None:
    respx.post(START_URL).mock(return_value=refusal("ModelArts.4623"))
    respx.get(TASK_URL).mock(return_value=details(1, None))
    with pytest.raises(ModelArtsAPIError, match=r"ModelArts\.4623"):
        run(start_acceptance=True, sampling_rate=0.5)


@respx.mock
def test_other_start_refusals_are_raised_without_a_second_read() -> None:
    respx.post(START_URL).mock(return_value=refusal("ModelArts.4631"))
    task = respx.get(TASK_URL).mock(return_value=details(2))
    with pytest.raises(ModelArtsAPIError, match=r"ModelArts\.4631"):
        run(start_acceptance=True, sampling_rate=0.5)
    assert task.call_count == 0


@respx.mock
def test_a_refused_cancel_on_a_running_task_counts_as_applied() -> None:
    respx.put(STATUS_URL).mock(return_value=refusal("ModelArts.4631"))
    respx.get(TASK_URL).mock(return_value=details(1, None))
    result = run(action="cancel")
    assert result["already_applied"] is True and result["action"] == "CANCEL" and result["sample_count"] == 0


@respx.mock
def test_an_action_reply_of_an_odd_shape_still_counts_as_applied() -> None:
    respx.put(STATUS_URL).mock(return_value=httpx.Response(200, json={"sample_count": "many", "samples": 5}))
    result = run(action="pass_all")
    assert result["already_applied"] is False and result["sample_count"] == 0
    assert result["samples_preview"] == []


@pytest.mark.parametrize("rendered", ["high", "95", "nan"])
def test_a_rendered_min_pass_rate_that_is_not_a_fraction_fails_for_good(rendered: str) -> None:
    with respx.mock(assert_all_called=False) as router:
        sent = router.route(host="modelarts.unit.test").mock(return_value=details(2))
        with pytest.raises(AirflowFailException, match="between 0 and 1"):
            run(min_pass_rate=rendered)
    assert not sent.called


@respx.mock
def test_the_decision_reads_the_report_of_the_given_round() -> None:
    respx.get(TASK_URL).mock(return_value=details(2, "chk-2"))
    figures = {"sampled_sample_count": 2, "checked_sample_count": 2, "unchecked_sample_count": 0,
               "accepted_sample_count": 1, "rejected_sample_count": 1, "pass_rate": 0.5}  # fmt: skip
    report = respx.get(REPORT_URL).mock(return_value=httpx.Response(200, json={"checking_stats": figures}))
    status = respx.put(STATUS_URL).mock(return_value=httpx.Response(200, json={"sample_count": 0}))
    result = run(min_pass_rate=0.6, checking_task_id="chk-1")
    assert report.calls[0].request.url.params["checking_task_id"] == "chk-1"
    assert result["decision"] == "reject_all" and result["checking_task_id"] == "chk-1"
    assert json.loads(status.calls[0].request.content)["action"] == 1


# -- parse-time checks of a mapped AcceptanceOperator (issue 25, item 13) ---------------------------------


@pytest.mark.parametrize(
    ("partial", "message"),
    [
        ({"action": "pass_all", "min_pass_rate": 0.9}, "given: action, min_pass_rate"),
        ({"start_acceptance": True, "action": 0}, "given: action, start_acceptance=True"),
        ({"start_acceptance": True, "sampling_rate": 0.2, "sampling_num": 3}, "not both"),
        (
            {"action": 0, "start_acceptance": False, "sampling_rate": 0.2},
            "only apply with start_acceptance=True",
        ),
        ({"start_acceptance": True, "sampling_rate": None, "sampling_num": None}, "needs sampling_rate"),
        ({"min_pass_rate": 95}, "between 0 and 1"),
        ({"action": 0, "locale": 7}, "locale must be a language code"),
        ({"action": 0, "overwrite_last_result": "yes"}, "overwrite_last_result must be True, False or None"),
        ({"action": 0, "asset_alias": ""}, "asset_alias must be an alias name or None"),
    ],
)
def test_a_mapped_acceptance_refuses_what_partial_receives_when_the_dag_is_parsed(
    partial: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        AcceptanceOperator.partial(task_id="t", dataset_id="d", **partial)
    with pytest.raises(ValueError, match=message):  # the same rule, the same words, unmapped
        AcceptanceOperator(task_id="t", dataset_id="d", workforce_task_id="w", **partial)


@pytest.mark.parametrize(
    ("partial", "mapped"),
    [
        ({"start_acceptance": True}, {"sampling_rate": [0.5, 1.0]}),  # the sampling is mapped
        ({"sampling_rate": 0.5}, {"start_acceptance": [True]}),  # the mode is mapped
        ({}, {"action": ["pass_all", "reject_all"]}),
        ({"min_pass_rate": "{{ params.rate }}"}, {"workforce_task_id": ["t1", "t2"]}),  # a template
    ],
)
def test_a_mapped_acceptance_leaves_what_is_mapped_to_each_mapped_task(
    partial: dict[str, Any], mapped: dict[str, Any]
) -> None:
    """An argument ``expand`` maps is unknown when the DAG is parsed: a rule that needs it waits."""
    expand = {"workforce_task_id": ["t1"], **mapped}
    operator = AcceptanceOperator.partial(task_id="t", dataset_id="d", **partial).expand(**expand)
    assert operator.task_id == "t"
