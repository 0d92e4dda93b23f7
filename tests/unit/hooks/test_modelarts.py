"""ModelArtsHook's connection half (hooks/modelarts.py): client construction, signing, IAM password auth,
secret handling, test_connection, console links.

Connections come from ``AIRFLOW_CONN_*`` environment variables, exactly as users configure them; only the
network edge is mocked (respx). The connection settings themselves are tested in test_connection.py.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import httpx
import pytest
import respx
from airflow.sdk.log import redact

from airflow_provider_modelarts.auth import IamTokenAuth
from airflow_provider_modelarts.client import AsyncModelArtsClient, ModelArtsClient
from airflow_provider_modelarts.hooks.modelarts import ModelArtsHook
from unit.hooks._helpers import (
    AK,
    DATASETS_URL,
    ENDPOINT,
    IAM_PASSWORD,
    IAM_TOKEN,
    PROJECT,
    SK,
    TOKEN,
    aksk_conn,
    assert_no_secret,
    assert_signed_by,
    datasets_ok,
    iam_token_route,
    password_conn,
    set_conn,
)


def test_env_connection_builds_a_client_that_signs_requests(
    monkeypatch: pytest.MonkeyPatch, mock_router: respx.MockRouter
) -> None:
    set_conn(monkeypatch, aksk_conn())
    route = datasets_ok(mock_router)

    hook = ModelArtsHook()
    client = hook.get_conn()
    assert isinstance(client, ModelArtsClient)
    assert client.list_datasets(limit=1) == {"datasets": [], "total_number": 0}

    request = route.calls.last.request
    assert request.url == httpx.URL(f"{DATASETS_URL}?limit=1")
    assert request.headers["X-Project-Id"] == PROJECT
    assert_signed_by(request, AK, SK)
    assert "x-project-id" in request.headers["Authorization"]
    assert "X-Security-Token" not in request.headers
    assert hook.project_id == PROJECT
    assert hook.endpoint == ENDPOINT
    assert hook.get_conn() is client  # cached
    fresh = hook.get_client()
    assert fresh is not client
    fresh.close()
    hook.close()


def test_hook_uses_the_named_connection(
    monkeypatch: pytest.MonkeyPatch, mock_router: respx.MockRouter
) -> None:
    set_conn(monkeypatch, aksk_conn(), conn_id="labeling_prod")
    route = datasets_ok(mock_router)

    hook = ModelArtsHook(modelarts_conn_id="labeling_prod")
    hook.get_conn().list_datasets()

    assert route.called
    assert hook.settings.conn_id == "labeling_prod"


def test_async_client_is_signed_and_built_inside_an_event_loop(
    monkeypatch: pytest.MonkeyPatch, mock_router: respx.MockRouter
) -> None:
    set_conn(monkeypatch, aksk_conn(security_token=TOKEN))
    route = datasets_ok(mock_router)

    async def run() -> dict[str, Any]:
        client = await ModelArtsHook().get_async_client()
        assert isinstance(client, AsyncModelArtsClient)
        async with client:
            return await client.list_datasets(limit=1)

    assert asyncio.run(run()) == {"datasets": [], "total_number": 0}
    request = route.calls.last.request
    assert request.headers["X-Security-Token"] == TOKEN
    assert_signed_by(request, AK, SK)


def test_password_auth_fetches_a_token_scoped_to_the_project(
    monkeypatch: pytest.MonkeyPatch, mock_router: respx.MockRouter
) -> None:
    set_conn(monkeypatch, password_conn())
    token_route = iam_token_route(mock_router)
    route = datasets_ok(mock_router, f"https://modelarts.cn-north-4.myhuaweicloud.com/v2/{PROJECT}/datasets")

    hook = ModelArtsHook()
    client = hook.get_conn()
    client.list_datasets()
    client.list_datasets()

    assert token_route.call_count == 1  # cached
    body = json.loads(token_route.calls.last.request.content)
    user = body["auth"]["identity"]["password"]["user"]
    assert user == {"name": "labeler", "password": IAM_PASSWORD, "domain": {"name": "labeling-team"}}
    assert body["auth"]["scope"] == {"project": {"id": PROJECT}}
    request = route.calls.last.request
    assert request.headers["X-Auth-Token"] == IAM_TOKEN
    assert "Authorization" not in request.headers
    # The fetched token is a secret too: registered with the masker as soon as it arrives.
    assert IAM_TOKEN not in redact(f"token={IAM_TOKEN}")


def test_password_auth_falls_back_to_login_and_password(
    monkeypatch: pytest.MonkeyPatch, mock_router: respx.MockRouter
) -> None:
    conn = password_conn(iam_endpoint="https://iam.hook-test.example.com/")
    del conn["extra"]["user_name"], conn["extra"]["user_password"]
    conn.update(login="form-user", password=IAM_PASSWORD)
    set_conn(monkeypatch, conn)
    token_route = iam_token_route(mock_router, "https://iam.hook-test.example.com")
    datasets_ok(mock_router, f"https://modelarts.cn-north-4.myhuaweicloud.com/v2/{PROJECT}/datasets")

    ModelArtsHook().get_conn().list_datasets()

    user = json.loads(token_route.calls.last.request.content)["auth"]["identity"]["password"]["user"]
    assert (user["name"], user["password"]) == ("form-user", IAM_PASSWORD)


def test_password_auth_builds_iam_token_auth_for_otc_regions(monkeypatch: pytest.MonkeyPatch) -> None:
    set_conn(monkeypatch, password_conn(region="eu-de"))
    hook = ModelArtsHook()

    auth = hook.get_client()._http.auth  # the client keeps its httpx client private; peek for this check
    assert isinstance(auth, IamTokenAuth)
    assert auth.iam_endpoint == "https://iam.eu-de.otc.t-systems.com"
    assert (auth.user_name, auth.domain_name, auth.project_id) == ("labeler", "labeling-team", PROJECT)
    assert hook.endpoint == "https://modelarts.eu-de.otc.t-systems.com"


def test_async_password_auth_masks_the_fetched_token(
    monkeypatch: pytest.MonkeyPatch, mock_router: respx.MockRouter
) -> None:
    token = "MIIasync-hook-test-token-4b81c2"
    set_conn(monkeypatch, password_conn())
    mock_router.post("https://iam.cn-north-4.myhuaweicloud.com/v3/auth/tokens").mock(
        return_value=httpx.Response(201, headers={"X-Subject-Token": token}, json={})
    )
    route = datasets_ok(mock_router, f"https://modelarts.cn-north-4.myhuaweicloud.com/v2/{PROJECT}/datasets")

    async def run() -> None:
        async with await ModelArtsHook().get_async_client() as client:
            await client.list_datasets()

    asyncio.run(run())
    assert route.calls.last.request.headers["X-Auth-Token"] == token
    assert token not in redact(f"token={token}")


def test_secrets_never_reach_logs_or_reprs(
    monkeypatch: pytest.MonkeyPatch,
    mock_router: respx.MockRouter,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    set_conn(monkeypatch, aksk_conn(security_token=TOKEN))
    datasets_ok(mock_router)

    hook = ModelArtsHook()
    client = hook.get_conn()
    client.list_datasets()
    assert hook.test_connection()[0]
    texts = [repr(hook), str(hook), repr(client), repr(hook.settings), repr(client._http.auth)]

    # Password auth too, through a token fetch, a rejected request and the token refresh.
    set_conn(monkeypatch, password_conn(), conn_id="modelarts_iam")
    iam_token_route(mock_router)
    mock_router.get(f"https://modelarts.cn-north-4.myhuaweicloud.com/v2/{PROJECT}/datasets").mock(
        return_value=httpx.Response(401, json={"error_code": "ModelArts.4127", "error_msg": "token expired"})
    )
    iam_hook = ModelArtsHook("modelarts_iam")
    ok, reason = iam_hook.test_connection()
    assert not ok
    iam_client = iam_hook.get_conn()
    texts += [reason, repr(iam_hook), repr(iam_client), repr(iam_hook.settings), repr(iam_client._http.auth)]

    captured = capsys.readouterr()
    texts += [caplog.text, captured.out, captured.err]
    assert caplog.records  # the check below means something only if something was logged
    for text in texts:
        assert_no_secret(text)


def test_test_connection_success(monkeypatch: pytest.MonkeyPatch, mock_router: respx.MockRouter) -> None:
    set_conn(monkeypatch, aksk_conn())
    route = datasets_ok(mock_router)

    ok, message = ModelArtsHook().test_connection()

    assert (ok, message) == (True, f"Connection to ModelArts project {PROJECT} at {ENDPOINT} succeeded.")
    assert route.calls.last.request.url.params["limit"] == "1"
    assert_signed_by(route.calls.last.request, AK, SK)


def test_test_connection_reports_a_rejected_signature_without_secrets(
    monkeypatch: pytest.MonkeyPatch, mock_router: respx.MockRouter
) -> None:
    set_conn(monkeypatch, aksk_conn(security_token=TOKEN))
    route = mock_router.get(DATASETS_URL).mock(
        return_value=httpx.Response(
            401,
            json={"error_code": "APIGW.0301", "error_msg": "Incorrect IAM authentication information"},
            headers={"X-Request-Id": "req-42"},
        )
    )

    ok, message = ModelArtsHook().test_connection()

    assert not ok
    assert route.call_count == 1  # 401 is not retried
    assert "HTTP 401" in message and "APIGW.0301" in message
    assert "clock" in message  # the hint: AK/SK or clock skew
    assert_no_secret(message)


def test_test_connection_reports_an_unreachable_endpoint(
    monkeypatch: pytest.MonkeyPatch, mock_router: respx.MockRouter
) -> None:
    set_conn(monkeypatch, aksk_conn())
    mock_router.get(DATASETS_URL).mock(side_effect=httpx.ConnectError("connection refused"))

    ok, message = ModelArtsHook().test_connection()

    assert not ok
    assert "connection refused" in message
    assert_no_secret(message)


def test_test_connection_reports_a_failed_iam_login(
    monkeypatch: pytest.MonkeyPatch, mock_router: respx.MockRouter
) -> None:
    set_conn(monkeypatch, password_conn())
    mock_router.post("https://iam.cn-north-4.myhuaweicloud.com/v3/auth/tokens").mock(
        return_value=httpx.Response(
            401, json={"error": {"code": "IAM.0007", "message": "The username or password is wrong."}}
        )
    )

    ok, message = ModelArtsHook().test_connection()

    assert not ok
    assert "401" in message
    assert_no_secret(message)


def test_console_url_points_at_the_region_console(monkeypatch: pytest.MonkeyPatch) -> None:
    set_conn(monkeypatch, aksk_conn(region="cn-north-4"))
    assert ModelArtsHook().console_url("ds 1", "task/2") == (
        "https://console.huaweicloud.com/modelarts/?region=cn-north-4"
        "#/dataLabel?datasetId=ds%201&workforceTaskId=task%2F2"
    )
    set_conn(monkeypatch, aksk_conn(region="eu-de"))
    assert ModelArtsHook().console_url("ds1") == (
        "https://console.otc.t-systems.com/modelarts/?region=eu-de#/dataLabel?datasetId=ds1"
    )


def test_connection_test_button_path_finds_the_hook(
    monkeypatch: pytest.MonkeyPatch, mock_router: respx.MockRouter
) -> None:
    """``airflow connections test`` and the UI's Test button: Connection.test_connection() looks the hook up
    by conn type through the provider registry, then calls its test_connection().

    The API server (3.1 and 3.3 alike) does it with ``airflow.models.Connection``, exposing the unsaved
    connection to the hook as an ``AIRFLOW_CONN_`` variable holding its URI; this does the same."""
    from airflow.models import Connection

    conn = Connection(
        conn_id="not_in_any_backend",
        conn_type="modelarts",
        login=AK,
        password=SK,
        extra=json.dumps({"project_id": PROJECT, "endpoint": ENDPOINT}),
    )
    monkeypatch.setenv("AIRFLOW_CONN_NOT_IN_ANY_BACKEND", conn.get_uri())
    route = datasets_ok(mock_router)

    assert conn.test_connection() == (
        True,
        f"Connection to ModelArts project {PROJECT} at {ENDPOINT} succeeded.",
    )
    assert_signed_by(route.calls.last.request, AK, SK)
