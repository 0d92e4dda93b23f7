"""hooks/connection.py: reading a ModelArts connection (extras, endpoint, verify), clear errors, masking."""

from __future__ import annotations

import json
from typing import Any

import pytest
import respx
from airflow.sdk.log import redact

from airflow_provider_modelarts.errors import ModelArtsConfigError
from airflow_provider_modelarts.hooks.connection import ModelArtsConnectionSettings
from airflow_provider_modelarts.hooks.modelarts import ModelArtsHook
from unit.hooks._helpers import (
    AK,
    ENDPOINT,
    PROJECT,
    SK,
    TOKEN,
    aksk_conn,
    assert_no_secret,
    assert_signed_by,
    datasets_ok,
    password_conn,
    set_conn,
)


def test_endpoint_is_derived_from_region_when_not_overridden(
    monkeypatch: pytest.MonkeyPatch, mock_router: respx.MockRouter
) -> None:
    conn = aksk_conn(region="CN-North-4")
    del conn["extra"]["endpoint"]
    set_conn(monkeypatch, conn)
    route = datasets_ok(mock_router, f"https://modelarts.cn-north-4.myhuaweicloud.com/v2/{PROJECT}/datasets")

    hook = ModelArtsHook()
    hook.get_conn().list_datasets()

    assert route.called
    assert hook.region == "cn-north-4"
    assert hook.endpoint == "https://modelarts.cn-north-4.myhuaweicloud.com"


def test_host_field_is_an_endpoint_override(
    monkeypatch: pytest.MonkeyPatch, mock_router: respx.MockRouter
) -> None:
    conn = aksk_conn()
    del conn["extra"]["endpoint"]
    conn["host"] = "modelarts.hook-test.example.com"
    set_conn(monkeypatch, conn)
    route = datasets_ok(mock_router)

    ModelArtsHook().get_conn().list_datasets()

    assert route.called


def test_prefixed_extras_are_read_and_short_names_win(
    monkeypatch: pytest.MonkeyPatch, mock_router: respx.MockRouter
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
    route = datasets_ok(mock_router)

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
    monkeypatch: pytest.MonkeyPatch, mock_router: respx.MockRouter
) -> None:
    set_conn(monkeypatch, aksk_conn())
    route = datasets_ok(mock_router, f"{ENDPOINT}/v2/other-project/datasets")

    ModelArtsHook(project_id="other-project").get_conn().list_datasets()

    assert route.calls.last.request.headers["X-Project-Id"] == "other-project"


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
    monkeypatch: pytest.MonkeyPatch, mock_router: respx.MockRouter, conn: dict[str, Any], message: str
) -> None:
    set_conn(monkeypatch, conn)
    hook = ModelArtsHook()

    with pytest.raises(ModelArtsConfigError) as excinfo:
        hook.get_conn()

    assert str(excinfo.value) == message
    assert_no_secret(str(excinfo.value))
    assert not mock_router.calls
    ok, reason = hook.test_connection()
    assert (ok, reason) == (False, message)


def test_verify_accepts_booleans_and_ca_bundle_paths(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("not used")
    for raw, expected in [(True, True), ("False", False), ("yes", True), (str(ca), str(ca)), (None, True)]:
        set_conn(monkeypatch, aksk_conn(verify=raw))
        assert ModelArtsHook().settings.verify == expected, raw


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


def test_console_url_extra_moves_the_links_to_that_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """Private clouds and the emulator serve their own console: the links follow the connection's
    console_url (trailing slash or not); without it they stay on the region's public console."""
    set_conn(monkeypatch, aksk_conn(region="cn-north-4", console_url="https://console.private.example/"))
    hook = ModelArtsHook()
    assert hook.settings.console_url == "https://console.private.example"
    assert hook.console_url("ds 1", "task/2") == (
        "https://console.private.example/modelarts/?region=cn-north-4"
        "#/dataLabel?datasetId=ds%201&workforceTaskId=task%2F2"
    )
    set_conn(
        monkeypatch, aksk_conn(region="cn-north-4", extra__modelarts__console_url="http://127.0.0.1:9/c")
    )
    assert ModelArtsHook().console_url("ds1").startswith("http://127.0.0.1:9/c/modelarts/?region=cn-north-4#")
    set_conn(monkeypatch, aksk_conn(region="eu-de", console_url=""))  # the form stores untouched fields as ""
    assert ModelArtsHook().console_url("ds1").startswith("https://console.otc.t-systems.com/modelarts/")


@pytest.mark.parametrize("value", ["console.private.example", "ftp://console.example", "https://"])
def test_console_url_that_is_no_http_url_is_refused_naming_it(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    set_conn(monkeypatch, aksk_conn(console_url=value))
    with pytest.raises(ModelArtsConfigError, match="console_url") as raised:
        ModelArtsHook().settings  # noqa: B018 - reading the settings is what validates them
    assert value in str(raised.value)
    assert_no_secret(str(raised.value))
