"""triggers/clients.py: which shared client a trigger gets (settings fingerprint, retirement, per-key builds)
and how its requests take turns (sized for latency, first come first served, never held through a sleep).

Time is virtual wherever it matters: :class:`VirtualClockLoop` is an asyncio event loop (public APIs only)
whose ``time()`` jumps to the next timer instead of waiting for it, so a simulated hour of polling at 200 ms
per answer runs in the CPU time its requests cost, and no figure depends on the machine's speed.
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
import random
import selectors
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

import httpx
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from airflow_provider_modelarts.errors import (
    ModelArtsAuthError,
    ModelArtsServerError,
    ModelArtsThrottledError,
    ModelArtsValidationError,
)
from airflow_provider_modelarts.hooks.connection import ModelArtsConnectionSettings
from airflow_provider_modelarts.triggers.clients import (
    FIRST_LATENCY,
    LATENCY_WEIGHT,
    MAX_TURNS,
    MIN_TURNS,
    POOL_SIZE,
    REQUESTS_PER_POLL,
    ROUND_SHARE,
    SharedClients,
    Turns,
    TurnTransport,
    begin_poll,
    credentials_refused,
    settings_fingerprint,
    shared_clients,
    turn_transport,
)

T = TypeVar("T")
SECRET = "unit-test-secret-key-0123456789"


class _VirtualSelector(selectors.DefaultSelector):  # type: ignore[misc,valid-type]
    """A selector that never blocks: a wait for the next timer moves the virtual clock there instead."""

    def __init__(self) -> None:
        super().__init__()
        self.now = 0.0

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        ready: list[tuple[selectors.SelectorKey, int]] = super().select(0)
        if not ready:
            if timeout is None:
                raise RuntimeError("nothing is scheduled and nothing can arrive: the scenario is stuck")
            self.now += max(timeout, 0.0)
        return ready


class VirtualClockLoop(asyncio.SelectorEventLoop):
    """An event loop whose time is virtual (seconds from 0); timers fire in order, at once."""

    def __init__(self) -> None:
        self.virtual = _VirtualSelector()
        super().__init__(self.virtual)

    def time(self) -> float:
        return self.virtual.now


def run_virtual(main: Coroutine[Any, Any, T]) -> T:
    with asyncio.Runner(loop_factory=VirtualClockLoop) as runner:
        return runner.run(main)


def make_settings(**changes: Any) -> ModelArtsConnectionSettings:
    base: dict[str, Any] = {
        "conn_id": "modelarts_unit",
        "auth_type": "aksk",
        "project_id": "p1",
        "region": None,
        "endpoint": "https://modelarts.unit.test",
        "access_key": "UNITTESTAK0000000001",
        "secret_key": SECRET,
    }
    return ModelArtsConnectionSettings(**{**base, **changes})


# -- which client ------------------------------------------------------------------------------------------

CHANGES = {
    "secret_key": "a-rotated-secret-key-987654",
    "access_key": "UNITTESTAK0000000002",
    "security_token": "a-temporary-token",
    "endpoint": "https://modelarts.other.test",
    "project_id": "p2",
    "verify": False,
    "timeout": 5.0,
    "conn_id": "modelarts_other",
}


@given(st.sampled_from(sorted(CHANGES)))
def test_the_fingerprint_changes_with_any_setting_and_never_holds_a_secret(name: str) -> None:
    before, after = make_settings(), make_settings(**{name: CHANGES[name]})
    assert settings_fingerprint(before) == settings_fingerprint(make_settings())
    assert settings_fingerprint(before) != settings_fingerprint(after)
    fingerprint = settings_fingerprint(after)
    assert len(fingerprint) == 64 and int(fingerprint, 16) >= 0  # a hex digest, nothing in clear
    for value in (SECRET, CHANGES["secret_key"], CHANGES["security_token"]):
        assert value not in fingerprint


def test_every_refusal_of_credentials_retires_a_client_and_nothing_else_does() -> None:
    def error(cls: type[Exception], status: int, code: str) -> Exception:
        return cls(status=status, error_code=code, error_msg="x", method="GET", path="/v2/p1/datasets")

    assert credentials_refused(error(ModelArtsAuthError, 401, "APIGW.0301"))
    assert credentials_refused(error(ModelArtsAuthError, 403, "ModelArts.0203"))
    assert credentials_refused(error(ModelArtsAuthError, 401, "ModelArts.4127"))
    assert not credentials_refused(error(ModelArtsServerError, 503, "ModelArts.0000"))
    assert not credentials_refused(error(ModelArtsThrottledError, 429, "ModelArts.6101"))
    assert not credentials_refused(error(ModelArtsValidationError, 400, "ModelArts.4353"))
    assert not credentials_refused(RuntimeError("401"))


class FakeClient:
    def __init__(self, key: Any, turns: Turns) -> None:
        self.key, self.turns, self.closed = key, turns, 0

    async def aclose(self) -> None:
        self.closed += 1


def builder(built: list[FakeClient], key: Any) -> Callable[[Turns], Awaitable[FakeClient]]:
    async def build(turns: Turns) -> FakeClient:
        client = FakeClient(key, turns)
        built.append(client)
        return client

    return build


class SharedClientsMachine(RuleBasedStateMachine):
    """Triggers start on connections whose settings rotate, finish, or meet a refusal, in any order."""

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.shared = SharedClients()
        self.version = {"a": 0, "b": 0}
        self.held: list[FakeClient] = []
        self.built: list[FakeClient] = []
        self.retired: set[int] = set()

    def teardown(self) -> None:
        self.loop.close()

    @rule(conn=st.sampled_from(["a", "b"]))
    def start(self, conn: str) -> None:
        key = (conn, self.version[conn])
        client = self.loop.run_until_complete(
            self.shared.acquire(key, builder(self.built, key), poll_interval=60)
        )
        assert client.key == key and client.closed == 0 and id(client) not in self.retired
        self.held.append(client)

    @rule(conn=st.sampled_from(["a", "b"]))
    def rotate(self, conn: str) -> None:
        self.version[conn] += 1

    @precondition(lambda self: self.held)
    @rule(data=st.data(), refused=st.booleans())
    def finish(self, data: st.DataObject, refused: bool) -> None:
        client = self.held.pop(data.draw(st.integers(0, len(self.held) - 1)))
        if refused:
            self.retired.add(id(client))
        self.loop.run_until_complete(self.shared.release(client, refused=refused))

    @invariant()
    def clients_live_exactly_as_long_as_they_are_held(self) -> None:
        assert self.shared.built == len(self.built)
        for client in self.built:
            holders = sum(held is client for held in self.held)
            assert self.shared.users(client) == holders
            assert client.turns.users == holders
            assert client.closed == (0 if holders else 1)

    @invariant()
    def one_client_per_settings_at_a_time(self) -> None:
        live = [c for c in self.built if not c.closed and id(c) not in self.retired]
        assert len({c.key for c in live}) == len(live)


TestSharedClientsMachine = SharedClientsMachine.TestCase
TestSharedClientsMachine.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)


def test_a_slow_build_for_one_key_holds_up_neither_another_key_nor_its_own_waiters_twice() -> None:
    async def scenario() -> None:
        shared = SharedClients()
        built: list[FakeClient] = []
        release_a = asyncio.Event()
        build_a = builder(built, "a")

        async def slow_a(turns: Turns) -> FakeClient:
            await release_a.wait()
            return await build_a(turns)

        first_a = asyncio.create_task(shared.acquire("a", slow_a, poll_interval=60))
        second_a = asyncio.create_task(shared.acquire("a", slow_a, poll_interval=60))
        for _ in range(5):
            await asyncio.sleep(0)
        b = await shared.acquire("b", builder(built, "b"), poll_interval=60)  # while "a" is still building
        assert b.key == "b" and not first_a.done() and not second_a.done()
        release_a.set()
        assert await first_a is await second_a  # one build for both
        assert [c.key for c in built] == ["b", "a"] and shared.built == 2

    asyncio.run(scenario())


def test_a_failed_or_cancelled_build_lets_the_next_waiter_build() -> None:
    async def scenario() -> None:
        shared = SharedClients()
        built: list[FakeClient] = []
        gate = asyncio.Event()
        attempts: list[str] = []

        async def failing(turns: Turns) -> FakeClient:
            attempts.append("fail")
            await gate.wait()
            raise ValueError("the connection is misconfigured")

        async def hanging(turns: Turns) -> FakeClient:
            attempts.append("hang")
            await asyncio.Event().wait()
            raise AssertionError("never")

        failed = asyncio.create_task(shared.acquire("k", failing, poll_interval=60))
        await asyncio.sleep(0)
        waiter = asyncio.create_task(shared.acquire("k", builder(built, "k"), poll_interval=60))
        await asyncio.sleep(0)
        gate.set()
        with pytest.raises(ValueError, match="misconfigured"):
            await failed
        assert (await waiter).key == "k" and shared.built == 1

        cancelled = asyncio.create_task(shared.acquire("j", hanging, poll_interval=60))
        await asyncio.sleep(0)
        other = asyncio.create_task(shared.acquire("j", builder(built, "j"), poll_interval=60))
        await asyncio.sleep(0)
        cancelled.cancel()
        assert (await other).key == "j" and shared.built == 2
        assert attempts == ["fail", "hang"]

    asyncio.run(scenario())


def test_release_ignores_clients_it_did_not_hand_out_and_each_loop_has_its_own_registry() -> None:
    async def scenario() -> SharedClients:
        shared = SharedClients()
        stranger = FakeClient("x", Turns(60))
        await shared.release(stranger, refused=True)
        assert stranger.closed == 0 and shared.users(stranger) == 0 and shared.turns(stranger) is None
        built: list[FakeClient] = []
        client = await shared.acquire("k", builder(built, "k"), poll_interval=60)
        assert shared.turns(client) is client.turns and client.turns.poll_interval == 60
        assert shared_clients() is shared_clients()
        return shared_clients()

    assert asyncio.run(scenario()) is not asyncio.run(scenario())


# -- turns -------------------------------------------------------------------------------------------------


def limit_of(users: int, latency: float, interval: float) -> int:
    turns = Turns(interval, clock=lambda: 0.0)
    turns.users, turns.latency = users, latency
    return turns.limit


def test_turns_follow_latency_users_and_interval() -> None:
    assert (REQUESTS_PER_POLL, ROUND_SHARE, MIN_TURNS, MAX_TURNS) == (2, 0.1, 4, 100)
    assert Turns(60, clock=lambda: 0.0).latency == FIRST_LATENCY == 1.0
    assert limit_of(1000, 0.2, 60) == 67  # 2 x 1,000 x 0.2 / 6: a whole round within 6 s
    assert limit_of(1000, 0.4, 60) == 134 - 34  # capped
    assert limit_of(0, 0.2, 60) == limit_of(1, 0.001, 60) == MIN_TURNS
    assert limit_of(150, 0.2, 6) == 100 and limit_of(149, 0.2, 6) == 100  # 2*149*0.2/0.6 = 99.3 -> 100
    assert limit_of(120, 0.2, 6) == 80 and limit_of(121, 0.2, 6) == 81  # 80.7 rounds up
    assert limit_of(30, 0.5, 6) == 50  # exactly 50: not rounded up
    assert limit_of(10, 1.0, 0) == limit_of(10, 1.0, -1) == MAX_TURNS


@given(
    users=st.integers(0, 5000),
    latency=st.floats(0.001, 30),
    interval=st.floats(0.01, 86400),
)
def test_turns_are_enough_for_a_round_within_a_tenth_of_the_interval_unless_capped(
    users: int, latency: float, interval: float
) -> None:
    limit = limit_of(users, latency, interval)
    assert MIN_TURNS <= limit <= MAX_TURNS
    round_time = REQUESTS_PER_POLL * users * latency / limit  # every user's requests, `limit` at a time
    assert round_time <= ROUND_SHARE * interval * (1 + 1e-9) or limit == MAX_TURNS
    if limit > MIN_TURNS:  # and not more than that needs (one turn fewer would not do)
        assert REQUESTS_PER_POLL * users * latency / (limit - 1) > ROUND_SHARE * interval * (1 - 1e-9)


def test_the_latency_moves_towards_each_successful_answer() -> None:
    now = [0.0]
    turns = Turns(60, clock=lambda: now[0])

    async def one(seconds: float, ok: bool) -> None:
        async with turns.turn() as answered:
            now[0] += seconds
            if ok:
                answered()

    asyncio.run(one(0.2, True))
    assert turns.latency == pytest.approx(FIRST_LATENCY + LATENCY_WEIGHT * (0.2 - FIRST_LATENCY))
    asyncio.run(one(5.0, False))  # a failed answer teaches nothing
    assert turns.latency == pytest.approx(0.84)
    assert LATENCY_WEIGHT == 0.2 and turns.in_flight == 0


class TurnsMachine(RuleBasedStateMachine):
    """Requests arrive, finish, are cancelled while waiting, users come and go, latency moves."""

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.turns = Turns(6.0, clock=lambda: 0.0)
        self.turns.users = 1
        self.requests: list[asyncio.Task[None]] = []
        self.release: dict[asyncio.Task[None], asyncio.Event] = {}
        self.keys: dict[asyncio.Task[None], tuple[float, int]] = {}  # (due, ticket) of each request
        self.out_of_order: list[tuple[float, int]] = []  # keys granted while a smaller one waited
        self.arrived = 0

    def teardown(self) -> None:
        for task in self.requests:
            task.cancel()
        self.settle()
        self.loop.close()

    def settle(self) -> None:
        for _ in range(4):
            self.loop.run_until_complete(asyncio.sleep(0))

    def holding(self) -> list[asyncio.Task[None]]:
        return [t for t in self.requests if not t.done() and t.get_name().startswith("held")]

    def waiting(self) -> list[asyncio.Task[None]]:
        return [t for t in self.requests if not t.done() and t.get_name().startswith("wait")]

    @rule(due=st.sampled_from([0.0, 1.0, 2.0]))
    def arrive(self, due: float) -> None:
        number, done = self.arrived, asyncio.Event()
        self.arrived += 1
        key = (due, -number)  # later arrivals get smaller tickets: the order is not the arrival order

        async def request() -> None:
            await self.turns.take(key)
            asyncio.current_task().set_name(f"held-{number}")  # type: ignore[union-attr]
            if any(self.keys[other] < key for other in self.waiting()):
                self.out_of_order.append(key)
            try:
                await done.wait()
            finally:
                self.turns.give_back()

        task = self.loop.create_task(request(), name=f"wait-{number}")
        self.keys[task] = key
        self.requests.append(task)
        self.release[task] = done
        self.settle()

    @precondition(lambda self: self.holding())
    @rule(data=st.data())
    def finish(self, data: st.DataObject) -> None:
        held = self.holding()
        self.release[held[data.draw(st.integers(0, len(held) - 1))]].set()
        self.settle()

    @precondition(lambda self: self.waiting() or self.holding())
    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        candidates = self.waiting() + self.holding()
        candidates[data.draw(st.integers(0, len(candidates) - 1))].cancel()
        self.settle()

    @rule(users=st.integers(0, 200))
    def users_change(self, users: int) -> None:
        self.turns.users = users
        self.turns.join()
        self.turns.leave()
        self.settle()

    @rule(seconds=st.floats(0.0, 3.0))
    def answered(self, seconds: float) -> None:
        self.turns.answered(seconds)
        self.settle()

    @invariant()
    def turns_are_counted_and_never_left_idle_while_someone_waits(self) -> None:
        assert self.turns.in_flight == len(self.holding())
        assert self.turns.waiting == len(self.waiting())
        assert self.turns.waiting == 0 or self.turns.in_flight >= self.turns.limit

    @invariant()
    def earliest_poll_first(self) -> None:
        assert self.out_of_order == []


TestTurnsMachine = TurnsMachine.TestCase
TestTurnsMachine.settings = settings(
    max_examples=80, stateful_step_count=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def test_a_turn_granted_to_a_request_cancelled_at_that_moment_goes_to_the_next() -> None:
    async def scenario() -> list[str]:
        turns = Turns(60, clock=lambda: 0.0)
        order: list[str] = []
        held = [asyncio.Event() for _ in range(MIN_TURNS)]

        async def request(name: str, done: asyncio.Event) -> None:
            async with turns.turn():
                order.append(name)
                await done.wait()

        holders = [asyncio.create_task(request(f"h{i}", held[i])) for i in range(MIN_TURNS)]
        await asyncio.sleep(0)
        late, last = asyncio.Event(), asyncio.Event()
        unlucky = asyncio.create_task(request("unlucky", late))
        lucky = asyncio.create_task(request("lucky", last))
        await asyncio.sleep(0)
        held[0].set()  # gives its turn to "unlucky"...
        await asyncio.sleep(0)
        unlucky.cancel()  # ...which is cancelled before it could run: the turn passes on
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        assert turns.in_flight == MIN_TURNS and turns.waiting == 0
        for event in (*held, last):
            event.set()
        await asyncio.gather(*holders, lucky, return_exceptions=True)
        assert turns.in_flight == 0
        return order

    assert asyncio.run(scenario()) == ["h0", "h1", "h2", "h3", "lucky"]


def test_waiting_requests_go_in_the_order_their_polls_were_due_then_began() -> None:
    async def scenario() -> list[str]:
        loop = asyncio.get_running_loop()
        turns = Turns(60)
        turns.users = 1  # MIN_TURNS at once
        order: list[str] = []
        holders = [asyncio.Event() for _ in range(MIN_TURNS)]

        async def request(
            name: str, *, poll: bool, wait: float = 0.0, hold: asyncio.Event | None = None
        ) -> None:
            if poll:
                begin_poll()  # the poll is due now
            await asyncio.sleep(wait)  # ... and its request comes this much later
            async with turns.turn():
                order.append(name)
                if hold is not None:
                    await hold.wait()

        tasks = [asyncio.create_task(request(f"h{i}", poll=False, hold=holders[i])) for i in range(MIN_TURNS)]
        tasks.append(asyncio.create_task(request("early poll, late request", poll=True, wait=3.0)))
        await asyncio.sleep(1.0)
        tasks.append(asyncio.create_task(request("poll due at 1 s", poll=True)))
        tasks.append(asyncio.create_task(request("no poll, at 1 s", poll=False)))
        await asyncio.sleep(1.0)
        tasks.append(asyncio.create_task(request("poll due at 2 s", poll=True)))
        await asyncio.sleep(2.0)  # everyone waits now
        assert turns.waiting == 4 and loop.time() == 4.0
        for event in holders:
            event.set()
            await asyncio.sleep(0)
        await asyncio.gather(*tasks)
        return order[MIN_TURNS:]

    assert run_virtual(scenario()) == [
        "early poll, late request",
        "poll due at 1 s",  # began before the request without a poll came
        "no poll, at 1 s",
        "poll due at 2 s",
    ]


# -- the transport -----------------------------------------------------------------------------------------


class Inner(httpx.AsyncBaseTransport):
    """Answers after ``latency`` virtual seconds; records how many requests it saw at once."""

    def __init__(self, latency: float, status: int = 200) -> None:
        self.latency, self.status = latency, status
        self.now = 0
        self.most = 0
        self.closed = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.now += 1
        self.most = max(self.most, self.now)
        try:
            await asyncio.sleep(self.latency)
            if self.status == 599:
                raise httpx.ConnectError("refused")
            return httpx.Response(self.status, json={"task_id": "t1"})
        finally:
            self.now -= 1

    async def aclose(self) -> None:
        self.closed = True


def test_each_request_takes_a_turn_and_reads_its_answer_in_it() -> None:
    async def scenario() -> tuple[list[Inner], Turns, list[Any], float]:
        pools: list[Inner] = []
        turns = Turns(60)
        turns.users = 1  # MIN_TURNS at once
        transport = TurnTransport(turns, lambda: pools.append(Inner(0.2)) or pools[-1])
        async with httpx.AsyncClient(transport=transport, base_url="https://t") as http:
            replies = await asyncio.gather(*(http.get("/x") for _ in range(10)))
        loop = asyncio.get_running_loop()
        assert transport.pools == len(pools)
        return pools, turns, [r.json() for r in replies], loop.time()

    pools, turns, bodies, elapsed = run_virtual(scenario())
    assert bodies == [{"task_id": "t1"}] * 10
    assert len(pools) == 1 and pools[0].closed and pools[0].most == MIN_TURNS == POOL_SIZE
    assert turns.in_flight == 0
    assert elapsed == pytest.approx(0.6)  # 10 requests, 4 at a time, 0.2 s each
    assert turns.latency == pytest.approx(0.2 + (FIRST_LATENCY - 0.2) * 0.8**10)  # ten answers of 0.2 s


@pytest.mark.parametrize("users", [1, 150, 161, 1000])
def test_requests_fill_the_first_pools_with_free_connections_and_no_pool_holds_more(users: int) -> None:
    async def scenario() -> tuple[list[Inner], int]:
        pools: list[Inner] = []
        turns = Turns(60)
        turns.users, turns.latency = users, 0.3
        transport = TurnTransport(turns, lambda: pools.append(Inner(0.3)) or pools[-1])
        requests = [transport.handle_async_request(httpx.Request("GET", "https://t/x")) for _ in range(400)]
        await asyncio.gather(*requests)
        await transport.aclose()
        return pools, turns.limit

    pools, limit = run_virtual(scenario())
    assert len(pools) == math.ceil(limit / POOL_SIZE)  # as many pools as the turns need, no more
    rest = limit - POOL_SIZE * (len(pools) - 1)
    assert [pool.most for pool in pools] == [POOL_SIZE] * (len(pools) - 1) + [rest]
    assert all(pool.closed for pool in pools)


@pytest.mark.parametrize("status", [503, 599])
def test_a_failed_request_gives_its_turn_back_and_teaches_no_latency(status: int) -> None:
    async def scenario() -> Turns:
        turns = Turns(60)
        transport = TurnTransport(turns, lambda: Inner(0.05, status))
        request = httpx.Request("GET", "https://t/x")
        try:
            assert (await transport.handle_async_request(request)).status_code == status
        except httpx.ConnectError:
            assert status == 599
        return turns

    turns = run_virtual(scenario())
    assert turns.in_flight == 0 and turns.latency == FIRST_LATENCY


def test_the_shared_transport_opens_pools_only_when_requests_come() -> None:
    turns = Turns(60)
    transport = turn_transport(turns, verify=True)
    assert isinstance(transport, TurnTransport) and transport.turns is turns and transport.pools == 0
    assert POOL_SIZE == 4
    asyncio.run(transport.aclose())


# -- polling at real latency, in virtual time ------------------------------------------------------------


@dataclasses.dataclass
class Load:
    waits: int
    interval: float
    latency: Callable[[random.Random], float]


def simulate(load: Load, seed: int = 0) -> tuple[float, float]:
    """``load.waits`` waits polling one shared client (two requests a poll) for three intervals; returns
    the worst wait for a poll's first request (after the poll was due) and for a second request."""
    rng = random.Random(seed)

    async def scenario() -> tuple[float, float]:
        turns = Turns(load.interval)
        turns.users = load.waits
        loop = asyncio.get_running_loop()
        worst = [0.0, 0.0]

        async def request(which: int, due: float) -> None:
            async with turns.turn() as answered:
                worst[which] = max(worst[which], loop.time() - due)
                await asyncio.sleep(load.latency(rng))
                answered()

        async def wait() -> None:
            while loop.time() < 3 * load.interval:
                due = loop.time()
                await request(0, due)
                await request(1, loop.time())
                await asyncio.sleep(load.interval)

        await asyncio.gather(*(wait() for _ in range(load.waits)))
        return worst[0], worst[1]

    return run_virtual(scenario())


@settings(max_examples=12, deadline=None)
@given(
    waits=st.integers(1, 1000),
    median=st.floats(0.02, 0.5),
    sigma=st.sampled_from([0.0, 0.3, 0.5]),
    interval=st.sampled_from([15.0, 60.0, 300.0]),
    seed=st.integers(0, 2**16),
)
def test_every_poll_goes_out_within_a_tenth_of_its_interval_whatever_the_latency(
    waits: int, median: float, sigma: float, interval: float, seed: int
) -> None:
    mean = median * math.exp(sigma**2 / 2)
    assume(REQUESTS_PER_POLL * waits * mean <= MAX_TURNS * ROUND_SHARE * interval)  # fits the turns
    load = Load(waits, interval, lambda rng: median * math.exp(rng.gauss(0, sigma)))
    first, second = simulate(load, seed)
    assert first <= ROUND_SHARE * interval
    assert second <= ROUND_SHARE * interval
