"""The SDK-HMAC-SHA256 algorithm as pure functions (``auth/signing.py``): canonical parts, payload hash,
string to sign, ``sign`` and the Authorization header, checked against the published test vector."""

from __future__ import annotations

import hashlib

import httpx
import pytest

from airflow_provider_modelarts.auth.signing import (
    EMPTY_PAYLOAD_HASH,
    UNSIGNED_PAYLOAD,
    canonical_headers,
    canonical_query,
    canonical_request,
    canonical_uri,
    format_authorization,
    parse_authorization,
    payload_hash,
    sign,
    signed_header_names,
    string_to_sign,
)
from unit.auth._helpers import (
    AK,
    API,
    SK,
    VECTOR_AK,
    VECTOR_HASHED_CANONICAL,
    VECTOR_HEADERS,
    VECTOR_SIGNATURE,
    VECTOR_SK,
    VECTOR_URL,
    ServerView,
)


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


def test_a_body_change_changes_the_signature() -> None:
    headers = {"Content-Type": "application/json", "X-Sdk-Date": "20240101T000000Z", "Host": "h"}
    url = httpx.URL(f"{API}/v1/x")
    first = sign("POST", url, headers, b'{"a": 1}', AK, SK)
    second = sign("POST", url, headers, b'{"a": 2}', AK, SK)
    assert first != second
    assert first == sign("POST", url, headers, b'{"a": 1}', AK, SK)


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


def test_one_header_canonicalisation_for_text_bytes_and_httpx_headers() -> None:
    # Signer and verifier both go through canonical_headers: names lower-cased, values stripped, repeats
    # joined with ",", raw bytes decoded so that they hash back to exactly the bytes sent.
    pairs = [("X-Note", " a "), ("x-note", "b"), ("Host", "h")]
    expected = {"x-note": "a,b", "host": "h"}
    assert canonical_headers(pairs) == expected
    assert canonical_headers([(k.encode(), v.encode()) for k, v in pairs]) == expected
    assert canonical_headers(httpx.Headers(pairs)) == expected
    assert canonical_headers({"Content-Type": " application/json "}) == {"content-type": "application/json"}
    raw = "größe".encode() + b"\xff"
    value = canonical_headers([(b"X-Raw", raw)])["x-raw"]
    assert value.encode("utf-8", "surrogateescape") == raw


def test_authorization_header_round_trips_through_the_parser() -> None:
    value = format_authorization(AK, ["host", "x-sdk-date"], "AB" * 32)
    parsed = parse_authorization(value)
    assert parsed is not None
    assert (parsed.access_key, parsed.signed_headers, parsed.signature) == (
        AK,
        ("host", "x-sdk-date"),
        "ab" * 32,
    )
    assert parse_authorization(value.replace("SDK-HMAC-SHA256", "AWS4-HMAC-SHA256")) is None
    assert parse_authorization(value.replace("Access=", "Access")) is None


@pytest.fixture(autouse=True)
def _uncached() -> None:
    """canonical_uri / canonical_query cache their results: each test checks the algorithm, not a result an
    earlier test left in the cache."""
    canonical_uri.cache_clear()
    canonical_query.cache_clear()


@pytest.mark.parametrize(
    ("raw_path", "expected"),
    [("/v1/a b/c~d", "/v1/a%20b/c~d/"), ("/v1/ü/%2A", "/v1/%C3%BC/%2A/"), ("/v1/a/b", "/v1/a/b/")],
)
def test_path_segments_are_percent_encoded_keeping_only_unreserved_characters(
    raw_path: str, expected: str
) -> None:
    assert canonical_uri(raw_path) == expected


def test_query_values_are_percent_encoded_keeping_only_unreserved_characters() -> None:
    assert canonical_query("k=a/b&j=~x*") == "j=~x%2A&k=a%2Fb"


@pytest.mark.parametrize(
    "name",
    [
        "Authorization",
        "Connection",
        "Content-Length",
        "Keep-Alive",
        "Proxy-Authorization",
        "Proxy-Connection",
        "TE",
        "Trailer",
        "Transfer-Encoding",
        "Upgrade",
    ],
)
def test_transport_owned_headers_are_never_signed(name: str) -> None:
    """Proxies rewrite or drop these in transit: signing one would make the gateway reject the request."""
    assert signed_header_names([name, "Host", "X-Sdk-Date"]) == ["host", "x-sdk-date"]


def test_header_names_with_underscores_are_not_signed_and_the_rest_are_sorted() -> None:
    assert signed_header_names(["X-Sdk-Date", "x_custom", "Content-Type", "host"]) == [
        "content-type",
        "host",
        "x-sdk-date",
    ]


def test_non_utf8_header_bytes_are_hashed_as_sent() -> None:
    """A header value that is not UTF-8 signs as exactly the bytes on the wire (the server hashes those)."""
    headers = [(b"Host", b"h"), (b"X-Sdk-Date", b"20240101T000000Z"), (b"X-Note", b"caf\xe9")]
    signed = ["host", "x-note", "x-sdk-date"]
    canonical = canonical_request("GET", "/v1/x", "", headers, signed, EMPTY_PAYLOAD_HASH)
    wire = (
        b"GET\n/v1/x/\n\nhost:h\nx-note:caf\xe9\nx-sdk-date:20240101T000000Z\n\nhost;x-note;x-sdk-date\n"
        + EMPTY_PAYLOAD_HASH.encode()
    )
    assert string_to_sign("20240101T000000Z", canonical) == (
        f"SDK-HMAC-SHA256\n20240101T000000Z\n{hashlib.sha256(wire).hexdigest()}"
    )
    # And the whole signature verifies on the server side, which received latin-1 decoded text.
    authorization = sign("GET", httpx.URL(f"{API}/v1/x"), headers, b"", AK, SK)
    request = httpx.Request(
        "GET", f"{API}/v1/x", headers=[*headers, (b"Authorization", authorization.encode())]
    )
    check = ServerView.of(request).verify(secrets={AK: SK})
    assert check.ok, check.reason


@pytest.mark.parametrize(
    "value",
    [
        "SDK-HMAC-SHA256 SignedHeaders=host, Signature=" + "a" * 64,
        "SDK-HMAC-SHA256 Access=, SignedHeaders=host, Signature=" + "a" * 64,
        "SDK-HMAC-SHA256 Access=AK, Signature=" + "a" * 64,
        "SDK-HMAC-SHA256 Access=AK, SignedHeaders=, Signature=" + "a" * 64,
        "SDK-HMAC-SHA256 Access=AK, SignedHeaders=host",
        "SDK-HMAC-SHA256 Access=AK, SignedHeaders=host, Signature=" + "a" * 63,
        "SDK-HMAC-SHA256 Access=AK, SignedHeaders=host, Signature=" + "g" * 64,
    ],
)
def test_an_authorization_header_missing_a_part_is_not_one(value: str) -> None:
    assert parse_authorization(value) is None


def test_an_access_key_with_an_equals_sign_round_trips() -> None:
    parsed = parse_authorization(format_authorization("AK==", ["host"], "0" * 64))
    assert parsed is not None and parsed.access_key == "AK=="


def test_signing_without_a_date_says_what_is_missing() -> None:
    with pytest.raises(ValueError) as info:
        sign("GET", httpx.URL("https://h/"), {"Host": "h"}, b"", AK, SK)
    assert str(info.value) == "X-Sdk-Date must be set before signing"
