"""retries.py beyond client calls: calls sent once, repeated hook steps, waits, polls, and the callers'
policies. Every decision to try again lives in that module; these tests pin what each one decides."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import respx

from airflow_provider_modelarts.errors import (
    TEAM_TASK_EXISTS,
    TEAM_TASK_NOT_STARTABLE,
    ModelArtsAuthError,
    ModelArtsNotFoundError,
    ModelArtsServerError,
    ModelArtsThrottledError,
    ModelArtsValidationError,
)
from airflow_provider_modelarts.retries import (
    TEST_CONNECTION_RETRY,
    RetryPolicy,
    is_token_expiry,
    is_worth_repeating_step,
    poll_again,
    repeat_steps,
    trigger_call_retry,
    wait_until,
)
from unit.client._helpers import BASE, DS, FakeClock, make_async_client, make_client


def _error(cls: type, status: int, code: str | None) -> Exception:
    return cls(status=status, error_code=code, error_msg="m", method="POST", path="/p")


@pytest.mark.parametrize("operation", ["create", "start"])
def test_creating_or_starting_a_team_task_is_sent_once_by_both_clients(operation: str) -> None:
    """A re-sent create after a lost answer could make a second task: the client never repeats it, even on
    a 503 its policy would retry; the hook's list-then-act step decides instead."""
    path = f"{DS}/workforce-tasks" if operation == "create" else f"{DS}/workforce-tasks/t-1"
    with respx.mock(base_url=BASE) as router:
        route = router.post(path).mock(
            return_value=httpx.Response(503, json={"error_code": "ModelArts.0001"})
        )
        listing = router.get(f"{DS}/workforce-tasks").mock(return_value=httpx.Response(503))
        clock = FakeClock()
        with make_client(clock) as client:
            with pytest.raises(ModelArtsServerError):
                if operation == "create":
                    client.create_workforce_task("ds-1", {"task_name": "t"})
                else:
                    client.start_workforce_task("ds-1", "t-1")
            assert route.call_count == 1 and clock.sleeps == []
            with pytest.raises(ModelArtsServerError):
                client.list_workforce_tasks("ds-1")  # an ordinary read is still retried (4 attempts)
            assert listing.call_count == 4

        async def send_async() -> None:
            async with make_async_client(FakeClock()) as client:
                if operation == "create":
                    await client.create_workforce_task("ds-1", {"task_name": "t"})
                else:
                    await client.start_workforce_task("ds-1", "t-1")

        with pytest.raises(ModelArtsServerError):
            asyncio.run(send_async())
        assert route.call_count == 2


def test_a_hook_step_is_repeated_after_what_the_client_retries_and_after_already_done() -> None:
    assert is_worth_repeating_step(_error(ModelArtsServerError, 503, None))
    assert is_worth_repeating_step(_error(ModelArtsThrottledError, 429, "ModelArts.4395"))
    assert is_worth_repeating_step(_error(ModelArtsValidationError, 400, TEAM_TASK_EXISTS))
    assert is_worth_repeating_step(_error(ModelArtsValidationError, 400, TEAM_TASK_NOT_STARTABLE))
    # "Dataset already has running import task": the next list shows the running import (adopt or busy).
    assert is_worth_repeating_step(_error(ModelArtsValidationError, 400, "ModelArts.4356"))
    assert not is_worth_repeating_step(_error(ModelArtsValidationError, 400, "ModelArts.4343"))
    assert not is_worth_repeating_step(_error(ModelArtsValidationError, 400, "ModelArts.0104"))
    assert not is_worth_repeating_step(_error(ModelArtsNotFoundError, 400, "ModelArts.4352"))
    assert not is_worth_repeating_step(ValueError("not a ModelArts error"))


def test_repeat_steps_stops_at_the_policy_attempts_and_raises_the_last_error() -> None:
    attempts = 0
    with pytest.raises(ModelArtsValidationError):
        for attempt in repeat_steps(RetryPolicy(max_attempts=3, backoff_base=0.0, deadline=60.0)):
            with attempt:
                attempts += 1
                raise _error(ModelArtsValidationError, 400, TEAM_TASK_EXISTS)
    assert attempts == 3
    refused = 0
    with pytest.raises(ModelArtsValidationError):
        for attempt in repeat_steps(RetryPolicy(max_attempts=3, backoff_base=0.0, deadline=60.0)):
            with attempt:
                refused += 1
                raise _error(ModelArtsValidationError, 400, "ModelArts.0104")
    assert refused == 1  # a request refused as sent is not repeated


def test_wait_until_returns_once_reached_and_the_last_value_when_time_runs_out() -> None:
    values = iter([0, 6, 1, 1])
    assert wait_until(lambda: next(values), lambda v: v == 1, timeout=60) == 1
    seen: list[int] = []
    assert wait_until(lambda: seen.append(0) or 0, lambda v: v == 1, timeout=0) == 0
    assert len(seen) == 1  # looked once, then gave up: the caller says what a miss means


def test_polls_go_on_through_transient_faults_and_token_expiry_only() -> None:
    assert poll_again(_error(ModelArtsServerError, 500, None))
    assert poll_again(_error(ModelArtsAuthError, 401, "ModelArts.4127"))
    assert is_token_expiry(_error(ModelArtsAuthError, 401, "ModelArts.0202"))
    assert not poll_again(_error(ModelArtsAuthError, 403, "ModelArts.0210"))
    assert not poll_again(_error(ModelArtsValidationError, 400, "ModelArts.4127"))
    assert not poll_again(RuntimeError("boom"))


def test_the_callers_policies() -> None:
    assert TEST_CONNECTION_RETRY.max_attempts == 2 and TEST_CONNECTION_RETRY.deadline == 20.0
    assert [trigger_call_retry(seconds).deadline for seconds in (1, 30, 600)] == [5.0, 30.0, 60.0]
    assert trigger_call_retry(30).max_attempts == 3
