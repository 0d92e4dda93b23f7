"""The ``SDK-HMAC-SHA256`` request-signing algorithm, as pure functions.

Written once and shared: :class:`~airflow_provider_modelarts.auth.aksk.AkSkAuth` signs with it and the local
emulator (``modelarts_emulator/signature.py``) verifies with it, so the two sides cannot drift apart. The
steps follow the spec's "AK/SK request signing": canonical URI, canonical query, canonical headers, payload
hash, canonical request, string to sign, HMAC signature, ``Authorization`` header.

The functions take the path and query *as they travel on the wire* (percent-encoded), because that is all a
server ever sees. :func:`canonical_headers` is the only place where header names and values are brought into
signing form, for the client and the server alike.

Nothing here imports Airflow or the emulator.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TypeAlias
from urllib.parse import quote, unquote, unquote_plus

import httpx

__all__ = [
    "ALGORITHM",
    "EMPTY_PAYLOAD_HASH",
    "SDK_DATE_FORMAT",
    "UNSIGNED_PAYLOAD",
    "AuthorizationHeader",
    "authorization_header",
    "body_is_signed",
    "canonical_headers",
    "canonical_query",
    "canonical_request",
    "canonical_uri",
    "format_authorization",
    "parse_authorization",
    "payload_hash",
    "request_signature",
    "sign",
    "signed_header_names",
    "signing_key",
    "string_to_sign",
]

ALGORITHM = "SDK-HMAC-SHA256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
EMPTY_PAYLOAD_HASH = hashlib.sha256(b"").hexdigest()
SDK_DATE_FORMAT = "%Y%m%dT%H%M%SZ"

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

_HEX_SIGNATURE = re.compile(r"[0-9a-fA-F]{64}")

#: What :func:`canonical_headers` accepts: ``httpx.Headers``, a mapping, or (name, value) pairs whose parts
#: are text or the raw bytes from the wire.
HeaderInput: TypeAlias = httpx.Headers | Mapping[str, str] | Iterable[tuple[str | bytes, str | bytes]]


# ----------------------------------------------------------------------------------------------------
# Canonical parts
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


def canonical_headers(headers: HeaderInput) -> dict[str, str]:
    """Lower-cased name -> stripped value, repeated headers joined with ``,`` (as a proxy would merge them).

    Raw byte values (``httpx.Headers`` is read through its public ``raw`` list) are decoded as UTF-8 with
    ``surrogateescape``, so any bytes hash back to exactly the bytes sent. This is the one canonicalisation
    used by signing and by verification; a server that received latin-1 decoded text adapts the values
    afterwards (see ``modelarts_emulator/signature.py``).
    """
    items: Iterable[tuple[str | bytes, str | bytes]]
    if isinstance(headers, httpx.Headers):
        items = headers.raw
    elif isinstance(headers, Mapping):
        items = headers.items()
    else:
        items = headers
    lowered: dict[str, str] = {}
    for raw_name, raw_value in items:
        name = (raw_name.decode("latin-1") if isinstance(raw_name, bytes) else raw_name).lower()
        text = raw_value.decode("utf-8", "surrogateescape") if isinstance(raw_value, bytes) else raw_value
        value = text.strip()
        lowered[name] = f"{lowered[name]},{value}" if name in lowered else value
    return lowered


def signed_header_names(headers: Mapping[str, str] | Iterable[str]) -> list[str]:
    """Which headers a client signs: all of them, lower-cased and sorted, except names containing ``_``
    (gateways drop those) and the transport-owned ones (``Connection``, ``Content-Length``, ...)."""
    names = {name.lower() for name in headers}
    return sorted(name for name in names if "_" not in name and name not in _UNSIGNED_HEADERS)


def body_is_signed(content_type: str | None) -> bool:
    """Whether a body of this type is hashed into the signature: JSON and BSON (and no type) are; the SDKs
    leave other bodies (binary uploads) unsigned so a large file need not be hashed twice."""
    if content_type is None:
        return True
    media = content_type.strip().lower()
    return media.startswith("application/json") or media.startswith("application/bson")


def _payload_hash(headers: Mapping[str, str], body: bytes) -> str:
    # `headers` is already canonical here.
    if headers.get("x-sdk-content-sha256") == UNSIGNED_PAYLOAD:
        return UNSIGNED_PAYLOAD
    if not body_is_signed(headers.get("content-type")):
        return UNSIGNED_PAYLOAD
    return hashlib.sha256(body).hexdigest() if body else EMPTY_PAYLOAD_HASH


def payload_hash(headers: HeaderInput, body: bytes) -> str:
    """Hex SHA-256 of the body, or ``UNSIGNED-PAYLOAD`` for bodies that are not JSON/BSON.

    A request saying ``X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD`` is treated the same way. Any other
    ``X-Sdk-Content-Sha256`` value is ignored and the real bytes are hashed, so a claimed hash cannot stand
    in for the body.
    """
    return _payload_hash(canonical_headers(headers), body)


def _canonical_request(
    method: str,
    raw_path: str,
    raw_query: str,
    headers: Mapping[str, str],
    signed_headers: Sequence[str],
    body_hash: str,
) -> str:
    # `headers` is already canonical here.
    try:
        header_block = "".join(f"{name}:{headers[name]}\n" for name in signed_headers)
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
    headers: HeaderInput,
    signed_headers: Sequence[str],
    payload_hash: str,
) -> str:
    """``METHOD\\nURI\\nQUERY\\nname:value\\n...\\n\\nsigned;headers\\nPAYLOAD_HASH`` (step 6 of the spec).

    ``raw_path`` and ``raw_query`` are the percent-encoded forms sent on the wire (no ``?``). Only the
    ``signed_headers`` (lower-case names) are included; a name missing from ``headers`` is a ``ValueError``.
    """
    return _canonical_request(
        method, raw_path, raw_query, canonical_headers(headers), signed_headers, payload_hash
    )


def string_to_sign(sdk_date: str, canonical: str) -> str:
    """``SDK-HMAC-SHA256\\n{X-Sdk-Date}\\n{hex sha256(canonical request)}`` (step 7)."""
    # surrogateescape: header bytes that are not UTF-8 were decoded that way, and hash back to the same bytes.
    digest = hashlib.sha256(canonical.encode("utf-8", "surrogateescape")).hexdigest()
    return f"{ALGORITHM}\n{sdk_date}\n{digest}"


# ----------------------------------------------------------------------------------------------------
# Signature and Authorization header
# ----------------------------------------------------------------------------------------------------


def signing_key(secret_key: str) -> hmac.HMAC:
    """An HMAC-SHA256 state keyed with the SK. HMAC pads and hashes the key once here; every signature then
    starts from a copy of this state, which is why signers keep it instead of the SK."""
    return hmac.new(secret_key.encode("utf-8"), digestmod=hashlib.sha256)


def request_signature(
    method: str,
    raw_path: str,
    raw_query: str,
    headers: Mapping[str, str],
    signed_headers: Sequence[str],
    body: bytes,
    key: hmac.HMAC,
) -> str:
    """The hex signature of a request (steps 6-8), for ``headers`` already passed through
    :func:`canonical_headers` and holding ``x-sdk-date``. Signer and verifier both end here."""
    canonical = _canonical_request(
        method, raw_path, raw_query, headers, signed_headers, _payload_hash(headers, body)
    )
    mac = key.copy()
    mac.update(string_to_sign(headers["x-sdk-date"], canonical).encode("utf-8"))
    return mac.hexdigest()


@dataclass(frozen=True)
class AuthorizationHeader:
    """The parts of an ``SDK-HMAC-SHA256 Access=..., SignedHeaders=..., Signature=...`` header."""

    access_key: str
    signed_headers: tuple[str, ...]
    signature: str


def format_authorization(access_key: str, signed_headers: Sequence[str], signature: str) -> str:
    """The ``Authorization`` value; :func:`parse_authorization` reads it back."""
    return f"{ALGORITHM} Access={access_key}, SignedHeaders={';'.join(signed_headers)}, Signature={signature}"


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


def authorization_header(
    method: str,
    url: httpx.URL,
    headers: Mapping[str, str],
    body: bytes,
    access_key: str,
    key: hmac.HMAC,
) -> str:
    """The ``Authorization`` value for a request with these canonical headers (``x-sdk-date`` and ``host``
    included): every header is signed except those :func:`signed_header_names` skips."""
    signed = signed_header_names(headers)
    raw_path, _, raw_query = url.raw_path.decode("ascii").partition("?")  # as httpx writes the request line
    signature = request_signature(method, raw_path, raw_query, headers, signed, body, key)
    return format_authorization(access_key, signed, signature)


def sign(
    method: str,
    url: httpx.URL,
    headers: HeaderInput,
    body: bytes,
    access_key: str,
    secret_key: str,
) -> str:
    """The ``Authorization`` header value for a request that will be sent with exactly these headers.

    ``headers`` must already hold ``X-Sdk-Date`` (and the ``X-Security-Token`` / ``X-Project-Id`` /
    ``X-Sdk-Content-Sha256`` headers you intend to send); ``Host`` is taken from the URL when absent, as
    every HTTP library adds it. Every header given is signed except those :func:`signed_header_names` skips.
    """
    lowered = canonical_headers(headers)
    lowered.pop("authorization", None)
    if not lowered.get("x-sdk-date"):
        raise ValueError("X-Sdk-Date must be set before signing")
    lowered.setdefault("host", url.netloc.decode("ascii"))
    return authorization_header(method, url, lowered, body, access_key, signing_key(secret_key))
