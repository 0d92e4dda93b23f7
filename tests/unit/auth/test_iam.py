"""IamTokenAuth (``auth/iam.py``): one token fetch for many concurrent requests, caching and refresh before
expiry, one refresh after a 401, and errors and reprs that never show the password or a token."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
import respx

from airflow_provider_modelarts.auth import IamTokenAuth
from airflow_provider_modelarts.errors import ModelArtsAuthError, ModelArtsConfigError

API = "https://modelarts.example.com"
IAM = "https://iam.example.com"
TOKEN_URL = f"{IAM}/v3/auth/tokens"
PASSWORD = "iam-password-never-logged"


@pytest.fixture
def anyio_backend() -> str:
    # IamTokenAuth's async lock is an asyncio.Lock: Airflow's triggerer runs on asyncio.
    return "asyncio"


class FakeIam:
    """Issues numbered tokens; ``expires_in`` (seconds from now) or ``expires_at`` control the body."""

    def __init__(self, expires_in: float | None = 24 * 3600, *, delay: float = 0.0) -> None:
        self.expires_in = expires_in
        self.delay = delay
        self.issued: list[str] = []
        self.bodies: list[dict[str, Any]] = []
        self.date_header: str | None = None
        self.expires_at: str | None = None

    def _response(self, request: httpx.Request) -> httpx.Response:
        self.bodies.append(json.loads(request.content))
        token = f"iam-token-{len(self.issued) + 1}-secret"
        self.issued.append(token)
        body: dict[str, Any] = {"token": {"methods": ["password"]}}
        if self.expires_at is not None:
            body["token"]["expires_at"] = self.expires_at
        elif self.expires_in is not None:
            expires = datetime.now(UTC) + timedelta(seconds=self.expires_in)
            body["token"]["expires_at"] = expires.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        headers = {"X-Subject-Token": token}
        if self.date_header:
            headers["Date"] = self.date_header
        return httpx.Response(201, headers=headers, json=body)

    def sync(self, request: httpx.Request) -> httpx.Response:
        if self.delay:
            time.sleep(self.delay)  # network latency, so concurrent callers overlap
        return self._response(request)

    async def async_(self, request: httpx.Request) -> httpx.Response:
        for _ in range(5):
            await asyncio.sleep(0)  # give every other task a chance to start its own fetch
        return self._response(request)


def iam_auth(**kwargs: Any) -> IamTokenAuth:
    return IamTokenAuth(IAM, "labeler", PASSWORD, "my-domain", project_id="proj-1", **kwargs)


def api_tokens(route: respx.Route) -> list[str]:
    return [call.request.headers["X-Auth-Token"] for call in route.calls]


def token_fetches_for_two_requests(iam: FakeIam) -> int:
    """Two GETs through one sync client with a fresh IamTokenAuth: how many token requests IAM saw."""
    with respx.mock as router:
        token_route = router.post(TOKEN_URL).mock(side_effect=iam.sync)
        router.get(f"{API}/v1/x").respond(200)
        with httpx.Client(auth=iam_auth()) as client:
            client.get(f"{API}/v1/x")
            client.get(f"{API}/v1/x")
    return token_route.call_count


@pytest.mark.anyio
async def test_one_token_fetch_for_20_concurrent_async_requests() -> None:
    iam = FakeIam()
    auth = iam_auth()
    with respx.mock as router:
        token_route = router.post(TOKEN_URL).mock(side_effect=iam.async_)
        api_route = router.get(f"{API}/v2/proj-1/datasets").respond(200, json={})
        async with httpx.AsyncClient(auth=auth) as client:
            responses = await asyncio.gather(*(client.get(f"{API}/v2/proj-1/datasets") for _ in range(20)))

    assert [r.status_code for r in responses] == [200] * 20
    assert token_route.call_count == 1
    assert auth.token_fetches == 1
    assert api_route.call_count == 20
    assert set(api_tokens(api_route)) == {iam.issued[0]}
    sent = iam.bodies[0]["auth"]
    assert sent["identity"]["methods"] == ["password"]
    assert sent["identity"]["password"]["user"] == {
        "name": "labeler",
        "password": PASSWORD,
        "domain": {"name": "my-domain"},
    }
    assert sent["scope"] == {"project": {"id": "proj-1"}}
    assert token_route.calls.last.request.url.params["nocatalog"] == "true"


@pytest.mark.anyio
async def test_async_lock_works_across_event_loops() -> None:
    # A new event loop (e.g. a triggerer restart, or asyncio.run in a test) must not trip over an old lock.
    iam = FakeIam(expires_in=-10)  # every request needs a fresh token, so the lock is taken each time
    auth = iam_auth()

    async def one_call() -> int:
        async with httpx.AsyncClient(auth=auth) as client:
            return (await client.get(f"{API}/v1/x")).status_code

    with respx.mock as router:
        router.post(TOKEN_URL).mock(side_effect=iam.async_)
        router.get(f"{API}/v1/x").respond(200)
        assert await one_call() == 200
        assert await asyncio.get_running_loop().run_in_executor(None, asyncio.run, one_call()) == 200
    assert len(iam.issued) == 2


def test_sync_client_caches_the_token() -> None:
    iam = FakeIam()
    with respx.mock as router:
        token_route = router.post(TOKEN_URL).mock(side_effect=iam.sync)
        api_route = router.get(f"{API}/v1/x").respond(200)
        with httpx.Client(auth=iam_auth()) as client:
            for _ in range(3):
                assert client.get(f"{API}/v1/x").status_code == 200
    assert token_route.call_count == 1
    assert api_tokens(api_route) == [iam.issued[0]] * 3


def test_one_token_fetch_for_concurrent_threads() -> None:
    iam = FakeIam(delay=0.05)
    auth = iam_auth()
    start = threading.Barrier(8)
    statuses: list[int] = []

    def worker(client: httpx.Client) -> None:
        start.wait()
        statuses.append(client.get(f"{API}/v1/x").status_code)

    with respx.mock as router:
        token_route = router.post(TOKEN_URL).mock(side_effect=iam.sync)
        router.get(f"{API}/v1/x").respond(200)
        with httpx.Client(auth=auth) as client:
            threads = [threading.Thread(target=worker, args=(client,)) for _ in range(8)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
    assert statuses == [200] * 8
    assert token_route.call_count == 1


def _revoking_api(valid: Callable[[], set[str]]) -> Callable[[httpx.Request], httpx.Response]:
    """An API that accepts only the tokens in ``valid()`` and answers 401 ModelArts.4127 otherwise."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.headers.get("X-Auth-Token") in valid():
            return httpx.Response(200, json={"ok": True})
        return httpx.Response(401, json={"error_code": "ModelArts.4127", "error_msg": "Token expired."})

    return handler


