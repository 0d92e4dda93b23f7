"""The adaptive concurrency of bulk runs: it grows, backs off, respects its bounds; no clock, no sleeping.

The controller is fed plain numbers (latency in seconds, throttled or not), and the end-to-end cases run
``run_batches`` against fake services whose time is turns of the event loop (a simulated clock the test
advances one turn at a time, never the real clock): latency drawn per batch from a lognormal distribution,
fast failures, a request limit that throttles, a queue that slows everything down. Hypothesis chooses the
world; the outcome depends only on it and on the order of events, which asyncio makes deterministic.
"""

from __future__ import annotations

import asyncio
import math
import random
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from airflow_provider_modelarts.bulk.concurrency import (
    BACKOFF,
    BASELINE_WINDOWS,
    PROBE_SLOWDOWN,
    PROBE_SLOWDOWN_MAX,
    RELIEF,
    START,
    WINDOW,
    AdaptiveLimit,
    FixedLimit,
)
from airflow_provider_modelarts.bulk.planning import Batch, ItemRef
from airflow_provider_modelarts.bulk.sending import run_batches
from airflow_provider_modelarts.bulk.tally import ItemResult, Outcome
from airflow_provider_modelarts.errors import ModelArtsServerError


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
    for _ in range(7):  # quickly up to one below the throttled level (8), from there sixteen times slower
        _answer(limit)
    assert 7.0 < limit.limit < 7.0 + 7 / 7 / 16


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


def _window(limit: AdaptiveLimit, latency: float | None, size: int = 1, count: int = WINDOW) -> None:
    """One window of requests: ``count`` sent, then all answered with the same latency and size."""
    tickets = [limit.started() for _ in range(count)]
    for ticket in tickets:
        limit.finished(ticket, latency=latency, throttled=False, size=size)


def test_rising_latency_backs_off_like_throttling_once_two_windows_say_so() -> None:
    limit = AdaptiveLimit(maximum=20, start=8)
    _window(limit, 0.050)
    _window(limit, 0.090)  # slower, but within twice the baseline: keeps growing
    assert list(limit.windows) == pytest.approx([0.050, 0.090]) and limit.decreases == 0
    assert limit.baseline == pytest.approx(0.050)
    _window(limit, 0.101)  # more than twice the baseline: one window could be jitter
    grown = limit.limit
    assert limit.decreases == 0 and grown == 20
    tickets = [limit.started() for _ in range(WINDOW)]
    for ticket in tickets[:-1]:
        limit.finished(ticket, latency=0.2, throttled=False)
    assert limit.decreases == 0  # a window is read once all of its requests answered
    limit.finished(tickets[-1], latency=0.2, throttled=False)
    assert limit.limit == pytest.approx(grown * BACKOFF) and limit.decreases == 1
    assert limit.throttled_at is None  # queueing is not a throttle: no slow probing afterwards


def test_one_slow_answer_or_one_slow_window_is_jitter_not_queueing() -> None:
    limit = AdaptiveLimit(maximum=20, start=8)
    _window(limit, 0.05)
    tickets = [limit.started() for _ in range(WINDOW)]
    for ticket in tickets:  # one answer forty times slower: the window is slower than twice the baseline
        limit.finished(ticket, latency=2.0 if ticket == tickets[3] else 0.05, throttled=False)
    assert limit.windows[-1] > 2 * 0.05
    _window(limit, 0.05)  # and the next is not: no back-off
    _window(limit, 0.101)
    _window(limit, 0.05)
    assert limit.decreases == 0 and limit.limit == 20


def test_windows_are_requests_in_sending_order_not_the_first_answers_to_come_back() -> None:
    limit = AdaptiveLimit(maximum=20, start=8)
    tickets = [limit.started() for _ in range(2 * WINDOW)]
    for ticket in reversed(tickets):  # the later requests answer first (and faster)
        limit.finished(ticket, latency=0.01 if ticket > WINDOW else 0.03, throttled=False)
    # Each window holds its own requests, read when complete: the slower first window came second.
    assert list(limit.windows) == pytest.approx([0.01, 0.03])


