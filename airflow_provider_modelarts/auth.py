"""Authentication for the ModelArts REST API: AK/SK request signing and IAM password tokens.

Both schemes are :class:`httpx.Auth` objects so one client object works with either, sync or async.

The signing algorithm (``SDK-HMAC-SHA256``, as implemented by the official Huawei Cloud SDKs) is written
once as pure functions: the client signs with them and the local emulator verifies with them, so the two
sides cannot drift apart. The functions take the path and query *as they travel on the wire*
(percent-encoded), because that is all a server ever sees.

Nothing here imports Airflow: the module is usable as a plain library.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import math
import re
import threading
import time
import weakref
from collections.abc import AsyncGenerator, Callable, Generator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from enum import Enum
from functools import lru_cache
from typing import Any
from urllib.parse import quote, unquote, unquote_plus

import httpx

from airflow_provider_modelarts.errors import ModelArtsAuthError, ModelArtsConfigError, error_from_response

__all__ = [
    "ALGORITHM",
    "EMPTY_PAYLOAD_HASH",
    "UNSIGNED_PAYLOAD",
    "AkSkAuth",
    "AuthorizationHeader",
    "IamTokenAuth",
    "SignatureCheck",
    "SignatureFailure",
    "canonical_query",
    "canonical_request",
    "canonical_uri",
    "parse_authorization",
    "payload_hash",
    "sign",
    "signed_header_names",
    "string_to_sign",
    "verify_signature",
]

log = logging.getLogger(__name__)

ALGORITHM = "SDK-HMAC-SHA256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
EMPTY_PAYLOAD_HASH = hashlib.sha256(b"").hexdigest()
SDK_DATE_FORMAT = "%Y%m%dT%H%M%SZ"

# Headers a server insists on seeing in SignedHeaders whenever they are on the request: without them a
# captured request could be replayed against another host, project or credential, or with another body type.
MUST_SIGN_HEADERS = ("host", "x-sdk-date", "content-type", "x-project-id", "x-security-token")

# Headers the client leaves out of the signature although the spec would allow signing them: the HTTP
# stack and proxies own them (hop-by-hop, re-framing), and `authorization` is the signature itself. A server
# verifies whatever SignedHeaders lists, so this choice is the client's alone.
_UNSIGNED_HEADERS = frozenset(
    {
        "authorization",
        "connection",
        "content-length",
        "keep-alive",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)

# Marks a request whose X-Sdk-Date was set by AkSkAuth, so re-sending the same request object (a retry) gets
# a fresh date instead of one that may by then be outside the server's 15-minute window.
_AUTO_DATE_EXTENSION = "modelarts_auto_sdk_date"


# ----------------------------------------------------------------------------------------------------
# Canonical request: the pure signing algorithm, shared by client and emulator
# ----------------------------------------------------------------------------------------------------


def _encode(text: str) -> str:
    # Everything but RFC 3986 unreserved characters (A-Z a-z 0-9 _ . - ~) is escaped.
    return quote(text, safe="~")


@lru_cache(maxsize=1024)
def canonical_uri(raw_path: str) -> str:
    """The path as it is signed: decoded, re-encoded segment by segment, always ending in ``/``.

    Decoding first makes ``%7E`` and ``~`` (or ``%C3%BC`` and a raw ``ü``) sign the same, whatever encoding
    the HTTP library chose. A ``%2F`` inside a segment becomes a separator, exactly as in the official SDKs.
    Cached because a pipeline hits the same few paths over and over.
    """
    uri = "/".join(_encode(segment) for segment in unquote(raw_path).split("/"))
    return uri if uri.endswith("/") else uri + "/"


@lru_cache(maxsize=1024)
def canonical_query(raw_query: str) -> str:
    """The query as it is signed: ``k=v`` pairs sorted by key then value, both percent-encoded alike.

    ``+`` is decoded as a space (form encoding, which is how httpx encodes spaces in ``params`` and how the
    gateway parses queries); a literal plus travels as ``%2B``. Empty keys are dropped, a key without ``=``
    signs as ``key=``.
    """
    if not raw_query:
        return ""
    pairs: list[tuple[str, str]] = []
    for part in raw_query.split("&"):
        key, _, value = part.partition("=")
        key = unquote_plus(key)
        if key:
            pairs.append((key, unquote_plus(value)))
    pairs.sort()
    return "&".join(f"{_encode(key)}={_encode(value)}" for key, value in pairs)


def _lower_headers(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
    """Lower-cased name -> stripped value; repeated headers are joined with "," (as they would be merged)."""
    if isinstance(headers, httpx.Headers):
        items: Iterable[tuple[str, str]] = headers.multi_items()
    elif isinstance(headers, Mapping):
        items = headers.items()
    else:
        items = headers
    lowered: dict[str, str] = {}
    for name, value in items:
        key = name.lower()
        value = value.strip()
        lowered[key] = f"{lowered[key]},{value}" if key in lowered else value
    return lowered


def signed_header_names(headers: Mapping[str, str] | Iterable[str]) -> list[str]:
    """Which headers a client signs: all of them, lower-cased and sorted, except names containing ``_``
    (gateways drop those) and the transport-owned ones (``Connection``, ``Content-Length``, ...)."""
    names = {name.lower() for name in headers}
    return sorted(name for name in names if "_" not in name and name not in _UNSIGNED_HEADERS)


def _is_signed_body_type(content_type: str | None) -> bool:
    if content_type is None:
        return True
    media = content_type.strip().lower()
    return media.startswith("application/json") or media.startswith("application/bson")


def _payload_hash_lowered(lowered: Mapping[str, str], body: bytes) -> str:
    if lowered.get("x-sdk-content-sha256") == UNSIGNED_PAYLOAD:
        return UNSIGNED_PAYLOAD
    if not _is_signed_body_type(lowered.get("content-type")):
        return UNSIGNED_PAYLOAD
    return hashlib.sha256(body).hexdigest() if body else EMPTY_PAYLOAD_HASH


def payload_hash(headers: Mapping[str, str], body: bytes) -> str:
    """Hex SHA-256 of the body, or ``UNSIGNED-PAYLOAD`` for bodies that are not JSON/BSON.

    The SDKs leave binary uploads unsigned so a large file need not be hashed twice; a request saying
    ``X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD`` is treated the same way. Any other ``X-Sdk-Content-Sha256``
    value is ignored and the real bytes are hashed, so a claimed hash cannot stand in for the body.
    """
    return _payload_hash_lowered(_lower_headers(headers), body)


def _canonical_request(
    method: str,
    raw_path: str,
    raw_query: str,
    lowered: Mapping[str, str],
    signed_headers: Sequence[str],
    body_hash: str,
) -> str:
    try:
        header_block = "".join(f"{name}:{lowered[name]}\n" for name in signed_headers)
    except KeyError as missing:
        raise ValueError(f"signed header {missing.args[0]!r} is not on the request") from None
    return (
        f"{method.upper()}\n{canonical_uri(raw_path)}\n{canonical_query(raw_query)}\n"
        f"{header_block}\n{';'.join(signed_headers)}\n{body_hash}"
    )


def canonical_request(
    method: str,
    raw_path: str,
    raw_query: str,
    headers: Mapping[str, str],
    signed_headers: Sequence[str],
    payload_hash: str,
) -> str:
    """``METHOD\\nURI\\nQUERY\\nname:value\\n...\\n\\nsigned;headers\\nPAYLOAD_HASH`` (step 6 of the spec).

    ``raw_path`` and ``raw_query`` are the percent-encoded forms sent on the wire (no ``?``). Only the
    ``signed_headers`` (lower-case names) are included; a name missing from ``headers`` is a ``ValueError``.
    """
    return _canonical_request(
        method, raw_path, raw_query, _lower_headers(headers), signed_headers, payload_hash
    )


def _hash_canonical(canonical: str) -> str:
    # surrogateescape: header bytes that are not UTF-8 were decoded that way, and hash back to the same bytes.
    return hashlib.sha256(canonical.encode("utf-8", "surrogateescape")).hexdigest()


def string_to_sign(sdk_date: str, canonical: str) -> str:
    """``SDK-HMAC-SHA256\\n{X-Sdk-Date}\\n{hex sha256(canonical request)}`` (step 7)."""
    return f"{ALGORITHM}\n{sdk_date}\n{_hash_canonical(canonical)}"


def _signature(key: hmac.HMAC, to_sign: str) -> str:
    mac = key.copy()
    mac.update(to_sign.encode("utf-8"))
    return mac.hexdigest()


def _hmac_key(secret_key: str) -> hmac.HMAC:
    return hmac.new(secret_key.encode("utf-8"), digestmod=hashlib.sha256)


def _authorization_value(access_key: str, signed_headers: Sequence[str], signature: str) -> str:
    return f"{ALGORITHM} Access={access_key}, SignedHeaders={';'.join(signed_headers)}, Signature={signature}"


def _split_url(url: httpx.URL) -> tuple[str, str]:
    """(raw path, raw query) exactly as httpx puts them on the request line."""
    raw_path, _, raw_query = url.raw_path.decode("ascii").partition("?")
    return raw_path, raw_query


def sign(
    method: str,
    url: httpx.URL,
    headers: Mapping[str, str],
    body: bytes,
    access_key: str,
    secret_key: str,
) -> str:
    """The ``Authorization`` header value for a request that will be sent with exactly these headers.

    ``headers`` must already hold ``X-Sdk-Date`` (and the ``X-Security-Token`` / ``X-Project-Id`` /
    ``X-Sdk-Content-Sha256`` headers you intend to send); ``Host`` is taken from the URL when absent, as
    every HTTP library adds it. Every header given is signed except those :func:`signed_header_names` skips.
    """
    lowered = _lower_headers(headers)
    lowered.pop("authorization", None)
    sdk_date = lowered.get("x-sdk-date")
    if not sdk_date:
        raise ValueError("X-Sdk-Date must be set before signing")
    if "host" not in lowered:
        lowered["host"] = url.netloc.decode("ascii")
    signed = signed_header_names(lowered)
    raw_path, raw_query = _split_url(url)
    canonical = _canonical_request(
        method, raw_path, raw_query, lowered, signed, _payload_hash_lowered(lowered, body)
    )
    signature = _signature(_hmac_key(secret_key), string_to_sign(sdk_date, canonical))
    return _authorization_value(access_key, signed, signature)


# ----------------------------------------------------------------------------------------------------
# Server side: verification (used by the emulator)
# ----------------------------------------------------------------------------------------------------


class SignatureFailure(str, Enum):
    """Why a signature was refused, for servers that map failures to different error codes."""

    MISSING_AUTHORIZATION = "missing_authorization"
    MALFORMED_AUTHORIZATION = "malformed_authorization"
    UNKNOWN_ACCESS_KEY = "unknown_access_key"
    MISSING_DATE = "missing_date"
    MALFORMED_DATE = "malformed_date"
    DATE_SKEW = "date_skew"
    UNSIGNED_HEADER = "unsigned_header"
    BAD_SIGNATURE = "bad_signature"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class SignatureCheck:
    """Outcome of :func:`verify_signature`; ``reason`` is a sentence safe to return to the caller."""

    ok: bool
    reason: str
    access_key: str | None = None
    failure: SignatureFailure | None = None

    def __bool__(self) -> bool:
        return self.ok


@dataclass(frozen=True)
class AuthorizationHeader:
    """The parts of an ``SDK-HMAC-SHA256 Access=..., SignedHeaders=..., Signature=...`` header."""

    access_key: str
    signed_headers: tuple[str, ...]
    signature: str


_HEX_SIGNATURE = re.compile(r"[0-9a-fA-F]{64}")


def parse_authorization(value: str) -> AuthorizationHeader | None:
    """Parse an ``SDK-HMAC-SHA256`` Authorization value; ``None`` when it is not one (or is incomplete)."""
    algorithm, _, rest = value.strip().partition(" ")
    if algorithm != ALGORITHM:
        return None
    fields: dict[str, str] = {}
    for part in rest.split(","):
        name, sep, field_value = part.strip().partition("=")
        if not sep:
            return None
        fields[name.strip()] = field_value.strip()
    access_key = fields.get("Access", "")
    signed = tuple(name for name in fields.get("SignedHeaders", "").split(";") if name)
    signature = fields.get("Signature", "")
    if not access_key or not signed or not _HEX_SIGNATURE.fullmatch(signature):
        return None
    return AuthorizationHeader(access_key, signed, signature.lower())


def _server_header_value(value: str) -> str:
    """Undo the latin-1 decoding ASGI servers apply to header bytes, so the value hashes to the sent bytes."""
    if value.isascii():
        return value
    try:
        return value.encode("latin-1").decode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # already real text (not latin-1 decoded bytes): keep it
        return value


def _parse_sdk_date(value: str) -> datetime | None:
    try:
        return datetime.strptime(value, SDK_DATE_FORMAT).replace(tzinfo=timezone.utc)
    except ValueError:
        return None


def verify_signature(
    method: str,
    raw_path: str | bytes,
    raw_query: str | bytes,
    headers: Mapping[str, str],
    body: bytes,
    lookup_secret: Callable[[str], str | None],
    now: datetime | None = None,
    max_skew: timedelta = timedelta(minutes=15),
) -> SignatureCheck:
    """Check an AK/SK-signed request as the API gateway would.

    Pass what the server received: ``raw_path`` percent-encoded without the query, ``raw_query`` without
    ``?`` (an ASGI ``scope["raw_path"]`` and ``scope["query_string"]`` can be passed as they are, bytes
    included), the headers (an ASGI server's latin-1 decoded values are fine) and the body bytes.
    ``lookup_secret(ak)`` returns the SK or ``None`` for an unknown AK. Checks, in order: the Authorization
    header's shape, the AK, the X-Sdk-Date (format and skew against ``now``), that host / date /
    content-type / project id / security token are signed when present, and finally the signature itself.
    """
    if isinstance(raw_path, bytes):
        raw_path = raw_path.decode("latin-1")
    if isinstance(raw_query, bytes):
        raw_query = raw_query.decode("latin-1")
    if "?" in raw_path:  # some ASGI transports put the query into raw_path; a path never holds a raw "?"
        raw_path, _, query_in_path = raw_path.partition("?")
        raw_query = raw_query or query_in_path
    lowered = {name: _server_header_value(value) for name, value in _lower_headers(headers).items()}
    authorization = lowered.pop("authorization", None)
    if not authorization:
        return SignatureCheck(
            False, "missing Authorization header", None, SignatureFailure.MISSING_AUTHORIZATION
        )
    parsed = parse_authorization(authorization)
    if parsed is None:
        return SignatureCheck(
            False,
            f"malformed Authorization header: expected '{ALGORITHM} Access=<AK>, SignedHeaders=<a;b>, "
            "Signature=<64 hex digits>'",
            None,
            SignatureFailure.MALFORMED_AUTHORIZATION,
        )
    access_key = parsed.access_key
    secret_key = lookup_secret(access_key)
    if secret_key is None:
        return SignatureCheck(
            False, f"unknown access key {access_key!r}", access_key, SignatureFailure.UNKNOWN_ACCESS_KEY
        )
    sdk_date = lowered.get("x-sdk-date")
    if not sdk_date:
        return SignatureCheck(False, "missing X-Sdk-Date header", access_key, SignatureFailure.MISSING_DATE)
    signed_at = _parse_sdk_date(sdk_date)
    if signed_at is None:
        return SignatureCheck(
            False,
            f"malformed X-Sdk-Date {sdk_date!r}: expected UTC time as YYYYMMDDTHHMMSSZ",
            access_key,
            SignatureFailure.MALFORMED_DATE,
        )
    current = now or datetime.now(timezone.utc)
    if current.tzinfo is None:
        current = current.replace(tzinfo=timezone.utc)
    skew = (signed_at - current).total_seconds()
    if abs(skew) > max_skew.total_seconds():
        minutes = math.ceil(abs(skew) / 60)
        direction = "ahead of" if skew > 0 else "behind"
        allowed = max_skew.total_seconds() / 60
        return SignatureCheck(
            False,
            f"X-Sdk-Date is {minutes} minutes off the server clock ({direction} it; at most {allowed:g} "
            "minutes are accepted): fix the client machine's clock",
            access_key,
            SignatureFailure.DATE_SKEW,
        )
    signed = parsed.signed_headers
    for name in MUST_SIGN_HEADERS:
        if name in lowered and name not in signed:
            return SignatureCheck(
                False,
                f"header {name!r} is on the request but not in SignedHeaders",
                access_key,
                SignatureFailure.UNSIGNED_HEADER,
            )
    for name in signed:
        if name not in lowered:
            return SignatureCheck(
                False,
                f"signed header {name!r} is not on the request",
                access_key,
                SignatureFailure.BAD_SIGNATURE,
            )
    canonical = _canonical_request(
        method, raw_path, raw_query, lowered, signed, _payload_hash_lowered(lowered, body)
    )
    expected = _signature(_hmac_key(secret_key), string_to_sign(sdk_date, canonical))
    if not hmac.compare_digest(expected, parsed.signature):
        return SignatureCheck(
            False,
            "signature does not match: the SK is wrong or the request changed after signing",
            access_key,
            SignatureFailure.BAD_SIGNATURE,
        )
    return SignatureCheck(True, "ok", access_key, None)


# ----------------------------------------------------------------------------------------------------
# AK/SK auth for httpx
# ----------------------------------------------------------------------------------------------------


def _utc_sdk_date() -> str:
    return time.strftime(SDK_DATE_FORMAT, time.gmtime())


class AkSkAuth(httpx.Auth):
    """Signs every request with an AK/SK pair (``SDK-HMAC-SHA256``), optionally with a security token.

    Signing is local and cheap (no I/O, no shared mutable state), so one instance serves sync and async
    clients and any number of threads. A request that already carries ``X-Sdk-Date`` is signed with that
    date unchanged (that is how the published test vector is reproduced); otherwise the current UTC time is
    used, and refreshed if the same request object is signed again (a retry).
    """

    requires_request_body = True

    def __init__(
        self,
        access_key: str,
        secret_key: str,
        security_token: str | None = None,
        project_id: str | None = None,
    ) -> None:
        if not access_key:
            raise ModelArtsConfigError("AkSkAuth needs an access key (AK)")
        if not secret_key:
            raise ModelArtsConfigError("AkSkAuth needs a secret key (SK)")
        self.access_key = access_key
        self.project_id = project_id or None
        self._security_token = security_token or None
        # HMAC pads and hashes the key once here; each signature then starts from a copy of this state.
        self._key = _hmac_key(secret_key)

    def __repr__(self) -> str:
        token = ", security_token='***'" if self._security_token else ""
        project = f", project_id={self.project_id!r}" if self.project_id else ""
        return f"{type(self).__name__}(access_key={self.access_key!r}, secret_key='***'{token}{project})"

    __str__ = __repr__

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        self.sign_request(request)
        yield request

    def sign_request(self, request: httpx.Request) -> None:
        """Add the date / token / project headers and the Authorization header to ``request`` in place."""
        # One pass over the raw headers builds the signing view; httpx.Headers lookups each rescan the list,
        # which made up most of the signing time.
        headers = request.headers
        lowered: dict[str, str] = {}
        for raw_name, raw_value in headers.raw:
            name = raw_name.decode("latin-1").lower()
            value = raw_value.decode("utf-8", "surrogateescape").strip()
            lowered[name] = f"{lowered[name]},{value}" if name in lowered else value
        lowered.pop("authorization", None)

        def add(name: str, value: str) -> None:
            headers[name] = value
            lowered[name.lower()] = value

        if self._security_token is not None and "x-security-token" not in lowered:
            add("X-Security-Token", self._security_token)
        if self.project_id is not None and "x-project-id" not in lowered:
            add("X-Project-Id", self.project_id)
        extensions = request.extensions
        if "x-sdk-date" not in lowered or extensions.get(_AUTO_DATE_EXTENSION):
            add("X-Sdk-Date", _utc_sdk_date())
            extensions[_AUTO_DATE_EXTENSION] = True
        if not _is_signed_body_type(lowered.get("content-type")) and "x-sdk-content-sha256" not in lowered:
            add("X-Sdk-Content-Sha256", UNSIGNED_PAYLOAD)
        if "host" not in lowered:
            add("Host", request.url.netloc.decode("ascii"))

        signed = signed_header_names(lowered)
        raw_path, raw_query = _split_url(request.url)
        canonical = _canonical_request(
            request.method,
            raw_path,
            raw_query,
            lowered,
            signed,
            _payload_hash_lowered(lowered, request.content),
        )
        signature = _signature(self._key, string_to_sign(lowered["x-sdk-date"], canonical))
        headers["Authorization"] = _authorization_value(self.access_key, signed, signature)


# ----------------------------------------------------------------------------------------------------
# IAM password-token auth for httpx
# ----------------------------------------------------------------------------------------------------

_DEFAULT_TOKEN_LIFETIME = 24 * 3600.0
_TOKEN_PATH = "/v3/auth/tokens"


@dataclass(frozen=True)
class _Token:
    value: str
    refresh_at: float  # clock() value after which a new token is fetched before the next request
    expires_at: datetime | None

    def __repr__(self) -> str:  # never show the value, even in a debugger or a traceback with locals
        return f"_Token(value='***', refresh_at={self.refresh_at!r}, expires_at={self.expires_at!r})"


def _parse_expires_at(value: Any) -> datetime | None:
    """IAM's ``token.expires_at`` (e.g. ``2026-11-22T13:40:00.000000Z``) as an aware datetime, or ``None``."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text[-1] in "zZ":
        text = text[:-1] + "+00:00"
    # Python 3.10's fromisoformat only takes 3 or 6 fractional digits; IAM has sent both, others are trimmed.
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=timezone.utc)


