"""Fault suite: the bulk operators against an emulator that misbehaves the way real services and networks do.

Over real HTTP (the session's emulator server), in seconds:

* 10,000 samples added while 10% of the requests get HTTP 429 (with ``Retry-After``), 10% HTTP 503 and 5%
  are applied and then lose their answer (connection dropped after the request is applied): every sample
  ends up in the dataset exactly once, the operator succeeds, and the retries are counted in the return
  value and logged one WARNING per retry.
* IAM password auth with the token revoked in the middle of the run: the run completes, with exactly one
  re-authentication although four requests were in flight.
* AK/SK with the server clock more than 15 minutes off: a clear error that names the clock skew, nothing
  applied, no retry storm.

Backoff is kept small with a test ``RetryPolicy`` (the production default sleeps up to seconds per retry),
passed through the operators' ``client_retry`` argument.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

import pytest

from airflow_provider_modelarts.client import RetryPolicy
from airflow_provider_modelarts.emulator.testing import EmulatorServer
from airflow_provider_modelarts.errors import ModelArtsAuthError
from airflow_provider_modelarts.operators.samples import AddSamplesOperator

DATASET = "ds-images"
#: Enough attempts that a batch failing every time is practically impossible (0.25**12), tiny sleeps.
FAST_RETRY = RetryPolicy(max_attempts=12, backoff_base=0.002, backoff_max=0.02, deadline=60.0)


def _fast_retry(**kwargs: Any) -> AddSamplesOperator:
    """AddSamplesOperator retrying with :data:`FAST_RETRY` (see the module docstring)."""
    return AddSamplesOperator(client_retry=FAST_RETRY, **kwargs)


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


def test_ten_thousand_samples_through_throttling_errors_and_dropped_answers(
    emulator: EmulatorServer, modelarts_conn_env: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    # The rules are tried in order and the first that fires wins, so the later rates are conditional:
    # 10% 429, then 0.10/0.90 of the rest -> 10% 503, then 0.05/0.80 of the rest -> 5% dropped answers.
    emulator.admin.faults(
        {"route": "add_samples", "status": 429, "rate": 0.10, "retry_after": 0.001},
        {"route": "add_samples", "status": 503, "rate": 0.10 / 0.90, "retry_after": None},
        {"route": "add_samples", "drop": "after", "rate": 0.05 / 0.80},
        seed=1,
    )
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
    # The faults happened at about the configured rates (a fixed seed; loose bounds, as the order in which
    # concurrent requests draw from the fault RNG varies).
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
    emulator.admin.faults({"route": "add_samples", "drop": "after", "rate": 0.2}, seed=7)
    samples = _samples(1_000, "again")
    first = _fast_retry(task_id="first", dataset_id=DATASET, samples=samples).execute(context={})
    second = _fast_retry(task_id="second", dataset_id=DATASET, samples=samples).execute(context={})
    names = _names(emulator, "again-")
    assert len(names) == 1_000 and set(names.values()) == {1}
    assert first["added"] + first["already_present"] == 1_000
    assert second["added"] == 0 and second["already_present"] == 1_000


def test_token_revoked_mid_run_costs_exactly_one_reauthentication(
    emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_MODELARTS_DEFAULT", emulator.connection_json(auth="password"))
    revoked: list[int] = []

    class RevokeAfterThirdBatch(AddSamplesOperator):
        async def _send_batch(self, client: Any, items: list[Any]) -> Any:
            response = await super()._send_batch(client, items)
            if not revoked and len(_names(emulator, "token-")) >= 300:
                revoked.append(emulator.admin.expire_tokens())  # every issued token stops working now
            return response

    op = RevokeAfterThirdBatch(
        client_retry=FAST_RETRY,
        task_id="add_with_iam",
        dataset_id=DATASET,
        samples=_samples(2_000, "token"),
        max_concurrency=4,
    )
    result = op.execute(context={})

    assert revoked and revoked[0] >= 1, "the token was never revoked: the test did not test anything"
    names = _names(emulator, "token-")
    assert len(names) == 2_000 and set(names.values()) == {1}
    assert result["added"] == 2_000 and result["failed"] == 0
    token_requests = emulator.admin.stats()["routes"]["iam_token"]
    assert token_requests["requests"] == 2, f"one token at the start, one re-authentication: {token_requests}"
    # The requests refused with the revoked token were answered 401 and repeated, not counted as retries.
    assert emulator.admin.stats()["routes"]["add_samples"].get("status_401", 0) >= 1


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
