"""retries.py: the one retry predicate, the backoff, the deadline and the per-retry log line."""

from __future__ import annotations

import dataclasses
import logging
import random
from typing import Any

import httpx
import pytest
from tenacity import Retrying

from airflow_provider_modelarts.errors import (
    ModelArtsAuthError,
    ModelArtsConfigError,
    ModelArtsNotFoundError,
    ModelArtsServerError,
    ModelArtsThrottledError,
    ModelArtsTransportError,
    ModelArtsValidationError,
)
from airflow_provider_modelarts.retries import (
    CallRetries,
    RetryPolicy,
    is_retryable,
    repeat_steps,
    trigger_call_retry,
    wait_until,
)
from unit.client._helpers import FakeClock


def run(policy: RetryPolicy, errors: list[Exception], clock: FakeClock) -> tuple[Any, CallRetries, int]:
    """Drive ``CallRetries`` through tenacity the way the clients do; returns (result, state, retries)."""
    counted: list[int] = []
    retries = CallRetries(
        "GET", "/v2/p/x", policy, clock=clock, rng=random.Random(3), on_retry=lambda: counted.append(1)
    )
    pending = list(errors)

    def attempt() -> str:
        if pending:
            raise pending.pop(0)
        return "ok"

    result = Retrying(sleep=clock.sleep, **retries.tenacity_options())(attempt)
    return result, retries, len(counted)


def server_error(retry_after: float | None = None) -> ModelArtsServerError:
    return ModelArtsServerError(
        status=503, error_code="ModelArts.4302", method="GET", path="/p", retry_after=retry_after
    )


@pytest.mark.parametrize(
    ("error", "retryable"),
    [
        (server_error(), True),
        (ModelArtsServerError(status=408), True),
        (ModelArtsThrottledError(status=429), True),
        (ModelArtsThrottledError(status=400, error_code="ModelArts.6101"), True),
        (ModelArtsTransportError(method="GET", path="/p", cause=httpx.ConnectTimeout("t")), True),
        (ModelArtsTransportError(method="GET", path="/p", cause=httpx.UnsupportedProtocol("ftp")), False),
        (ModelArtsValidationError(status=400), False),
        (ModelArtsNotFoundError(status=404), False),
        (ModelArtsAuthError(status=401), False),
        (ValueError("not ours"), False),
    ],
)
def test_one_predicate_asks_the_error(error: BaseException, retryable: bool) -> None:
    assert is_retryable(error) is retryable


def test_policy_rejects_impossible_settings() -> None:
    with pytest.raises(ModelArtsConfigError, match="max_attempts"):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ModelArtsConfigError, match="negative"):
        RetryPolicy(backoff_base=-1)
    with pytest.raises(ModelArtsConfigError, match="deadline"):
        RetryPolicy(deadline=0)


def test_full_jitter_backoff_stays_under_the_doubling_ceiling() -> None:
    policy = RetryPolicy(backoff_base=0.5, backoff_max=3.0)
    rng = random.Random(11)
    for retry in range(1, 8):
        ceiling = min(3.0, 0.5 * 2 ** (retry - 1))
        delays = [policy.backoff(retry, rng) for _ in range(50)]
        assert all(0.0 <= d <= ceiling for d in delays)
        assert max(delays) > ceiling / 2  # really spread over the range, not a constant
    fixed = RetryPolicy(backoff_base=1.0, backoff_max=5.0, jitter=False)
    assert [fixed.backoff(r, rng) for r in range(1, 6)] == [1.0, 2.0, 4.0, 5.0, 5.0]