class IamTokenAuth(httpx.Auth):
    """Authenticates with an IAM user token (``X-Auth-Token``) obtained by the password flow.

    The token request is yielded from the auth flow, so it travels through the caller's own client and
    transport (proxies, TLS settings, respx and the emulator all apply). The token is cached until shortly
    before ``expires_at`` and shared by every request made with this object: a lock (threading for sync
    clients, asyncio per event loop for async ones) with a re-check inside means N concurrent requests cause
    one fetch. A 401 means the token was revoked early (password change, emulator reset): the flow fetches a
    new token once, unless another request already replaced the failing one, and re-sends the request once.
    A second 401 is returned to the caller as is.
    """

    requires_request_body = True  # the body must be replayable for the single re-send after a 401
    requires_response_body = False  # only the status of API responses matters; token responses are read here

    def __init__(
        self,
        iam_endpoint: str,
        user_name: str,
        password: str,
        domain_name: str,
        project_id: str | None = None,
        project_name: str | None = None,
        refresh_margin: float = 300.0,
        *,
        on_token: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``on_token`` is called with every newly fetched token (the hook registers it with Airflow's secrets
        masker); ``clock`` returns epoch seconds and exists so tests can move time without sleeping."""
        for field, value in (
            ("iam_endpoint", iam_endpoint),
            ("user_name", user_name),
            ("password", password),
            ("domain_name", domain_name),
        ):
            if not value:
                raise ModelArtsConfigError(f"IamTokenAuth needs {field}")
        if not project_id and not project_name:
            raise ModelArtsConfigError("IamTokenAuth needs project_id or project_name to scope the token")
        if refresh_margin < 0:
            raise ModelArtsConfigError("refresh_margin must be >= 0 seconds")
        endpoint = iam_endpoint.strip().rstrip("/")
        if "://" not in endpoint:
            endpoint = "https://" + endpoint
        if endpoint.endswith("/v3"):
            endpoint = endpoint[: -len("/v3")]
        self.iam_endpoint = endpoint
        self.user_name = user_name
        self.domain_name = domain_name
        self.project_id = project_id or None
        self.project_name = project_name or None
        self.refresh_margin = float(refresh_margin)
        self.token_fetches = 0
        self._password = password
        self._on_token = on_token
        self._clock = clock
        self._token: _Token | None = None
        self._sync_lock = threading.Lock()
        self._async_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )
        self._async_locks_guard = threading.Lock()

    def __repr__(self) -> str:
        scope = (
            f"project_id={self.project_id!r}" if self.project_id else f"project_name={self.project_name!r}"
        )
        return (
            f"{type(self).__name__}(iam_endpoint={self.iam_endpoint!r}, user_name={self.user_name!r}, "
            f"password='***', domain_name={self.domain_name!r}, {scope}, token_fetches={self.token_fetches})"
        )

    __str__ = __repr__

    @property
    def token_expires_at(self) -> datetime | None:
        """When the cached token expires (``None`` without a token or when IAM did not say)."""
        token = self._token
        return token.expires_at if token else None

    def invalidate(self) -> None:
        """Forget the cached token, so the next request fetches a new one."""
        self._token = None

    # -- flows ---------------------------------------------------------------------------------------------

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.read()
        token = self._usable_token()
        if token is None:
            with self._sync_lock:
                token = self._usable_token()
                if token is None:
                    token_response = yield self._token_request(request)
                    token_response.read()
                    token = self._accept_token_response(token_response)
        request.headers["X-Auth-Token"] = token.value
        response = yield request
        if response.status_code != 401:
            return
        with self._sync_lock:
            fresh = self._replacement_for(token)
            if fresh is None:
                token_response = yield self._token_request(request)
                token_response.read()
                fresh = self._accept_token_response(token_response)
        request.headers["X-Auth-Token"] = fresh.value
        yield request

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        await request.aread()
        token = self._usable_token()
        if token is None:
            async with self._async_lock():
                token = self._usable_token()
                if token is None:
                    token_response = yield self._token_request(request)
                    await token_response.aread()
                    token = self._accept_token_response(token_response)
        request.headers["X-Auth-Token"] = token.value
        response = yield request
        if response.status_code != 401:
            return
        async with self._async_lock():
            fresh = self._replacement_for(token)
            if fresh is None:
                token_response = yield self._token_request(request)
                await token_response.aread()
                fresh = self._accept_token_response(token_response)
        request.headers["X-Auth-Token"] = fresh.value
        yield request

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        # httpx only calls sync_auth_flow / async_auth_flow; this keeps the base-class contract usable.
        yield from self.sync_auth_flow(request)

    # -- token cache --------------------------------------------------------------------------------

    def _async_lock(self) -> asyncio.Lock:
        # An asyncio.Lock belongs to one event loop; Airflow's triggerer and tests may use several over time.
        loop = asyncio.get_running_loop()
        with self._async_locks_guard:
            lock = self._async_locks.get(loop)
            if lock is None:
                lock = self._async_locks[loop] = asyncio.Lock()
            return lock

    def _usable_token(self) -> _Token | None:
        token = self._token
        if token is not None and self._clock() < token.refresh_at:
            return token
        return None

    def _replacement_for(self, failed: _Token) -> _Token | None:
        """After a 401: a token another request fetched meanwhile, or ``None`` when a fetch is needed."""
        current = self._token
        if current is None or current.value == failed.value:
            self._token = None
            return None
        return self._usable_token()

    def _token_request(self, original: httpx.Request) -> httpx.Request:
        if self.project_id:
            project: dict[str, str] = {"id": self.project_id}
        else:
            project = {"name": self.project_name or ""}
        body = {
            "auth": {
                "identity": {
                    "methods": ["password"],
                    "password": {
                        "user": {
                            "name": self.user_name,
                            "password": self._password,
                            "domain": {"name": self.domain_name},
                        }
                    },
                },
                "scope": {"project": project},
            }
        }
        extensions = {"timeout": original.extensions["timeout"]} if "timeout" in original.extensions else {}
        self.token_fetches += 1
        return httpx.Request(
            "POST",
            f"{self.iam_endpoint}{_TOKEN_PATH}",
            # nocatalog: the service catalog is large and unused here.
            params={"nocatalog": "true"},
            content=json.dumps(body).encode("utf-8"),
            headers={"Content-Type": "application/json;charset=utf8", "Accept": "application/json"},
            extensions=extensions,
        )

    def _accept_token_response(self, response: httpx.Response) -> _Token:
        if not response.is_success:
            raise self._fetch_error(response)
        value = response.headers.get("X-Subject-Token", "").strip()
        if not value:
            raise self._fetch_error(response, "IAM answered without an X-Subject-Token header")
        now = self._clock()
        expires_at: datetime | None = None
        try:
            payload = response.json()
            token_info = payload.get("token") if isinstance(payload, dict) else None
            if isinstance(token_info, dict):
                expires_at = _parse_expires_at(token_info.get("expires_at"))
        except ValueError:
            pass
        if expires_at is None:
            lifetime = _DEFAULT_TOKEN_LIFETIME
            log.debug("IAM token response has no usable token.expires_at; assuming a 24 hour lifetime")
        else:
            # Measure the lifetime against IAM's own clock when it says what time it is, so a skewed local
            # clock neither throws away good tokens nor keeps expired ones.
            reference = now
            server_date = response.headers.get("Date")
            if server_date:
                try:
                    reference = parsedate_to_datetime(server_date).timestamp()
                except (TypeError, ValueError, IndexError):
                    reference = now
            lifetime = expires_at.timestamp() - reference
            if lifetime <= 0:
                log.warning("IAM returned a token that has already expired (expires_at %s)", expires_at)
        # A token that lives shorter than twice the margin is refreshed at half-life instead, so short-lived
        # tokens are not re-fetched before every request.
        margin = min(self.refresh_margin, max(lifetime, 0.0) / 2)
        token = _Token(value=value, refresh_at=now + lifetime - margin, expires_at=expires_at)
        self._token = token
        log.info(
            "Fetched an IAM token for user %r in domain %r (expires at %s)",
            self.user_name,
            self.domain_name,
            expires_at.isoformat() if expires_at else "unknown, assuming 24 h",
        )
        if self._on_token is not None:
            self._on_token(value)
        return token

    def _fetch_error(self, response: httpx.Response, message: str | None = None) -> ModelArtsAuthError:
        parsed = error_from_response(response)
        error_msg = message or parsed.error_msg
        if error_msg and self._password in error_msg:
            error_msg = error_msg.replace(self._password, "***")
        return ModelArtsAuthError(
            status=response.status_code,
            error_code=parsed.error_code,
            error_msg=error_msg,
            request_id=parsed.request_id,
            method="POST",
            path=_TOKEN_PATH,
            hint=(
                f"could not obtain an IAM token for user {self.user_name!r} in domain {self.domain_name!r} "
                f"from {self.iam_endpoint}; check the user name, password, domain name and project"
            ),
        )