def test_latency_is_read_per_item_so_batches_of_different_sizes_compare() -> None:
    limit = AdaptiveLimit(maximum=20, start=8)
    _window(limit, 1.0, size=100)  # 10 ms per item
    _window(limit, 0.1, size=10)  # ten times quicker, ten times smaller: the same per item
    _window(limit, 0.1, size=10)
    assert list(limit.windows) == pytest.approx([0.01, 0.01, 0.01]) and limit.decreases == 0
    _window(limit, 1.0, size=10)  # as slow as a large batch for a tenth of the items: ten times slower
    _window(limit, 1.0, size=10)
    assert limit.decreases == 1
    mixed = AdaptiveLimit(maximum=20, start=8)
    tickets = [mixed.started() for _ in range(WINDOW)]
    for ticket in tickets:  # a window's figure is its total latency over its total size
        mixed.finished(ticket, latency=ticket * 0.01, throttled=False, size=ticket)
    assert list(mixed.windows) == [pytest.approx(0.01)]


def test_failed_answers_neither_grow_the_limit_nor_tell_their_latency() -> None:
    limit = AdaptiveLimit(maximum=20, start=8)
    _window(limit, None)  # a window of failures: not read
    assert limit.limit == 8 and not limit.windows and limit.decreases == 0
    tickets = [limit.started() for _ in range(WINDOW)]
    for ticket in tickets:  # one answered in 50 ms, the others failed fast: only the answer counts
        limit.finished(ticket, latency=0.05 if ticket == tickets[-1] else None, throttled=False)
    assert list(limit.windows) == [0.05] and limit.limit == 9
    _window(limit, 0.05)
    assert limit.limit == 20 and limit.decreases == 0  # fast failures set no baseline to be slower than
    limit.finished(limit.started(), latency=None, throttled=True)  # a throttled failure still backs off
    assert limit.decreases == 1 and limit.throttled_at == 20


def test_the_baseline_is_the_fastest_of_the_last_windows_so_it_follows_a_drifting_service() -> None:
    limit = AdaptiveLimit(maximum=20, start=8)
    _window(limit, 0.01)
    for step in range(1, BASELINE_WINDOWS):  # latency drifting up by 2% a window: never twice the first
        _window(limit, 0.01 * 1.02**step)
    assert limit.baseline == pytest.approx(0.01) and len(limit.windows) == BASELINE_WINDOWS
    _window(limit, 0.01 * 1.02**BASELINE_WINDOWS)  # the first window leaves the memory
    assert limit.baseline == pytest.approx(0.0102) and len(limit.windows) == BASELINE_WINDOWS
    assert limit.decreases == 0


def _backed_off_for_latency() -> AdaptiveLimit:
    limit = AdaptiveLimit(maximum=20, start=10)
    _window(limit, 0.05)
    _window(limit, 0.2)
    _window(limit, 0.2)
    assert limit.decreases == 1 and limit.limit == pytest.approx(20 * BACKOFF)
    return limit


def test_after_a_latency_back_off_it_holds_and_undoes_it_when_backing_off_did_not_help() -> None:
    limit = _backed_off_for_latency()
    _window(limit, 0.2)  # requests sent while the earlier ones still queued: not read
    assert list(limit.windows) == pytest.approx([0.05, 0.2, 0.2]) and limit.limit == pytest.approx(14)
    _window(limit, 0.2 * RELIEF * 1.01)  # not RELIEF times faster: the service got slower, not busier
    assert limit.limit == 20 and list(limit.windows) == [pytest.approx(0.2 * RELIEF * 1.01)]
    _window(limit, 0.19)
    _window(limit, 0.19)
    assert limit.decreases == 1 and limit.limit == 20  # the slower level is the baseline now


