"""How many batches a bulk run keeps in flight: fixed, or found by the run itself (AIMD).

ModelArts throttles with 429 / ``ModelArts.6101`` at a request limit it does not publish. A fixed
concurrency either leaves throughput unused or gets throttled and must be tuned by hand, so by default a
bulk run looks for the limit the way TCP looks for a link's capacity, additive increase and multiplicative
decrease (AIMD). It reads congestion, not noise:

* it starts at :data:`START` requests in flight (the old fixed default), never above ``max_concurrency``;
* until the first sign of trouble each successful, unthrottled answer adds one, so the limit doubles every
  round of requests (TCP's slow start: a short run must not spend itself climbing); after that, each adds
  ``1 / limit``, so the limit grows by about one per round (one round = ``limit`` requests);
* a throttled answer backs off. Throttled at a level the limit climbed to since the last decrease (the
  levels below it were used and not throttled), the limit steps back to one below that level; otherwise
  (the first throttle, in slow start, or at the level a decrease left it: the service's limit fell) it is
  multiplied by :data:`BACKOFF` (at least 1). Only requests sent after the last decrease can cause another,
  so one burst of trouble counts once. The client counts throttled answers for all requests together, so
  an answer may report the throttled retry of another request; after a decrease that still means too
  many: a request is sent only while fewer than the limit are in flight, retries waiting included;
* after any decrease the limit holds (does not grow) until every request sent before it has answered: a
  throttled request keeps its slot through the client's pause before each retry, and its retry must find
  room at the service, not a limit already climbed back up to it;
* the level last throttled is remembered: the limit climbs back quickly to one below it, then grows
  :data:`PROBE_SLOWDOWN` times more slowly until one above it (probing whether the service's limit rose).
  Each throttle at that level again doubles the slowdown, up to :data:`PROBE_SLOWDOWN_MAX`, so a steady
  service limit is used almost fully and probed ever more rarely (each throttled request costs a slot for
  the client's pause). When the caller says how many requests the run sends (``requests``), nothing is
  probed in its last :data:`PROBE_SLOWDOWN` rounds: a throttled probe there would delay the end of the
  run by the client's pause, for a gain the run has no time to use;
* only successful, unthrottled answers teach: a failed or throttled one neither grows the limit nor tells
  its latency (a throttled answer's may include the client's pause); it backs off when throttled;
* queueing is read from latency over windows, never from one answer: a window is :data:`WINDOW`
  consecutive requests in sending order (numbered from the last decrease), read once all of them answered,
  as their total latency over their total batch size in items, so batches of different sizes compare like
  with like and neither one slow answer nor the answers that happen to come back first decide. The
  baseline is the fastest of the last :data:`BASELINE_WINDOWS` windows read: it follows a service whose
  latency drifts, where the all-time fastest answer would be a fluke of jitter. Two windows in a row
  slower than :data:`LATENCY_TOLERANCE` times the baseline multiply the limit by :data:`BACKOFF` (one
  could be jitter);
* after such a back-off the limit holds; the next window is not read (its requests queued behind the
  earlier ones), the one after it judges: not :data:`RELIEF` times faster than the window that caused
  the back-off, the slowness was not ours (the service got slower): the back-off is undone and the
  baseline starts again from that window.

The controller sees events, not time: the caller measures each request's latency and says whether it was
throttled. Tests drive it with plain numbers and simulated services on event-loop turns; nothing here
sleeps, reads a clock or imports Airflow.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

__all__ = [
    "BACKOFF",
    "BASELINE_WINDOWS",
    "LATENCY_TOLERANCE",
    "PROBE_SLOWDOWN",
    "PROBE_SLOWDOWN_MAX",
    "RELIEF",
    "START",
    "WINDOW",
    "AdaptiveLimit",
    "FixedLimit",
]

#: Requests in flight when a run starts (the fixed default before adaptive concurrency).
START = 4
#: Multiplicative decrease. Gentler than TCP's 0.5: the service limit is steady, and a run of a few hundred
#: requests has no time to climb back from half.
BACKOFF = 0.7
#: A window slower than this multiple of the baseline means the service is queueing. Lognormal jitter of
#: sigma 0.5 moves a window of 16 requests by about 13% (one standard deviation): far from a doubling.
LATENCY_TOLERANCE = 2.0
#: Requests per latency window.
WINDOW = 16
#: Windows the baseline remembers (the last 512 requests): long enough that its fastest is not a fluke of
#: jitter, short enough to follow a service whose latency drifts.
BASELINE_WINDOWS = 32
#: After a back-off for latency, a window not at least this much faster than the one that caused it says
#: the slowness was not ours.
RELIEF = 0.9
#: How much more slowly the limit grows from one below the level where the service last throttled to one
#: above it: a probe of a steady limit then costs one throttled request per about ``16 x limit`` answers.
PROBE_SLOWDOWN = 16
#: The slowdown doubles with each throttle at the same level, up to this: at most one probe per 256 rounds.
PROBE_SLOWDOWN_MAX = 256


@dataclass
class FixedLimit:
    """A pinned concurrency: always ``limit`` requests in flight (``adaptive_concurrency=False``)."""

    limit: int

    @property
    def current(self) -> int:
        return self.limit

    def started(self) -> int:
        return 0

    def finished(self, ticket: int, *, latency: float | None, throttled: bool, size: int = 1) -> None:
        """A fixed limit learns nothing."""

    def describe(self) -> str:
        return f"{self.limit} requests at a time"


@dataclass
class AdaptiveLimit:
    """AIMD concurrency between 1 and ``maximum`` (see the module docstring).

    Call :meth:`started` when a request is sent (it returns a ticket) and :meth:`finished` with that ticket,
    the request's latency in seconds (``None``: it failed), whether the service throttled it and its batch
    size; read :attr:`current` before sending the next one.
    """

    maximum: int
    start: int = START
    backoff: float = BACKOFF
    latency_tolerance: float = LATENCY_TOLERANCE
    probe_slowdown: int = PROBE_SLOWDOWN
    window: int = WINDOW
    #: Requests the run will send, when the caller knows (``None``: it does not).
    requests: int | None = None
    limit: float = field(init=False)
    #: Level at which the service last throttled (``None``: never).
    throttled_at: int | None = field(default=None, init=False)
    #: Seconds per item of the last :data:`BASELINE_WINDOWS` windows read, oldest first.
    windows: deque[float] = field(default_factory=lambda: deque(maxlen=BASELINE_WINDOWS), init=False)
    #: The window that caused the last latency back-off and the limit before it, until a later window
    #: says whether backing off helped.
    _suspect: tuple[float, float] | None = field(default=None, init=False, repr=False)
    #: Whether the last window read was slower than the baseline allows.
    _slow: bool = field(default=False, init=False, repr=False)
    #: Windows being filled, by number: [answers, their total latency, their total size].
    _open: dict[int, list[float]] = field(default_factory=dict, init=False, repr=False)
    #: Requests started so far, and those not answered yet.
    _sent: int = field(default=0, init=False, repr=False)
    _in_flight: set[int] = field(default_factory=set, init=False, repr=False)
    #: The last request sent before the last decrease, and those of them not answered yet (the limit holds).
    _last_decrease: int = field(default=0, init=False, repr=False)
    _unsettled: set[int] = field(default_factory=set, init=False, repr=False)
    #: How many times more slowly the limit grows around :attr:`throttled_at` (set by each throttle).
    _slowdown: int = field(default=PROBE_SLOWDOWN, init=False, repr=False)
    #: Requests in flight allowed right after the last decrease.
    _floor: int = field(default=0, init=False, repr=False)
    decreases: int = field(default=0, init=False)
    peak: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        if self.maximum < 1:
            raise ValueError(f"maximum concurrency must be at least 1, got {self.maximum}")
        if not 0 < self.backoff < 1:
            raise ValueError(f"backoff must be between 0 and 1, got {self.backoff}")
        if self.window < 1:
            raise ValueError(f"window must be at least 1 request, got {self.window}")
        self.limit = float(max(1, min(self.start, self.maximum)))
        self.peak = self.current

    @property
    def current(self) -> int:
        """Requests that may be in flight now."""
        return max(1, min(self.maximum, int(self.limit)))

    @property
    def baseline(self) -> float | None:
        """Seconds per item of the fastest recent window (``None`` before one was read)."""
        return min(self.windows) if self.windows else None

    def started(self) -> int:
        self._sent += 1
        self._in_flight.add(self._sent)
        return self._sent

    def finished(self, ticket: int, *, latency: float | None, throttled: bool, size: int = 1) -> None:
        """Learn from one answered request (``ticket`` from :meth:`started`; ``latency`` ``None`` if it
        failed; ``size``: items in its batch)."""
        self._in_flight.discard(ticket)
        self._unsettled.discard(ticket)
        if throttled:
            if ticket > self._last_decrease:  # once per burst: later answers of the same round are stale
                self._throttle_back()
            return
        if ticket > self._last_decrease and self._queueing(ticket, latency, size):
            self._decrease(self.limit * self.backoff)
            return
        if latency is None or self._suspect is not None or self._unsettled:
            return  # failed; holding after a latency back-off; or until those sent before a decrease answer
        step = 1.0 if not self.decreases else 1.0 / self.limit
        if self.throttled_at is not None:
            edge = self.throttled_at - 1  # quickly up to one below the level that was throttled, then slowly
            if self.limit < edge:
                step = min(step, edge - self.limit)
            elif self.limit < self.throttled_at + 1:  # probing the level that was throttled
                step = 0.0 if self._ending() else step / self._slowdown
        self.limit = min(float(self.maximum), self.limit + step)
        self.peak = max(self.peak, self.current)

    def _ending(self) -> bool:
        """Whether the run is in its last :attr:`probe_slowdown` rounds (known only from :attr:`requests`)."""
        return self.requests is not None and self.requests - self._sent < self.probe_slowdown * self.limit

    def _queueing(self, ticket: int, latency: float | None, size: int) -> bool:
        """Count one answer in its window; True when it completes a window slower than the baseline allows.

        Windows are :attr:`window` requests in the order they were sent (numbered from the last decrease),
        read once all of them answered: a window does not favour the answers that came back first.
        """
        number = (ticket - self._last_decrease - 1) // self.window
        entry = self._open.setdefault(number, [0, 0.0, 0])
        entry[0] += 1
        if latency is not None:
            entry[1] += latency
            entry[2] += size
        if entry[0] < self.window:
            return False
        del self._open[number]
        if not entry[2] or (self._suspect is not None and number == 0):
            return False  # all failed; or sent while the requests before a back-off still queued
        value = entry[1] / entry[2]
        suspect, self._suspect = self._suspect, None
        if suspect is not None and value > suspect[0] * RELIEF:
            # Backing off did not help: the service got slower, it is not queueing our requests. Undo it
            # and measure from here.
            self.limit = max(self.limit, suspect[1])
            self.windows.clear()
        baseline = self.baseline
        self.windows.append(value)
        slow, self._slow = self._slow, baseline is not None and value > baseline * self.latency_tolerance > 0
        if slow and self._slow:  # two windows in a row: one could be a fluke of jitter
            self._suspect, self._slow = (value, self.limit), False
            return True
        return False

    def _throttle_back(self) -> None:
        level, previous = self.current, self.throttled_at
        if self.decreases and level > self._floor:
            self._decrease(level - 1)  # climbed since the last decrease: the levels below were not throttled
        else:
            self._decrease(self.limit * self.backoff)
        if previous is not None and level >= previous:  # the same level again: probe it more rarely
            self._slowdown = min(PROBE_SLOWDOWN_MAX, self._slowdown * 2)
        else:
            self._slowdown = self.probe_slowdown
        self.throttled_at = level

    def _decrease(self, limit: float) -> None:
        self.limit = max(1.0, limit)
        self._floor = self.current
        self._last_decrease = self._sent
        self._unsettled = set(self._in_flight)
        self.decreases += 1
        self._open.clear()  # windows start again with the requests sent from now on

    def describe(self) -> str:
        return f"{self.current} requests at a time to start, adapting up to {self.maximum}"
