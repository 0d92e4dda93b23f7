"""Fault injection does what it says: latency, 429 + Retry-After, 500, 503, drops before and after."""

from __future__ import annotations

import asyncio
import hashlib
import math
import random
import re
import statistics
import time
from typing import Any

import httpx
import pytest
from retry_policies import FAST_RETRY

from airflow_provider_modelarts.auth import AkSkAuth
from airflow_provider_modelarts.client import AsyncModelArtsClient, RetryPolicy
from airflow_provider_modelarts.errors import (
    ModelArtsServerError,
    ModelArtsThrottledError,
    ModelArtsTransportError,
    ModelArtsValidationError,
)
from integration.emulator._helpers import image
from modelarts_emulator import (
    DEFAULT_ACCESS_KEY,
    DEFAULT_PROJECT_ID,
    DEFAULT_SECRET_KEY,
    ConnectionDropped,
    EmulatorConfig,
    EmulatorState,
    create_app,
    default_seed,
)
from modelarts_emulator.__main__ import _config, _parser
from modelarts_emulator.faults import (
    FaultDecision,
    FaultInjector,
    FaultRule,
    request_identity,
)
from modelarts_emulator.testing import EmulatorServer

NO_RETRY = RetryPolicy(max_attempts=1)
DATASETS = f"/v2/{DEFAULT_PROJECT_ID}/datasets"


def _names(emulator: EmulatorServer) -> list[str]:
    return [s["sample_name"] for s in emulator.admin.samples("ds-images")]


def test_latency_is_added_to_matching_routes_only(emulator: EmulatorServer) -> None:
    # The clock bounds the delay from below only; that another route is not delayed is read from how often
    # the rule fired, and from the injector's decision itself, never from an upper bound on wall time.
    emulator.admin.faults(route="list_datasets", latency_ms=150)
    with emulator.client() as client:
        started = time.perf_counter()
        client.list_datasets()
        slow = time.perf_counter() - started
        client.get_workforce_task("ds-images", "task-1")
    assert slow >= 0.15
    assert [rule["fired"] for rule in emulator.admin.call("GET", "faults")["rules"]] == [1]
    injector = FaultInjector()
    injector.add(FaultRule(kind="latency", route="list_datasets", latency_ms=150))
    assert injector.decide("get_workforce_task") == FaultDecision()
    assert injector.decide("list_datasets") == FaultDecision(latency_s=pytest.approx(0.15))


def test_429_carries_retry_after_and_the_client_retries(emulator: EmulatorServer) -> None:
    emulator.admin.faults(route="list_datasets", status=429, retry_after=0.05, count=1)
    with emulator.client(retry=NO_RETRY) as client, pytest.raises(ModelArtsThrottledError) as throttled:
        client.list_datasets()
    assert throttled.value.error_code == "ModelArts.6101"
    assert throttled.value.retry_after == pytest.approx(0.05)

    emulator.admin.faults(route="list_datasets", status=429, retry_after=0.05, count=2)
    with emulator.client(retry=FAST_RETRY) as client:
        assert client.list_datasets()["total_number"] == 3
        assert client.retry_count == 2
    assert emulator.admin.stats()["routes"]["list_datasets"]["status_429"] == 3


@pytest.mark.parametrize(("status", "code"), [(500, "ModelArts.6102"), (503, "ModelArts.4302")])
def test_server_errors_are_answered_without_applying_the_request(
    emulator: EmulatorServer, status: int, code: str
) -> None:
    emulator.admin.faults(route="add_samples", status=status, count=1)
    with emulator.client(retry=NO_RETRY) as client, pytest.raises(ModelArtsServerError) as failed:
        client.add_samples("ds-images", [image("faulted.jpg")])
    assert (failed.value.status, failed.value.error_code) == (status, code)
    assert "faulted.jpg" not in _names(emulator)
    with emulator.client(retry=NO_RETRY) as client:  # count=1: the next request goes through
        assert client.add_samples("ds-images", [image("faulted.jpg")]).success is True


