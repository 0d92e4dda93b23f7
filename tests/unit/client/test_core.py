"""client/_async/core.py / client/_sync/core.py: sending, retries (through tenacity), reply handling, IAM
token flow.

Both clients are exercised: the sync one is generated from the async one, so a behaviour tested on one side
is the same code on the other; the async tests make sure the generation keeps it so.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
import respx

from airflow_provider_modelarts.auth import AkSkAuth, IamTokenAuth
from airflow_provider_modelarts.client import (
    ModelArtsClient,
    RetryPolicy,
)
from airflow_provider_modelarts.errors import (
    ModelArtsAuthError,
    ModelArtsError,
    ModelArtsNotFoundError,
    ModelArtsServerError,
    ModelArtsThrottledError,
    ModelArtsTransportError,
    ModelArtsValidationError,
)
from airflow_provider_modelarts.models import (
    TaskStatus,
)
from unit.client._helpers import (
    BASE,
    DETECTION_LABELS,
    DS,
    IAM,
    IAM_PASSWORD,
    IMAGE_SAMPLE,
    PROJECT,
    SECRET_KEY,
    TASK,
    FakeClock,
    make_async_client,
    make_client,
    paged,
    sent_json,
)


def test_unparseable_success_body_raises_modelarts_error(
    client_api: respx.MockRouter, client: ModelArtsClient
) -> None:
    client_api.get(TASK).respond(200, text="<html>login page</html>")
    with pytest.raises(ModelArtsError, match="WorkforceTask"):
        client.get_workforce_task("ds-1", "task-1")


def test_send_raw_uses_retry_path(
    client_api: respx.MockRouter, client: ModelArtsClient, clock: FakeClock
) -> None:
    route = client_api.post("/_emulator/reset").mock(side_effect=[httpx.Response(503), httpx.Response(204)])
    response = client.send_raw("post", "/_emulator/reset", json_body={"a": 1})
    assert response.status_code == 204
    assert route.call_count == 2
    assert route.calls[0].request.content == route.calls[1].request.content == b'{"a":1}'
    assert client.retry_count == 1


def test_429_honours_retry_after(
    client_api: respx.MockRouter, client: ModelArtsClient, clock: FakeClock
) -> None:
    route = client_api.post(f"{DS}/data-annotations/samples").mock(
        side_effect=[
            httpx.Response(429, json={"error_code": "ModelArts.6101"}, headers={"Retry-After": "3"}),
            httpx.Response(200, json={"success": True}),
        ]
    )
    assert client.add_samples("ds-1", [IMAGE_SAMPLE]).success is True
    assert clock.sleeps == [3.0]
    assert client.retry_count == 1
    assert route.calls[0].request.content == route.calls[1].request.content


def test_5xx_retried_with_full_jitter_backoff(
    client_api: respx.MockRouter, client: ModelArtsClient, clock: FakeClock
) -> None:
    route = client_api.get(TASK).mock(
        side_effect=[
            httpx.Response(500),
            httpx.Response(502),
            httpx.Response(503),
            httpx.Response(200, json={}),
        ]
    )
    client.get_workforce_task("ds-1", "task-1")
    assert route.call_count == 4
    assert client.retry_count == 3
    assert len(clock.sleeps) == 3
    for retry, delay in enumerate(clock.sleeps, start=1):
        assert 0.0 <= delay <= min(4.0, 0.5 * 2 ** (retry - 1))
    assert len(set(clock.sleeps)) == 3  # jittered, not a fixed schedule


def test_backoff_without_jitter_doubles_up_to_cap(client_api: respx.MockRouter, clock: FakeClock) -> None:
    client_api.get(TASK).mock(side_effect=[httpx.Response(503)] * 5 + [httpx.Response(200, json={})])
    policy = RetryPolicy(max_attempts=6, backoff_base=1.0, backoff_max=5.0, deadline=100.0, jitter=False)
    with make_client(clock, retry=policy) as c:
        c.get_workforce_task("ds-1", "task-1")
    assert clock.sleeps == [1.0, 2.0, 4.0, 5.0, 5.0]


def test_transport_errors_are_retried(
    client_api: respx.MockRouter, client: ModelArtsClient, clock: FakeClock
) -> None:
    route = client_api.put(f"{DS}/data-annotations/samples").mock(
        side_effect=[httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), httpx.Response(200, json={})]
    )
    client.update_samples("ds-1", [DETECTION_LABELS])
    assert route.call_count == 3
    assert client.retry_count == 2
    assert route.calls[0].request.content == route.calls[2].request.content


def test_transport_errors_exhaust_attempts(
    client_api: respx.MockRouter, client: ModelArtsClient, clock: FakeClock
) -> None:
    route = client_api.get(TASK).mock(side_effect=httpx.ConnectError("connection refused"))
    with pytest.raises(ModelArtsTransportError) as info:
        client.get_workforce_task("ds-1", "task-1")
    assert route.call_count == 4
    assert info.value.attempts == 4
    assert isinstance(info.value.__cause__, httpx.ConnectError)
    assert "after 4 attempts" in str(info.value)


def test_server_errors_exhaust_attempts(
    client_api: respx.MockRouter, client: ModelArtsClient, clock: FakeClock
) -> None:
    route = client_api.get(TASK).respond(
        500, json={"error_code": "ModelArts.0010", "error_msg": "Internal error."}
    )
    with pytest.raises(ModelArtsServerError, match=r"HTTP 500 ModelArts\.0010"):
        client.get_workforce_task("ds-1", "task-1")
    assert route.call_count == 4
    assert client.retry_count == 3


def test_stops_at_deadline_without_sleeping_past_it(client_api: respx.MockRouter, clock: FakeClock) -> None:
    route = client_api.get(TASK).respond(503, headers={"X-Request-Id": "rid-9"})
    policy = RetryPolicy(max_attempts=50, backoff_base=2.0, backoff_max=100.0, deadline=10.0, jitter=False)
    with make_client(clock, retry=policy) as c, pytest.raises(ModelArtsServerError) as info:
        c.get_workforce_task("ds-1", "task-1")
    assert clock.sleeps == [2.0, 4.0]  # the next delay (8s) would end after the 10s deadline
    assert sum(clock.sleeps) <= policy.deadline
    assert route.call_count == 3
    assert info.value.request_id == "rid-9"


def test_retry_after_beyond_deadline_raises_at_once(client_api: respx.MockRouter, clock: FakeClock) -> None:
    route = client_api.get(TASK).respond(429, headers={"Retry-After": "120"})
    with make_client(clock) as c, pytest.raises(ModelArtsThrottledError) as info:
        c.get_workforce_task("ds-1", "task-1")
    assert route.call_count == 1
    assert clock.sleeps == []
    assert info.value.retry_after == 120.0


def test_retry_shortens_timeout_to_remaining_deadline(client_api: respx.MockRouter, clock: FakeClock) -> None:
    route = client_api.get(TASK).mock(side_effect=[httpx.Response(503), httpx.Response(200, json={})])
    policy = RetryPolicy(max_attempts=3, backoff_base=4.0, deadline=10.0, jitter=False)
    with make_client(clock, retry=policy, timeout=30.0) as c:
        c.get_workforce_task("ds-1", "task-1")
    assert route.calls[0].request.extensions["timeout"]["read"] == 30.0
    assert route.calls[1].request.extensions["timeout"]["read"] == pytest.approx(6.0)


@pytest.mark.parametrize(
    ("status", "code", "cls"),
    [
        (400, "ModelArts.4422", ModelArtsValidationError),
        (401, "APIGW.0301", ModelArtsAuthError),
        (403, "ModelArts.0112", ModelArtsAuthError),
        (404, "ModelArts.4420", ModelArtsNotFoundError),
    ],
)
def test_client_errors_are_not_retried(
    client_api: respx.MockRouter,
    client: ModelArtsClient,
    clock: FakeClock,
    status: int,
    code: str,
    cls: type[Exception],
) -> None:
    route = client_api.put(f"{TASK}/acceptance/status").respond(
        status, json={"error_code": code, "error_msg": "nope"}, headers={"X-Request-Id": "req-42"}
    )
    with pytest.raises(cls) as info:
        client.update_acceptance_status("ds-1", "task-1", "pass_all")
    error = info.value
    assert route.call_count == 1
    assert clock.sleeps == []
    assert client.retry_count == 0
    assert (error.status, error.error_code, error.request_id) == (status, code, "req-42")  # type: ignore[attr-defined]
    assert str(error).startswith(f"PUT {TASK}/acceptance/status failed with HTTP {status} {code}")


def test_retry_warning_logs_without_headers_or_body(
    client_api: respx.MockRouter, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    client_api.post(f"{DS}/data-annotations/samples").mock(
        side_effect=[httpx.Response(503, json={"error_code": "ModelArts.4302"}), httpx.Response(200, json={})]
    )
    auth = AkSkAuth("AKEXAMPLE", SECRET_KEY, security_token="security-token-secret")
    caplog.set_level(logging.DEBUG)
    with make_client(clock, auth=auth) as c:
        c.add_samples("ds-1", [IMAGE_SAMPLE])
    warnings = [r for r in caplog.records if r.name == "airflow_provider_modelarts.client"]
    assert [r.levelno for r in warnings] == [logging.WARNING]
    message = warnings[0].getMessage()
    assert f"POST {DS}/data-annotations/samples" in message
    assert "attempt 2 of 4" in message
    assert "HTTP 503 ModelArts.4302" in message
    everything = caplog.text
    for secret in (SECRET_KEY, "security-token-secret", "Signature=", IMAGE_SAMPLE["data"]):
        assert secret not in everything


def test_retry_after_http_date(
    client_api: respx.MockRouter, client: ModelArtsClient, clock: FakeClock
) -> None:
    # The server's clock is a day behind ours: its date is read against its own Date header, not our clock.
    server_now = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
    headers = {
        "Date": format_datetime(server_now, usegmt=True),
        "Retry-After": format_datetime(server_now + timedelta(seconds=30), usegmt=True),
    }
    client_api.get(TASK).mock(
        side_effect=[httpx.Response(503, headers=headers), httpx.Response(200, json={})]
    )
    client.get_workforce_task("ds-1", "task-1")
    assert clock.sleeps == [30.0]


def test_async_client_methods_and_retries(clock: FakeClock) -> None:
    async def scenario() -> None:
        with respx.mock(base_url=BASE, assert_all_called=False) as client_api:
            add = client_api.post(f"{DS}/data-annotations/samples").mock(
                side_effect=[
                    httpx.Response(429, headers={"Retry-After": "2"}),
                    httpx.ConnectError("refused"),
                    httpx.Response(200, json={"success": True}),
                ]
            )
            status = client_api.put(f"{TASK}/acceptance/status", params={"locale": "zh-cn"}).respond(
                200, json={}
            )
            missing = client_api.get(f"{DS}/workforce-tasks/nope").respond(
                404, json={"error_code": "ModelArts.4352", "error_msg": "Task not found"}
            )
            async with make_async_client(clock) as c:
                result = await c.add_samples("ds-1", [IMAGE_SAMPLE])
                assert result.success is True
                assert add.call_count == 3
                assert clock.sleeps[0] == 2.0
                assert len(clock.sleeps) == 2
                assert c.retry_count == 2
                assert sent_json(add) == {"samples": [IMAGE_SAMPLE]}

                await c.update_acceptance_status("ds-1", "task-1", "reject_all", locale="zh-cn")
                assert sent_json(status) == {"action": 1}

                with pytest.raises(ModelArtsNotFoundError, match=r"ModelArts\.4352"):
                    await c.get_workforce_task("ds-1", "nope")
                assert missing.call_count == 1

    asyncio.run(scenario())


def test_async_iter_samples_and_deadline(clock: FakeClock) -> None:
    async def scenario() -> None:
        with respx.mock(base_url=BASE, assert_all_called=False) as client_api:
            client_api.get(f"{TASK}/data-annotations/samples").mock(side_effect=paged(3))
            client_api.get(TASK).respond(502)
            policy = RetryPolicy(max_attempts=10, backoff_base=3.0, deadline=5.0, jitter=False)
            async with make_async_client(clock, retry=policy) as c:
                ids = [
                    s.sample_id async for s in c.iter_workforce_task_samples("ds-1", "task-1", page_size=2)
                ]
                assert ids == ["s0", "s1", "s2"]
                with pytest.raises(ModelArtsServerError):
                    await c.get_workforce_task("ds-1", "task-1")
                assert clock.sleeps == [3.0]

    asyncio.run(scenario())


def _iam_route(client_api: respx.MockRouter, tokens: list[str]) -> respx.Route:
    responses = [
        httpx.Response(
            201,
            headers={"X-Subject-Token": token},
            json={"token": {"expires_at": "2099-01-01T00:00:00.000000Z", "methods": ["password"]}},
        )
        for token in tokens
    ]
    return client_api.post(f"{IAM}/v3/auth/tokens").mock(side_effect=responses)


def test_iam_token_fetched_once_for_20_concurrent_async_requests(clock: FakeClock) -> None:
    async def scenario() -> None:
        with respx.mock(assert_all_called=False) as client_api:
            iam = _iam_route(client_api, ["token-A"])
            seen: list[str] = []

            async def handler(request: httpx.Request) -> httpx.Response:
                seen.append(request.headers["X-Auth-Token"])
                await asyncio.sleep(0)  # let the other requests interleave
                return httpx.Response(200, json={"task_id": "task-1", "status": 1})

            task_route = client_api.get(f"{BASE}{TASK}").mock(side_effect=handler)
            auth = IamTokenAuth(IAM, "labeler", IAM_PASSWORD, "domain", project_id=PROJECT)
            async with make_async_client(clock, auth=auth) as c:
                tasks = await asyncio.gather(*(c.get_workforce_task("ds-1", "task-1") for _ in range(20)))
            assert all(t.status == TaskStatus.RUNNING for t in tasks)
            assert iam.call_count == 1
            assert auth.token_fetches == 1
            assert task_route.call_count == 20
            assert set(seen) == {"token-A"}
            body = json.loads(iam.calls.last.request.content)
            assert body["auth"]["identity"]["password"]["user"]["name"] == "labeler"
            assert body["auth"]["scope"]["project"] == {"id": PROJECT}

    asyncio.run(scenario())


def test_iam_token_refreshed_once_after_401(clock: FakeClock) -> None:
    async def scenario() -> None:
        with respx.mock(assert_all_called=False) as client_api:
            iam = _iam_route(client_api, ["token-old", "token-new"])

            def handler(request: httpx.Request) -> httpx.Response:
                if request.headers["X-Auth-Token"] == "token-old":
                    return httpx.Response(401, json={"error_code": "ModelArts.4127", "error_msg": "expired"})
                return httpx.Response(200, json={"task_id": "task-1", "status": 3})

            task_route = client_api.get(f"{BASE}{TASK}").mock(side_effect=handler)
            auth = IamTokenAuth(IAM, "labeler", IAM_PASSWORD, "domain", project_id=PROJECT)
            async with make_async_client(clock, auth=auth) as c:
                first = await c.get_workforce_task("ds-1", "task-1")
                assert first.status == TaskStatus.ACCEPTED
                assert iam.call_count == 2
                assert task_route.call_count == 2
                # Later requests reuse the refreshed token: no more fetches.
                await asyncio.gather(*(c.get_workforce_task("ds-1", "task-1") for _ in range(5)))
            assert iam.call_count == 2
            assert auth.token_fetches == 2
            assert task_route.call_count == 7
            assert c.retry_count == 0  # the 401 was handled by the auth flow, not the retry loop

    asyncio.run(scenario())


def test_iam_persistent_401_surfaces_as_auth_error(clock: FakeClock) -> None:
    async def scenario() -> None:
        with respx.mock(assert_all_called=False) as client_api:
            iam = _iam_route(client_api, ["t1", "t2"])
            client_api.get(f"{BASE}{TASK}").respond(
                401, json={"error_code": "ModelArts.4201", "error_msg": "Invalid token."}
            )
            auth = IamTokenAuth(IAM, "labeler", IAM_PASSWORD, "domain", project_id=PROJECT)
            async with make_async_client(clock, auth=auth) as c:
                with pytest.raises(ModelArtsAuthError) as info:
                    await c.get_workforce_task("ds-1", "task-1")
            assert iam.call_count == 2
            assert "token expired or was revoked" in str(info.value)
            assert IAM_PASSWORD not in str(info.value)
            assert "t2" not in str(info.value)

    asyncio.run(scenario())


@pytest.mark.parametrize("side", ["sync", "async"])
def test_only_a_failed_first_attempt_brings_in_the_retry_machinery(
    side: str, monkeypatch: pytest.MonkeyPatch, clock: FakeClock
) -> None:
    """The usual call (it succeeds) builds no tenacity state; a failed first attempt, retryable or not, is
    judged by tenacity as its own first attempt (not sent again), and a retry goes as the policy says."""
    from airflow_provider_modelarts.client._async import core as async_core
    from airflow_provider_modelarts.client._sync import core as sync_core

    module, name = (sync_core, "Retrying") if side == "sync" else (async_core, "AsyncRetrying")
    built: list[object] = []
    real = getattr(module, name)

    def counting(*args: object, **kwargs: object) -> object:
        built.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, counting)

    async def run(calls: list[httpx.Response]) -> tuple[int, int]:
        with respx.mock(base_url=BASE) as api:
            route = api.post(f"{DS}/data-annotations/samples").mock(side_effect=calls)
            if side == "sync":
                with make_client(clock) as c:
                    c.add_samples("ds-1", [IMAGE_SAMPLE])
                    return route.call_count, c.retry_count
            async with make_async_client(clock) as ac:
                await ac.add_samples("ds-1", [IMAGE_SAMPLE])
                return route.call_count, ac.retry_count

    assert asyncio.run(run([httpx.Response(200, json={"success": True})])) == (1, 0)
    assert built == []
    with pytest.raises(ModelArtsValidationError):
        asyncio.run(run([httpx.Response(400, json={"error_code": "ModelArts.4421"})]))
    assert len(built) == 1  # judged by the policy's rules: not retryable, raised at once
    built.clear()
    ok = httpx.Response(200, json={"success": True})
    assert asyncio.run(run([httpx.Response(503), ok])) == (2, 1)
    assert len(built) == 1 and len(clock.sleeps) == 1