def test_when_backing_off_helped_the_back_off_stays_and_growth_resumes() -> None:
    limit = _backed_off_for_latency()
    _window(limit, 0.2)
    _window(limit, 0.2 * RELIEF * 0.99)  # faster since the back-off: it was queueing for us
    assert limit.baseline == pytest.approx(0.05) and limit.limit == pytest.approx(14 + 1 / 14, rel=0.01)
    _window(limit, 0.06)
    assert limit.limit > 15 and limit.decreases == 1


def test_a_throttled_answer_backs_off_while_holding_too() -> None:
    limit = _backed_off_for_latency()
    limit.finished(limit.started(), latency=0.05, throttled=True)
    assert limit.decreases == 2 and limit.limit == pytest.approx(20 * BACKOFF * BACKOFF)


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


class _World:
    """A fake service whose time is turns of the event loop; what it does to each batch is fixed in advance.

    Each batch's latency (in turns) is drawn once: ``base`` times a lognormal factor of ``sigma`` (median 1),
    times ``0.5 + 0.5 x size / mean size`` when batches differ in size (a per-request cost plus a per-item
    one). Batches in ``fast_failures`` fail at once with HTTP 500. A request arriving while ``capacity`` are
    in flight is answered 429 and tried again after a pause, as the client does (retries.py: full jitter,
    doubling): a whole number of turns drawn from ``uniform(0, pause x 2**(retry - 1))``, so a retry may
    come back at once into a service still full, or hold its slot for many rounds. With ``queue`` set, a
    request sent while more than ``queue`` are in flight takes proportionally longer (a service that queues
    instead of throttling). Every run of the same world meets the same latencies and failures, so an
    adaptive run and a pinned one compare exactly (the pauses are drawn as the run meets them, from the
    world's seeded generator); the clock is the turn counter the driver advances.
    """

    def __init__(
        self,
        count: int,
        rng: random.Random | None = None,
        *,
        sigma: float = 0.0,
        base: int = 3,
        sizes: bool = False,
        fast_failures: frozenset[int] = frozenset(),
        capacity: int | None = None,
        queue: int | None = None,
        pause: int = 12,
    ) -> None:
        self.rng = rng = rng or random.Random(0)
        self.sizes = [rng.randint(1, 100) if sizes else 1 for _ in range(count)]
        mean = sum(self.sizes) / count
        self.latency = [
            base * (0.5 + 0.5 * size / mean if sizes else 1.0) * math.exp(sigma * rng.gauss(0.0, 1.0))
            for size in self.sizes
        ]
        self.count, self.fast_failures = count, fast_failures
        self.capacity, self.queue, self.pause = capacity, queue, pause
        self.in_flight = self.requests = self.throttled = self.failed = 0
        self.now = 0
        self.in_flight_turns = 0  # sum over turns of the requests in flight: average = this / turns

    def clock(self) -> float:
        return self.now

    def batches(self) -> list[Batch[Any]]:
        return [Batch(i + 1, [None] * size, [ItemRef(i, None)] * size) for i, size in enumerate(self.sizes)]

    async def send(self, batch: Batch[Any]) -> list[ItemResult]:
        index = batch.number - 1
        if index in self.fast_failures:
            self.failed += 1
            await asyncio.sleep(0)
            raise ModelArtsServerError(status=500, error_code="ModelArts.6102")
        retries = 0
        while True:
            self.requests += 1
            if self.capacity is not None and self.in_flight >= self.capacity:
                self.throttled += 1
                retries += 1
                for _ in range(round(self.rng.uniform(0, self.pause * 2 ** (retries - 1)))):
                    await asyncio.sleep(0)
                continue
            self.in_flight += 1
            try:
                slower = max(1.0, self.in_flight / self.queue) if self.queue else 1.0
                for _ in range(max(1, round(self.latency[index] * slower))):
                    await asyncio.sleep(0)
            finally:
                self.in_flight -= 1
            return [ItemResult(Outcome.DONE)] * len(batch)