def test_drop_before_cuts_the_connection_and_applies_nothing(emulator: EmulatorServer) -> None:
    emulator.admin.faults(route="add_samples", drop="before", count=1)
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.post(
            emulator.base_url + f"{DATASETS}/ds-images/data-annotations/samples",
            json={"samples": [image("dropped.jpg")]},
            auth=AkSkAuth(DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY),
        )
    assert "dropped.jpg" not in _names(emulator)
    with emulator.client(retry=FAST_RETRY) as client:
        emulator.admin.faults(route="add_samples", drop="before", count=1)
        result = client.add_samples("ds-images", [image("dropped.jpg")])
        assert result.success is True and client.retry_count == 1
    assert _names(emulator).count("dropped.jpg") == 1
    assert emulator.admin.stats()["dropped_before"] == 2


def test_drop_after_applies_then_cuts_so_the_retry_sees_a_duplicate(emulator: EmulatorServer) -> None:
    emulator.admin.faults(route="add_samples", drop="after", count=1)
    with emulator.client(retry=FAST_RETRY) as client:
        result = client.add_samples("ds-images", [image("twice.jpg")])
        assert client.retry_count == 1
    # The first attempt was applied; its answer was lost; the retry is told the sample already exists.
    assert result.results is not None and result.results[0].error_code == "ModelArts.4422"
    assert result.results[0].info is None
    assert _names(emulator).count("twice.jpg") == 1
    stats = emulator.admin.stats()["routes"]["add_samples"]
    assert stats["dropped_after"] == 1 and stats["applied"] == 2


def test_global_rules_rates_and_counts_are_deterministic() -> None:
    def fired(seed: int) -> list[bool]:
        injector = FaultInjector(seed)
        injector.add(FaultRule.from_dict({"status": 503, "rate": 0.5, "count": 5}))
        return [injector.decide(route).action is not None for route in ["a", "b", "c"] * 10]

    first = fired(7)
    assert first == fired(7)  # same seed, same sequence
    assert sum(first) == 5  # the count caps how often it fires
    assert fired(7) != fired(8) or sum(fired(8)) == 5


def _fates(order: list[tuple[bytes, int]]) -> set[tuple[bytes, int, str | None]]:
    """Feed requests (identity, attempt) to a fresh injector in ``order``; which ones faulted, and how."""
    injector = FaultInjector(seed=11)
    injector.add(FaultRule.from_dict({"status": 503, "rate": 0.2}))
    injector.add(FaultRule.from_dict({"drop": "after", "rate": 0.35}))
    fates = set()
    for identity, attempt in order:
        action = injector.decide("add_samples", identity).action
        fates.add((identity, attempt, None if action is None else action.kind))
    return fates


def test_fault_decisions_depend_on_the_request_and_its_attempt_not_on_arrival_order() -> None:
    identities = [
        request_identity("POST", "/v2/p/datasets/d/x", b"", f"batch {i}".encode()) for i in range(200)
    ]
    in_order = [(identity, attempt) for identity in identities for attempt in range(3)]
    # Concurrent clients interleave differently on every run; only each request's own attempts stay in order.
    interleaved = sorted(in_order, key=lambda pair: (pair[1], random.Random(pair[0]).random()))
    assert interleaved != in_order
    first, second = _fates(in_order), _fates(interleaved)
    assert first == second
    faulted = [fate for fate in first if fate[2] is not None]
    assert 0.3 * len(first) < len(faulted) < 0.7 * len(first)  # the rates are used, not ignored
    # A different request body is a different request: its fate is drawn independently of the others.
    assert request_identity("POST", "/a", b"", b"1") != request_identity("POST", "/a", b"", b"2")
    assert request_identity("POST", "/a", b"q=1", b"") != request_identity("GET", "/a", b"q=1", b"")


def test_max_per_request_bounds_how_often_one_request_is_faulted() -> None:
    injector = FaultInjector()
    injector.add(FaultRule.from_dict({"status": 503, "max_per_request": 1}))
    injector.add(FaultRule.from_dict({"drop": "after", "max_per_request": 2}))
    one, other = request_identity("PUT", "/one"), request_identity("PUT", "/other")
    kinds = [getattr(injector.decide(None, one).action, "kind", None) for _ in range(5)]
    # The 503 rule stops after one fault of the request, the drop rule after two (by any rule).
    assert kinds == ["status", "drop_after", None, None, None]
    assert injector.decide(None, other).action is not None  # the bound is per request, not global
    with pytest.raises(ValueError, match="max_per_request"):
        FaultRule.from_dict({"status": 503, "max_per_request": -1})


