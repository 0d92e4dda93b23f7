"""The adaptive concurrency of bulk runs: it grows, backs off, respects its bounds; no clock, no sleeping.

The controller is fed plain numbers (latency in seconds, throttled or not), and the end-to-end case runs
``run_batches`` against a fake service that throttles above a fixed number of concurrent requests, with a
fake clock: the outcome depends only on the order of events, which asyncio makes deterministic.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from airflow_provider_modelarts.bulk.concurrency import BACKOFF, START, AdaptiveLimit, FixedLimit
from airflow_provider_modelarts.bulk.planning import Batch, ItemRef
from airflow_provider_modelarts.bulk.sending import run_batches
from airflow_provider_modelarts.bulk.tally import ItemResult, Outcome


def _answer(limit: AdaptiveLimit, *, latency: float = 0.05, throttled: bool = False) -> None:
    limit.finished(limit.started(), latency=latency, throttled=throttled)


def test_it_starts_at_four_doubles_per_round_until_trouble_then_grows_about_one_per_round() -> None:
    limit = AdaptiveLimit(maximum=40)
    assert limit.current == START == 4
    for _ in range(4):  # one round at 4 in flight: slow start doubles
        _answer(limit)
    assert limit.current == 8
    _answer(limit, throttled=True)
    assert limit.limit == pytest.approx(8 * BACKOFF) and limit.current == 5
    for _ in range(6):  # about one round after trouble: about one more
        _answer(limit)
    assert 6.5 < limit.limit < 6.7
    for _ in range(7):  # one below the throttled level (8) is near: from there on, sixteen times slower
        _answer(limit)
    assert 6.9 < limit.limit < 7.0


def test_it_grows_to_its_bound_and_stays_there() -> None:
    limit = AdaptiveLimit(maximum=20)
    for _ in range(500):
        _answer(limit)
    assert limit.current == 20 and limit.limit == 20.0  # grows to its bound and stays there


def test_it_never_starts_or_grows_above_max_concurrency() -> None:
    limit = AdaptiveLimit(maximum=2)
    assert limit.current == 2
    for _ in range(100):
        _answer(limit)
    assert limit.current == 2 and limit.peak == 2


def test_a_throttled_answer_multiplies_the_limit_by_the_backoff_once_per_burst() -> None:
    limit = AdaptiveLimit(maximum=20, start=10)
    tickets = [limit.started() for _ in range(10)]  # ten requests in flight
    limit.finished(tickets[0], latency=0.05, throttled=True)
    assert limit.limit == pytest.approx(10 * BACKOFF) and limit.current == 7
    for ticket in tickets[1:]:  # the rest of the same burst comes back throttled too: no further decrease
        limit.finished(ticket, latency=0.05, throttled=True)
    assert limit.limit == pytest.approx(10 * BACKOFF) and limit.decreases == 1
    _answer(limit, throttled=True)  # a request sent after the decrease and still throttled: back off again
    assert limit.limit == pytest.approx(10 * BACKOFF * BACKOFF) and limit.decreases == 2


def test_it_never_goes_below_one_request() -> None:
    limit = AdaptiveLimit(maximum=20)
    for _ in range(50):
        _answer(limit, throttled=True)
    assert limit.limit == 1.0 and limit.current == 1
    _answer(limit)
    assert limit.current == 1  # growth from 1 is by 1/limit per answer, not a jump


def test_rising_latency_backs_off_like_throttling() -> None:
    limit = AdaptiveLimit(maximum=20, start=8)
    _answer(limit, latency=0.050)
    _answer(limit, latency=0.090)  # slower, but within twice the lowest: keeps growing
    grown = limit.limit
    assert grown > 8
    _answer(limit, latency=0.101)  # more than twice the lowest latency seen: the service is queueing
    assert limit.limit == pytest.approx(grown * BACKOFF)
    assert limit.throttled_at is None  # queueing is not a throttle: no slow probing afterwards


def test_near_the_level_that_was_throttled_it_grows_sixteen_times_more_slowly() -> None:
    limit = AdaptiveLimit(maximum=20, start=10)
    _answer(limit, throttled=True)
    assert limit.throttled_at == 10 and limit.limit == 7
    answers_to_regrow = 0
    while limit.limit < 8.9:
        _answer(limit)
        answers_to_regrow += 1
    assert answers_to_regrow < 20  # well below the throttled level: about one step per round
    answers_to_probe = 0
    while limit.limit < 10:
        _answer(limit)
        answers_to_probe += 1
    assert answers_to_probe > 16 * 9 * 0.9  # the last step before the throttled level: sixteen rounds


def test_fixed_limit_never_changes() -> None:
    limit = FixedLimit(3)
    for throttled in (True, False, True):
        limit.finished(limit.started(), latency=9.0, throttled=throttled)
    assert limit.current == 3


@pytest.mark.parametrize("maximum", [0, -1])
def test_a_maximum_below_one_is_refused(maximum: int) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        AdaptiveLimit(maximum=maximum)


class _ThrottlingService:
    """A fake service that throttles any request arriving while ``capacity`` are already in flight.

    A throttled request is answered 429 and retried by the client after a pause (``pause`` turns of the
    event loop), as the real client does. Each request takes ``rounds`` turns, and the fake clock never
    moves, so latency never signals queueing: only throttling does.
    """

    def __init__(self, capacity: int, rounds: int = 3, pause: int = 12) -> None:
        self.capacity = capacity
        self.rounds = rounds
        self.pause = pause
        self.in_flight = 0
        self.requests = 0
        self.throttled = 0
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    async def send(self, batch: Batch[Any]) -> list[ItemResult]:
        while True:
            self.requests += 1
            if self.in_flight >= self.capacity:
                self.throttled += 1
                for _ in range(self.pause):
                    await asyncio.sleep(0)
                continue
            self.in_flight += 1
            try:
                for _ in range(self.rounds):
                    await asyncio.sleep(0)
            finally:
                self.in_flight -= 1
            return [ItemResult(Outcome.DONE)] * len(batch)


def _batches(count: int) -> list[Batch[Any]]:
    return [Batch(i + 1, [None], [ItemRef(i, None)]) for i in range(count)]


def _run(service: _ThrottlingService, limit: AdaptiveLimit | FixedLimit, batches: int) -> tuple[int, int]:
    """Send ``batches`` through ``run_batches``; returns (turns of the event loop it took, peak in flight).

    Turns of the loop are this test's time: each request takes a fixed number of them, so fewer turns for
    the same work is more throughput, exactly and repeatably.
    """
    done: list[int] = []

    async def main() -> tuple[int, int]:
        turns = 0
        run = asyncio.ensure_future(
            run_batches(
                _batches(batches),
                service.send,
                on_done=lambda batch, results: done.append(len(results)),
                limit=limit,
                throttle_count=lambda: service.throttled,
                clock=service.clock,
            )
        )
        while not run.done():
            await asyncio.sleep(0)
            turns += 1
        return turns, run.result()

    turns, peak = asyncio.run(main())
    assert sum(done) == batches  # every batch answered exactly once
    return turns, peak


@pytest.mark.parametrize("capacity", [2, 6, 12])
def test_against_a_throttling_service_it_finds_the_limit_with_few_throttled_requests(capacity: int) -> None:
    best_fixed_turns, _ = _run(_ThrottlingService(capacity), FixedLimit(capacity), 600)
    service = _ThrottlingService(capacity)
    limit = AdaptiveLimit(maximum=20)
    turns, peak = _run(service, limit, 600)
    assert service.throttled <= 0.05 * service.requests
    assert best_fixed_turns / turns >= 0.9  # at least 0.9x the throughput of the best fixed concurrency
    assert capacity - 1 <= limit.current <= capacity + 1
    assert peak <= max(START, 2 * capacity)  # slow start overshoots by at most one round


def test_without_a_limit_it_grows_to_max_concurrency() -> None:
    service = _ThrottlingService(capacity=100)
    limit = AdaptiveLimit(maximum=16)
    turns, peak = _run(service, limit, 300)
    assert peak == 16 and service.throttled == 0 and limit.decreases == 0
    default_turns, _ = _run(_ThrottlingService(capacity=100), FixedLimit(START), 300)
    assert turns < default_turns / 2  # far quicker than the old fixed default of 4


def test_a_maximum_of_one_and_a_start_below_one_both_mean_one_request() -> None:
    assert AdaptiveLimit(maximum=1).current == 1
    assert AdaptiveLimit(maximum=20, start=0).limit == 1.0


@pytest.mark.parametrize("backoff", [0.0, 1.0, 1.5, -0.5])
def test_a_backoff_outside_zero_to_one_is_refused(backoff: float) -> None:
    with pytest.raises(ValueError, match=f"backoff must be between 0 and 1, got {backoff}"):
        AdaptiveLimit(maximum=20, backoff=backoff)


def test_a_latency_of_exactly_twice_the_lowest_is_not_yet_queueing() -> None:
    limit = AdaptiveLimit(maximum=20, start=8)
    _answer(limit, latency=0.05)
    _answer(limit, latency=0.1)
    assert limit.decreases == 0


def test_a_clock_that_did_not_move_turns_the_latency_signal_off() -> None:
    # A zero latency (a coarse or fake clock) would make every later answer look infinitely slow.
    limit = AdaptiveLimit(maximum=20, start=8)
    _answer(limit, latency=0.05)
    _answer(limit, latency=0.0)
    _answer(limit, latency=1.0)
    assert limit.decreases == 0 and limit.lowest_latency == 0.0


def test_the_slow_climb_starts_exactly_one_below_the_throttled_level() -> None:
    limit = AdaptiveLimit(maximum=20, start=3, backoff=1 / 3)
    _answer(limit, throttled=True)
    assert (limit.throttled_at, limit.limit) == (3.0, 1.0)
    _answer(limit)  # a full step would reach 2.0 = one below the throttled level: so it is already slow
    assert limit.limit == 1.0 + 1 / 16
