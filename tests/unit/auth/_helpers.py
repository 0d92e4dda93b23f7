"""Shared by the auth and signature unit tests: what a server sees of a request, and the published vector.

Imported by name (the test folders are not packages). Requests go through real httpx clients; only the
network edge is replaced (respx), and :class:`ServerView` holds exactly what httpx would put on the wire: the
percent-encoded path, the raw query, the headers and the body bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import respx

from modelarts_emulator.signature import SignatureCheck, verify_signature

AK = "EXAMPLEAK0000000001"
SK = "example-secret-key-never-logged"
SECURITY_TOKEN = "temporary-security-token-never-logged"
SECRETS = {AK: SK}
API = "https://modelarts.example.com"

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
    ) -> SignatureCheck:
        view = {**self.__dict__, **changes}
        signed_at = datetime.strptime(view["headers"]["x-sdk-date"], "%Y%m%dT%H%M%SZ")
        return verify_signature(
            view["method"],
            view["raw_path"],
            view["raw_query"],
            view["headers"],
            view["body"],
            (secrets or SECRETS).get,
            now=now or signed_at.replace(tzinfo=UTC),
        )


def send_and_capture(auth: httpx.Auth, method: str, url: str, **kwargs: Any) -> ServerView:
    """Send one request through a real httpx client; the respx route records what reached the network."""
    with respx.mock(assert_all_called=True) as router:
        route = router.route(method=method).respond(200)
        with httpx.Client(auth=auth) as client:
            client.request(method, url, **kwargs)
        return ServerView.of(route.calls.last.request)