def _throttling(capacity: int, rounds: int = 3) -> _World:
    """The service of the first tests: throttles above ``capacity`` in flight, 3 turns a request."""
    return _World(600, capacity=capacity, base=rounds)


def _run(world: _World, limit: AdaptiveLimit | FixedLimit, batches: int | None = None) -> tuple[int, int]:
    """Send the world's batches through ``run_batches``; returns (turns of the event loop it took, peak).

    Turns of the loop are this test's time: each request takes a fixed number of them, so fewer turns for
    the same work is more throughput, exactly and repeatably.
    """
    done: list[ItemResult] = []
    todo = world.batches()[:batches]

    async def main() -> tuple[int, int]:
        turns = 0
        run = asyncio.ensure_future(
            run_batches(
                todo,
                world.send,
                on_done=lambda batch, results: done.extend(results),
                limit=limit,
                throttle_count=lambda: world.throttled,
                clock=world.clock,
            )
        )
        while not run.done():
            await asyncio.sleep(0)
            turns += 1
            world.now += 1
            world.in_flight_turns += world.in_flight
        return turns, run.result()

    turns, peak = asyncio.run(main())
    assert len(done) == sum(len(batch) for batch in todo)  # every batch answered exactly once
    assert sum(result.outcome is Outcome.FAILED for result in done) == sum(
        len(batch) for batch in todo if batch.number - 1 in world.fast_failures
    )
    return turns, peak


@pytest.mark.parametrize("capacity", [2, 6, 12])
def test_against_a_throttling_service_it_finds_the_limit_with_few_throttled_requests(capacity: int) -> None:
    best_fixed_turns, _ = _run(_throttling(capacity), FixedLimit(capacity))
    service = _throttling(capacity)
    limit = AdaptiveLimit(maximum=20)
    turns, peak = _run(service, limit)
    assert service.throttled <= 0.05 * service.requests
    assert best_fixed_turns / turns >= 0.9  # at least 0.9x the throughput of the best fixed concurrency
    assert capacity - 1 <= limit.current <= capacity + 1
    assert peak <= max(START, 2 * capacity)  # slow start overshoots by at most one round


def test_without_a_limit_it_grows_to_max_concurrency() -> None:
    service = _throttling(capacity=100)
    limit = AdaptiveLimit(maximum=16)
    turns, peak = _run(service, limit, 300)
    assert peak == 16 and service.throttled == 0 and limit.decreases == 0
    default_turns, _ = _run(_throttling(capacity=100), FixedLimit(START), 300)
    assert turns < default_turns / 2  # far quicker than the old fixed default of 4


_SIGMAS = st.sampled_from([0.0, 0.3, 0.5]) | st.floats(0.0, 0.5)


@settings(max_examples=10)
@example(seed=1, sigma=0.3, base=20, sizes=False, failure_rate=0.0, first_failure=5, maximum=16)
@example(seed=2, sigma=0.5, base=20, sizes=False, failure_rate=0.0, first_failure=5, maximum=16)
@example(seed=3, sigma=0.5, base=20, sizes=True, failure_rate=0.0, first_failure=5, maximum=16)
@example(seed=4, sigma=0.0, base=20, sizes=False, failure_rate=0.01, first_failure=0, maximum=16)
@given(
    seed=st.integers(0, 2**32),
    sigma=_SIGMAS,
    base=st.integers(8, 40),
    sizes=st.booleans(),
    failure_rate=st.sampled_from([0.0, 0.01, 0.02]),
    first_failure=st.integers(0, 30),
    maximum=st.integers(4, 20),
)
def test_without_a_limit_jitter_sizes_and_fast_failures_keep_it_near_pinned_max_concurrency(
    seed: int,
    sigma: float,
    base: int,
    sizes: bool,
    failure_rate: float,
    first_failure: int,
    maximum: int,
) -> None:
    """Network-like latency (lognormal), batches of different sizes and batches failing fast (one early
    on, then a share of the rest): none of it is congestion, so the run keeps within 10% of the throughput
    of ``max_concurrency`` pinned."""
    count = 600
    draw = random.Random(seed + 1)
    failing = {first_failure} | {i for i in range(count) if draw.random() < failure_rate}
    world = dict(sigma=sigma, base=base, sizes=sizes, fast_failures=frozenset(failing))
    pinned, _ = _run(_World(count, random.Random(seed), **world), FixedLimit(maximum))
    limit = AdaptiveLimit(maximum)
    adaptive, peak = _run(_World(count, random.Random(seed), **world), limit)
    assert pinned / adaptive >= 0.9
    assert peak == maximum


