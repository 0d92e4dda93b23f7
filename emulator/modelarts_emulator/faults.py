"""Fault injection: what a flaky network or an overloaded service does to a request, on demand.

Rules are matched per route name (the names the client uses in its logs: ``add_samples``,
``get_workforce_task``, ...) or globally (``route`` left out or ``"*"``). Kinds:

* ``latency``: wait ``latency_ms`` before handling (every matching latency rule adds up);
* ``status``: answer ``status`` (429 with ``Retry-After``, 500 or 503) without applying the request;
* ``drop_before``: cut the connection without applying the request;
* ``drop_after``: apply the request, then cut the connection instead of answering -- the caller cannot know
  it was applied, which is how duplicates happen in real life;
* ``revoke_tokens``: invalidate every IAM token just before this request is authenticated (a password change
  in the middle of a run): this request and the ones in flight are refused with ``ModelArts.4127``.

Whether a rule fires is decided *per request*, never by arrival order: a hash of (fault seed, rule id, the
request's identity, and the attempt number of that identity) is compared with ``rate``. The identity is a
digest of method, path, query string and body, so a retry of the same request is attempt 1, 2, ... of the
same identity, and concurrent requests arriving in any order meet the same fate. ``max_per_request`` (k)
stops a rule from firing on a request that has already been faulted k times by any rule: a client with more
than k attempts can then never exhaust them, whatever the rates. ``count`` ("the next N requests") is the
one order-dependent knob: it caps how often a rule fires in total, first come first served. Latency rules do
not stop the first matching status/drop rule from firing; a status/drop rule marked ``immediate`` answers
without their wait (a gateway refusing before the backend is reached: a fast failure).

Latency jitter (``latency_jitter_sigma`` in the emulator's config): the latency of a request's latency rules
is multiplied by ``exp(sigma * z)``, ``z`` a standard normal drawn from the same kind of hash (fault seed,
request identity, attempt): lognormal with median 1, as network latency spreads, and per request, so it does
not depend on arrival order either.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import threading
from dataclasses import asdict, dataclass
from statistics import NormalDist
from typing import Any

__all__ = ["KINDS", "FaultDecision", "FaultInjector", "FaultRule", "request_identity"]

KINDS = ("latency", "status", "drop_before", "drop_after", "revoke_tokens")
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
    max_per_request: int | None = None
    immediate: bool = False
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
        known = {
            *("route", "rate", "count", "latency_ms", "status", "retry_after", "max_per_request", "immediate")
        }
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
            max_per_request=None if data.get("max_per_request") is None else int(data["max_per_request"]),
            immediate=data.get("immediate", False),
        )
        if not isinstance(rule.immediate, bool):
            raise ValueError(f"immediate must be true or false, got {rule.immediate!r}")
        if not 0.0 <= rule.rate <= 1.0:
            raise ValueError(f"fault rate must be in [0, 1], got {rule.rate}")
        if rule.count is not None and rule.count < 0:
            raise ValueError(f"fault count must not be negative, got {rule.count}")
        if rule.max_per_request is not None and rule.max_per_request < 0:
            raise ValueError(f"max_per_request must not be negative, got {rule.max_per_request}")
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
_NORMAL = NormalDist()


def request_identity(method: str, path: str, query: bytes = b"", body: bytes = b"") -> bytes:
    """What makes two requests "the same request" for fault decisions: method, path, query and body.

    Headers are left out on purpose: an AK/SK retry carries a new ``X-Sdk-Date`` and signature, an IAM
    retry perhaps a new token, and it is still the same request.
    """
    digest = hashlib.blake2b(digest_size=16)
    digest.update(f"{method} {path}?".encode())
    digest.update(query)
    digest.update(b"\n")
    digest.update(body)
    return digest.digest()


class FaultInjector:
    """Thread-safe rule list; decisions are a pure function of (seed, rule, request identity, attempt)."""

    def __init__(self, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._ids = itertools.count(1)
        self._seed = seed
        # request identity -> [attempts seen, times faulted]
        self._seen: dict[bytes, list[int]] = {}
        self._active = False  # any rule left that can still fire: the common no-fault case costs one read

    @property
    def active(self) -> bool:
        return self._active

    def add(self, rule: FaultRule) -> FaultRule:
        with self._lock:
            rule.id = next(self._ids)
            self._rules.append(rule)
            self._active = not all(r.exhausted for r in self._rules)
            return rule

    def clear(self) -> None:
        """No rules, and a fresh start: rule ids count from 1 again and no request has been seen."""
        with self._lock:
            self._rules.clear()
            self._ids = itertools.count(1)
            self._seen.clear()
            self._active = False

    def reseed(self, seed: int) -> None:
        with self._lock:
            self._seed = seed
            self._seen.clear()

    def rules(self) -> list[dict[str, Any]]:
        with self._lock:
            return [rule.to_dict() for rule in self._rules]

    def _draw(self, salt: object, identity: bytes, attempt: int) -> float:
        """A number in (0, 1), a pure function of (seed, salt, attempt, identity)."""
        seeded = f"{self._seed}:{salt}:{attempt}:".encode()
        digest = hashlib.blake2b(seeded + identity, digest_size=8).digest()
        return (int.from_bytes(digest, "big") + 0.5) / 2.0**64

    def _fires(self, rule: FaultRule, identity: bytes, attempt: int) -> bool:
        if rule.rate >= 1.0:
            return True
        if rule.rate <= 0.0:
            return False
        return self._draw(rule.id, identity, attempt) < rule.rate

    def decide(self, route: str | None, identity: bytes = b"", jitter_sigma: float = 0.0) -> FaultDecision:
        """The faults for one request: ``identity`` from :func:`request_identity` (all requests are one
        request when it is left out, each call then being its next attempt); ``jitter_sigma`` spreads its
        latency (see the module docstring)."""
        if not self._active:
            return _NO_FAULT
        with self._lock:
            seen = self._seen.setdefault(identity, [0, 0])
            attempt, faulted = seen
            seen[0] += 1
            latency = 0.0
            action: FaultRule | None = None
            for rule in self._rules:
                if rule.exhausted or not rule.matches(route):
                    continue
                if rule.kind != "latency" and (
                    action is not None
                    or (rule.max_per_request is not None and faulted >= rule.max_per_request)
                ):
                    continue
                if not self._fires(rule, identity, attempt):
                    continue
                rule.fired += 1
                if rule.kind == "latency":
                    latency += rule.latency_ms / 1000.0
                else:
                    action = rule
            if action is not None:
                seen[1] += 1
                if action.immediate:
                    latency = 0.0
            if latency and jitter_sigma > 0:
                z = _NORMAL.inv_cdf(self._draw("jitter", identity, attempt))
                latency *= math.exp(jitter_sigma * z)
            self._active = not all(r.exhausted for r in self._rules)
            return FaultDecision(latency, action)
