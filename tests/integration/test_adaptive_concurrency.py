"""Adaptive concurrency against the emulator's request limit (429 ``ModelArts.6101`` above N in flight).

What is asserted holds whatever the timing: every sample is added exactly once, every throttled answer the
emulator gave is counted in the operator's result, and the concurrency stays within its bounds. How many
answers are throttled depends on timing and is measured in ``bench/`` instead.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest
from ops_helpers import FAST_RETRY, InFlightCounter

from airflow_provider_modelarts.emulator.testing import EmulatorServer
from airflow_provider_modelarts.operators.samples import AddSamplesOperator

pytestmark = pytest.mark.usefixtures("modelarts_conn_env")

DS = "ds-images"


def _samples(count: int) -> list[dict[str, Any]]:
    return [
        {"name": f"adapt-{i:05d}.jpg", "sample_type": 0, "data": base64.b64encode(b"x%d" % i).decode()}
        for i in range(count)
    ]


def _throttled(emulator: EmulatorServer) -> int:
    return int(emulator.admin.stats()["routes"].get("add_samples", {}).get("throttled", 0))


def test_a_run_against_a_request_limit_adds_everything_once_and_counts_the_throttled_answers(
    emulator: EmulatorServer, in_flight: InFlightCounter
) -> None:
    emulator.admin.configure(throttle_concurrency=2)
    emulator.admin.faults(latency_ms=20)
    emulator.admin.reset_stats()
    op = AddSamplesOperator(
        task_id="add", dataset_id=DS, samples=_samples(600), batch_size=20, client_retry=FAST_RETRY
    )
    result = op.execute(context={})
    names = [s["sample_name"] for s in emulator.admin.samples(DS) if s["sample_name"].startswith("adapt-")]
    assert sorted(names) == [f"adapt-{i:05d}.jpg" for i in range(600)]  # all there, none twice
    assert result["added"] == 600 and result["failed"] == 0
    assert result["throttled"] == _throttled(emulator)  # the client saw every 429 the emulator sent
    assert 1 <= result["peak_concurrency"] <= 16 and in_flight.peak <= 16


def test_a_pinned_concurrency_sends_exactly_that_many_at_a_time(
    emulator: EmulatorServer, in_flight: InFlightCounter
) -> None:
    emulator.admin.faults(latency_ms=20)
    op = AddSamplesOperator(
        task_id="add",
        dataset_id=DS,
        samples=_samples(200),
        batch_size=20,
        max_concurrency=3,
        adaptive_concurrency=False,
        client_retry=FAST_RETRY,
    )
    result = op.execute(context={})
    assert result["added"] == 200 and result["peak_concurrency"] == 3 == in_flight.peak
