"""Sending on its own: bounded concurrency, backpressure, batch errors vs fatal errors, one event loop."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from airflow_provider_modelarts.bulk.planning import Batch, ItemRef
from airflow_provider_modelarts.bulk.sending import BulkOperation, batch_failure, run_batches
from airflow_provider_modelarts.bulk.sources import ListSource
from airflow_provider_modelarts.bulk.tally import ItemResult, Outcome
from airflow_provider_modelarts.bulk.validation import Validator
from airflow_provider_modelarts.errors import (
    ModelArtsAuthError,
    ModelArtsNotFoundError,
    ModelArtsServerError,
    ModelArtsTransportError,
)
from airflow_provider_modelarts.models import Sample


async def _run(n_batches: int, concurrency: int, delay: float = 0.005) -> tuple[int, int, list[int]]:
    in_flight = 0
    peak = 0
    built = 0
    alive_peak = 0
    done: list[int] = []

    def batches() -> Any:
        nonlocal built
        for i in range(n_batches):
            built += 1
            yield Batch(i + 1, [i], [ItemRef(i, None)])

    async def send(batch: Batch[int]) -> list[ItemResult]:
        nonlocal in_flight, peak, alive_peak
        in_flight += 1
        peak = max(peak, in_flight)
        alive_peak = max(alive_peak, built - len(done))
        await asyncio.sleep(delay)
        in_flight -= 1
        return [ItemResult(Outcome.DONE)]

    def on_done(batch: Batch[int], results: list[ItemResult]) -> None:
        done.append(batch.number)

    await run_batches(
        batches(), send, max_concurrency=concurrency, on_done=on_done, classify_error=lambda e: None
    )
    return peak, alive_peak, done


@pytest.mark.parametrize("concurrency", [1, 3, 8])
def test_run_batches_bounds_concurrency_and_batches_alive(concurrency: int) -> None:
    peak, alive_peak, done = asyncio.run(_run(40, concurrency))
    assert sorted(done) == list(range(1, 41))
    assert peak == concurrency  # reached, never exceeded
    # Backpressure: built-but-unfinished batches never exceed the in-flight ones plus the one being built.
    assert alive_peak <= concurrency + 1


def test_run_batches_records_batch_errors_and_stops_on_fatal_ones() -> None:
    class Recoverable(Exception):
        pass

    class Fatal(Exception):
        pass

    started: list[int] = []
    recorded: dict[int, list[ItemResult]] = {}

    def batches() -> Any:
        for i in range(10):
            yield Batch(i + 1, [i, i], [ItemRef(2 * i, None), ItemRef(2 * i + 1, None)])

    async def send(batch: Batch[int]) -> list[ItemResult]:
        started.append(batch.number)
        await asyncio.sleep(0)
        if batch.number == 2:
            raise Recoverable("flaky")
        if batch.number == 4:
            raise Fatal("bad credentials")
        return [ItemResult(Outcome.DONE)] * 2

    def classify(exc: BaseException) -> ItemResult | None:
        return ItemResult(Outcome.FAILED, "E.500", str(exc)) if isinstance(exc, Recoverable) else None

    with pytest.raises(Fatal):
        asyncio.run(
            run_batches(
                batches(),
                send,
                max_concurrency=1,
                on_done=lambda b, r: recorded.__setitem__(b.number, r),
                classify_error=classify,
            )
        )
    assert started == [1, 2, 3, 4]  # nothing started after the fatal error
    assert recorded[2] == [ItemResult(Outcome.FAILED, "E.500", "flaky")] * 2
    assert 4 not in recorded


def test_bulk_run_inside_a_running_event_loop_is_refused_clearly_before_any_request() -> None:
    """Airflow calls execute() outside any event loop; inside one, the run says so and sends nothing."""
    opened: list[int] = []

    async def open_client() -> Any:
        opened.append(1)
        raise AssertionError("no client may be opened")

    async def send(client: Any, batch: Batch[Any]) -> list[ItemResult]:
        raise AssertionError("nothing may be sent")

    operation = BulkOperation(
        Validator(Sample, "name"), send, open_client, "added", "Adding", lambda: "dataset d", 100, 4, 1 << 20
    )

    async def inside_a_loop() -> None:
        operation.run(ListSource([{"name": "a.jpg"}]), dataset_id="d")

    with pytest.raises(RuntimeError, match="event loop"):
        asyncio.run(inside_a_loop())
    assert opened == []


@pytest.mark.parametrize(
    ("error", "fatal"),
    [
        (ModelArtsAuthError(status=401, error_code="APIGW.0301"), True),
        (ModelArtsNotFoundError(status=404, error_code="ModelArts.4352"), True),  # the dataset
        (ModelArtsNotFoundError(status=400, error_code="ModelArts.4420"), False),  # one sample
        (ModelArtsServerError(status=500, error_code="ModelArts.0001"), False),
        (ModelArtsTransportError(method="POST", path="/x", cause=OSError("reset")), False),
        (KeyError("bug"), True),
    ],
)
def test_batch_failure_stops_the_run_only_when_every_batch_would_fail(error: Exception, fatal: bool) -> None:
    result = batch_failure(error)
    assert (result is None) is fatal
    if result is not None:
        assert result.outcome is Outcome.FAILED and result.error_code
