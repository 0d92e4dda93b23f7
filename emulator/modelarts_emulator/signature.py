"""Server-side AK/SK verification, as the API gateway does it: :func:`verify_signature`.

Only a server needs this, so it lives with the emulator; the client never imports it. The signature itself
is recomputed with the very functions the client signs with (:mod:`airflow_provider_modelarts.auth.signing`),
so client and emulator cannot disagree about the algorithm. What is server-only stays here: reading the
``Authorization`` header as received, the ``X-Sdk-Date`` format and clock-skew window, and the headers a
server insists on seeing signed.

A pure function of what the server received, so it is unit-tested without a server.
"""

from __future__ import annotations

import hmac
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from airflow_provider_modelarts.auth.signing import (
    ALGORITHM,
    SDK_DATE_FORMAT,
    canonical_headers,
    parse_authorization,
    request_signature,
    signing_key,
)

__all__ = ["MUST_SIGN_HEADERS", "SignatureCheck", "SignatureFailure", "verify_signature"]

# Headers a server insists on seeing in SignedHeaders whenever they are on the request: without them a
# captured request could be replayed against another host, project or credential, or with another body type.
MUST_SIGN_HEADERS = ("host", "x-sdk-date", "content-type", "x-project-id", "x-security-token")


class SignatureFailure(StrEnum):
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
    """Outcome of :func:`verify_signature`; ``reason`` is a sentence safe to return to the caller (it never
    holds the SK or the expected signature)."""

    ok: bool
    reason: str
    access_key: str | None = None
    failure: SignatureFailure | None = None

    def __bool__(self) -> bool:
        return self.ok


def _as_sent(value: str) -> str:
    """Undo the latin-1 decoding ASGI servers apply to header bytes, so the value hashes to the sent bytes."""
    if value.isascii():
        return value
    try:
        return value.encode("latin-1").decode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # already real text (not latin-1 decoded bytes): keep it
        return value


def _as_text(raw: str | bytes) -> str:
    return raw.decode("latin-1") if isinstance(raw, bytes) else raw


def _date_problem(sdk_date: str | None, now: datetime | None, max_skew: timedelta) -> SignatureCheck | None:
    """A failed check (without the access key) when the ``X-Sdk-Date`` is missing, malformed or outside the
    window around ``now``; ``None`` when the date is acceptable."""
    if not sdk_date:
        return SignatureCheck(False, "missing X-Sdk-Date header", None, SignatureFailure.MISSING_DATE)
    try:
        signed_at = datetime.strptime(sdk_date, SDK_DATE_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return SignatureCheck(
            False,
            f"malformed X-Sdk-Date {sdk_date!r}: expected UTC time as YYYYMMDDTHHMMSSZ",
            None,
            SignatureFailure.MALFORMED_DATE,
        )
    current = now or datetime.now(UTC)
    if current.tzinfo is None:
        current = current.replace(tzinfo=UTC)
    skew = (signed_at - current).total_seconds()
    if abs(skew) <= max_skew.total_seconds():
        return None
    minutes = math.ceil(abs(skew) / 60)
    direction = "ahead of" if skew > 0 else "behind"
    allowed = max_skew.total_seconds() / 60
    return SignatureCheck(
        False,
        f"X-Sdk-Date is {minutes} minutes off the server clock ({direction} it; at most {allowed:g} "
        "minutes are accepted): fix the client machine's clock",
        None,
        SignatureFailure.DATE_SKEW,
    )


def _header_problem(headers: dict[str, str], signed: tuple[str, ...]) -> SignatureCheck | None:
    """A failed check when a must-sign header is on the request but unsigned, or a signed one is missing."""
    for name in MUST_SIGN_HEADERS:
        if name in headers and name not in signed:
            return SignatureCheck(
                False,
                f"header {name!r} is on the request but not in SignedHeaders",
                None,
                SignatureFailure.UNSIGNED_HEADER,
            )
    for name in signed:
        if name not in headers:
            return SignatureCheck(
                False, f"signed header {name!r} is not on the request", None, SignatureFailure.BAD_SIGNATURE
            )
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
    raw_path, raw_query = _as_text(raw_path), _as_text(raw_query)
    if "?" in raw_path:  # some ASGI transports put the query into raw_path; a path never holds a raw "?"
        raw_path, _, query_in_path = raw_path.partition("?")
        raw_query = raw_query or query_in_path
    received = {name: _as_sent(value) for name, value in canonical_headers(headers).items()}
    authorization = received.pop("authorization", None)
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
    # Not `a or b`: a failed SignatureCheck is falsy by design.
    problem = _date_problem(received.get("x-sdk-date"), now, max_skew)
    if problem is None:
        problem = _header_problem(received, parsed.signed_headers)
    if problem is not None:
        return SignatureCheck(False, problem.reason, access_key, problem.failure)
    expected = request_signature(
        method, raw_path, raw_query, received, parsed.signed_headers, body, signing_key(secret_key)
    )
    if not hmac.compare_digest(expected, parsed.signature):
        return SignatureCheck(
            False,
            "signature does not match: the SK is wrong or the request changed after signing",
            access_key,
            SignatureFailure.BAD_SIGNATURE,
        )
    return SignatureCheck(True, "ok", access_key, None)
