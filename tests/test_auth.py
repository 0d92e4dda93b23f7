"""Tests for AK/SK signing, server-side verification and IAM token auth.

Requests go through real httpx clients; only the network edge is replaced (respx), and the "server" in the
signing tests sees exactly what httpx would put on the wire: the percent-encoded path, the raw query, the
headers and the body bytes.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
import respx
from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_provider_modelarts.auth import (
    EMPTY_PAYLOAD_HASH,
    UNSIGNED_PAYLOAD,
    AkSkAuth,
    IamTokenAuth,
    canonical_query,
    canonical_request,
    canonical_uri,
    parse_authorization,
    payload_hash,
    sign,
    string_to_sign,
)
from airflow_provider_modelarts.emulator.signature import SignatureFailure, verify_signature
from airflow_provider_modelarts.errors import ModelArtsAuthError, ModelArtsConfigError

AK = "EXAMPLEAK0000000001"
SK = "example-secret-key-never-logged"
SECURITY_TOKEN = "temporary-security-token-never-logged"
SECRETS = {AK: SK}
API = "https://modelarts.example.com"


@pytest.fixture
def anyio_backend() -> str:
    # IamTokenAuth's async lock is an asyncio.Lock: Airflow's triggerer runs on asyncio.
    return "asyncio"


# ----------------------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------------------


@dataclass
class ServerView:
    """What a server receives: the request line split into raw path and raw query, headers, body."""

    method: str
    raw_path: str
    raw_query: str
    headers: dict[str, str]
    body: bytes

    @classmethod
    def of(cls, request: httpx.Request) -> ServerView:
        raw_path, _, raw_query = request.url.raw_path.decode("ascii").partition("?")
        # An ASGI server hands over lower-cased names and latin-1 decoded values.
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in request.headers.raw}
        return cls(request.method, raw_path, raw_query, headers, request.read())

    def verify(
        self, *, secrets: dict[str, str] | None = None, now: datetime | None = None, **changes: Any
    ) -> Any:
        view = {**self.__dict__, **changes}
        signed_at = datetime.strptime(view["headers"]["x-sdk-date"], "%Y%m%dT%H%M%SZ")
        return verify_signature(
            view["method"],
            view["raw_path"],
            view["raw_query"],
            view["headers"],
            view["body"],
            (secrets or SECRETS).get,
            now=now or signed_at.replace(tzinfo=timezone.utc),
        )


def send_and_capture(auth: httpx.Auth, method: str, url: str, **kwargs: Any) -> ServerView:
    """Send one request through a real httpx client; the respx route records what reached the network."""
    with respx.mock(assert_all_called=True) as router:
        route = router.route(method=method).respond(200)
        with httpx.Client(auth=auth) as client:
            client.request(method, url, **kwargs)
        return ServerView.of(route.calls.last.request)


# ----------------------------------------------------------------------------------------------------
# the published test vector
# ----------------------------------------------------------------------------------------------------

VECTOR_URL = (
    "https://service.region.example.com/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs"
    "?limit=2&marker=13551d6b-755d-4757-b956-536f674975c0"
)
VECTOR_HEADERS = {
    "Host": "service.region.example.com",
    "Content-Type": "application/json",
    "X-Sdk-Date": "20191115T033655Z",
}
VECTOR_AK = "QTWAOYTTINDUT2QVKYUC"
VECTOR_SK = "MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc"
VECTOR_HASHED_CANONICAL = "b25362e603ee30f4f25e7858e8a7160fd36e803bb2dfe206278659d71a9bcd7a"
VECTOR_SIGNATURE = "7be6668032f70418fcc22abc52071e57aff61b84a1d2381bb430d6870f4f6ebe"


def test_published_vector_canonical_request_hash() -> None:
    url = httpx.URL(VECTOR_URL)
    raw_path, _, raw_query = url.raw_path.decode().partition("?")
    signed = ["content-type", "host", "x-sdk-date"]
    canonical = canonical_request(
        "GET", raw_path, raw_query, VECTOR_HEADERS, signed, payload_hash(VECTOR_HEADERS, b"")
    )
    assert hashlib.sha256(canonical.encode()).hexdigest() == VECTOR_HASHED_CANONICAL
    assert string_to_sign("20191115T033655Z", canonical) == (
        f"SDK-HMAC-SHA256\n20191115T033655Z\n{VECTOR_HASHED_CANONICAL}"
    )


def test_published_vector_through_the_auth_flow_uses_the_given_date() -> None:
    request = httpx.Request("GET", VECTOR_URL, headers=VECTOR_HEADERS)
    auth = AkSkAuth(VECTOR_AK, VECTOR_SK)

    signed_request = next(auth.sync_auth_flow(request))

    assert signed_request.headers["X-Sdk-Date"] == "20191115T033655Z"
    assert signed_request.headers["Authorization"] == (
        f"SDK-HMAC-SHA256 Access={VECTOR_AK}, SignedHeaders=content-type;host;x-sdk-date, "
        f"Signature={VECTOR_SIGNATURE}"
    )


def test_published_vector_with_the_sign_function_and_verification() -> None:
    authorization = sign("GET", httpx.URL(VECTOR_URL), VECTOR_HEADERS, b"", VECTOR_AK, VECTOR_SK)
    parsed = parse_authorization(authorization)
    assert parsed is not None
    assert parsed.signed_headers == ("content-type", "host", "x-sdk-date")
    assert parsed.signature == VECTOR_SIGNATURE

    view = ServerView.of(
        httpx.Request("GET", VECTOR_URL, headers={**VECTOR_HEADERS, "Authorization": authorization})
    )
    check = view.verify(secrets={VECTOR_AK: VECTOR_SK})
    assert check.ok, check.reason
    assert check.access_key == VECTOR_AK


# ----------------------------------------------------------------------------------------------------
# canonical URI and query
# ----------------------------------------------------------------------------------------------------


def test_canonical_uri_and_query_for_unicode_and_reserved_characters() -> None:
    request = httpx.Request(
        "GET",
        f"{API}/v2/p/datasets/数据 集/a%2Fb",
        params=[("name", "a b"), ("x", "~ü"), ("x", "1")],
    )
    raw_path, _, raw_query = request.url.raw_path.decode().partition("?")
    assert raw_path == "/v2/p/datasets/%E6%95%B0%E6%8D%AE%20%E9%9B%86/a%2Fb"
    assert raw_query == "name=a+b&x=~%C3%BC&x=1"

    # Hand-computed: decoded, split on "/" (so %2F separates), each segment re-encoded, trailing "/".
    assert canonical_uri(raw_path) == "/v2/p/datasets/%E6%95%B0%E6%8D%AE%20%E9%9B%86/a/b/"
    # Sorted by key then value; "+" is a space; "~" stays, "ü" is UTF-8 percent-encoded.
    assert canonical_query(raw_query) == "name=a%20b&x=1&x=~%C3%BC"


@pytest.mark.parametrize(
    ("raw_path", "expected"),
    [
        ("", "/"),
        ("/", "/"),
        ("/v1/x/", "/v1/x/"),
        ("/v1/%7Euser/a.b-c_d", "/v1/~user/a.b-c_d/"),
        ("/v1/a:b@c!$'()*,;=+", "/v1/a%3Ab%40c%21%24%27%28%29%2A%2C%3B%3D%2B/"),
        ("/v1/%e4%b8%ad", "/v1/%E4%B8%AD/"),
    ],
)
def test_canonical_uri_cases(raw_path: str, expected: str) -> None:
    assert canonical_uri(raw_path) == expected


@pytest.mark.parametrize(
    ("raw_query", "expected"),
    [
        ("", ""),
        ("b=2&a=1", "a=1&b=2"),
        ("a=2&a=10&a=1", "a=1&a=10&a=2"),
        ("flag&=orphan&k=", "flag=&k="),
        ("q=%2B1%2F2&sp=a%20b", "q=%2B1%2F2&sp=a%20b"),
        ("k%7E=v~", "k~=v~"),
    ],
)
def test_canonical_query_cases(raw_query: str, expected: str) -> None:
    assert canonical_query(raw_query) == expected


def test_canonical_request_layout() -> None:
    headers = {"Host": "h", "X-Sdk-Date": "20240101T000000Z"}
    canonical = canonical_request("put", "/v1/a", "b=1", headers, ["host", "x-sdk-date"], "HASH")
    assert canonical == "PUT\n/v1/a/\nb=1\nhost:h\nx-sdk-date:20240101T000000Z\n\nhost;x-sdk-date\nHASH"
    with pytest.raises(ValueError, match="x-project-id"):
        canonical_request("GET", "/", "", headers, ["x-project-id"], "HASH")


# ----------------------------------------------------------------------------------------------------
# AK/SK through a real client, verified on the server view
# ----------------------------------------------------------------------------------------------------


def test_unicode_and_reserved_characters_sign_and_verify_through_httpx() -> None:
    view = send_and_capture(
        AkSkAuth(AK, SK),
        "GET",
        f"{API}/v2/p/datasets/数据 集/a%2Fb;v=1/@x",
        params=[("name", "a b"), ("x", "~ü"), ("x", "1"), ("plus", "1+1=2&3?")],
    )
    assert "%E6%95%B0" in view.raw_path
    check = view.verify()
    assert check.ok, check.reason
    assert check.access_key == AK


_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=0, max_size=12)


@settings(max_examples=60, deadline=None)
@given(
    segments=st.lists(_TEXT.filter(lambda s: s not in (".", "..")), min_size=1, max_size=4),
    params=st.lists(st.tuples(_TEXT, _TEXT), max_size=5),
    body=st.binary(max_size=64),
)
def test_any_path_query_and_body_round_trips(
    segments: list[str], params: list[tuple[str, str]], body: bytes
) -> None:
    path = "/v2/" + "/".join(
        segment.replace("/", "%2F").replace("?", "%3F").replace("#", "%23") for segment in segments
    )
    request = httpx.Request(
        "POST",
        f"{API}{path}",
        params=tuple(params),
        content=body,
        headers={"Content-Type": "application/json"},
    )
    signed = next(AkSkAuth(AK, SK).sync_auth_flow(request))
    check = ServerView.of(signed).verify()
    assert check.ok, check.reason


def test_default_client_headers_are_signed_and_transport_headers_are_not() -> None:
    view = send_and_capture(AkSkAuth(AK, SK), "POST", f"{API}/v1/x", content=b'{"a": 1}')
    parsed = parse_authorization(view.headers["authorization"])
    assert parsed is not None
    assert {"host", "x-sdk-date", "content-length"} - {"content-length"} <= set(parsed.signed_headers)
    assert "content-length" not in parsed.signed_headers
    assert "authorization" not in parsed.signed_headers
    assert list(parsed.signed_headers) == sorted(parsed.signed_headers)


def test_header_names_with_underscore_are_not_signed() -> None:
    view = send_and_capture(AkSkAuth(AK, SK), "GET", f"{API}/v1/x", headers={"X_Custom_Thing": "1"})
    parsed = parse_authorization(view.headers["authorization"])
    assert parsed is not None
    assert "x_custom_thing" not in parsed.signed_headers
    assert view.verify(headers={**view.headers, "x_custom_thing": "changed"}).ok


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


def test_a_body_change_changes_the_signature() -> None:
    headers = {"Content-Type": "application/json", "X-Sdk-Date": "20240101T000000Z", "Host": "h"}
    url = httpx.URL(f"{API}/v1/x")
    first = sign("POST", url, headers, b'{"a": 1}', AK, SK)
    second = sign("POST", url, headers, b'{"a": 2}', AK, SK)
    assert first != second
    assert first == sign("POST", url, headers, b'{"a": 1}', AK, SK)


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
    signed_at = datetime.strptime(signed_post.headers["x-sdk-date"], "%Y%m%dT%H%M%SZ").replace(
        tzinfo=timezone.utc
    )

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


def test_auto_date_is_current_utc_and_verifies_against_the_real_clock() -> None:
    view = send_and_capture(AkSkAuth(AK, SK), "GET", f"{API}/v1/x")
    signed_at = datetime.strptime(view.headers["x-sdk-date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
    assert abs((datetime.now(timezone.utc) - signed_at).total_seconds()) < 60
    check = verify_signature(view.method, view.raw_path, view.raw_query, view.headers, view.body, SECRETS.get)
    assert check.ok, check.reason


def test_resigning_the_same_request_refreshes_only_an_auto_date() -> None:
    auth = AkSkAuth(AK, SK)
    request = httpx.Request("GET", f"{API}/v1/x")
    next(auth.sync_auth_flow(request))
    request.headers["X-Sdk-Date"] = "20000101T000000Z"  # pretend the first attempt was long ago
    next(auth.sync_auth_flow(request))
    assert request.headers["X-Sdk-Date"] != "20000101T000000Z"
    assert ServerView.of(request).verify().ok

    explicit = httpx.Request("GET", f"{API}/v1/x", headers={"X-Sdk-Date": "20000101T000000Z"})
    next(auth.sync_auth_flow(explicit))
    next(auth.sync_auth_flow(explicit))
    assert explicit.headers["X-Sdk-Date"] == "20000101T000000Z"
    assert explicit.headers.get_list("Authorization") == [explicit.headers["Authorization"]]
    assert ServerView.of(explicit).verify().ok


def test_security_token_is_added_and_signed() -> None:
    view = send_and_capture(AkSkAuth(AK, SK, security_token=SECURITY_TOKEN), "GET", f"{API}/v1/x")
    assert view.headers["x-security-token"] == SECURITY_TOKEN
    parsed = parse_authorization(view.headers["authorization"])
    assert parsed is not None
    assert "x-security-token" in parsed.signed_headers
    assert view.verify().ok
    assert not view.verify(headers={**view.headers, "x-security-token": "stolen"}).ok


def test_project_id_is_added_and_signed_and_an_existing_one_is_kept() -> None:
    view = send_and_capture(AkSkAuth(AK, SK, project_id="proj-1"), "GET", f"{API}/v1/x")
    assert view.headers["x-project-id"] == "proj-1"
    parsed = parse_authorization(view.headers["authorization"])
    assert parsed is not None and "x-project-id" in parsed.signed_headers

    explicit = send_and_capture(
        AkSkAuth(AK, SK, project_id="proj-1"), "GET", f"{API}/v1/x", headers={"X-Project-Id": "proj-2"}
    )
    assert explicit.headers["x-project-id"] == "proj-2"
    assert explicit.verify().ok


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
    now = datetime(2024, 1, 1, tzinfo=timezone.utc)
    check = verify_signature("GET", "/v1/x", "", headers, b"", SECRETS.get, now=now)
    assert not check.ok
    assert check.failure is SignatureFailure.UNSIGNED_HEADER
    assert header in check.reason

    del headers[header]  # without the header on the request, the same signature is accepted
    assert verify_signature("GET", "/v1/x", "", headers, b"", SECRETS.get, now=now).ok


def test_verify_accepts_asgi_scope_values(signed_post: ServerView) -> None:
    now = datetime.strptime(signed_post.headers["x-sdk-date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)

    def check(raw_path: str | bytes, raw_query: str | bytes) -> bool:
        return verify_signature(
            "POST", raw_path, raw_query, signed_post.headers, signed_post.body, SECRETS.get, now=now
        ).ok

    assert check(signed_post.raw_path.encode(), signed_post.raw_query.encode())
    # httpx's ASGITransport (starlette's TestClient) puts the query into scope["raw_path"].
    assert check(f"{signed_post.raw_path}?{signed_post.raw_query}".encode(), b"")
    assert not check(signed_post.raw_path, b"")


def test_non_ascii_header_bytes_sign_as_sent() -> None:
    view = send_and_capture(AkSkAuth(AK, SK), "GET", f"{API}/v1/x", headers={"X-Note": "größe ✓".encode()})
    assert view.headers["x-note"] != "größe ✓"  # the server sees latin-1 decoded bytes
    assert view.verify().ok
    assert not view.verify(headers={**view.headers, "x-note": "größe ✗".encode().decode("latin-1")}).ok


def test_signed_header_missing_from_the_request_fails(signed_post: ServerView) -> None:
    headers = {k: v for k, v in signed_post.headers.items() if k != "x-custom"}
    check = signed_post.verify(headers=headers)
    assert not check.ok
    assert "x-custom" in check.reason


def test_non_json_body_is_unsigned_payload() -> None:
    view = send_and_capture(
        AkSkAuth(AK, SK),
        "PUT",
        f"{API}/v1/upload",
        content=b"\x89PNG binary",
        headers={"Content-Type": "image/png"},
    )
    assert view.headers["x-sdk-content-sha256"] == UNSIGNED_PAYLOAD
    parsed = parse_authorization(view.headers["authorization"])
    assert parsed is not None and "x-sdk-content-sha256" in parsed.signed_headers
    assert view.verify().ok
    # The body is deliberately outside the signature for binary uploads (as in the official SDKs).
    assert view.verify(body=b"other bytes").ok
    assert payload_hash({"Content-Type": "image/png"}, b"abc") == UNSIGNED_PAYLOAD


@pytest.mark.parametrize(
    ("headers", "body", "expected"),
    [
        ({}, b"", EMPTY_PAYLOAD_HASH),
        ({"Content-Type": "application/json"}, b'{"a":1}', hashlib.sha256(b'{"a":1}').hexdigest()),
        ({"content-type": "Application/JSON;charset=utf-8"}, b"x", hashlib.sha256(b"x").hexdigest()),
        ({"Content-Type": "application/bson"}, b"x", hashlib.sha256(b"x").hexdigest()),
        ({"Content-Type": "text/plain"}, b"x", UNSIGNED_PAYLOAD),
        ({"X-Sdk-Content-Sha256": UNSIGNED_PAYLOAD}, b"x", UNSIGNED_PAYLOAD),
        ({"X-Sdk-Content-Sha256": "0" * 64}, b"x", hashlib.sha256(b"x").hexdigest()),
    ],
)
def test_payload_hash(headers: dict[str, str], body: bytes, expected: str) -> None:
    assert payload_hash(headers, body) == expected


def test_json_body_is_hashed_not_unsigned() -> None:
    view = send_and_capture(AkSkAuth(AK, SK), "POST", f"{API}/v1/x", json={"a": 1})
    assert "x-sdk-content-sha256" not in view.headers
    assert not view.verify(body=b'{"a":2}').ok


def test_host_with_non_default_port_is_signed() -> None:
    view = send_and_capture(AkSkAuth(AK, SK), "GET", "http://127.0.0.1:8080/v1/x")
    assert view.headers["host"] == "127.0.0.1:8080"
    assert view.verify().ok
    assert not view.verify(headers={**view.headers, "host": "127.0.0.1:9090"}).ok


def test_sign_adds_host_from_the_url_when_missing() -> None:
    headers = {"X-Sdk-Date": "20240101T000000Z"}
    with_host = sign(
        "GET",
        httpx.URL("https://h.example.com:8443/v1"),
        {**headers, "Host": "h.example.com:8443"},
        b"",
        AK,
        SK,
    )
    without_host = sign("GET", httpx.URL("https://h.example.com:8443/v1"), headers, b"", AK, SK)
    assert with_host == without_host
    with pytest.raises(ValueError, match="X-Sdk-Date"):
        sign("GET", httpx.URL("https://h/"), {}, b"", AK, SK)


@pytest.mark.anyio
async def test_async_client_signs_too() -> None:
    with respx.mock as router:
        route = router.get(f"{API}/v1/x").respond(200)
        async with httpx.AsyncClient(auth=AkSkAuth(AK, SK, security_token=SECURITY_TOKEN)) as client:
            response = await client.get(f"{API}/v1/x", params={"q": "ü"})
    assert response.status_code == 200
    assert ServerView.of(route.calls.last.request).verify().ok


def test_aksk_repr_hides_secrets_and_config_errors() -> None:
    auth = AkSkAuth(AK, SK, security_token=SECURITY_TOKEN, project_id="proj-1")
    for text in (repr(auth), str(auth)):
        assert SK not in text
        assert SECURITY_TOKEN not in text
        assert AK in text and "proj-1" in text
    with pytest.raises(ModelArtsConfigError, match="secret key"):
        AkSkAuth(AK, "")
    with pytest.raises(ModelArtsConfigError, match="access key"):
        AkSkAuth("", SK)


def test_signing_is_cheap() -> None:
    # A loose sanity bound (the precise per-request figure belongs in bench/): 1000 signatures well under 1 s.
    auth = AkSkAuth(AK, SK, project_id="p")
    request = httpx.Request("POST", f"{API}/v2/p/datasets/d/data-annotations/samples", content=b"{}" * 1000)
    started = time.perf_counter()
    for _ in range(1000):
        auth.sign_request(request)
    assert time.perf_counter() - started < 1.0


# ----------------------------------------------------------------------------------------------------
# IAM token auth
# ----------------------------------------------------------------------------------------------------

IAM = "https://iam.example.com"
TOKEN_URL = f"{IAM}/v3/auth/tokens"
PASSWORD = "iam-password-never-logged"


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
            expires = datetime.now(timezone.utc) + timedelta(seconds=self.expires_in)
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
    with respx.mock as router:
        token_route = router.post(TOKEN_URL).mock(side_effect=iam.sync)
        router.get(f"{API}/v1/x").respond(200)
        with httpx.Client(auth=iam_auth()) as client:
            client.get(f"{API}/v1/x")
            client.get(f"{API}/v1/x")
    assert token_route.call_count == 2


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
    server_now = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=3)
    iam.date_header = format_datetime(server_now, usegmt=True)
    iam.expires_at = (server_now + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    with respx.mock as router:
        token_route = router.post(TOKEN_URL).mock(side_effect=iam.sync)
        router.get(f"{API}/v1/x").respond(200)
        with httpx.Client(auth=iam_auth()) as client:
            client.get(f"{API}/v1/x")
            client.get(f"{API}/v1/x")
    assert token_route.call_count == 1


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-22T13:40:00.000000Z", datetime(2026, 11, 22, 13, 40, tzinfo=timezone.utc)),
        ("2026-11-22T13:40:00.123Z", datetime(2026, 11, 22, 13, 40, 0, 123000, tzinfo=timezone.utc)),
        ("2026-11-22T13:40:00.123456789Z", datetime(2026, 11, 22, 13, 40, 0, 123456, tzinfo=timezone.utc)),
        ("2026-11-22T21:40:00+08:00", datetime(2026, 11, 22, 13, 40, tzinfo=timezone.utc)),
        ("2026-11-22T13:40:00", datetime(2026, 11, 22, 13, 40, tzinfo=timezone.utc)),
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
