"""AK/SK request signing for httpx: :class:`AkSkAuth`.

The algorithm itself lives in :mod:`airflow_provider_modelarts.auth.signing`; this module only decides which
headers a request carries before it is signed (date, security token, project id, unsigned-payload marker,
host) and writes the ``Authorization`` header. Nothing here imports Airflow.
"""

from __future__ import annotations

import time
from collections.abc import Generator

import httpx

from airflow_provider_modelarts.auth.signing import (
    SDK_DATE_FORMAT,
    UNSIGNED_PAYLOAD,
    authorization_header,
    body_is_signed,
    canonical_headers,
    signing_key,
)
from airflow_provider_modelarts.errors import ModelArtsConfigError

__all__ = ["AkSkAuth"]

# Marks a request whose X-Sdk-Date was set by AkSkAuth, so re-sending the same request object (a retry) gets
# a fresh date instead of one that may by then be outside the server's 15-minute window.
_AUTO_DATE_EXTENSION = "modelarts_auto_sdk_date"


def _utc_sdk_date() -> str:
    return time.strftime(SDK_DATE_FORMAT, time.gmtime())


class AkSkAuth(httpx.Auth):
    """Signs every request with an AK/SK pair (``SDK-HMAC-SHA256``), optionally with a security token.

    Signing is local and cheap (no I/O, no shared mutable state), so one instance serves sync and async
    clients and any number of threads: httpx's own ``sync_auth_flow`` / ``async_auth_flow`` read the body
    (``requires_request_body``) and drive :meth:`auth_flow`. A request that already carries ``X-Sdk-Date``
    is signed with that date unchanged (that is how the published test vector is reproduced); otherwise the
    current UTC time is used, and refreshed if the same request object is signed again (a retry).
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
        # Only the keyed HMAC state is kept, never the SK text itself.
        self._key = signing_key(secret_key)

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
        headers = request.headers
        # One pass over the raw headers builds the signing view; httpx.Headers lookups each rescan the list.
        lowered = canonical_headers(headers.raw)
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
        if not body_is_signed(lowered.get("content-type")) and "x-sdk-content-sha256" not in lowered:
            add("X-Sdk-Content-Sha256", UNSIGNED_PAYLOAD)
        if "host" not in lowered:
            add("Host", request.url.netloc.decode("ascii"))
        headers["Authorization"] = authorization_header(
            request.method, request.url, lowered, request.content, self.access_key, self._key
        )