@settings(max_examples=8)
@example(seed=1, capacity=6, sigma=0.5, base=3)
@example(seed=2, capacity=3, sigma=0.3, base=4)
@given(
    seed=st.integers(0, 2**32),
    capacity=st.integers(2, 16),
    sigma=_SIGMAS,
    base=st.integers(3, 6),
)
def test_under_a_request_limit_with_jitter_it_keeps_near_the_best_fixed_with_few_throttled(
    seed: int, capacity: int, sigma: float, base: int
) -> None:
    """A service throttling above ``capacity`` in flight, any latency spread: at least 0.9x the throughput
    of pinning exactly the capacity, and at most 5% of the requests throttled."""
    best, _ = _run(
        _World(900, random.Random(seed), sigma=sigma, capacity=capacity, base=base), FixedLimit(capacity)
    )
    world = _World(900, random.Random(seed), sigma=sigma, capacity=capacity, base=base)
    adaptive, _ = _run(world, AdaptiveLimit(maximum=20))
    assert best / adaptive >= 0.9
    assert world.throttled <= 0.05 * world.requests


@settings(max_examples=10, deadline=None)
@example(seed=6, capacity=3, sigma=0.0, pause=8)
@example(seed=6, capacity=6, sigma=0.0, pause=8)
@example(seed=6, capacity=12, sigma=0.0, pause=8)
@example(seed=2, capacity=6, sigma=0.5, pause=8)
@given(
    seed=st.integers(0, 2**32),
    capacity=st.sampled_from([3, 6, 12]),
    sigma=_SIGMAS,
    pause=st.integers(2, 8),
)
def test_under_a_request_limit_the_clients_retry_pauses_cost_little(
    seed: int, capacity: int, sigma: float, pause: int
) -> None:
    """The bench's world (bench_adaptive.py: 50 ms a request, the client's first pause up to 0.5 s, 400
    batches): each throttled request holds its slot through the client's jittered, doubling pause before
    every retry, up to ``pause`` latencies the first time; a retry coming back at once may meet a service
    still full. At least 0.9x the throughput of pinning exactly the capacity, at most 5% throttled."""
    count, base = max(400, 50 * capacity), 16  # the bench's 400 batches, at least fifty rounds

    def world() -> _World:
        return _World(
            count, random.Random(seed), sigma=sigma, capacity=capacity, base=base, pause=pause * base
        )

    best, _ = _run(world(), FixedLimit(capacity))
    service = world()
    adaptive, _ = _run(service, AdaptiveLimit(maximum=20, requests=count))
    assert best / adaptive >= 0.9
    assert service.throttled <= 0.05 * service.requests