def test_retries_until_success_with_retry_after_first(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    policy = RetryPolicy(max_attempts=4, backoff_base=1.0, jitter=False, deadline=60.0)
    caplog.set_level(logging.WARNING, logger="airflow_provider_modelarts.client")
    result, state, counted = run(policy, [server_error(retry_after=7.0), server_error()], clock)
    assert result == "ok"
    assert clock.sleeps == [7.0, 2.0]  # Retry-After wins; then backoff for retry #2
    assert counted == state.retries == 2
    messages = [r.getMessage() for r in caplog.records]
    assert messages == [
        "Retrying GET /v2/p/x (attempt 2 of 4) in 7.00s after HTTP 503 ModelArts.4302.",
        "Retrying GET /v2/p/x (attempt 3 of 4) in 2.00s after HTTP 503 ModelArts.4302.",
    ]


def test_transport_errors_are_named_by_their_cause_in_the_log(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="airflow_provider_modelarts.client")
    dropped = ModelArtsTransportError(method="GET", path="/p", cause=httpx.ReadError("reset by peer"))
    run(RetryPolicy(jitter=False), [dropped], FakeClock())
    assert caplog.records[0].getMessage().endswith("after ReadError.")


def test_attempts_are_capped_and_the_last_error_raised() -> None:
    clock = FakeClock()
    last = server_error()
    with pytest.raises(ModelArtsServerError) as info:
        run(RetryPolicy(max_attempts=3, jitter=False), [server_error(), server_error(), last], clock)
    assert info.value is last
    assert len(clock.sleeps) == 2


def test_never_sleeps_past_the_deadline() -> None:
    clock = FakeClock()
    policy = RetryPolicy(max_attempts=50, backoff_base=2.0, backoff_max=100.0, deadline=10.0, jitter=False)
    with pytest.raises(ModelArtsServerError):
        run(policy, [server_error() for _ in range(50)], clock)
    assert clock.sleeps == [2.0, 4.0]  # 8 more seconds would end after the 10 s deadline
    clock = FakeClock()
    with pytest.raises(ModelArtsThrottledError):
        run(policy, [ModelArtsThrottledError(status=429, retry_after=11.0)], clock)
    assert clock.sleeps == []


def test_not_retryable_errors_end_the_call_at_once() -> None:
    clock = FakeClock()
    with pytest.raises(ModelArtsValidationError):
        run(RetryPolicy(), [ModelArtsValidationError(status=400), server_error()], clock)
    assert clock.sleeps == []


def test_a_retry_gets_at_most_the_time_left_as_its_timeout() -> None:
    clock = FakeClock()
    retries = CallRetries(
        "GET", "/p", RetryPolicy(deadline=10.0), clock=clock, rng=random.Random(), on_retry=list
    )
    configured = httpx.Timeout(30.0)
    assert retries.attempt_timeout(configured) is None  # the first attempt keeps the client's timeout
    retries.retries = 1
    clock.now += 4.0
    shortened = retries.attempt_timeout(configured)
    assert shortened is not None and shortened.read == pytest.approx(6.0)
    assert retries.attempt_timeout(httpx.Timeout(5.0)) is None  # already shorter than what is left
    assert retries.attempt == 2


def test_policy_boundaries_that_are_allowed() -> None:
    assert RetryPolicy(max_attempts=1).max_attempts == 1  # one attempt: retries disabled
    immediate = RetryPolicy(backoff_base=0.0, backoff_max=0.0, deadline=0.5)
    assert immediate.backoff(3, random.Random(1)) == 0.0
    assert RetryPolicy(backoff_max=0.5).backoff_max == 0.5
    with pytest.raises(ModelArtsConfigError) as info:
        RetryPolicy(backoff_max=-0.1)
    assert str(info.value) == "RetryPolicy backoff values must not be negative"


def test_jitter_spreads_the_delays_over_the_whole_range() -> None:
    policy = RetryPolicy(backoff_base=1.0, backoff_max=8.0)
    rng = random.Random(5)
    delays = [policy.backoff(4, rng) for _ in range(50)]
    assert min(delays) < 2.0 and max(delays) > 6.0  # not the ceiling every time: clients do not stampede


def test_an_api_error_without_a_code_is_named_by_its_status(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="airflow_provider_modelarts.client")
    run(RetryPolicy(jitter=False), [ModelArtsServerError(status=502)], FakeClock())
    assert caplog.records[0].getMessage() == "Retrying GET /v2/p/x (attempt 2 of 6) in 0.50s after HTTP 502."


def test_retry_after_zero_retries_at_once_even_with_little_time_left() -> None:
    clock = FakeClock()
    result, _, counted = run(
        RetryPolicy(deadline=0.5), [ModelArtsThrottledError(status=429, retry_after=0.0)], clock
    )
    assert result == "ok" and counted == 1 and clock.sleeps == [0.0]


def test_a_retry_that_ends_exactly_at_the_deadline_is_still_made() -> None:
    clock = FakeClock()
    policy = RetryPolicy(max_attempts=10, backoff_base=2.0, jitter=False, deadline=6.0)
    result, _, _ = run(policy, [server_error(), server_error()], clock)
    assert result == "ok" and clock.sleeps == [2.0, 4.0]  # 2 s, then 4 s with exactly 4 s left


def test_past_the_deadline_a_retry_still_gets_a_tiny_positive_timeout() -> None:
    clock = FakeClock()
    retries = CallRetries(
        "GET", "/p", RetryPolicy(deadline=10.0), clock=clock, rng=random.Random(), on_retry=list
    )
    retries.retries = 1
    clock.now += 12.0
    shortened = retries.attempt_timeout(httpx.Timeout(30.0))
    assert shortened is not None and shortened.read == 0.001


def test_a_configured_timeout_that_exactly_fits_the_time_left_is_kept() -> None:
    clock = FakeClock()
    retries = CallRetries(
        "GET", "/p", RetryPolicy(deadline=10.0), clock=clock, rng=random.Random(), on_retry=list
    )
    retries.retries = 1
    clock.now += 5.0
    assert retries.attempt_timeout(httpx.Timeout(5.0, connect=1.0)) is None


def test_each_trigger_poll_retries_quickly_within_the_poll() -> None:
    """The trigger's in-call retries wait 0.5 s doubling, at most 5 s: the poll loop is the long wait."""
    fixed = dataclasses.replace(trigger_call_retry(30), jitter=False)
    assert [fixed.backoff(retry, random.Random()) for retry in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0]


def test_a_repeated_hook_step_waits_a_jittered_backoff_within_the_policy() -> None:
    policy = RetryPolicy(max_attempts=7, backoff_base=0.01, backoff_max=0.015, deadline=60.0)
    sleeps: list[float] = []
    failures = iter([ModelArtsServerError(status=503)] * 6)
    state = random.getstate()
    random.seed(20)  # tenacity draws its jitter from the random module: the same draws every run
    try:
        for attempt in repeat_steps(policy).copy(sleep=sleeps.append):
            with attempt:
                error = next(failures, None)
                if error is not None:
                    raise error
    finally:
        random.setstate(state)
    assert len(sleeps) == 6
    ceilings = [min(0.015, 0.01 * 2 ** (n - 1)) for n in range(1, 7)]
    assert all(0 < sleep <= ceiling for sleep, ceiling in zip(sleeps, ceilings, strict=True)), sleeps


def test_waiting_for_a_state_does_not_hammer_the_service() -> None:
    """wait_until pauses 0.2 s, then 0.4 s, ... between reads: within 0.3 s it reads at most three times."""
    reads: list[int] = []
    assert wait_until(lambda: reads.append(1) or len(reads), lambda n: False, timeout=0.3) == len(reads)
    assert 1 <= len(reads) <= 3
