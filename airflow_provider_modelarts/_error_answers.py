"""What an error answer says, read leniently: its body's code and message, request id and ``Retry-After``.

Error bodies come in several shapes (the pages' ``{"error_code", "error_msg"}``, gateways' nested
``{"error": {"code", "message"}}``, a proxy's HTML page), so nothing here raises: what cannot be read is
``None``. Which exception an answer becomes is decided in :mod:`airflow_provider_modelarts.errors`, the one
place for that rule; this module only reads.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from airflow_provider_modelarts._text import shorten

__all__ = ["parse_retry_after", "read_error_body", "request_id", "retry_after"]

# Services behind API Gateway put the request id in one of these headers (first match wins).
_REQUEST_ID_HEADERS = (
    "X-Request-Id",
    "x-request-id",
    "X-Trace-Id",
    "X-Apig-Request-Id",
    "X-Openstack-Request-Id",
)

# Error bodies can be huge HTML pages from a proxy; only a short excerpt is useful in a one-line message.
_MAX_MSG_CHARS = 300


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date); ``None`` if absent or bad.

    Negative values and dates in the past become 0 rather than ``None``: the server did ask for a retry.
    An HTTP date is read against ``now`` (default: this machine's clock).
    """
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    when = _http_date(value)
    if when is None:
        return None
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def retry_after(response: httpx.Response) -> float | None:
    """The answer's ``Retry-After`` in seconds. An HTTP date is read against the answer's own ``Date`` header
    when it has a valid one: both are the server's clock, so a skew between its clock and this machine's
    neither stretches nor cuts the wait (RFC 9110 10.2.3 gives the date; 6.6.1 says the origin's ``Date``
    is when the answer was made). Without a ``Date``, against this machine's clock."""
    return parse_retry_after(
        response.headers.get("Retry-After"), now=_http_date(response.headers.get("Date"))
    )


def _http_date(value: str | None) -> datetime | None:
    """An HTTP date as an aware datetime (one without a zone, ``-0000``, is UTC); ``None`` if unreadable."""
    if not value:
        return None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def request_id(response: httpx.Response) -> str | None:
    for name in _REQUEST_ID_HEADERS:
        value = response.headers.get(name)
        if value:
            return value.strip()
    return None


def read_error_body(response: httpx.Response) -> tuple[str | None, str | None]:
    """(error_code, error_msg) from any error body shape we have seen; never raises."""
    try:
        raw = response.content
    except httpx.ResponseNotRead:
        return None, None
    if not raw:
        return None, None
    try:
        body: Any = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        text = raw.decode("utf-8", errors="replace").strip()
        return None, shorten(" ".join(text.split()), _MAX_MSG_CHARS) or None
    if not isinstance(body, dict):
        return None, None
    # Some gateways wrap the error: {"error": {"code": ..., "message": ...}}.
    nested = body.get("error")
    if isinstance(nested, dict) and "error_code" not in body:
        body = nested
    code = body.get("error_code", body.get("code"))
    msg = body.get("error_msg", body.get("error_message", body.get("message")))
    return (
        str(code) if code not in (None, "") else None,
        shorten(str(msg), _MAX_MSG_CHARS) if msg not in (None, "") else None,
    )
