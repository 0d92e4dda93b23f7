"""Fault injection: what a flaky network or an overloaded service does to a request, on demand.

Rules are matched per route name (the names the client uses in its logs: ``add_samples``,
``get_workforce_task``, ...) or globally (``route`` left out or ``"*"``). Kinds:

* ``latency``: wait ``latency_ms`` before handling (every matching latency rule adds up);
* ``status``: answer ``status`` (429 with ``Retry-After``, 500 or 503) without applying the request;
* ``drop_before``: cut the connection without applying the request;
* ``drop_after``: apply the request, then cut the connection instead of answering -- the caller cannot know
  it was applied, which is how duplicates happen in real life.

Each rule fires with probability ``rate`` (a seedable RNG, so a run is repeatable) and at most ``count``
times when a count is given ("the next N requests"). Latency rules do not stop the first matching
status/drop rule from firing.
"""

from __future__ import annotations

import itertools
import random
import threading
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["KINDS", "FaultDecision", "FaultInjector", "FaultRule"]

KINDS = ("latency", "status", "drop_before", "drop_after")
_STATUSES = (429, 500, 503)


@dataclass
class FaultRule:
    kind: str
    route: str | None = None
    rate: float = 1.0
    count: int | None = None
    latency_ms: float = 0.0
    status: int = 503
    retry_after: float | None = 1.0
    id: int = 0
    fired: int = 0

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FaultRule:
        """Build a rule from admin JSON; ``kind`` may be left out when the other keys say it
        (``latency_ms`` -> latency, ``status`` -> status, ``drop: "before"|"after"`` -> drop)."""
        data = dict(data)
        kind = data.pop("kind", None)
        drop = data.pop("drop", None)
        if kind is None:
            if drop is not None:
                kind = f"drop_{drop}"
            elif "status" in data:
                kind = "status"
            elif "latency_ms" in data:
                kind = "latency"
        if kind not in KINDS:
            raise ValueError(f"fault kind must be one of {', '.join(KINDS)} (or give status/latency_ms/drop)")
        known = {"route", "rate", "count", "latency_ms", "status", "retry_after"}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown fault rule key(s): {', '.join(sorted(unknown))}")
        route = data.get("route")
        rule = cls(
            kind=kind,
            route=None if route in (None, "", "*") else str(route),
            rate=float(data.get("rate", 1.0)),
            count=None if data.get("count") is None else int(data["count"]),
            latency_ms=float(data.get("latency_ms", 0.0)),
            status=int(data.get("status", 503)),
            retry_after=None if data.get("retry_after", 1.0) is None else float(data.get("retry_after", 1.0)),
        )
        if not 0.0 <= rule.rate <= 1.0:
            raise ValueError(f"fault rate must be in [0, 1], got {rule.rate}")
        if rule.count is not None and rule.count < 0:
            raise ValueError(f"fault count must not be negative, got {rule.count}")
        if kind == "status" and rule.status not in _STATUSES:
            raise ValueError(f"fault status must be one of {_STATUSES}, got {rule.status}")
        if kind == "latency" and rule.latency_ms < 0:
            raise ValueError("latency_ms must not be negative")
        return rule

    @property
    def exhausted(self) -> bool:
        return self.count is not None and self.fired >= self.count

    def matches(self, route: str | None) -> bool:
        return self.route is None or self.route == route

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["remaining"] = None if self.count is None else max(self.count - self.fired, 0)
        return data


@dataclass(frozen=True)
class FaultDecision:
    latency_s: float = 0.0
    action: FaultRule | None = None


_NO_FAULT = FaultDecision()


class FaultInjector:
    """Thread-safe rule list with its own seeded RNG (reseed for a repeatable sequence)."""

    def __init__(self, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._ids = itertools.count(1)
        self._rng = random.Random(seed)
        self._active = False  # any rule left that can still fire: the common no-fault case costs one read

    def add(self, rule: FaultRule) -> FaultRule:
        with self._lock:
            rule.id = next(self._ids)
            self._rules.append(rule)
            self._active = not all(r.exhausted for r in self._rules)
            return rule

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()
            self._active = False

    def reseed(self, seed: int) -> None:
        with self._lock:
            self._rng = random.Random(seed)

    def rules(self) -> list[dict[str, Any]]:
        with self._lock:
            return [rule.to_dict() for rule in self._rules]

    def decide(self, route: str | None) -> FaultDecision:
        if not self._active:
            return _NO_FAULT
        with self._lock:
            latency = 0.0
            action: FaultRule | None = None
            for rule in self._rules:
                if rule.exhausted or not rule.matches(route):
                    continue
                if rule.kind != "latency" and action is not None:
                    continue
                if rule.rate < 1.0 and self._rng.random() >= rule.rate:
                    continue
                rule.fired += 1
                if rule.kind == "latency":
                    latency += rule.latency_ms / 1000.0
                else:
                    action = rule
            self._active = not all(r.exhausted for r in self._rules)
            return FaultDecision(latency, action)
