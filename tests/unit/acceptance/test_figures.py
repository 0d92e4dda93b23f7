"""Reading a team labeling task and its report: statuses, figures and which reads a poll makes."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
import respx

from airflow_provider_modelarts.acceptance import (
    CheckStats,
    aread_snapshot,
    current_checking_task_id,
    parse_status,
    read_snapshot,
    read_status,
    report_round,
    should_fetch_report,
    status_name,
)
from airflow_provider_modelarts.client import AsyncModelArtsClient, ModelArtsClient, RetryPolicy
from airflow_provider_modelarts.errors import ModelArtsServerError
from airflow_provider_modelarts.models import TaskStatus
from unit.acceptance._helpers import report, task
from unit.acceptance._helpers import stats as raw_stats

ENDPOINT = "https://modelarts.unit.test"
TASK_URL = f"{ENDPOINT}/v2/p1/datasets/d1/workforce-tasks/t1"
REPORT_URL = f"{TASK_URL}/acceptance/report"
NO_RETRY = RetryPolicy(max_attempts=1)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(TaskStatus.ACCEPTED, 3), (3, 3), ("3", 3), ("accepted", 3), ("Acceptance-Sampling", None)],
)
def test_parse_status(value: Any, expected: int | None) -> None:
    if expected is None:
        with pytest.raises(ValueError, match="valid statuses: starting"):
            parse_status(value)
    else:
        assert parse_status(value) == expected


def test_should_fetch_report_only_for_an_open_or_finished_round() -> None:
    assert should_fetch_report(task(2), "chk-1")
    assert should_fetch_report(task(3), "chk-1")
    assert not should_fetch_report(task(7), "chk-1")  # still sampling: no report yet
    assert not should_fetch_report(task(1), "chk-1")
    assert not should_fetch_report(task(2), None)


def test_check_stats_helpers() -> None:
    stats = CheckStats(sampled=10, checked=4, accepted=3, rejected=1)
    assert stats.rate == 0.75
    assert stats.best_reachable_rate == 0.9
    assert not stats.complete
    assert CheckStats.from_model({}) is None
    assert status_name(None) == "UNKNOWN"


@pytest.mark.parametrize(
    ("value", "expected"),
    [(3, 3), ("3", 3), (3.0, 3), (TaskStatus.SAMPLING, 7), (None, None), ("three", None), (True, None),
     (-1, None), (2.5, None), (float("nan"), None), (10**400, None), ([3], None)],
)  # fmt: skip
def test_read_status_is_lenient(value: Any, expected: int | None) -> None:
    assert read_status({"status": value}) == expected
    assert status_name(read_status({"status": value})) == (
        "UNKNOWN" if expected is None else TaskStatus(expected).name
    )


def test_stats_read_from_raw_dicts_and_odd_values() -> None:
    figures = raw_stats(6, 5, 1) | {"sampled_sample_count": "6", "pass_rate": 83.3, "score": None}
    read = CheckStats.from_model(figures)
    assert read is not None and read.sampled == 6 and read.pass_rate is None  # 83.3 is not a rate
    assert read.rate == 5 / 6  # from the counts instead
    assert CheckStats.from_model({"sampled_sample_count": "many"}) is None
    assert CheckStats.from_model("not a mapping") is None
    # The report wins over the task details' copy; the task's copy is the fallback.
    details = {
        "status": 2,
        "checking_task_desc": {"checking_task_id": "c", "total_stats": raw_stats(2, 2, 0)},
    }
    assert CheckStats.read(details, report(4, 1, 0)).sampled == 4  # type: ignore[union-attr]
    assert CheckStats.read(details, None).sampled == 2  # type: ignore[union-attr]
    assert CheckStats.read(details, {"checking_stats": None}).sampled == 2  # type: ignore[union-attr]
    assert current_checking_task_id(details) == "c"
    assert current_checking_task_id({"checking_task_desc": "?"}) is None


def test_report_round_prefers_the_awaited_round() -> None:
    assert report_round(task(2), None) == "chk-1"
    assert report_round(task(2), "chk-0") == "chk-0"
    assert report_round(task(7), "chk-0") is None
    assert report_round(task(2, checking_task_id=None), None) is None


def _client() -> ModelArtsClient:
    return ModelArtsClient(project_id="p1", endpoint=ENDPOINT, retry=NO_RETRY)


@respx.mock
def test_read_snapshot_reads_the_report_only_when_it_can_hold_figures() -> None:
    def details(status: int) -> httpx.Response:
        body = {"task_id": "t1", "status": status, "checking_task_desc": {"checking_task_id": "c1"}}
        return httpx.Response(200, json=body)

    task_route = respx.get(TASK_URL).mock(side_effect=[details(7), details(2), details(2)])
    report_route = respx.get(REPORT_URL).mock(
        side_effect=[
            httpx.Response(200, json={"checking_stats": raw_stats(4, 2, 0)}),
            httpx.Response(404, json={"error_code": "ModelArts.4352", "error_msg": "No report."}),
        ]
    )
    with _client() as client:
        sampling = read_snapshot(client, "d1", "t1")
        assert sampling.report is None and report_route.call_count == 0
        accepting = read_snapshot(client, "d1", "t1", "c0")
        assert accepting.round_id == "c0" and accepting.stats is not None and accepting.stats.checked == 2
        assert report_route.calls[0].request.url.params["checking_task_id"] == "c0"
        # A 404 on the report: the round has no report yet, so no figures, not an error.
        missing = read_snapshot(client, "d1", "t1")
        assert missing.report is None and missing.round_id == "c1"
    assert task_route.call_count == 3


@respx.mock
def test_aread_snapshot_reads_the_same_and_lets_other_errors_through() -> None:
    accepting = {"task_id": "t1", "status": 2, "checking_task_desc": {"checking_task_id": "c1"}}
    respx.get(TASK_URL).mock(return_value=httpx.Response(200, json=accepting))
    respx.get(REPORT_URL).mock(
        side_effect=[
            httpx.Response(200, json={"checking_stats": raw_stats(4, 4, 0)}),
            httpx.Response(500, json={"error_code": "ModelArts.4801"}),
        ]
    )

    async def scenario() -> None:
        async with AsyncModelArtsClient(project_id="p1", endpoint=ENDPOINT, retry=NO_RETRY) as client:
            snapshot = await aread_snapshot(client, "d1", "t1")
            assert snapshot.stats is not None and snapshot.stats.complete
            with pytest.raises(ModelArtsServerError):
                await aread_snapshot(client, "d1", "t1")

    asyncio.run(scenario())