@settings(max_examples=5)
@example(seed=1, queue=4, sigma=0.3, base=10)
@given(
    seed=st.integers(0, 2**32),
    queue=st.integers(2, 6),
    sigma=st.sampled_from([0.0, 0.3]) | st.floats(0.0, 0.3),
    base=st.integers(10, 20),
)
def test_a_service_that_queues_instead_of_throttling_makes_it_back_off(
    seed: int, queue: int, sigma: float, base: int
) -> None:
    """Latency that grows with the requests in flight is congestion: the run backs off and keeps well
    below ``max_concurrency`` on average, losing no throughput (the service is the bottleneck)."""
    pinned_world = _World(600, random.Random(seed), sigma=sigma, queue=queue, base=base)
    pinned, _ = _run(pinned_world, FixedLimit(20))
    world = _World(600, random.Random(seed), sigma=sigma, queue=queue, base=base)
    limit = AdaptiveLimit(maximum=20)
    adaptive, _ = _run(world, limit)
    assert limit.decreases >= 1
    assert world.in_flight_turns / adaptive <= 0.85 * pinned_world.in_flight_turns / pinned
    assert pinned / adaptive >= 0.9


def test_a_maximum_of_one_and_a_start_below_one_both_mean_one_request() -> None:
    assert AdaptiveLimit(maximum=1).current == 1
    assert AdaptiveLimit(maximum=20, start=0).limit == 1.0


@pytest.mark.parametrize("backoff", [0.0, 1.0, 1.5, -0.5])
def test_a_backoff_outside_zero_to_one_is_refused(backoff: float) -> None:
    with pytest.raises(ValueError, match=f"backoff must be between 0 and 1, got {backoff}"):
        AdaptiveLimit(maximum=20, backoff=backoff)


def test_a_latency_of_exactly_twice_the_baseline_is_not_yet_queueing() -> None:
    limit = AdaptiveLimit(maximum=20, start=8)
    _window(limit, 0.05)
    _window(limit, 0.1)
    _window(limit, 0.1)
    assert limit.decreases == 0


def test_a_clock_that_did_not_move_turns_the_latency_signal_off() -> None:
    # A zero latency (a coarse or fake clock) would make every later window look infinitely slow.
    limit = AdaptiveLimit(maximum=20, start=8)
    _window(limit, 0.05)
    _window(limit, 0.0)
    _window(limit, 1.0)
    _window(limit, 1.0)
    assert limit.decreases == 0 and limit.baseline == 0.0


@pytest.mark.parametrize("window", [0, -1])
def test_a_window_below_one_request_is_refused(window: int) -> None:
    with pytest.raises(ValueError, match=f"window must be at least 1 request, got {window}"):
        AdaptiveLimit(maximum=20, window=window)


def _one_by_one_backed_off() -> tuple[AdaptiveLimit, int]:
    """Windows of one request: a baseline, two slow answers, a back-off; returns the limit and the ticket
    of a request sent just before the back-off and not answered yet."""
    limit = AdaptiveLimit(maximum=20, start=8, window=1)
    limit.finished(limit.started(), latency=0.0625, throttled=False)
    slow = [limit.started() for _ in range(3)]
    for ticket in slow[:2]:
        limit.finished(ticket, latency=0.25, throttled=False)
    assert limit.decreases == 1 and list(limit.windows) == [0.0625, 0.25, 0.25]
    return limit, slow[2]


def test_an_answer_to_a_request_sent_before_a_back_off_teaches_nothing_about_after_it() -> None:
    limit, stale = _one_by_one_backed_off()
    limit.finished(stale, latency=0.0625, throttled=False)
    assert list(limit.windows) == [0.0625, 0.25, 0.25]  # not read: it queued with the ones before


def test_a_window_exactly_relief_times_faster_says_backing_off_helped() -> None:
    limit, stale = _one_by_one_backed_off()
    limit.finished(stale, latency=0.0625, throttled=False)  # the last request sent before the back-off
    held = limit.limit
    limit.finished(limit.started(), latency=1.0, throttled=False)  # the transition window: not read
    limit.finished(limit.started(), latency=0.25 * RELIEF, throttled=False)
    assert limit.limit == pytest.approx(held + 1 / held) and limit.baseline == 0.0625  # the back-off stays