def _slow_revoking_api(valid: Callable[[], set[str]]) -> Callable[[httpx.Request], Any]:
    """Like _revoking_api, but yields to the event loop first so concurrent requests really overlap."""
    handler = _revoking_api(valid)

    async def slow(request: httpx.Request) -> httpx.Response:
        for _ in range(5):
            await asyncio.sleep(0)
        return handler(request)

    return slow


def test_refresh_once_after_401_then_success() -> None:
    iam = FakeIam()
    revoked: set[str] = set()
    with respx.mock as router:
        token_route = router.post(TOKEN_URL).mock(side_effect=iam.sync)
        api_route = router.put(f"{API}/v1/x").mock(
            side_effect=_revoking_api(lambda: set(iam.issued) - revoked)
        )
        with httpx.Client(auth=iam_auth()) as client:
            assert client.put(f"{API}/v1/x", content=b'{"a": 1}').status_code == 200
            revoked.add(iam.issued[0])  # e.g. the password was changed
            response = client.put(f"{API}/v1/x", content=b'{"a": 1}')
            assert response.status_code == 200
            assert client.put(f"{API}/v1/x", content=b'{"a": 1}').status_code == 200

    assert token_route.call_count == 2
    assert api_tokens(api_route) == [iam.issued[0], iam.issued[0], iam.issued[1], iam.issued[1]]
    # The original request, body included, was re-sent unchanged apart from the token.
    assert api_route.calls[2].request.content == b'{"a": 1}'
    assert [r.status_code for r in response.history] == [401, 201]


