"""Connections, routes and assertions shared by the hook's unit tests (imported by name from this folder)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import respx

from modelarts_emulator.signature import verify_signature

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


def iam_token_route(router: respx.MockRouter, iam: str = "https://iam.cn-north-4.myhuaweicloud.com") -> Any:
    return router.post(f"{iam}/v3/auth/tokens").mock(
        return_value=httpx.Response(
            201,
            headers={"X-Subject-Token": IAM_TOKEN},
            json={"token": {"expires_at": "2099-01-01T00:00:00.000000Z"}},
        )
    )


UNIT_ENDPOINT = "https://modelarts.unit.test"


def set_unit_conn(monkeypatch: pytest.MonkeyPatch, conn_id: str = "modelarts_default") -> None:
    """The AK/SK connection the operator tests share: endpoint ``modelarts.unit.test``, project ``p1``."""
    conn = {
        "conn_type": "modelarts",
        "login": "UNITTESTAK0000000001",
        "password": "unit-test-secret-key-0123456789",
        "extra": {"endpoint": UNIT_ENDPOINT, "project_id": "p1"},
    }
    set_conn(monkeypatch, conn, conn_id)
