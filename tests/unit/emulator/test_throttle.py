"""The emulator's stand-in for the service's request limit, decided without a clock (time is passed in)."""

from __future__ import annotations

import pytest

from modelarts_emulator.config import EmulatorConfig
from modelarts_emulator.throttle import Throttle


def test_above_the_concurrency_a_request_is_refused_until_one_in_flight_finishes() -> None:
    throttle = Throttle()
    assert [throttle.admit(0.0, concurrency=2, rate=None) for _ in range(3)] == [True, True, False]
    assert throttle.in_flight == 2
    throttle.release()
    assert throttle.admit(0.0, concurrency=2, rate=None) is True
    assert throttle.admit(0.0, concurrency=2, rate=None) is False


def test_a_rate_allows_one_seconds_worth_at_once_then_refills_with_time() -> None:
    throttle = Throttle()
    admitted = [throttle.admit(10.0, concurrency=None, rate=5) for _ in range(7)]
    assert admitted == [True] * 5 + [False] * 2
    assert throttle.admit(10.1, concurrency=None, rate=5) is False  # 0.5 of a token back: not enough
    assert throttle.admit(10.25, concurrency=None, rate=5) is True  # more than one token back
    assert [throttle.admit(20.0, concurrency=None, rate=5) for _ in range(6)] == [True] * 5 + [False]


def test_refused_requests_do_not_count_as_in_flight() -> None:
    throttle = Throttle()
    throttle.admit(0.0, concurrency=1, rate=None)
    for _ in range(5):
        throttle.admit(0.0, concurrency=1, rate=None)
    assert throttle.in_flight == 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [({"throttle_concurrency": 0}, "throttle_concurrency"), ({"throttle_rate": 0}, "throttle_rate")],
)
def test_the_settings_refuse_limits_that_would_refuse_everything(changes: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        EmulatorConfig().update(changes)


def test_both_limits_are_off_by_default() -> None:
    config = EmulatorConfig()
    assert config.throttle_concurrency is None and config.throttle_rate is None
