"""Fault suite: the bulk operators against an emulator that misbehaves the way real services and networks do.

Over real HTTP (the session's emulator server), in seconds:

* 10,000 samples added while 10% of the requests get HTTP 429 (with ``Retry-After``), 10% HTTP 503 and 5%
  are applied and then lose their answer (connection dropped after the request is applied): every sample
  ends up in the dataset exactly once, the operator succeeds, and the retries are counted in the return
  value and logged one WARNING per retry.
* IAM password auth with the token revoked in the middle of the run (the emulator's ``revoke_tokens``
  fault): the run completes, with exactly one re-authentication although four requests were in flight.
* AK/SK with the server clock more than 15 minutes off: a clear error that names the clock skew, nothing
  applied, no retry storm.

Faults are decided per request (its content and attempt number), never by the order in which concurrent
requests arrive, and every rule here carries ``max_per_request=2``: no request is faulted more than twice, so
a client with three or more attempts cannot exhaust them, and the suite cannot fail by chance.

Backoff is kept small with a test ``RetryPolicy`` (the production default sleeps up to seconds per retry),
passed through the operators' ``client_retry`` argument.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import Counter
from typing import Any

import pytest
from retry_policies import FAST_RETRY

from airflow_provider_modelarts.client import ModelArtsClient
from airflow_provider_modelarts.errors import ModelArtsAuthError
from airflow_provider_modelarts.hooks.modelarts import ModelArtsHook
from airflow_provider_modelarts.operators.samples import AddSamplesOperator
from modelarts_emulator.seed import DEFAULT_DATASET_ID as DATASET
from modelarts_emulator.testing import EmulatorServer

#: No request is faulted more than this many times (by all rules together).
MAX_FAULTS_PER_REQUEST = 2
#: FAST_RETRY with more attempts than MAX_FAULTS_PER_REQUEST (so exhausting them is impossible) and the
#: time they may take.
FAULT_PROOF_RETRY = dataclasses.replace(FAST_RETRY, max_attempts=12, deadline=60.0)


def _fast_retry(**kwargs: Any) -> AddSamplesOperator:
    """AddSamplesOperator retrying with :data:`FAULT_PROOF_RETRY` (see the module docstring)."""
    return AddSamplesOperator(client_retry=FAULT_PROOF_RETRY, **kwargs)


def _samples(count: int, prefix: str) -> list[dict[str, Any]]:
    return [
        {
            "name": f"{prefix}-{i:05d}.jpg",
            "sample_type": 0,
            "data": "aGVsbG8=",
            "labels": [{"name": "cat" if i % 2 else "dog", "type": 0, "score": 0.9}],
        }
        for i in range(count)
    ]


def _names(emulator: EmulatorServer, prefix: str) -> Counter[str]:
    return Counter(
        s.get("name") or s.get("sample_name") or ""
        for s in emulator.admin.samples(DATASET)
        if str(s.get("name") or s.get("sample_name") or "").startswith(prefix)
    )


def _retry_warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [
        r
        for r in caplog.records
        if r.name == "airflow_provider_modelarts.client"
        and r.levelno == logging.WARNING
        and r.getMessage().startswith("Retrying ")
    ]


# The rules are tried in order and the first that fires wins, so the later rates are conditional:
# 10% 429, then 0.10/0.90 of the rest -> 10% 503, then 0.05/0.80 of the rest -> 5% dropped answers.
_MIXED_FAULTS = [
    {"route": "add_samples", "status": 429, "rate": 0.10, "retry_after": 0.001},
    {"route": "add_samples", "status": 503, "rate": 0.10 / 0.90, "retry_after": None},
    {"route": "add_samples", "drop": "after", "rate": 0.05 / 0.80},
]
_MIXED_FAULTS = [{**rule, "max_per_request": MAX_FAULTS_PER_REQUEST} for rule in _MIXED_FAULTS]


def test_ten_thousand_samples_through_throttling_errors_and_dropped_answers(
    emulator: EmulatorServer, modelarts_conn_env: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    emulator.admin.faults(*_MIXED_FAULTS, seed=1)
    caplog.set_level(logging.WARNING, logger="airflow_provider_modelarts.client")
    # Batches of 50: ~260 requests, enough for the fault shares to come out near the configured rates.
    op = _fast_retry(
        task_id="add_under_faults", dataset_id=DATASET, samples=_samples(10_000, "fault"), batch_size=50
    )

    result = op.execute(context={})

    stats = emulator.admin.stats()
    route = stats["routes"]["add_samples"]
    # Every sample is in the dataset exactly once, whatever was retried or answered twice.
    names = _names(emulator, "fault-")
    assert len(names) == 10_000
    assert set(names.values()) == {1}
    # The operator succeeded and accounted for every sample: added, or already added (the answer was lost).
    assert result["failed"] == 0 and result["invalid"] == 0
    assert result["added"] + result["already_present"] == 10_000
    assert result["already_present"] > 0, "dropped answers after applying must show up as already present"
    # The faults happened at about the configured rates (loose bounds: fates are hashes of each request).
    share = {k: route.get(k, 0) / route["requests"] for k in ("status_429", "status_503", "dropped_after")}
    assert share["status_429"] >= 0.05 and share["status_503"] >= 0.04 and share["dropped_after"] >= 0.02, (
        share
    )
    # Each faulted or dropped request was retried once; the count is returned and each retry was logged.
    assert result["retries"] == route["faulted"] + route["dropped_after"]
    warnings = _retry_warnings(caplog)
    assert len(warnings) == result["retries"]
    assert any("HTTP 429" in w.getMessage() for w in warnings)
    assert any("HTTP 503" in w.getMessage() for w in warnings)
    assert any("Error" in w.getMessage() for w in warnings), (
        "dropped connections are retried as transport errors"
    )


def test_running_the_same_upload_again_after_faults_adds_nothing_twice(
    emulator: EmulatorServer, modelarts_conn_env: dict[str, Any]
) -> None:
    emulator.admin.faults(
        {"route": "add_samples", "drop": "after", "rate": 0.2, "max_per_request": MAX_FAULTS_PER_REQUEST},
        seed=7,
    )
    samples = _samples(1_000, "again")
    first = _fast_retry(task_id="first", dataset_id=DATASET, samples=samples).execute(context={})
    second = _fast_retry(task_id="second", dataset_id=DATASET, samples=samples).execute(context={})
    names = _names(emulator, "again-")
    assert len(names) == 1_000 and set(names.values()) == {1}
    assert first["added"] + first["already_present"] == 1_000
    assert second["added"] == 0 and second["already_present"] == 1_000


def test_the_same_upload_meets_the_same_faults_whatever_order_its_requests_arrive_in(
    emulator: EmulatorServer, modelarts_conn_env: dict[str, Any]
) -> None:
    def run() -> dict[str, int]:
        emulator.admin.reset()
        emulator.admin.faults(*_MIXED_FAULTS, seed=3)
        op = _fast_retry(
            task_id="same_faults", dataset_id=DATASET, samples=_samples(2_000, "order"), batch_size=20
        )
        result = op.execute(context={})
        assert result["failed"] == 0 and result["added"] + result["already_present"] == 2_000
        return dict(emulator.admin.stats()["routes"]["add_samples"])

    first = run()
    assert first.get("faulted", 0) + first.get("dropped_after", 0) > 0
    # Four requests in flight arrive in a different order each run; the faults they meet do not change.
    assert run() == first


def test_token_revoked_mid_run_costs_exactly_one_reauthentication(
    emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_MODELARTS_DEFAULT", emulator.connection_json(auth="password"))
    # A password change in the middle of the run: once, on one add_samples request picked by its content.
    emulator.admin.faults(route="add_samples", kind="revoke_tokens", rate=0.3, count=1, seed=5)
    op = AddSamplesOperator(
        client_retry=FAULT_PROOF_RETRY,
        task_id="add_with_iam",
        dataset_id=DATASET,
        samples=_samples(2_000, "token"),
        max_concurrency=4,
    )
    result = op.execute(context={})

    stats = emulator.admin.stats()["routes"]
    assert stats["add_samples"].get("tokens_revoked") == 1, "the token was never revoked: nothing was tested"
    names = _names(emulator, "token-")
    assert len(names) == 2_000 and set(names.values()) == {1}
    assert result["added"] == 2_000 and result["failed"] == 0
    token_requests = stats["iam_token"]
    assert token_requests["requests"] == 2, f"one token at the start, one re-authentication: {token_requests}"
    # The requests refused with the revoked token were answered 401 and repeated, not counted as retries.
    assert stats["add_samples"].get("status_401", 0) >= 1


@pytest.mark.parametrize("offset_minutes", [16, -16, 60])
def test_clock_skew_beyond_fifteen_minutes_is_a_clear_error(
    emulator: EmulatorServer, modelarts_conn_env: dict[str, Any], offset_minutes: int
) -> None:
    emulator.admin.clock(offset_minutes * 60)
    op = _fast_retry(task_id="skewed", dataset_id=DATASET, samples=_samples(10, "skew"))

    with pytest.raises(ModelArtsAuthError) as info:
        op.execute(context={})

    message = str(info.value)
    assert "clock" in message.lower()
    assert f"{abs(offset_minutes)} minutes" in message or "15 min" in message, message
    assert info.value.status == 401 and info.value.error_code == "APIGW.0301"
    stats = emulator.admin.stats()["routes"]["add_samples"]
    assert stats.get("applied", 0) == 0 and not _names(emulator, "skew-")
    assert stats["requests"] <= 4, "an authentication failure must not be retried"


def test_clock_skew_within_fifteen_minutes_is_accepted(
    emulator: EmulatorServer, modelarts_conn_env: dict[str, Any]
) -> None:
    emulator.admin.clock(14 * 60)
    result = _fast_retry(task_id="slightly_skewed", dataset_id=DATASET, samples=_samples(10, "near")).execute(
        context={}
    )
    assert result["added"] == 10


# ------------------------------------------------------------------------------- team labeling tasks

_TEAM_TASK_ROUTES = (
    "create_workforce_task",
    "start_workforce_task",
    "list_workforce_tasks",
    "get_workforce_task",
)
_TEAM_TASK_FAULTS = [
    {**rule, "route": route, "max_per_request": MAX_FAULTS_PER_REQUEST}
    for route in _TEAM_TASK_ROUTES
    for rule in (
        {"status": 429, "rate": 0.15, "retry_after": 0.001},
        {"status": 503, "rate": 0.15 / 0.85, "retry_after": None},
        {"drop": "before", "rate": 0.10 / 0.70},
        {"drop": "after", "rate": 0.15 / 0.60},
    )
]


@pytest.mark.parametrize("create_task_reply", ["task_id", "empty", "no_content"])
def test_one_team_task_per_name_through_faults_short_pages_and_throttling(
    paused_emulator: EmulatorServer,
    modelarts_conn_env: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    create_task_reply: str,
) -> None:
    """Issue 15: creates and starts lost before or after they were applied, throttled with 429
    ``ModelArts.4395`` and 6101, list pages of one task whatever the limit, create replies without
    ``task_id``, and every name run twice (an Airflow retry): exactly one task per name, each RUNNING."""
    # The hook's create and start go out once, without client retries: undo this folder's client swap.
    monkeypatch.setattr(ModelArtsHook, "client_class", ModelArtsClient)
    paused_emulator.admin.configure(
        start_steps=0,  # started tasks run at once: no wall-clock wait in this test
        task_page_cap=1,
        create_task_reply=create_task_reply,
        throttle_task_creates=3,
        not_found_status=400,
    )
    paused_emulator.admin.faults(*_TEAM_TASK_FAULTS, seed=15)
    hook = ModelArtsHook(retry=FAULT_PROOF_RETRY)
    names = [f"labeling-2025031{day}" for day in range(6)]

    first = [hook.create_team_task(DATASET, name, wait_started=0) for name in names]
    again = [hook.create_team_task(DATASET, name, wait_started=0) for name in names]

    with paused_emulator.client(retry=FAULT_PROOF_RETRY) as client:
        tasks = [task for task in client.iter_workforce_tasks(DATASET) if task.task_name in names]
    assert Counter(task.task_name for task in tasks) == Counter(names)  # exactly one per name
    by_name = {task.task_name: task for task in tasks}
    for name, made, adopted in zip(names, first, again, strict=True):
        assert made["workforce_task_id"] == adopted["workforce_task_id"] == by_name[name].task_id
        assert (made["status"], adopted["status"], adopted["created"]) == (1, 1, False)
    fired = Counter(
        rule["route"] for rule in paused_emulator.admin.call("GET", "faults")["rules"] if rule["fired"]
    )
    assert {"create_workforce_task", "list_workforce_tasks"} <= set(fired)  # the faults did happen
    assert paused_emulator.admin.call("GET", "config")["throttle_task_creates"] == 0
