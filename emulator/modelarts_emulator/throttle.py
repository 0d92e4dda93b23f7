"""A stand-in for the service's unpublished request limit: 429 ``ModelArts.6101`` above a concurrency or rate.

ModelArts throttles with 429 / ``ModelArts.6101`` ("The system is busy now. Please try again later.",
``modelarts_error_codes.tsv``) at a limit it does not publish. Two settings (``config.py``) give the
emulator such a limit, so the bulk operators' adaptive concurrency can be tried and measured against it:

* ``throttle_concurrency``: a request arriving while this many are already being handled (injected latency
  included) is answered 429 at once;
* ``throttle_rate``: requests per second, as a token bucket holding one second's worth: a request finding
  the bucket empty is answered 429.

Both off (``None``) by default. The decision is pure (the caller passes the time), so it is tested without
a clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Throttle"]


@dataclass
class Throttle:
    """Admission of one emulator process's API requests (the admin API is never throttled)."""

    in_flight: int = 0
    _tokens: float = field(default=0.0, repr=False)
    _refilled_at: float | None = field(default=None, repr=False)

    def admit(self, now: float, *, concurrency: int | None, rate: float | None) -> bool:
        """Whether a request arriving at ``now`` (seconds) is handled; if so, it counts as in flight until
        :meth:`release`."""
        if concurrency is not None and self.in_flight >= concurrency:
            return False
        if rate is not None and not self._take(now, rate):
            return False
        self.in_flight += 1
        return True

    def release(self) -> None:
        self.in_flight -= 1

    def _take(self, now: float, rate: float) -> bool:
        if self._refilled_at is None:
            self._tokens, self._refilled_at = rate, now
        else:
            self._tokens = min(rate, self._tokens + (now - self._refilled_at) * rate)
            self._refilled_at = now
        if self._tokens < 1.0:
            return False
        self._tokens -= 1.0
        return True
