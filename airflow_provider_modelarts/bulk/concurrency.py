"""How many batches a bulk run keeps in flight: fixed, or found by the run itself (AIMD).

ModelArts throttles with 429 / ``ModelArts.6101`` at a request limit it does not publish. A fixed
concurrency either leaves throughput unused or gets throttled and must be tuned by hand, so by default a
bulk run looks for the limit the way TCP looks for a link's capacity, additive increase and multiplicative
decrease (AIMD):

* it starts at :data:`START` requests in flight (the old fixed default), never above ``max_concurrency``;
* until the first sign of trouble each request that comes back unthrottled adds one, so the limit doubles
  every round of requests (TCP's slow start: a short run must not spend itself climbing); after that, each
  adds ``1 / limit``, so the limit grows by about one per round (one round = ``limit`` requests);
* a throttled answer, or a latency risen to :data:`LATENCY_TOLERANCE` times the lowest seen, multiplies the
  limit by :data:`BACKOFF` (at least 1). Only requests started after the last decrease can cause another,
  so one burst of throttled answers counts once;
* after a throttle, the level that was throttled is remembered: the limit climbs back quickly to one below
  it, then grows :data:`PROBE_SLOWDOWN` times more slowly, so a steady service limit is used almost fully
  and probed rarely (few throttled requests).

The controller sees events, not time: the caller measures each request's latency and says whether it was
throttled. Tests drive it with plain numbers; nothing here sleeps, reads a clock or imports Airflow.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

__all__ = [
    "BACKOFF",
    "LATENCY_TOLERANCE",
    "PROBE_SLOWDOWN",
    "START",
    "AdaptiveLimit",
    "FixedLimit",
]

#: Requests in flight when a run starts (the fixed default before adaptive concurrency).
START = 4
#: Multiplicative decrease. Gentler than TCP's 0.5: the service limit is steady, and a run of a few hundred
#: requests has no time to climb back from half.
BACKOFF = 0.7
#: A request slower than this multiple of the lowest latency seen means the service is queueing.
LATENCY_TOLERANCE = 2.0
#: How much more slowly the limit grows within one of the level where the service last throttled: a probe
#: above a steady limit then costs one throttled request per about ``16 x limit`` answers.
PROBE_SLOWDOWN = 16


@dataclass
class FixedLimit:
    """A pinned concurrency: always ``limit`` requests in flight (``adaptive_concurrency=False``)."""

    limit: int

    @property
    def current(self) -> int:
        return self.limit

    def started(self) -> int:
        return 0

    def finished(self, ticket: int, *, latency: float, throttled: bool) -> None:
        """A fixed limit learns nothing."""

    def describe(self) -> str:
        return f"{self.limit} requests at a time"


@dataclass
class AdaptiveLimit:
    """AIMD concurrency between 1 and ``maximum`` (see the module docstring).

    Call :meth:`started` when a request is sent (it returns a ticket) and :meth:`finished` with that ticket,
    the request's latency in seconds and whether the service throttled it; read :attr:`current` before
    sending the next one.
    """

    maximum: int
    start: int = START
    backoff: float = BACKOFF
    latency_tolerance: float = LATENCY_TOLERANCE
    probe_slowdown: int = PROBE_SLOWDOWN
    limit: float = field(init=False)
    #: Level at which the service last throttled (``None``: never), and the lowest latency seen.
    throttled_at: float | None = field(default=None, init=False)
    lowest_latency: float = field(default=math.inf, init=False)
    #: Requests started so far; a decrease ignores requests started before the previous decrease.
    _sent: int = field(default=0, init=False, repr=False)
    _last_decrease: int = field(default=0, init=False, repr=False)
    decreases: int = field(default=0, init=False)
    peak: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        if self.maximum < 1:
            raise ValueError(f"maximum concurrency must be at least 1, got {self.maximum}")
        if not 0 < self.backoff < 1:
            raise ValueError(f"backoff must be between 0 and 1, got {self.backoff}")
        self.limit = float(max(1, min(self.start, self.maximum)))
        self.peak = self.current

    @property
    def current(self) -> int:
        """Requests that may be in flight now."""
        return max(1, min(self.maximum, int(self.limit)))

    def started(self) -> int:
        self._sent += 1
        return self._sent

    def finished(self, ticket: int, *, latency: float, throttled: bool) -> None:
        """Learn from one answered request (``ticket`` from :meth:`started`)."""
        congested = throttled
        if not throttled and latency >= 0:
            if latency < self.lowest_latency:
                self.lowest_latency = latency
            congested = latency > self.lowest_latency * self.latency_tolerance > 0
        if congested:
            if ticket > self._last_decrease:  # once per burst: later answers of the same round are stale
                if throttled:
                    self.throttled_at = self.limit
                self.limit = max(1.0, self.limit * self.backoff)
                self._last_decrease = self._sent
                self.decreases += 1
            return
        step = 1.0 if not self.decreases else 1.0 / self.limit
        if self.throttled_at is not None and self.limit + step >= self.throttled_at - 1:
            step /= self.probe_slowdown
        self.limit = min(float(self.maximum), self.limit + step)
        self.peak = max(self.peak, self.current)

    def describe(self) -> str:
        return f"{self.current} requests at a time to start, adapting up to {self.maximum}"
