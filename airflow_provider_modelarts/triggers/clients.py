"""One async client per connection for all the acceptance triggers of a triggerer.

A triggerer runs every trigger of its process in one event loop. A thousand sensors deferred on one
connection would otherwise each read the connection, build an HTTP client with its own TLS context and
connection pool, and, at a 60 s poll interval, open a fresh connection for nearly every poll (idle
connections expire after 5 s). Sharing one client per (connection, project, poll policy) keeps a few
connections warm for all of them and does the setup once.

Polls take turns: at most :data:`POLLS_AT_ONCE` use a shared client at the same time, and the client keeps
as many connections. Without the turns, a thousand triggers polling in the same second would queue a
thousand requests inside the HTTP connection pool, which re-scans its whole queue on every change: the cost
of a poll would grow with the number of triggers.

A client is shared only inside the event loop that built it (an ``httpx.AsyncClient`` belongs to its loop),
counted by its users, and closed when the last one lets go. A client whose credentials went stale (an
expired token) is retired: nobody new gets it, and it is closed once its current users let go.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["POLLS_AT_ONCE", "SharedClients", "shared_clients"]

#: Polls in flight at once on one shared client, and the connections it keeps (a few carry a thousand
#: waits at a 60 s interval: ~17 polls a second of a few milliseconds each).
POLLS_AT_ONCE = 4


@dataclass
class _Entry:
    client: Any
    users: int = 0
    retired: bool = False
    turns: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(POLLS_AT_ONCE))


class SharedClients:
    """Clients of one event loop, shared by key; see the module docstring."""

    def __init__(self) -> None:
        self._by_key: dict[Hashable, _Entry] = {}
        self._by_client: dict[int, _Entry] = {}
        self._lock = asyncio.Lock()
        #: Clients built so far (a test counts them: one per connection, not one per trigger or poll).
        self.built = 0

    async def acquire(self, key: Hashable, build: Callable[[], Awaitable[Any]]) -> Any:
        """The live client for ``key``, built by ``build()`` if there is none; release it when done."""
        async with self._lock:  # two triggers starting together must not build two clients
            entry = self._by_key.get(key)
            if entry is None:
                entry = _Entry(await build())
                self.built += 1
                self._by_key[key] = entry
                self._by_client[id(entry.client)] = entry
            entry.users += 1
            return entry.client

    async def release(self, client: Any, *, retire: bool = False) -> None:
        """Stop using ``client``; ``retire=True`` when its credentials went stale (see the docstring)."""
        entry = self._by_client.get(id(client))
        if entry is None or entry.client is not client:
            return
        entry.users -= 1
        if retire and not entry.retired:
            entry.retired = True
            self._by_key = {key: e for key, e in self._by_key.items() if e is not entry}
        if entry.users > 0:
            return
        del self._by_client[id(client)]
        if not entry.retired:
            self._by_key = {key: e for key, e in self._by_key.items() if e is not entry}
        await client.aclose()

    @contextlib.asynccontextmanager
    async def turn(self, client: Any) -> AsyncIterator[None]:
        """Wait for a turn to use ``client`` (one poll); a client not from here needs none."""
        entry = self._by_client.get(id(client))
        if entry is None or entry.client is not client:
            yield
            return
        async with entry.turns:
            yield

    def users(self, client: Any) -> int:
        entry = self._by_client.get(id(client))
        return entry.users if entry is not None and entry.client is client else 0


_REGISTRIES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, SharedClients] = weakref.WeakKeyDictionary()


def shared_clients() -> SharedClients:
    """The registry of the running event loop (one per triggerer loop; a test's loop gets its own)."""
    loop = asyncio.get_running_loop()
    registry = _REGISTRIES.get(loop)
    if registry is None:
        registry = _REGISTRIES[loop] = SharedClients()
    return registry