def test_a_client_with_more_attempts_than_max_per_request_always_gets_through(
    emulator: EmulatorServer,
) -> None:
    # Every answer dropped after applying, but never more than twice per request: three attempts suffice.
    emulator.admin.faults(route="add_samples", drop="after", max_per_request=2)
    three = RetryPolicy(max_attempts=3, backoff_base=0.001, backoff_max=0.01, deadline=20.0, jitter=False)
    with emulator.client(retry=three) as client:
        result = client.add_samples("ds-images", [image("bounded.jpg")])
        assert client.retry_count == 2
    assert result.results is not None and result.results[0].error_code == "ModelArts.4422"
    assert _names(emulator).count("bounded.jpg") == 1
    assert emulator.admin.stats()["routes"]["add_samples"]["dropped_after"] == 2


def test_a_global_rule_hits_every_route(emulator: EmulatorServer) -> None:
    emulator.admin.faults(status=503, count=2)
    with emulator.client(retry=NO_RETRY) as client:
        with pytest.raises(ModelArtsServerError):
            client.list_datasets()
        with pytest.raises(ModelArtsServerError):
            client.get_workforce_task("ds-images", "task-1")
        assert client.list_datasets()["total_number"] == 3
    rules = emulator.admin.call("GET", "faults")["rules"]
    assert rules[0]["fired"] == 2 and rules[0]["remaining"] == 0
    emulator.admin.clear_faults()
    assert emulator.admin.call("GET", "faults")["rules"] == []


def test_bad_fault_rules_are_rejected_with_a_message() -> None:
    with pytest.raises(ValueError, match="fault status must be one of"):
        FaultRule.from_dict({"status": 404})
    with pytest.raises(ValueError, match="unknown fault rule key"):
        FaultRule.from_dict({"status": 503, "ratio": 1})
    with pytest.raises(ValueError, match="fault kind"):
        FaultRule.from_dict({"route": "add_samples"})


def test_drops_in_process_reach_the_client_as_transport_errors() -> None:
    state = EmulatorState(EmulatorConfig(step_seconds=None), seed=default_seed())
    state.reset()
    state.faults.add(FaultRule(kind="drop_after", route="add_samples", count=1))
    app = create_app(state)

    async def scenario() -> list[str | None]:
        async with AsyncModelArtsClient(
            project_id=DEFAULT_PROJECT_ID,
            endpoint="http://emulator",
            auth=AkSkAuth(DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY),
            transport=httpx.ASGITransport(app=app),
            retry=FAST_RETRY,
        ) as client:
            result = await client.add_samples("ds-images", [image("inproc.jpg")])
            assert client.retry_count == 1
            return [r.error_code for r in result.results or []]

    assert asyncio.run(scenario()) == ["ModelArts.4422"]
    assert issubclass(ConnectionDropped, httpx.TransportError)
    sample_id = hashlib.md5(b"ds-images/inproc.jpg").hexdigest()
    assert sample_id in state.datasets["ds-images"].samples


def test_a_faulted_create_does_not_use_up_the_creation_throttle(emulator: EmulatorServer) -> None:
    """Faults come before the handler; the 4395 throttle counts only creates that reach it."""
    emulator.admin.faults(route="create_workforce_task", status=503, count=1, retry_after=None)
    emulator.admin.configure(throttle_task_creates=1)
    with emulator.client(retry=NO_RETRY) as client:
        with pytest.raises(ModelArtsServerError):
            client.create_workforce_task("ds-images", {"task_name": "after-faults"})
        with pytest.raises(ModelArtsThrottledError) as throttled:
            client.create_workforce_task("ds-images", {"task_name": "after-faults"})
        assert (throttled.value.status, throttled.value.error_code) == (429, "ModelArts.4395")
        assert client.create_workforce_task("ds-images", {"task_name": "after-faults"}).task_id
    create = emulator.admin.stats()["routes"]["create_workforce_task"]
    assert (create["faulted"], create["status_429"], create["status_200"]) == (1, 1, 1)


