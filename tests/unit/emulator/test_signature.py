"""Server-side verification (``emulator/signature.py``): a pure function of what a server received, so it is
tested without a server; the signed requests come from AkSkAuth through a real httpx client."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from airflow_provider_modelarts.auth import AkSkAuth
from airflow_provider_modelarts.auth.signing import canonical_request, payload_hash, string_to_sign
from modelarts_emulator.signature import SignatureFailure, verify_signature
from unit.auth._helpers import AK, API, SECRETS, SECURITY_TOKEN, SK, ServerView, send_and_capture


@pytest.fixture
def signed_post() -> ServerView:
    return send_and_capture(
        AkSkAuth(AK, SK, project_id="proj-1"),
        "POST",
        f"{API}/v2/proj-1/datasets/ds-1/data-annotations/samples",
        params={"locale": "en-us"},
        content=b'{"samples": []}',
        headers={"Content-Type": "application/json", "X-Custom": "one"},
    )


def test_signed_post_verifies(signed_post: ServerView) -> None:
    check = signed_post.verify()
    assert check.ok, check.reason
    assert bool(check) is True


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"body": b'{"samples": [1]}'}, id="body"),
        pytest.param({"raw_path": "/v2/proj-1/datasets/ds-2/data-annotations/samples"}, id="path"),
        pytest.param({"raw_query": "locale=zh-cn"}, id="query"),
        pytest.param({"raw_query": "locale=en-us&extra=1"}, id="query-added"),
        pytest.param({"method": "PUT"}, id="method"),
    ],
)
def test_any_change_after_signing_fails_verification(
    signed_post: ServerView, changes: dict[str, Any]
) -> None:
    check = signed_post.verify(**changes)
    assert not check.ok
    assert check.failure is SignatureFailure.BAD_SIGNATURE
    assert "signature does not match" in check.reason


@pytest.mark.parametrize(
    ("header", "value"),
    [("x-custom", "two"), ("content-type", "application/json; charset=utf-8"), ("x-project-id", "other")],
)
def test_changed_header_fails_verification(signed_post: ServerView, header: str, value: str) -> None:
    assert signed_post.headers[header] != value
    check = signed_post.verify(headers={**signed_post.headers, header: value})
    assert not check.ok
    assert check.failure is SignatureFailure.BAD_SIGNATURE


def test_wrong_secret_key_fails(signed_post: ServerView) -> None:
    check = signed_post.verify(secrets={AK: SK + "x"})
    assert not check.ok
    assert check.failure is SignatureFailure.BAD_SIGNATURE
    assert SK not in check.reason


def test_unknown_access_key_fails(signed_post: ServerView) -> None:
    check = signed_post.verify(secrets={"OTHER": SK})
    assert not check.ok
    assert check.failure is SignatureFailure.UNKNOWN_ACCESS_KEY
    assert check.access_key == AK


@pytest.mark.parametrize(
    ("authorization", "failure"),
    [
        (None, SignatureFailure.MISSING_AUTHORIZATION),
        ("Bearer abc", SignatureFailure.MALFORMED_AUTHORIZATION),
        ("SDK-HMAC-SHA256 Access=AK, SignedHeaders=host", SignatureFailure.MALFORMED_AUTHORIZATION),
        (
            "SDK-HMAC-SHA256 Access=AK, SignedHeaders=host, Signature=xyz",
            SignatureFailure.MALFORMED_AUTHORIZATION,
        ),
    ],
)
def test_missing_or_malformed_authorization(
    signed_post: ServerView, authorization: str | None, failure: SignatureFailure
) -> None:
    headers = {k: v for k, v in signed_post.headers.items() if k != "authorization"}
    if authorization is not None:
        headers["authorization"] = authorization
    check = signed_post.verify(headers=headers)
    assert not check.ok
    assert check.failure is failure
    assert "Authorization" in check.reason


def test_date_skew_beyond_15_minutes_fails_with_a_reason(signed_post: ServerView) -> None:
    signed_at = datetime.strptime(signed_post.headers["x-sdk-date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)

    assert signed_post.verify(now=signed_at + timedelta(minutes=14)).ok
    assert signed_post.verify(now=signed_at - timedelta(minutes=14)).ok

    late = signed_post.verify(now=signed_at + timedelta(minutes=20))
    assert not late.ok
    assert late.failure is SignatureFailure.DATE_SKEW
    assert "X-Sdk-Date is 20 minutes off the server clock" in late.reason

    early = signed_post.verify(now=signed_at - timedelta(minutes=16, seconds=30))
    assert early.failure is SignatureFailure.DATE_SKEW
    assert "X-Sdk-Date is 17 minutes off the server clock" in early.reason


@pytest.mark.parametrize(
    ("date", "failure"),
    [(None, SignatureFailure.MISSING_DATE), ("2024-01-01T00:00:00Z", SignatureFailure.MALFORMED_DATE)],
)
def test_missing_or_malformed_date(
    signed_post: ServerView, date: str | None, failure: SignatureFailure
) -> None:
    headers = {k: v for k, v in signed_post.headers.items() if k != "x-sdk-date"}
    if date is not None:
        headers["x-sdk-date"] = date
    check = verify_signature(
        signed_post.method,
        signed_post.raw_path,
        signed_post.raw_query,
        headers,
        signed_post.body,
        SECRETS.get,
    )
    assert not check.ok
    assert check.failure is failure
    assert "X-Sdk-Date" in check.reason


@pytest.mark.parametrize("header", ["x-project-id", "x-security-token", "content-type", "host"])
def test_server_rejects_a_security_relevant_header_that_was_not_signed(header: str) -> None:
    # A correct signature over fewer headers: someone could add/alter the left-out header in transit.
    date = "20240101T000000Z"
    headers = {
        "host": "modelarts.example.com",
        "x-sdk-date": date,
        "content-type": "application/json",
        "x-project-id": "proj-1",
        "x-security-token": SECURITY_TOKEN,
    }
    signed = sorted(name for name in headers if name != header)
    canonical = canonical_request("GET", "/v1/x", "", headers, signed, payload_hash(headers, b""))
    signature = hmac.new(SK.encode(), string_to_sign(date, canonical).encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = (
        f"SDK-HMAC-SHA256 Access={AK}, SignedHeaders={';'.join(signed)}, Signature={signature}"
    )
    now = datetime(2024, 1, 1, tzinfo=UTC)
    check = verify_signature("GET", "/v1/x", "", headers, b"", SECRETS.get, now=now)
    assert not check.ok
    assert check.failure is SignatureFailure.UNSIGNED_HEADER
    assert header in check.reason

    del headers[header]  # without the header on the request, the same signature is accepted
    assert verify_signature("GET", "/v1/x", "", headers, b"", SECRETS.get, now=now).ok


def test_verify_accepts_asgi_scope_values(signed_post: ServerView) -> None:
    now = datetime.strptime(signed_post.headers["x-sdk-date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)

    def check(raw_path: str | bytes, raw_query: str | bytes) -> bool:
        return verify_signature(
            "POST", raw_path, raw_query, signed_post.headers, signed_post.body, SECRETS.get, now=now
        ).ok

    assert check(signed_post.raw_path.encode(), signed_post.raw_query.encode())
    # httpx's ASGITransport (starlette's TestClient) puts the query into scope["raw_path"].
    assert check(f"{signed_post.raw_path}?{signed_post.raw_query}".encode(), b"")
    assert not check(signed_post.raw_path, b"")


def test_signed_header_missing_from_the_request_fails(signed_post: ServerView) -> None:
    headers = {k: v for k, v in signed_post.headers.items() if k != "x-custom"}
    check = signed_post.verify(headers=headers)
    assert not check.ok
    assert "x-custom" in check.reason
