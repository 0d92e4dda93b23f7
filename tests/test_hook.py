"""ModelArtsHook: connection parsing, client construction, secret handling and test_connection.

Connections come from ``AIRFLOW_CONN_*`` environment variables, exactly as users configure them; only the
network edge is mocked (respx).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx
from airflow.sdk._shared.secrets_masker import redact

from airflow_provider_modelarts.auth import IamTokenAuth
from airflow_provider_modelarts.client import AsyncModelArtsClient, ModelArtsClient
from airflow_provider_modelarts.emulator.signature import verify_signature
from airflow_provider_modelarts.errors import ModelArtsConfigError
from airflow_provider_modelarts.hooks.modelarts import ModelArtsConnectionSettings, ModelArtsHook

AK = "HOOKTESTAK00000000001"
# Unique per module, so a redacted value can only come from this test's masking, not another test's.
SK = "hook-test-secret-key-7f3c9a0e2b"
TOKEN = "hook-test-security-token-55d1e6"
IAM_PASSWORD = "hook-test-iam-password-0c4f"
IAM_TOKEN = "MIIhook-test-iam-token-value-93be1f"
PROJECT = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
ENDPOINT = "https://modelarts.hook-test.example.com"
DATASETS_URL = f"{ENDPOINT}/v2/{PROJECT}/datasets"
SECRETS = (SK, TOKEN, IAM_PASSWORD, IAM_TOKEN)


def set_conn(
    monkeypatch: pytest.MonkeyPatch, conn: dict[str, Any], conn_id: str = "modelarts_default"
) -> None:
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))


def aksk_conn(**extra: Any) -> dict[str, Any]:
    return {
        "conn_type": "modelarts",
        "login": AK,
        "password": SK,
        "extra": {"project_id": PROJECT, "endpoint": ENDPOINT, **extra},
    }


def password_conn(**extra: Any) -> dict[str, Any]:
    return {
        "conn_type": "modelarts",
        "extra": {
            "auth_type": "password",
            "project_id": PROJECT,
            "region": "cn-north-4",
            "domain_name": "labeling-team",
            "user_name": "labeler",
            "user_password": IAM_PASSWORD,
            **extra,
        },
    }


def assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


def datasets_ok(router: respx.MockRouter, base: str = DATASETS_URL) -> respx.Route:
    return router.get(base).mock(return_value=httpx.Response(200, json={"datasets": [], "total_number": 0}))


def assert_signed_by(request: httpx.Request, access_key: str, secret_key: str) -> None:
    authorization = request.headers["Authorization"]
    assert authorization.startswith(f"SDK-HMAC-SHA256 Access={access_key}, ")
    check = verify_signature(
        request.method,
        request.url.raw_path.split(b"?")[0],
        request.url.query,
        dict(request.headers),
        request.content,
        lambda ak: secret_key if ak == access_key else None,
    )
    assert check.ok, check.reason


# -- AK/SK ---------------------------------------------------------------------------------------------------


def test_env_connection_builds_a_client_that_signs_requests(
    monkeypatch: pytest.MonkeyPatch, api: respx.MockRouter
) -> None:
    set_conn(monkeypatch, aksk_conn())
    route = datasets_ok(api)

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


def test_endpoint_is_derived_from_region_when_not_overridden(
    monkeypatch: pytest.MonkeyPatch, api: respx.MockRouter
) -> None:
    conn = aksk_conn(region="CN-North-4")
    del conn["extra"]["endpoint"]
    set_conn(monkeypatch, conn)
    route = datasets_ok(api, f"https://modelarts.cn-north-4.myhuaweicloud.com/v2/{PROJECT}/datasets")

    hook = ModelArtsHook()
    hook.get_conn().list_datasets()

    assert route.called
    assert hook.region == "cn-north-4"
    assert hook.endpoint == "https://modelarts.cn-north-4.myhuaweicloud.com"


def test_host_field_is_an_endpoint_override(monkeypatch: pytest.MonkeyPatch, api: respx.MockRouter) -> None:
    conn = aksk_conn()
    del conn["extra"]["endpoint"]
    conn["host"] = "modelarts.hook-test.example.com"
    set_conn(monkeypatch, conn)
    route = datasets_ok(api)

    ModelArtsHook().get_conn().list_datasets()

    assert route.called


def test_prefixed_extras_are_read_and_short_names_win(
    monkeypatch: pytest.MonkeyPatch, api: respx.MockRouter
) -> None:
    set_conn(
        monkeypatch,
        {
            "conn_type": "modelarts",
            "login": AK,
            "password": SK,
            "extra": {
                "extra__modelarts__project_id": PROJECT,
                "extra__modelarts__endpoint": ENDPOINT,
                "extra__modelarts__security_token": TOKEN,
                "extra__modelarts__timeout": "12.5",
                # The short name wins over the prefixed one; an empty one (untouched form field) does not.
                "region": "ap-southeast-3",
                "extra__modelarts__region": "cn-north-4",
                "verify": "",
                "extra__modelarts__verify": "false",
            },
        },
    )
    route = datasets_ok(api)

    hook = ModelArtsHook()
    hook.get_conn().list_datasets()

    request = route.calls.last.request
    assert request.url.path == f"/v2/{PROJECT}/datasets"
    assert request.headers["X-Security-Token"] == TOKEN
    assert "x-security-token" in request.headers["Authorization"]  # the token is signed
    assert_signed_by(request, AK, SK)
    assert hook.region == "ap-southeast-3"
    assert hook.settings.timeout == 12.5
    assert hook.settings.verify is False


def test_project_id_argument_overrides_the_connection(
    monkeypatch: pytest.MonkeyPatch, api: respx.MockRouter
) -> None:
    set_conn(monkeypatch, aksk_conn())
    route = datasets_ok(api, f"{ENDPOINT}/v2/other-project/datasets")

    ModelArtsHook(project_id="other-project").get_conn().list_datasets()

    assert route.calls.last.request.headers["X-Project-Id"] == "other-project"


def test_hook_uses_the_named_connection(monkeypatch: pytest.MonkeyPatch, api: respx.MockRouter) -> None:
    set_conn(monkeypatch, aksk_conn(), conn_id="labeling_prod")
    route = datasets_ok(api)

    hook = ModelArtsHook(modelarts_conn_id="labeling_prod")
    hook.get_conn().list_datasets()

    assert route.called
    assert hook.settings.conn_id == "labeling_prod"


def test_async_client_is_signed_and_built_inside_an_event_loop(
    monkeypatch: pytest.MonkeyPatch, api: respx.MockRouter
) -> None:
    set_conn(monkeypatch, aksk_conn(security_token=TOKEN))
    route = datasets_ok(api)

    async def run() -> dict[str, Any]:
        client = await ModelArtsHook().get_async_client()
        assert isinstance(client, AsyncModelArtsClient)
        async with client:
            return await client.list_datasets(limit=1)

    assert asyncio.run(run()) == {"datasets": [], "total_number": 0}
    request = route.calls.last.request
    assert request.headers["X-Security-Token"] == TOKEN
    assert_signed_by(request, AK, SK)


# -- IAM password ------------------------------------------------------------------------------------------


def iam_token_route(router: respx.MockRouter, iam: str = "https://iam.cn-north-4.myhuaweicloud.com") -> Any:
    return router.post(f"{iam}/v3/auth/tokens").mock(
        return_value=httpx.Response(
            201,
            headers={"X-Subject-Token": IAM_TOKEN},
            json={"token": {"expires_at": "2099-01-01T00:00:00.000000Z"}},
        )
    )


def test_password_auth_fetches_a_token_scoped_to_the_project(
    monkeypatch: pytest.MonkeyPatch, api: respx.MockRouter
) -> None:
    set_conn(monkeypatch, password_conn())
    token_route = iam_token_route(api)
    route = datasets_ok(api, f"https://modelarts.cn-north-4.myhuaweicloud.com/v2/{PROJECT}/datasets")

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
    monkeypatch: pytest.MonkeyPatch, api: respx.MockRouter
) -> None:
    conn = password_conn(iam_endpoint="https://iam.hook-test.example.com/")
    del conn["extra"]["user_name"], conn["extra"]["user_password"]
    conn.update(login="form-user", password=IAM_PASSWORD)
    set_conn(monkeypatch, conn)
    token_route = iam_token_route(api, "https://iam.hook-test.example.com")
    datasets_ok(api, f"https://modelarts.cn-north-4.myhuaweicloud.com/v2/{PROJECT}/datasets")

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
    monkeypatch: pytest.MonkeyPatch, api: respx.MockRouter
) -> None:
    token = "MIIasync-hook-test-token-4b81c2"
    set_conn(monkeypatch, password_conn())
    api.post("https://iam.cn-north-4.myhuaweicloud.com/v3/auth/tokens").mock(
        return_value=httpx.Response(201, headers={"X-Subject-Token": token}, json={})
    )
    route = datasets_ok(api, f"https://modelarts.cn-north-4.myhuaweicloud.com/v2/{PROJECT}/datasets")

    async def run() -> None:
        async with await ModelArtsHook().get_async_client() as client:
            await client.list_datasets()

    asyncio.run(run())
    assert route.calls.last.request.headers["X-Auth-Token"] == token
    assert token not in redact(f"token={token}")


# -- configuration errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("conn", "message"),
    [
        (
            {**aksk_conn(), "password": None},
            "Connection 'modelarts_default' uses auth_type 'aksk' but has no Secret Key (SK) "
            "(the connection's password field).",
        ),
        (
            {**aksk_conn(), "login": None, "password": None},
            "Connection 'modelarts_default' uses auth_type 'aksk' but has no Access Key (AK) (the "
            "connection's login field) and Secret Key (SK) (the connection's password field).",
        ),
        (
            {"conn_type": "modelarts", "login": AK, "password": SK, "extra": {"endpoint": ENDPOINT}},
            "Connection 'modelarts_default' uses auth_type 'aksk' but has no project ID "
            "(extra 'project_id').",
        ),
        (
            {"conn_type": "modelarts", "login": AK, "password": SK, "extra": {"project_id": PROJECT}},
            "Connection 'modelarts_default' uses auth_type 'aksk' but has no region or endpoint "
            "(extra 'region' or 'endpoint').",
        ),
        (
            {"conn_type": "modelarts", "extra": {"auth_type": "password", "project_id": PROJECT}},
            "Connection 'modelarts_default' uses auth_type 'password' but has no region or endpoint (extra "
            "'region' or 'endpoint'), IAM user name (extra 'user_name' or the login field), IAM password "
            "(extra 'user_password' or the password field), account (domain) name (extra 'domain_name') and "
            "IAM endpoint (extra 'iam_endpoint', or 'region' to derive it).",
        ),
        (
            password_conn(domain_name=""),
            "Connection 'modelarts_default' uses auth_type 'password' but has no account (domain) name "
            "(extra 'domain_name').",
        ),
        (
            aksk_conn(auth_type="token"),
            "Connection 'modelarts_default' has auth_type 'token'; expected one of 'aksk', 'password'.",
        ),
        (
            aksk_conn(timeout="soon"),
            "Connection 'modelarts_default' has timeout='soon': expected a positive number of seconds.",
        ),
        (
            aksk_conn(verify="/nonexistent/ca.pem"),
            "Connection 'modelarts_default' has verify='/nonexistent/ca.pem': expected true, false, or the "
            "path of an existing CA bundle file (or directory) on this worker.",
        ),
        (
            aksk_conn(endpoint="ftp://modelarts.example.com"),
            "Connection 'modelarts_default': endpoint must be an http(s) URL with a host, got "
            "'ftp://modelarts.example.com'",
        ),
    ],
    ids=[
        "missing-sk",
        "missing-ak-sk",
        "missing-project",
        "missing-region",
        "password-missing-all",
        "password-missing-domain",
        "bad-auth-type",
        "bad-timeout",
        "missing-ca-file",
        "bad-endpoint",
    ],
)
def test_incomplete_connection_gives_a_clear_error_before_any_request(
    monkeypatch: pytest.MonkeyPatch, api: respx.MockRouter, conn: dict[str, Any], message: str
) -> None:
    set_conn(monkeypatch, conn)
    hook = ModelArtsHook()

    with pytest.raises(ModelArtsConfigError) as excinfo:
        hook.get_conn()

    assert str(excinfo.value) == message
    assert_no_secret(str(excinfo.value))
    assert not api.calls
    ok, reason = hook.test_connection()
    assert (ok, reason) == (False, message)


def test_verify_accepts_booleans_and_ca_bundle_paths(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("not used")
    for raw, expected in [(True, True), ("False", False), ("yes", True), (str(ca), str(ca)), (None, True)]:
        set_conn(monkeypatch, aksk_conn(verify=raw))
        assert ModelArtsHook().settings.verify == expected, raw


# -- secrets -------------------------------------------------------------------------------------------------


def test_secrets_are_registered_with_the_masker(monkeypatch: pytest.MonkeyPatch) -> None:
    sk, token = "masker-check-sk-31c0f7d9", "masker-check-token-8e2a61"
    conn = aksk_conn(security_token=token)
    conn["password"] = sk
    set_conn(monkeypatch, conn)

    ModelArtsHook().get_conn()

    assert redact(f"sk={sk} token={token}") == "sk=*** token=***"


def test_iam_password_is_registered_with_the_masker(monkeypatch: pytest.MonkeyPatch) -> None:
    password = "masker-check-iam-password-d4e9"
    set_conn(monkeypatch, password_conn(user_password=password))

    ModelArtsHook().get_conn()

    assert redact(f"password is {password}") == "password is ***"


def test_secrets_never_reach_logs_or_reprs(
    monkeypatch: pytest.MonkeyPatch,
    api: respx.MockRouter,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    set_conn(monkeypatch, aksk_conn(security_token=TOKEN))
    datasets_ok(api)

    hook = ModelArtsHook()
    client = hook.get_conn()
    client.list_datasets()
    assert hook.test_connection()[0]
    texts = [repr(hook), str(hook), repr(client), repr(hook.settings), repr(client._http.auth)]

    # Password auth too, through a token fetch, a rejected request and the token refresh.
    set_conn(monkeypatch, password_conn(), conn_id="modelarts_iam")
    iam_token_route(api)
    api.get(f"https://modelarts.cn-north-4.myhuaweicloud.com/v2/{PROJECT}/datasets").mock(
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


# -- test_connection ----------------------------------------------------------------------------------------


def test_test_connection_success(monkeypatch: pytest.MonkeyPatch, api: respx.MockRouter) -> None:
    set_conn(monkeypatch, aksk_conn())
    route = datasets_ok(api)

    ok, message = ModelArtsHook().test_connection()

    assert (ok, message) == (True, f"Connection to ModelArts project {PROJECT} at {ENDPOINT} succeeded.")
    assert route.calls.last.request.url.params["limit"] == "1"
    assert_signed_by(route.calls.last.request, AK, SK)


def test_test_connection_reports_a_rejected_signature_without_secrets(
    monkeypatch: pytest.MonkeyPatch, api: respx.MockRouter
) -> None:
    set_conn(monkeypatch, aksk_conn(security_token=TOKEN))
    route = api.get(DATASETS_URL).mock(
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
    monkeypatch: pytest.MonkeyPatch, api: respx.MockRouter
) -> None:
    set_conn(monkeypatch, aksk_conn())
    api.get(DATASETS_URL).mock(side_effect=httpx.ConnectError("connection refused"))

    ok, message = ModelArtsHook().test_connection()

    assert not ok
    assert "connection refused" in message
    assert_no_secret(message)


def test_test_connection_reports_a_failed_iam_login(
    monkeypatch: pytest.MonkeyPatch, api: respx.MockRouter
) -> None:
    set_conn(monkeypatch, password_conn())
    api.post("https://iam.cn-north-4.myhuaweicloud.com/v3/auth/tokens").mock(
        return_value=httpx.Response(
            401, json={"error": {"code": "IAM.0007", "message": "The username or password is wrong."}}
        )
    )

    ok, message = ModelArtsHook().test_connection()

    assert not ok
    assert "401" in message
    assert_no_secret(message)


# -- console links ------------------------------------------------------------------------------------------


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


def test_settings_from_connection_object_without_environment() -> None:
    """The parser works on any Connection object (e.g. one built in a test or from a secrets backend)."""
    from airflow.sdk import Connection

    conn = Connection(
        conn_id="adhoc",
        conn_type="modelarts",
        login=AK,
        password=SK,
        extra=json.dumps({"region": "cn-north-4", "project_id": PROJECT}),
    )
    settings = ModelArtsConnectionSettings.from_connection(conn)
    assert (settings.conn_id, settings.auth_type, settings.base_url) == (
        "adhoc",
        "aksk",
        "https://modelarts.cn-north-4.myhuaweicloud.com",
    )
    assert (settings.access_key, list(settings.secrets())) == (AK, [SK])
    assert SK not in repr(settings)


def test_connection_test_button_path_finds_the_hook(
    monkeypatch: pytest.MonkeyPatch, api: respx.MockRouter
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
    route = datasets_ok(api)

    assert conn.test_connection() == (
        True,
        f"Connection to ModelArts project {PROJECT} at {ENDPOINT} succeeded.",
    )
    assert_signed_by(route.calls.last.request, AK, SK)


# -- against the emulator (real HTTP, real signature verification) ------------------------------------------


@pytest.mark.parametrize("auth", ["aksk", "password"])
def test_test_connection_against_the_emulator(
    emulator: Any, monkeypatch: pytest.MonkeyPatch, auth: str
) -> None:
    set_conn(monkeypatch, emulator.connection_dict(auth))

    ok, message = ModelArtsHook().test_connection()

    assert (ok, message) == (
        True,
        f"Connection to ModelArts project {emulator.project_id} at {emulator.base_url} succeeded.",
    )


def test_wrong_secret_key_is_rejected_by_the_emulator(emulator: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    wrong_sk = "not-the-emulator-secret-key-1b7e"
    set_conn(monkeypatch, emulator.connection_dict("aksk", secret_key=wrong_sk))

    ok, message = ModelArtsHook().test_connection()

    assert not ok
    assert "HTTP 401" in message and "APIGW.0301" in message
    assert wrong_sk not in message


def test_clock_skew_is_reported_as_such(emulator: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    set_conn(monkeypatch, emulator.connection_dict("aksk"))
    emulator.admin.clock(20 * 60)  # the server's clock runs 20 minutes ahead of ours

    ok, message = ModelArtsHook().test_connection()

    assert not ok
    assert "X-Sdk-Date is 21 minutes off the server clock" in message or "20 minutes off" in message


def test_async_client_with_iam_password_against_the_emulator(
    emulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_conn(monkeypatch, emulator.connection_dict("password"))

    async def run() -> tuple[dict[str, Any], dict[str, Any]]:
        async with await ModelArtsHook().get_async_client() as client:
            return await client.list_datasets(limit=5), await client.list_datasets(limit=5)

    first, second = asyncio.run(run())
    assert first == second
    assert first["total_number"] >= 1  # the default seed has datasets