def test_a_lost_create_answer_without_task_id_sent_again_meets_already_exists(
    emulator: EmulatorServer,
) -> None:
    """What a caller meets when it sends a create again after losing the answer: the first one was applied,
    so the name is taken (4620) -- which is why the client sends creates once, even with retries on, and
    the hook lists instead of re-sending."""
    emulator.admin.configure(create_task_reply="empty")
    emulator.admin.faults(route="create_workforce_task", drop="after", count=1)
    with emulator.client(retry=FAST_RETRY) as client:
        with pytest.raises(ModelArtsTransportError):  # applied, then the connection was cut
            client.create_workforce_task("ds-images", {"task_name": "lost"})
        assert client.retry_count == 0  # not re-sent by the client
        with pytest.raises(ModelArtsValidationError) as taken:
            client.create_workforce_task("ds-images", {"task_name": "lost"})
        assert taken.value.error_code == "ModelArts.4620"
        assert [t.task_name for t in client.iter_workforce_tasks("ds-images")].count("lost") == 1


def test_reset_puts_the_team_task_settings_back(emulator: EmulatorServer) -> None:
    settings = {
        "not_found_status": 404,
        "task_stats_by_flag": False,
        "task_page_cap": 1,
        "sample_page_cap": 2,
        "create_task_reply": "no_content",
        "throttle_task_creates": 5,
    }
    assert emulator.admin.configure(**settings).items() >= settings.items()
    emulator.admin.reset()
    config = emulator.admin.call("GET", "config")
    assert {name: config[name] for name in settings} == {
        "not_found_status": 400,
        "task_stats_by_flag": True,
        "task_page_cap": None,
        "sample_page_cap": None,
        "create_task_reply": "task_id",
        "throttle_task_creates": 0,
    }


# ----------------------------------------------------------------------------- latency jitter, fast failures


def _latencies(injector: FaultInjector, identities: list[bytes], sigma: float) -> dict[bytes, float]:
    return {identity: injector.decide("add_samples", identity, sigma).latency_s for identity in identities}


def _identities(count: int) -> list[bytes]:
    return [request_identity("POST", "/v2/p/datasets/d/x", b"", f"batch {i}".encode()) for i in range(count)]


def test_latency_jitter_is_lognormal_around_the_rule_and_drawn_per_request_not_per_arrival() -> None:
    identities = _identities(2000)

    def injector() -> FaultInjector:
        made = FaultInjector(seed=5)
        made.add(FaultRule.from_dict({"latency_ms": 50}))
        return made

    first = _latencies(injector(), identities, 0.5)
    shuffled = identities[:]
    random.Random(3).shuffle(shuffled)
    assert _latencies(injector(), shuffled, 0.5) == first  # the same request meets the same latency
    logs = [math.log(latency / 0.05) for latency in first.values()]
    assert abs(statistics.median(logs)) < 0.05  # median: the rule's latency
    assert 0.45 < statistics.stdev(logs) < 0.55  # spread: sigma
    assert set(_latencies(injector(), identities, 0.0).values()) == {0.05}  # no jitter: exactly the rule
    again = injector()
    (identity,) = identities[:1]
    retried = [again.decide("add_samples", identity, 0.5).latency_s for _ in range(3)]
    assert len(set(retried)) == 3  # a retry is another attempt: its own draw


def test_jitter_spreads_only_injected_latency() -> None:
    injector = FaultInjector(seed=5)
    injector.add(FaultRule.from_dict({"route": "list_datasets", "latency_ms": 50}))
    assert injector.decide("add_samples", b"x", 0.5) == FaultDecision()  # no latency rule matched
    no_rules = FaultInjector()
    assert no_rules.decide("add_samples", b"x", 0.5).latency_s == 0.0


def test_an_immediate_status_rule_answers_without_the_latency_rules_wait() -> None:
    injector = FaultInjector(seed=1)
    injector.add(FaultRule.from_dict({"latency_ms": 50}))
    injector.add(FaultRule.from_dict({"route": "add_samples", "status": 500, "immediate": True}))
    injector.add(FaultRule.from_dict({"route": "list_datasets", "status": 503}))
    fast = injector.decide("add_samples", b"a", 0.5)
    assert fast.latency_s == 0.0 and fast.action is not None and fast.action.status == 500
    slow = injector.decide("list_datasets", b"b")  # without immediate: the latency first, then the fault
    assert slow.latency_s == 0.05 and slow.action is not None and slow.action.status == 503
    assert injector.rules()[1]["immediate"] is True and injector.rules()[2]["immediate"] is False
    with pytest.raises(ValueError, match="immediate must be true or false, got 'yes'"):
        FaultRule.from_dict({"status": 500, "immediate": "yes"})