def test_second_401_after_refresh_is_returned_as_is() -> None:
    iam = FakeIam()
    with respx.mock as router:
        token_route = router.post(TOKEN_URL).mock(side_effect=iam.sync)
        api_route = router.get(f"{API}/v1/x").mock(side_effect=_revoking_api(set))
        with httpx.Client(auth=iam_auth()) as client:
            response = client.get(f"{API}/v1/x")
    assert response.status_code == 401
    assert response.json()["error_code"] == "ModelArts.4127"
    assert token_route.call_count == 2
    assert api_route.call_count == 2


@pytest.mark.anyio
async def test_concurrent_401s_refresh_once() -> None:
    iam = FakeIam()
    revoked: set[str] = set()
    auth = iam_auth()
    with respx.mock as router:
        token_route = router.post(TOKEN_URL).mock(side_effect=iam.async_)
        api_route = router.get(f"{API}/v1/x").mock(
            side_effect=_slow_revoking_api(lambda: set(iam.issued) - revoked)
        )
        async with httpx.AsyncClient(auth=auth) as client:
            assert (await client.get(f"{API}/v1/x")).status_code == 200
            revoked.add(iam.issued[0])
            responses = await asyncio.gather(*(client.get(f"{API}/v1/x") for _ in range(10)))
    assert [r.status_code for r in responses] == [200] * 10
    # Every request got a 401 with the revoked token, yet only one of them fetched a replacement.
    assert api_route.call_count == 1 + 10 + 10
    assert api_tokens(api_route)[11:] == [iam.issued[1]] * 10
    assert token_route.call_count == 2


@pytest.mark.anyio
async def test_async_refresh_after_401() -> None:
    iam = FakeIam()
    revoked: set[str] = set()
    with respx.mock as router:
        token_route = router.post(TOKEN_URL).mock(side_effect=iam.async_)
        router.get(f"{API}/v1/x").mock(side_effect=_revoking_api(lambda: set(iam.issued) - revoked))
        async with httpx.AsyncClient(auth=iam_auth()) as client:
            await client.get(f"{API}/v1/x")
            revoked.update(iam.issued)
            assert (await client.get(f"{API}/v1/x")).status_code == 200
            revoked.update(iam.issued)
            revoked.add("iam-token-3-secret")  # the refreshed token is refused too
            assert (await client.get(f"{API}/v1/x")).status_code == 401
    assert token_route.call_count == 3  # initial, refresh after the first 401, refresh after the second


def test_expired_token_in_the_response_is_refetched_each_time() -> None:
    iam = FakeIam(expires_in=-60)
    assert token_fetches_for_two_requests(iam) == 2


class FakeClock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def test_token_is_refreshed_refresh_margin_before_expiry() -> None:
    iam = FakeIam(expires_in=3600)
    clock = FakeClock()
    auth = iam_auth(refresh_margin=300, clock=clock)
    with respx.mock as router:
        token_route = router.post(TOKEN_URL).mock(side_effect=iam.sync)
        api_route = router.get(f"{API}/v1/x").respond(200)
        with httpx.Client(auth=auth) as client:
            client.get(f"{API}/v1/x")
            clock.now += 3600 - 300 - 30  # still outside the margin
            client.get(f"{API}/v1/x")
            assert token_route.call_count == 1
            clock.now += 60  # now inside the last 300 s
            client.get(f"{API}/v1/x")
    assert token_route.call_count == 2
    assert api_tokens(api_route) == [iam.issued[0], iam.issued[0], iam.issued[1]]
    assert auth.token_expires_at is not None


def test_short_lived_tokens_are_refreshed_at_half_life_not_every_request() -> None:
    iam = FakeIam(expires_in=120)  # shorter than the 300 s margin
    clock = FakeClock()
    with respx.mock as router:
        token_route = router.post(TOKEN_URL).mock(side_effect=iam.sync)
        router.get(f"{API}/v1/x").respond(200)
        with httpx.Client(auth=iam_auth(clock=clock)) as client:
            client.get(f"{API}/v1/x")
            clock.now += 50
            client.get(f"{API}/v1/x")
            assert token_route.call_count == 1
            clock.now += 20
            client.get(f"{API}/v1/x")
    assert token_route.call_count == 2