def test_the_slow_climb_starts_exactly_one_below_the_throttled_level() -> None:
    limit = AdaptiveLimit(maximum=20, start=3, backoff=1 / 3)
    _answer(limit, throttled=True)
    assert (limit.throttled_at, limit.limit) == (3.0, 1.0)
    _answer(limit)  # a full step reaches 2.0, one below the throttled level: quickly there, not beyond
    assert limit.limit == 2.0
    _answer(limit)  # from there on, sixteen times more slowly
    assert limit.limit == 2.0 + 1 / 2 / PROBE_SLOWDOWN


def test_after_a_throttle_at_a_small_limit_it_climbs_straight_back_to_one_below() -> None:
    # 4 throttled: 4 x 0.7 = 2.8, two in flight; one answer brings it back to three, not 1/16 of a step.
    limit = AdaptiveLimit(maximum=20, start=4)
    _answer(limit, throttled=True)
    assert limit.current == 2
    _answer(limit)
    assert limit.limit == 3.0 and limit.current == 3


def test_a_throttle_at_a_level_climbed_to_steps_back_to_one_below_it_at_the_level_left_it_backs_off() -> None:
    limit = AdaptiveLimit(maximum=20, start=10)
    _answer(limit, throttled=True)  # the first throttle: multiplied
    assert limit.limit == pytest.approx(7.0) and limit.throttled_at == 10
    while limit.current < 8:
        _answer(limit)
    _answer(limit, throttled=True)  # at 8, climbed to from 7 since: 7 was used and not throttled
    assert limit.limit == 7.0 and limit.throttled_at == 8 and limit.decreases == 2
    _answer(limit, throttled=True)  # at 7, where that decrease left it: the service's limit fell
    assert limit.limit == pytest.approx(7 * BACKOFF) and limit.throttled_at == 7


def test_after_a_decrease_it_holds_until_every_request_sent_before_it_answered() -> None:
    limit = AdaptiveLimit(maximum=20, start=8)
    before = [limit.started() for _ in range(8)]
    limit.finished(before[0], latency=0.05, throttled=True)
    held = limit.limit
    assert held == pytest.approx(8 * BACKOFF)
    for ticket in before[1:-1]:  # answered, unthrottled: the ones sent before the back-off
        limit.finished(ticket, latency=0.05, throttled=False)
    _answer(limit)  # one sent after it: the last one sent before may still be waiting to retry
    _answer(limit)
    assert limit.limit == held
    limit.finished(before[-1], latency=0.5, throttled=False)  # its retry went through: all answered
    assert limit.limit == pytest.approx(held + 1 / held)  # from this answer on, it grows again


def test_a_throttle_reported_while_holding_by_a_request_sent_after_the_decrease_backs_off_again() -> None:
    limit = AdaptiveLimit(maximum=20, start=10)
    before = [limit.started() for _ in range(10)]
    limit.finished(before[0], latency=0.05, throttled=True)
    after = limit.started()  # sent at 7 in flight, the stragglers' retries included: still too many
    limit.finished(before[1], latency=0.05, throttled=True)  # the same burst: counted once
    assert limit.decreases == 1
    limit.finished(after, latency=0.05, throttled=True)
    assert limit.decreases == 2 and limit.limit == pytest.approx(10 * BACKOFF * BACKOFF)


def _probe(limit: AdaptiveLimit) -> int:
    """Answers until the limit reaches the level last throttled, then a throttle there; returns the
    answers it took."""
    assert limit.throttled_at is not None
    answers = 0
    while limit.current < limit.throttled_at:
        _answer(limit)
        answers += 1
    _answer(limit, throttled=True)
    return answers


