"""Every decision to try again, in one module: client calls, repeated hook steps, waits and polls.

* **Client calls** (:class:`CallRetries`, :func:`is_retryable`): both clients (the async source and the sync
  client generated from it) make a call's first attempt directly and hand a failed one to tenacity with
  these hooks, which judge it as their own first attempt: every decision is made here. A call its request
  builder marks not ``repeatable`` (creating or starting a team labeling task: a blind re-send after a lost
  answer could make a second task) is sent once.
* **Hook steps** (:func:`repeat_steps`, :func:`is_worth_repeating_step`): a list-then-act step of the hook
  (adopt a team task by name, else create or start it) is repeated after a lost answer, or when the service
  says the act was already done.
* **Waits** (:func:`wait_until`): a status polled until it is reached or a time limit passes.
* **Polls** (:func:`poll_again`): whether the sensor and the trigger shrug an error off and look again.
* **Policies** for the callers with their own needs: :data:`TEST_CONNECTION_RETRY` (the UI's Test button),
  :func:`trigger_call_retry` (each poll of the trigger, whose poll loop is the long-term retry).

Client calls:

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
from typing import Any, TypeVar

import httpx
import tenacity
from tenacity import RetryCallState, retry_if_exception

from airflow_provider_modelarts.errors import (
    STEP_REPEAT_CODES,
    TOKEN_EXPIRY_CODES,
    ModelArtsAPIError,
    ModelArtsAuthError,
    ModelArtsConfigError,
    ModelArtsError,
)

__all__ = [
    "TEST_CONNECTION_RETRY",
    "CallRetries",
    "RetryPolicy",
    "is_retryable",
    "is_token_expiry",
    "is_worth_repeating_step",
    "poll_again",
    "repeat_steps",
    "trigger_call_retry",
    "wait_until",
]

T = TypeVar("T")

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


#: ``test_connection()`` backs a button in the UI: answer within seconds, not after the task retry policy.
TEST_CONNECTION_RETRY = RetryPolicy(max_attempts=2, backoff_base=0.5, backoff_max=2.0, deadline=20.0)


def trigger_call_retry(poll_interval: float) -> RetryPolicy:
    """The client policy of each poll of the trigger: short in-call retries (at most one poll interval,
    5-60 s), because the poll loop is the long-term retry and must notice its own deadline."""
    return RetryPolicy(
        max_attempts=3, backoff_base=0.5, backoff_max=5.0, deadline=max(5.0, min(60.0, poll_interval))
    )


def is_retryable(error: BaseException) -> bool:
    """The one retry predicate of client calls: a provider error that says waiting may help."""
    return isinstance(error, ModelArtsError) and error.is_transient


def is_token_expiry(error: BaseException) -> bool:
    """An expired / revoked IAM token or temporary credential: a new client (re-reading the connection) may
    fix it."""
    return isinstance(error, ModelArtsAuthError) and error.error_code in TOKEN_EXPIRY_CODES


def poll_again(error: BaseException) -> bool:
    """Whether a wait (sensor, trigger) shrugs this error off and polls again: transient faults and token
    expiry. Anything else (bad ids, missing permissions, invalid AK/SK) will not heal by itself, so a wait
    that could last days stops and says so instead of polling an error until its timeout."""
    return isinstance(error, ModelArtsError) and (error.is_transient or is_token_expiry(error))


def is_worth_repeating_step(error: BaseException) -> bool:
    """Whether a list-then-act step is repeated: a lost answer, a server fault or throttling (what the client
    retries), or a refusal of ``errors.STEP_REPEAT_CODES`` ("the workforce task already exists", "failed to
    start the team labeling task", "dataset already has running import task"), after which the next list
    shows what an earlier attempt (or another caller) did."""
    if is_retryable(error):
        return True
    return isinstance(error, ModelArtsAPIError) and error.error_code in STEP_REPEAT_CODES


def repeat_steps(policy: RetryPolicy) -> tenacity.Retrying:
    """Attempts of a list-then-act step (``for attempt in repeat_steps(p): with attempt: ...``), within the
    policy's attempts and deadline, with jittered backoff; the last error is raised."""
    return tenacity.Retrying(
        stop=tenacity.stop_after_attempt(policy.max_attempts) | tenacity.stop_after_delay(policy.deadline),
        wait=tenacity.wait_random_exponential(multiplier=policy.backoff_base, max=policy.backoff_max),
        retry=tenacity.retry_if_exception(is_worth_repeating_step),
        reraise=True,
    )


def wait_until(read: Callable[[], T], reached: Callable[[T], bool], *, timeout: float) -> T:
    """Call ``read`` with growing pauses (0.2 s doubling to 5 s) until ``reached(value)`` or ``timeout``
    seconds have passed; returns the last value read, reached or not (the caller says what a miss means)."""
    value: T = tenacity.Retrying(
        stop=tenacity.stop_after_delay(timeout),
        wait=tenacity.wait_exponential(multiplier=0.2, max=5.0),
        retry=tenacity.retry_if_result(lambda value: not reached(value)),
        retry_error_callback=lambda state: state.outcome.result() if state.outcome else None,
    )(read)
    return value


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
        repeatable: bool = True,
    ) -> None:
        self.method = method
        self.path = path
        # A call that is not repeatable is sent once, whatever the policy allows (see the module docstring).
        self.policy = policy if repeatable else RetryPolicy(max_attempts=1, deadline=policy.deadline)
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