def test_missing_expires_at_assumes_24_hours() -> None:
    iam = FakeIam(expires_in=None)
    clock = FakeClock()
    auth = iam_auth(clock=clock)
    with respx.mock as router:
        token_route = router.post(TOKEN_URL).mock(side_effect=iam.sync)
        router.get(f"{API}/v1/x").respond(200)
        with httpx.Client(auth=auth) as client:
            client.get(f"{API}/v1/x")
            clock.now += 23 * 3600
            client.get(f"{API}/v1/x")
            assert token_route.call_count == 1
            clock.now += 3600
            client.get(f"{API}/v1/x")
    assert token_route.call_count == 2
    assert auth.token_expires_at is None


def test_lifetime_is_measured_against_the_iam_clock_when_it_sends_date() -> None:
    # The IAM clock is 3 h behind ours: its expires_at is in our past, yet the token is valid for an hour.
    iam = FakeIam()
    server_now = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
    iam.date_header = format_datetime(server_now, usegmt=True)
    iam.expires_at = (server_now + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert token_fetches_for_two_requests(iam) == 1


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-22T13:40:00.000000Z", datetime(2026, 11, 22, 13, 40, tzinfo=UTC)),
        ("2026-11-22T13:40:00.123Z", datetime(2026, 11, 22, 13, 40, 0, 123000, tzinfo=UTC)),
        ("2026-11-22T13:40:00.123456789Z", datetime(2026, 11, 22, 13, 40, 0, 123456, tzinfo=UTC)),
        ("2026-11-22T21:40:00+08:00", datetime(2026, 11, 22, 13, 40, tzinfo=UTC)),
        ("2026-11-22T13:40:00", datetime(2026, 11, 22, 13, 40, tzinfo=UTC)),
    ],
)
def test_expires_at_formats(value: str, expected: datetime) -> None:
    iam = FakeIam()
    iam.expires_at = value
    auth = iam_auth()
    with respx.mock as router:
        router.post(TOKEN_URL).mock(side_effect=iam.sync)
        router.get(f"{API}/v1/x").respond(200)
        with httpx.Client(auth=auth) as client:
            client.get(f"{API}/v1/x")
    assert auth.token_expires_at == expected