def test_a_fast_failure_over_http_is_answered_at_once_and_applies_nothing(emulator: EmulatorServer) -> None:
    emulator.admin.faults({"latency_ms": 400}, {"route": "add_samples", "status": 500, "immediate": True})
    with emulator.client(retry=NO_RETRY) as client, pytest.raises(ModelArtsServerError) as failed:
        client.add_samples("ds-images", [image("fast-fail.jpg")])
    assert (failed.value.status, failed.value.error_code) == (500, "ModelArts.6102")
    assert "fast-fail.jpg" not in _names(emulator)
    assert emulator.admin.stats()["routes"]["add_samples"]["faulted"] == 1


def test_the_jitter_is_a_setting_of_the_admin_api_the_cli_and_the_config(emulator: EmulatorServer) -> None:
    assert emulator.admin.call("GET", "config")["latency_jitter_sigma"] == 0.0
    assert emulator.admin.configure(latency_jitter_sigma=0.3)["latency_jitter_sigma"] == 0.3
    for bad, reason in [
        (-0.1, r"latency_jitter_sigma must be in \[0, 2\], got -0.1"),
        (2.5, r"latency_jitter_sigma must be in \[0, 2\], got 2.5"),
        (True, "setting 'latency_jitter_sigma' must be a number, got True"),
        ("0.3", "setting 'latency_jitter_sigma' has the wrong type: '0.3'"),
    ]:
        with pytest.raises(RuntimeError, match="HTTP 400") as refused:
            emulator.admin.configure(latency_jitter_sigma=bad)
        assert re.search(reason, str(refused.value))
    emulator.admin.reset()
    assert emulator.admin.call("GET", "config")["latency_jitter_sigma"] == 0.0
    assert _config(_parser().parse_args(["--latency-jitter", "0.5"])).latency_jitter_sigma == 0.5
    assert _config(_parser().parse_args([])).latency_jitter_sigma == 0.0
    with pytest.raises(ValueError, match=r"latency_jitter_sigma must be in \[0, 2\], got -1.0"):
        _config(_parser().parse_args(["--latency-jitter", "-1"]))
    with pytest.raises(ValueError, match="latency_jitter_sigma must be in"):
        EmulatorConfig(latency_jitter_sigma=2.01).validate()


def test_the_middleware_spreads_each_requests_latency_by_the_configured_sigma() -> None:
    """In process: the decisions the middleware asks for carry the live setting, and the latency slept is
    the decision's (recorded, not timed)."""
    state = EmulatorState(EmulatorConfig(step_seconds=None, latency_jitter_sigma=0.5), seed=default_seed())
    state.reset()
    state.faults.add(FaultRule(kind="latency", route="list_datasets", latency_ms=1.0))
    decided: list[tuple[float, float]] = []
    decide = state.faults.decide

    def recording(route: str | None, identity: bytes = b"", jitter_sigma: float = 0.0) -> Any:
        decision = decide(route, identity, jitter_sigma)
        decided.append((jitter_sigma, decision.latency_s))
        return decision

    state.faults.decide = recording  # type: ignore[method-assign]
    app = create_app(state)

    async def scenario() -> None:
        async with AsyncModelArtsClient(
            project_id=DEFAULT_PROJECT_ID,
            endpoint="http://emulator",
            auth=AkSkAuth(DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY),
            transport=httpx.ASGITransport(app=app),
            retry=NO_RETRY,
        ) as client:
            for limit in range(1, 21):  # twenty different requests
                await client.list_datasets(limit=limit)

    asyncio.run(scenario())
    assert len(decided) == 20 and {sigma for sigma, _ in decided} == {0.5}
    latencies = [latency for _, latency in decided]
    assert len(set(latencies)) == 20 and min(latencies) < 0.001 < max(latencies)  # spread around 1 ms
