"""The batching engine on its own: planning, bounded concurrency, backpressure, outcome mapping, tally."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import pytest

from airflow_provider_modelarts.operators._batching import (
    Batch,
    BatchPlanner,
    BulkTally,
    ItemRef,
    ItemResult,
    Outcome,
    make_batches,
    results_from_response,
    run_batches,
    run_coroutine,
)


def _items(n: int, size: int = 0) -> list[tuple[ItemRef, int, int]]:
    return [(ItemRef(i, f"s{i}"), i, size) for i in range(n)]


def test_planner_splits_by_count_and_bytes_and_predicts_batch_count() -> None:
    planner = BatchPlanner(batch_size=3, max_batch_bytes=10)
    batches = list(make_batches(_items(7), planner))
    assert [len(b) for b in batches] == [3, 3, 1]
    assert [b.number for b in batches] == [1, 2, 3]
    assert planner.batches == 3

    sizes = [4, 4, 4, 20, 1]  # 4+4 fit, the third overflows; an oversize item gets a batch of its own
    planner = BatchPlanner(batch_size=100, max_batch_bytes=10)
    items = [(ItemRef(i, None), i, s) for i, s in enumerate(sizes)]
    assert [b.items for b in make_batches(items, planner)] == [[0, 1], [2], [3], [4]]

    with pytest.raises(ValueError, match="batch_size"):
        BatchPlanner(0, 10)


@dataclass
class _Entry:
    success: bool | None = None
    error_code: str | None = None
    error_msg: str | None = None
    name: str | None = None


@dataclass
class _Response:
    success: bool | None = True
    results: list[_Entry] | None = None
    error_code: str | None = None
    error_msg: str | None = None


def test_results_map_by_position_with_already_present_codes() -> None:
    refs = [ItemRef(0, "a"), ItemRef(1, "b"), ItemRef(2, "c")]
    response = _Response(
        success=False,
        results=[
            _Entry(success=True),
            _Entry(success=False, error_code="ModelArts.4422", error_msg="exists"),
            _Entry(success=False, error_code="ModelArts.4656", error_msg="too big"),
        ],
    )
    results = results_from_response(response, refs, already_present_codes=frozenset({"ModelArts.4422"}))
    assert [r.outcome for r in results] == [Outcome.DONE, Outcome.ALREADY_PRESENT, Outcome.FAILED]
    assert results[2].error_code == "ModelArts.4656"


def test_results_without_item_list_follow_the_top_level() -> None:
    refs = [ItemRef(0, "a"), ItemRef(1, "b")]
    assert {r.outcome for r in results_from_response(_Response(success=True), refs)} == {Outcome.DONE}
    failed = results_from_response(_Response(success=False, error_code="X.1", error_msg="no"), refs)
    assert [(r.outcome, r.error_code) for r in failed] == [(Outcome.FAILED, "X.1")] * 2


def test_results_of_another_length_are_matched_by_name_suffix() -> None:
    refs = [ItemRef(0, "a.jpg"), ItemRef(1, "b.jpg"), ItemRef(2, "c.jpg")]
    response = _Response(success=True, results=[_Entry(False, "E.1", "bad", name="/bucket/dir/b.jpg")])
    results = results_from_response(response, refs)
    assert [r.outcome for r in results] == [Outcome.DONE, Outcome.FAILED, Outcome.DONE]


def test_tally_keeps_the_first_failures_by_input_position_whatever_the_finish_order() -> None:
    tally = BulkTally(done_key="added", key_field="name", cap=3)
    failed = ItemResult(Outcome.FAILED, "E.1", "x" * 500)
    # Batches finish out of order: 2 then 0 then 1.
    for number, start in ((3, 20), (1, 0), (2, 10)):
        batch: Batch[int] = Batch(
            number, list(range(start, start + 2)), [ItemRef(i, f"n{i}") for i in range(start, start + 2)]
        )
        tally.add_batch(batch, [failed, ItemResult(Outcome.DONE)])
    result = tally.as_result(dataset_id="d")
    assert [f["index"] for f in result["failures"]] == [0, 10, 20]
    assert result["failures_truncated"] == 0
    assert result["failed"] == 3 and result["added"] == 3 and result["batches"] == 3
    assert len(result["failures"][0]["error_msg"]) <= 200
    tally.add_batch(Batch(4, [5], [ItemRef(5, "n5")]), [failed])
    result = tally.as_result()
    assert [f["index"] for f in result["failures"]] == [0, 5, 10]
    assert result["failures_truncated"] == 1
    json.dumps(result)  # XCom-safe


def test_progress_line_format() -> None:
    tally = BulkTally(done_key="added", key_field="name")
    tally.to_send, tally.planned_batches = 10_000, 20
    batch: Batch[int] = Batch(7, list(range(500)), [ItemRef(i, None) for i in range(500)])
    for _ in range(7):
        tally.add_batch(batch, [ItemResult(Outcome.DONE)] * 500)
    line = tally.progress_line(batch, 0)
    assert line.startswith("batch 7/20: 500 samples, 3,500/10,000 done (")
    assert line.endswith(" samples/s)")


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


def test_run_coroutine_works_inside_a_running_loop() -> None:
    async def value() -> int:
        await asyncio.sleep(0)
        return 42

    assert run_coroutine(value) == 42

    async def outer() -> int:
        return run_coroutine(value)

    assert asyncio.run(outer()) == 42


def test_key_hashes_find_repeats_compactly() -> None:
    from airflow_provider_modelarts.operators._batching import KeyHashes, key_hash

    hashes = KeyHashes()
    for i in range(50_000):
        hashes.add(f"sample-{i}.jpg")
    assert hashes.repeated() == set()
    hashes.add("sample-123.jpg")
    hashes.add("sample-49999.jpg")
    assert hashes.repeated() == {key_hash("sample-123.jpg"), key_hash("sample-49999.jpg")}
    assert len(hashes) == 50_002