def test_token_fetch_failure_raises_auth_error_without_the_password(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    body = {"error": {"code": 401, "title": "Unauthorized", "message": f"bad password {PASSWORD}"}}
    with respx.mock as router:
        token_route = router.post(TOKEN_URL).respond(401, json=body, headers={"X-Request-Id": "req-9"})
        api_route = router.get(f"{API}/v1/x").respond(200)
        with httpx.Client(auth=iam_auth()) as client, pytest.raises(ModelArtsAuthError) as raised:
            client.get(f"{API}/v1/x")
    error = raised.value
    assert error.status == 401
    assert error.error_code == "401"
    assert error.request_id == "req-9"
    assert "labeler" in str(error) and "my-domain" in str(error)
    assert PASSWORD not in str(error) and PASSWORD not in repr(error)
    assert PASSWORD not in (error.error_msg or "")
    assert api_route.call_count == 0
    assert token_route.call_count == 1
    assert PASSWORD not in caplog.text


def test_token_fetch_error_code_from_iam_body() -> None:
    with respx.mock as router:
        router.post(TOKEN_URL).respond(403, json={"error_code": "IAM.0011", "error_msg": "User is disabled."})
        with httpx.Client(auth=iam_auth()) as client, pytest.raises(ModelArtsAuthError) as raised:
            client.get(f"{API}/v1/x")
    assert raised.value.status == 403
    assert raised.value.error_code == "IAM.0011"
    assert "User is disabled" in str(raised.value)


def test_token_response_without_subject_token_is_an_error() -> None:
    with respx.mock as router:
        router.post(TOKEN_URL).respond(201, json={"token": {}})
        with (
            httpx.Client(auth=iam_auth()) as client,
            pytest.raises(ModelArtsAuthError, match="X-Subject-Token"),
        ):
            client.get(f"{API}/v1/x")


@pytest.mark.anyio
async def test_async_token_fetch_failure_raises_and_next_request_retries() -> None:
    iam = FakeIam()

    def down_once(request: httpx.Request) -> httpx.Response:
        if not iam.bodies:
            iam.bodies.append({})
            return httpx.Response(500, json={"error_msg": "busy"})
        return iam.sync(request)

    with respx.mock as router:
        token_route = router.post(TOKEN_URL).mock(side_effect=down_once)
        router.get(f"{API}/v1/x").respond(200)
        async with httpx.AsyncClient(auth=iam_auth()) as client:
            with pytest.raises(ModelArtsAuthError) as raised:
                await client.get(f"{API}/v1/x")
            assert raised.value.status == 500
            assert (await client.get(f"{API}/v1/x")).status_code == 200
    assert token_route.call_count == 2


def test_secrets_never_in_repr_str_logs_or_errors(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    iam = FakeIam()
    seen: list[str] = []
    auth = iam_auth(on_token=seen.append)
    with respx.mock as router:
        router.post(TOKEN_URL).mock(side_effect=iam.sync)
        router.get(f"{API}/v1/x").mock(side_effect=_revoking_api(set))
        with httpx.Client(auth=auth) as client:
            client.get(f"{API}/v1/x")
    assert seen == iam.issued and len(seen) == 2
    texts = [repr(auth), str(auth), caplog.text, repr(auth._token)]
    for text in texts:
        assert PASSWORD not in text
        for token in iam.issued:
            assert token not in text
    assert "labeler" in repr(auth) and "token_fetches=2" in repr(auth)


def test_iam_endpoint_is_normalised_and_project_name_scope() -> None:
    iam = FakeIam()
    auth = IamTokenAuth("iam.example.com/v3/", "labeler", PASSWORD, "my-domain", project_name="eu-de")
    assert auth.iam_endpoint == IAM
    with respx.mock as router:
        router.post(TOKEN_URL).mock(side_effect=iam.sync)
        router.get(f"{API}/v1/x").respond(200)
        with httpx.Client(auth=auth, timeout=7.0) as client:
            client.get(f"{API}/v1/x")
        token_request = router.routes[0].calls.last.request
    assert iam.bodies[0]["auth"]["scope"] == {"project": {"name": "eu-de"}}
    # The token request inherits the caller's timeout instead of waiting forever.
    assert token_request.extensions["timeout"]["read"] == 7.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"password": ""}, "password"),
        ({"user_name": ""}, "user_name"),
        ({"domain_name": ""}, "domain_name"),
        ({"iam_endpoint": ""}, "iam_endpoint"),
        ({"project_id": None}, "project_id or project_name"),
        ({"refresh_margin": -1}, "refresh_margin"),
    ],
)
def test_iam_config_errors_name_the_field(kwargs: dict[str, Any], message: str) -> None:
    params: dict[str, Any] = {
        "iam_endpoint": IAM,
        "user_name": "labeler",
        "password": PASSWORD,
        "domain_name": "my-domain",
        "project_id": "proj-1",
        **kwargs,
    }
    with pytest.raises(ModelArtsConfigError, match=message) as raised:
        IamTokenAuth(**params)
    assert PASSWORD not in str(raised.value)


def test_async_flow_awaits_an_async_on_token_before_the_request_goes_out() -> None:
    """The triggerer's client masks a fresh token with an awaited call (no blocking call in the event loop),
    and the request that carries the token is sent only after that call finished."""
    iam = FakeIam()
    events: list[str] = []

    async def on_token(value: str) -> None:
        await asyncio.sleep(0)
        events.append(f"masked {value}")

    def api(request: httpx.Request) -> httpx.Response:
        events.append(f"sent {request.headers['X-Auth-Token']}")
        return httpx.Response(200)

    async def run() -> None:
        with respx.mock as router:
            router.post(TOKEN_URL).mock(side_effect=iam.sync)
            router.get(f"{API}/v1/x").mock(side_effect=api)
            async with httpx.AsyncClient(auth=iam_auth(on_token=on_token)) as client:
                await client.get(f"{API}/v1/x")

    asyncio.run(run())
    (token,) = iam.issued
    assert events == [f"masked {token}", f"sent {token}"]


def test_sync_flow_refuses_a_coroutine_on_token_before_sending() -> None:
    async def on_token(value: str) -> None:  # pragma: no cover - never awaited, by design
        return None

    iam = FakeIam()
    with respx.mock as router:
        router.post(TOKEN_URL).mock(side_effect=iam.sync)
        api = router.get(f"{API}/v1/x").respond(200)
        with (
            httpx.Client(auth=iam_auth(on_token=on_token)) as client,
            pytest.raises(ModelArtsConfigError, match="async client"),
        ):
            client.get(f"{API}/v1/x")
    assert api.call_count == 0
