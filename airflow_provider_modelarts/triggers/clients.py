"""The acceptance triggers of a triggerer share async clients: which client a trigger gets, and how its
requests take turns.

A triggerer runs every trigger of its process in one event loop. A thousand sensors deferred on one
connection would otherwise each build an HTTP client with its own TLS context and connection pool and, at a
60 s poll interval, open a fresh connection for nearly every poll (idle connections expire after 5 s).

**Which client.** A trigger reads its connection when it starts (once per start, never per poll) and asks
for the client of ``(connection id, project, poll interval, settings fingerprint)``. The fingerprint
(:func:`settings_fingerprint`) is an HMAC-SHA256 of every setting, secrets included, under a key drawn when
this module is imported: equal settings give equal fingerprints, and no secret can be read back from it.
So a trigger started after the connection changed (a rotated AK/SK, a new password) gets a client built from
the new settings, never the one older waits still hold. A client is shared only inside the event loop that
built it (an ``httpx.AsyncClient`` belongs to its loop), counted by its users, and closed when the last one
lets go. Any refusal of its credentials (:func:`credentials_refused`: every ``ModelArtsAuthError``, 401 /
403, ``APIGW.0301``, an expired or invalid token) retires it: nobody new gets it, and it is closed once its
current users let go. Clients are built per key: triggers asking for a key being built wait for that build
only; no lock is held across a build, and the connection lookup happens before, in the trigger, so a slow
connection never holds up the triggers of another.

**Turns.** Each HTTP request takes a turn while it is sent and its answer read; not a whole poll, so a
turn is never held between the two requests of a poll nor through a retry's sleep. Without turns, a
thousand triggers polling in the same second would queue a thousand requests inside the HTTP connection
pool, which re-scans its whole queue on every change. Requests waiting for a turn are served earliest poll
first: in the order of when their poll was due, then of when it began (:func:`begin_poll`), so a poll
under way finishes before the polls that began after it, and a round of polls due together ends spread
out rather than all at its end (the next round then comes spread out too). The number of turns is sized
for the latency the client sees (Little's law, with the headroom of a whole round)::

    turns = ceil(REQUESTS_PER_POLL x users x latency / (ROUND_SHARE x poll_interval)),
            within [MIN_TURNS, MAX_TURNS]

``latency`` is a moving average of successful answers (:data:`FIRST_LATENCY` until the first one). That
lets every user of the client poll once within a tenth of its interval even when all of them poll at the
same moment: 1,000 waits at a 60 s interval and 200 ms per answer get 67 turns, and a round of all their
polls is answered within about 6 s. At :data:`MAX_TURNS`, 1,000 waits at 60 s still poll once per interval
at up to 3 s per answer. A poll whose deadline passes while it waits for a turn or an answer is cut off
there, so a timeout never waits behind other triggers' polls (``AcceptanceTrigger._poll_in_time``).

The connections are kept in pools of :data:`POOL_SIZE`, as many as the turns in use need (a request goes to
the first pool with a free connection): an HTTP pool checks every connection it holds each time a request
comes or goes, so one pool of a hundred connections would cost each request a hundred checks.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import dataclasses
import hashlib
import heapq
import hmac
import itertools
import math
import secrets
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from typing import Any

import httpx

from airflow_provider_modelarts.errors import ModelArtsAuthError

__all__ = [
    "FIRST_LATENCY",
    "MAX_TURNS",
    "MIN_TURNS",
    "POOL_SIZE",
    "REQUESTS_PER_POLL",
    "ROUND_SHARE",
    "SharedClients",
    "TurnTransport",
    "Turns",
    "begin_poll",
    "credentials_refused",
    "settings_fingerprint",
    "shared_clients",
    "turn_transport",
]

#: Requests of one poll at most (the task details, then the acceptance report of an open round).
REQUESTS_PER_POLL = 2
#: Share of the poll interval within which a whole round of polls (every user once) is answered.
ROUND_SHARE = 0.1
#: Turns a client has at least, and at most (the connections it may keep).
MIN_TURNS = 4
MAX_TURNS = 100
#: Connections per HTTP pool (a client has as many pools as the turns in use need).
POOL_SIZE = 4
#: Latency assumed (seconds) before the first successful answer: rather too many turns than too few.
FIRST_LATENCY = 1.0
#: Weight of each new successful answer in the moving average of the latency.
LATENCY_WEIGHT = 0.2

_FINGERPRINT_KEY = secrets.token_bytes(32)
_TICKETS = itertools.count()
#: The poll the current task is making: (when it was due, its ticket); see :func:`begin_poll`.
_POLL: contextvars.ContextVar[tuple[float, int] | None] = contextvars.ContextVar(
    "modelarts_poll", default=None
)


def settings_fingerprint(settings: Any) -> str:
    """An HMAC-SHA256 (hex) of every field of the dataclass ``settings``, secrets included (see the module
    docstring): equal for equal settings in this process, different when any of them changed."""
    fields = [(field.name, getattr(settings, field.name)) for field in dataclasses.fields(settings)]
    return hmac.new(_FINGERPRINT_KEY, repr(fields).encode(), hashlib.sha256).hexdigest()


def begin_poll() -> None:
    """Mark the start of a poll in the current task: its requests wait their turns in its order."""
    _POLL.set((asyncio.get_running_loop().time(), next(_TICKETS)))


def credentials_refused(error: BaseException) -> bool:
    """Whether ``error`` retires the client that met it: any refusal of its credentials."""
    return isinstance(error, ModelArtsAuthError)


class Turns:
    """The turns of one shared client's requests, sized by the rule of the module docstring.

    ``users`` is kept by :class:`SharedClients`; ``clock`` (seconds) defaults to the running loop's time.
    Waiting requests are served in the order of the module docstring; one cancelled while it waits leaves no
    trace.
    """

    def __init__(self, poll_interval: float, *, clock: Callable[[], float] | None = None) -> None:
        self.poll_interval = poll_interval
        self.users = 0
        self.in_flight = 0
        self.latency = FIRST_LATENCY
        self._clock = clock or (lambda: asyncio.get_running_loop().time())
        self._waiting: list[tuple[float, int, int, asyncio.Future[None]]] = []  # a heap

    @property
    def limit(self) -> int:
        """Requests that may be in flight at once now."""
        if self.poll_interval <= 0:
            return MAX_TURNS
        wanted = REQUESTS_PER_POLL * self.users * self.latency / (ROUND_SHARE * self.poll_interval)
        return max(MIN_TURNS, min(MAX_TURNS, math.ceil(wanted)))

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    def join(self) -> None:
        self.users += 1
        self._wake()

    def leave(self) -> None:
        self.users -= 1

    async def take(self, order: tuple[float, int] | None = None) -> None:
        """Wait for a turn (at once while fewer than :attr:`limit` are in flight and nobody waits).

        ``order``: the (due time, ticket) of the poll the request belongs to (:func:`begin_poll`); a request
        outside a poll is due when it comes. The waiting are served in that order, then as they came.
        """
        if not self._waiting and self.in_flight < self.limit:
            self.in_flight += 1
            return
        due, ticket = order or (self._clock(), next(_TICKETS))
        granted = asyncio.get_running_loop().create_future()
        entry = (due, ticket, next(_TICKETS), granted)
        heapq.heappush(self._waiting, entry)
        try:
            await granted
        except asyncio.CancelledError:
            if granted.cancelled():
                with contextlib.suppress(ValueError):  # already dropped by _wake
                    self._waiting.remove(entry)
                    heapq.heapify(self._waiting)
            else:  # given a turn just as it was cancelled: pass it on
                self.give_back()
            raise

    def give_back(self) -> None:
        self.in_flight -= 1
        self._wake()

    def answered(self, seconds: float) -> None:
        """A successful answer took ``seconds``: the latency the turns are sized for moves towards it."""
        self.latency += LATENCY_WEIGHT * (seconds - self.latency)
        self._wake()

    @contextlib.asynccontextmanager
    async def turn(self) -> AsyncIterator[Callable[[], None]]:
        """One request's turn, in the order of the current task's poll (:func:`begin_poll`); call the
        yielded function once its answer was successful (times it)."""
        await self.take(_POLL.get())
        started = self._clock()
        try:
            yield lambda: self.answered(self._clock() - started)
        finally:
            self.give_back()

    def _wake(self) -> None:
        while self._waiting and self.in_flight < self.limit:
            *_, granted = heapq.heappop(self._waiting)
            if not granted.done():
                self.in_flight += 1
                granted.set_result(None)


@dataclasses.dataclass
class _Pool:
    transport: httpx.AsyncBaseTransport
    in_flight: int = 0


class TurnTransport(httpx.AsyncBaseTransport):
    """Sends each request in a turn of ``turns``, through the first pool with a free connection (a new one
    from ``new_pool()`` when all are busy), and reads its whole answer inside that turn."""

    def __init__(self, turns: Turns, new_pool: Callable[[], httpx.AsyncBaseTransport]) -> None:
        self.turns = turns
        self._new_pool = new_pool
        self._pools: list[_Pool] = []

    @property
    def pools(self) -> int:
        return len(self._pools)

    def _free_pool(self) -> _Pool:
        for pool in self._pools:
            if pool.in_flight < POOL_SIZE:
                return pool
        self._pools.append(_Pool(self._new_pool()))
        return self._pools[-1]

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        async with self.turns.turn() as answered:
            pool = self._free_pool()
            pool.in_flight += 1
            try:
                response = await pool.transport.handle_async_request(request)
                try:
                    await response.aread()
                finally:
                    await response.aclose()
            finally:
                pool.in_flight -= 1
            if response.is_success:
                answered()
        return response

    async def aclose(self) -> None:
        for pool in self._pools:
            await pool.transport.aclose()


def turn_transport(turns: Turns, verify: Any) -> TurnTransport:
    """The transport of a shared client: pools of :data:`POOL_SIZE` connections behind ``turns``
    (``verify``: the connection's TLS setting, as the client would take it)."""
    from airflow_provider_modelarts.client._base import ssl_verify  # the client loads when a trigger runs

    tls = ssl_verify(verify)
    limits = httpx.Limits(max_connections=POOL_SIZE, max_keepalive_connections=POOL_SIZE)
    return TurnTransport(turns, lambda: httpx.AsyncHTTPTransport(verify=tls, limits=limits))


@dataclasses.dataclass
class _Entry:
    key: Hashable
    client: Any
    turns: Turns


class SharedClients:
    """Clients of one event loop, shared by key; see the module docstring."""

    def __init__(self) -> None:
        self._live: dict[Hashable, _Entry] = {}
        self._building: dict[Hashable, asyncio.Event] = {}
        self._by_client: dict[int, _Entry] = {}
        #: Clients built so far (tests count them: one per settings, not one per trigger or poll).
        self.built = 0

    async def acquire(
        self, key: Hashable, build: Callable[[Turns], Awaitable[Any]], *, poll_interval: float
    ) -> Any:
        """The live client for ``key``, built by ``build(turns)`` if there is none; release it when done."""
        entry = self._live.get(key)
        while entry is None:
            building = self._building.get(key)
            if building is None:
                entry = await self._build(key, build, Turns(poll_interval))
            else:  # wait for that build (it may fail or be retired at once: then look again)
                await building.wait()
                entry = self._live.get(key)
        entry.turns.join()
        return entry.client

    async def _build(self, key: Hashable, build: Callable[[Turns], Awaitable[Any]], turns: Turns) -> _Entry:
        building = self._building[key] = asyncio.Event()
        try:
            entry = _Entry(key, await build(turns), turns)
        finally:
            del self._building[key]
            building.set()
        self.built += 1
        self._live[key] = entry
        self._by_client[id(entry.client)] = entry
        return entry

    async def release(self, client: Any, *, refused: bool = False) -> None:
        """Stop using ``client``; ``refused=True`` when it met :func:`credentials_refused` (retires it)."""
        entry = self._by_client.get(id(client))
        if entry is None or entry.client is not client:
            return
        entry.turns.leave()
        if refused:
            self._retire(entry)
        if entry.turns.users > 0:
            return
        del self._by_client[id(client)]
        self._retire(entry)
        await client.aclose()

    def _retire(self, entry: _Entry) -> None:
        if self._live.get(entry.key) is entry:
            del self._live[entry.key]

    def users(self, client: Any) -> int:
        entry = self._by_client.get(id(client))
        return entry.turns.users if entry is not None and entry.client is client else 0

    def turns(self, client: Any) -> Turns | None:
        """The turns of a client from here (``None`` for any other)."""
        entry = self._by_client.get(id(client))
        return entry.turns if entry is not None and entry.client is client else None


_REGISTRIES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, SharedClients] = weakref.WeakKeyDictionary()


def shared_clients() -> SharedClients:
    """The registry of the running event loop (one per triggerer loop; a test's loop gets its own)."""
    loop = asyncio.get_running_loop()
    registry = _REGISTRIES.get(loop)
    if registry is None:
        registry = _REGISTRIES[loop] = SharedClients()
    return registry
