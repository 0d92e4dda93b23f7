"""AkSkAuth (``auth/aksk.py``) through real httpx clients: which headers it adds and signs, and that what
reaches the network verifies on the server's view of it."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
import respx
from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_provider_modelarts.auth import AkSkAuth
from airflow_provider_modelarts.auth.signing import UNSIGNED_PAYLOAD, parse_authorization, payload_hash
from airflow_provider_modelarts.errors import ModelArtsConfigError
from modelarts_emulator.signature import verify_signature
from unit.auth._helpers import (
    AK,
    API,
    SECRETS,
    SECURITY_TOKEN,
    SK,
    VECTOR_AK,
    VECTOR_HEADERS,
    VECTOR_SIGNATURE,
    VECTOR_SK,
    VECTOR_URL,
    ServerView,
    send_and_capture,
)


@pytest.fixture
def anyio_backend() -> str:
    # The async signing test runs on asyncio, as Airflow's triggerer does.
    return "asyncio"


def test_published_vector_through_the_auth_flow_uses_the_given_date() -> None:
    request = httpx.Request("GET", VECTOR_URL, headers=VECTOR_HEADERS)
    auth = AkSkAuth(VECTOR_AK, VECTOR_SK)

    signed_request = next(auth.sync_auth_flow(request))

    assert signed_request.headers["X-Sdk-Date"] == "20191115T033655Z"
    assert signed_request.headers["Authorization"] == (
        f"SDK-HMAC-SHA256 Access={VECTOR_AK}, SignedHeaders=content-type;host;x-sdk-date, "
        f"Signature={VECTOR_SIGNATURE}"
    )


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


def test_auto_date_is_current_utc_and_verifies_against_the_real_clock() -> None:
    before = datetime.now(UTC).replace(microsecond=0)  # X-Sdk-Date has whole seconds
    view = send_and_capture(AkSkAuth(AK, SK), "GET", f"{API}/v1/x")
    after = datetime.now(UTC)
    signed_at = datetime.strptime(view.headers["x-sdk-date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert before <= signed_at <= after  # signed while it was sent, however long that took
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


def test_non_ascii_header_bytes_sign_as_sent() -> None:
    view = send_and_capture(AkSkAuth(AK, SK), "GET", f"{API}/v1/x", headers={"X-Note": "größe ✓".encode()})
    assert view.headers["x-note"] != "größe ✓"  # the server sees latin-1 decoded bytes
    assert view.verify().ok
    assert not view.verify(headers={**view.headers, "x-note": "größe ✗".encode().decode("latin-1")}).ok


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


def test_json_body_is_hashed_not_unsigned() -> None:
    view = send_and_capture(AkSkAuth(AK, SK), "POST", f"{API}/v1/x", json={"a": 1})
    assert "x-sdk-content-sha256" not in view.headers
    assert not view.verify(body=b'{"a":2}').ok


def test_host_with_non_default_port_is_signed() -> None:
    view = send_and_capture(AkSkAuth(AK, SK), "GET", "http://127.0.0.1:8080/v1/x")
    assert view.headers["host"] == "127.0.0.1:8080"
    assert view.verify().ok
    assert not view.verify(headers={**view.headers, "host": "127.0.0.1:9090"}).ok


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


def test_resigning_many_times_keeps_one_of_each_header() -> None:
    # Was a wall-clock bound (1000 signatures under 1 s); timing now lives in bench/bench_signing.py. What
    # keeps re-signing cheap, and can be asserted without a clock: each retry re-signs the same request
    # object, and the headers AkSkAuth adds are replaced, never appended, so the work does not grow.
    auth = AkSkAuth(AK, SK, project_id="p", security_token=SECURITY_TOKEN)
    request = httpx.Request("POST", f"{API}/v2/p/datasets/d/data-annotations/samples", content=b"{}" * 1000)
    auth.sign_request(request)
    header_count = len(request.headers.raw)
    for _ in range(1000):
        auth.sign_request(request)
    assert len(request.headers.raw) == header_count
    for name in ("Authorization", "X-Sdk-Date", "X-Project-Id", "X-Security-Token", "Host"):
        assert len(request.headers.get_list(name)) == 1, name
    assert ServerView.of(request).verify().ok
