"""When and how long the clients retry: one predicate and one wait/stop policy, run by tenacity.

Both clients (the async source and the sync client generated from it) hand every call to tenacity with the
hooks of a :class:`CallRetries`; nothing else in the package decides about retries.

* Retried: whatever ``error.is_transient`` says (see :mod:`airflow_provider_modelarts.errors`): HTTP 408,
  429 and 5xx, ``ModelArts.6101`` at any 4xx, and transport errors (connect/read failures, timeouts) except
  an unsupported URL scheme. Other 4xx are raised at once: the same request would fail the same way again.
* Delay: ``Retry-After`` when the service sends it (seconds or an HTTP date), otherwise exponential backoff
  with full jitter (``uniform(0, min(backoff_max, backoff_base * 2**(retry-1)))``).
* Budget: at most ``max_attempts`` attempts and never past ``deadline`` seconds from the start of the call: if
  the next delay would end after the deadline, the last error is raised instead of sleeping. A retry whose
  configured read timeout would outlive the deadline gets a timeout of the time that is left.
* Non-idempotent calls are retried too. ``add_samples`` (POST) may therefore reach the service twice when an
  answer is lost; the second attempt then reports ``ModelArts.4422`` (sample already exists) for samples the
  first attempt stored, which the hook treats as success. ``start_acceptance`` likewise answers
  ``ModelArts.4623`` (task already being checked), which the hook adopts.

Each retry logs one WARNING naming the method, the path and the reason (status and error code, or the
transport error's class): never headers, query strings or bodies.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from tenacity import RetryCallState, retry_if_exception

from airflow_provider_modelarts.errors import ModelArtsAPIError, ModelArtsConfigError, ModelArtsError

__all__ = ["CallRetries", "RetryPolicy", "is_retryable"]

log = logging.getLogger("airflow_provider_modelarts.client")


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try before giving up; see the module docstring for the exact rules.

    ``max_attempts`` counts the first attempt (1 disables retries); ``deadline`` is the total wall time in
    seconds one client call may spend, including sleeps.
    """

    max_attempts: int = 6
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    deadline: float = 300.0
    jitter: bool = True

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ModelArtsConfigError(
                f"RetryPolicy.max_attempts must be at least 1, got {self.max_attempts}"
            )
        if self.backoff_base < 0 or self.backoff_max < 0:
            raise ModelArtsConfigError("RetryPolicy backoff values must not be negative")
        if self.deadline <= 0:
            raise ModelArtsConfigError(f"RetryPolicy.deadline must be positive, got {self.deadline}")

    def backoff(self, retry: int, rng: random.Random) -> float:
        """Delay before retry number ``retry`` (1-based) when the server gave no ``Retry-After``."""
        ceiling = min(self.backoff_max, self.backoff_base * (2.0 ** (retry - 1)))
        return rng.uniform(0.0, ceiling) if self.jitter else ceiling


def is_retryable(error: BaseException) -> bool:
    """The one retry predicate: a provider error that says waiting may help."""
    return isinstance(error, ModelArtsError) and error.is_transient


def _reason(error: BaseException | None) -> str:
    if isinstance(error, ModelArtsAPIError):
        return f"HTTP {error.status}" + (f" {error.error_code}" if error.error_code else "")
    cause = getattr(error, "cause", None)
    return type(cause if cause is not None else error).__name__


class CallRetries:
    """One client call's retry state and the tenacity hooks that act on it.

    ``clock`` and ``rng`` come from the client so tests (and callers with their own scheduling) control time;
    ``on_retry`` runs once per retry, before the sleep (the client counts ``retry_count`` there).
    """

    __slots__ = ("_clock", "_on_retry", "_rng", "method", "path", "policy", "retries", "started")

    def __init__(
        self,
        method: str,
        path: str,
        policy: RetryPolicy,
        *,
        clock: Callable[[], float],
        rng: random.Random,
        on_retry: Callable[[], None],
    ) -> None:
        self.method = method
        self.path = path
        self.policy = policy
        self._clock = clock
        self._rng = rng
        self._on_retry = on_retry
        self.started = clock()
        self.retries = 0

    @property
    def attempt(self) -> int:
        """Number of the attempt about to be made or being made (1-based)."""
        return self.retries + 1

    def tenacity_options(self) -> dict[str, Any]:
        """Keyword arguments for ``Retrying``/``AsyncRetrying`` (the client adds its own ``sleep``)."""
        return {
            "retry": retry_if_exception(is_retryable),
            "wait": self._wait,
            "stop": self._stop,
            "before_sleep": self._before_sleep,
            "reraise": True,
        }

    def remaining(self) -> float:
        return self.policy.deadline - (self._clock() - self.started)

    def attempt_timeout(self, configured: httpx.Timeout) -> httpx.Timeout | None:
        """A shorter timeout for a retry that would otherwise outlive the deadline; None keeps the default."""
        if self.retries == 0:
            return None
        remaining = max(self.remaining(), 0.001)
        if configured.read is not None and configured.read <= remaining:
            return None
        return httpx.Timeout(remaining)

    def _wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None:
            return float(retry_after)
        return self.policy.backoff(state.attempt_number, self._rng)

    def _stop(self, state: RetryCallState) -> bool:
        if state.attempt_number >= self.policy.max_attempts:
            return True
        return (state.upcoming_sleep or 0.0) > self.remaining()

    def _before_sleep(self, state: RetryCallState) -> None:
        self.retries += 1
        self._on_retry()
        log.warning(
            "Retrying %s %s (attempt %d of %d) in %.2fs after %s.",
            self.method,
            self.path,
            self.retries + 1,
            self.policy.max_attempts,
            state.upcoming_sleep,
            _reason(state.outcome.exception() if state.outcome else None),
        )