def test_each_throttle_at_the_same_level_doubles_the_time_to_the_next_probe_up_to_a_bound() -> None:
    limit = AdaptiveLimit(maximum=20, start=10)
    _answer(limit, throttled=True)
    _probe(limit)  # 7 -> 10 quickly up to 9, then slowly: throttled at 10 again
    assert limit.throttled_at == 10 and limit.limit == 9.0
    # From 9 to 10 at 1 / (limit x slowdown) an answer: slowdown x 9.5 answers, or slowdown rounds of 9.5.
    rounds = [_probe(limit) / 9.5 for _ in range(6)]
    expected = [PROBE_SLOWDOWN * 2**n for n in range(1, 5)] + [PROBE_SLOWDOWN_MAX] * 2
    assert expected[3] == PROBE_SLOWDOWN_MAX and rounds == pytest.approx(expected, rel=0.01)
    assert limit.throttled_at == 10 and limit.limit == 9.0
    _answer(limit, throttled=True)  # the service's limit fell: backing off, probing as often as at first
    assert limit.throttled_at == 9 and limit.limit == pytest.approx(9 * BACKOFF)
    while limit.limit < 8:
        _answer(limit)
    assert _probe(limit) / 8.5 == pytest.approx(PROBE_SLOWDOWN, rel=0.01)


def test_one_above_the_level_throttled_it_grows_at_the_usual_pace_again() -> None:
    limit = AdaptiveLimit(maximum=20, start=6)
    _answer(limit, throttled=True)  # throttled at 6: back to 4.2; quickly to 5, slowly to 7
    while limit.limit < 5:
        _answer(limit)
    assert limit.limit == 5.0
    answers = 0
    while limit.limit < 7:  # the service's limit rose: the level probed is not throttled any more
        _answer(limit)
        answers += 1
    assert answers > PROBE_SLOWDOWN * 5 * 2 * 0.9  # two levels at a sixteenth of the usual pace
    level = limit.limit
    _answer(limit)
    assert limit.limit == pytest.approx(level + 1 / level)  # past them: the usual pace


def test_knowing_the_run_s_length_it_does_not_probe_in_its_last_rounds() -> None:
    def climbed(requests: int | None, answers: int = 60) -> AdaptiveLimit:
        limit = AdaptiveLimit(maximum=20, start=10, requests=requests)
        _answer(limit, throttled=True)  # 10 -> 7: quickly back up to 9, then slowly
        for _ in range(answers):
            _answer(limit)
        return limit

    free = climbed(None).limit
    assert free > 9.0 and climbed(10_000).limit == free  # far from the end: the same
    assert 9.0 < climbed(200).limit < free  # probing until 16 rounds of 9 were left
    assert climbed(100).limit == 9.0  # fewer than that left from the start: up to one below 10, no further
    reached = next(n for n in range(60) if climbed(None, n).limit == 9.0)  # answers up to 9.0
    # The next answer is request reached + 2: it probes if the 16 rounds of 9 after it end the run, not if
    # they would outlast it.
    last = reached + 2 + PROBE_SLOWDOWN * 9
    assert climbed(last, reached + 1).limit > 9.0
    assert climbed(last - 1, reached + 1).limit == 9.0


def test_exactly_one_above_the_level_throttled_the_usual_pace_resumes() -> None:
    # Windows of one request. Up from 1 in slow start, a back-off for latency at exactly 3, a throttle while
    # holding (at 2, where it left the limit), then a window that says the back-off did not help: undone,
    # back to exactly 3, one above the level throttled.
    limit = AdaptiveLimit(maximum=20, start=1, window=1)
    for latency in (0.05, 0.2, 0.2):
        limit.finished(limit.started(), latency=latency, throttled=False)
    assert limit.limit == pytest.approx(3 * BACKOFF) and limit.decreases == 1
    limit.finished(limit.started(), latency=0.2, throttled=True)
    assert limit.throttled_at == 2 and limit.decreases == 2
    limit.finished(limit.started(), latency=0.2, throttled=False)  # sent while the earlier ones queued
    limit.finished(limit.started(), latency=0.2, throttled=False)  # not faster: undone, then one step
    assert limit.limit == pytest.approx(3 + 1 / 3)
