"""Authentication for the ModelArts REST API: AK/SK request signing and IAM password tokens.

Both schemes are :class:`httpx.Auth` objects, so one client object works with either, sync or async.
Where each concern lives:

* :mod:`.signing` -- the ``SDK-HMAC-SHA256`` algorithm as pure functions (canonical request, payload hash,
  string to sign, signature, ``Authorization`` header building and parsing);
* :mod:`.aksk` -- :class:`AkSkAuth`, which signs every request;
* :mod:`.iam` -- :class:`IamTokenAuth`, which fetches, caches and refreshes an IAM token.

Verifying a signature is a server's job and lives in the emulator (``emulator/signature.py``). Nothing in
this package imports Airflow or the emulator: it is usable as a plain library.
"""

from __future__ import annotations

from airflow_provider_modelarts.auth.aksk import AkSkAuth
from airflow_provider_modelarts.auth.iam import IamTokenAuth
from airflow_provider_modelarts.auth.signing import (
    ALGORITHM,
    EMPTY_PAYLOAD_HASH,
    SDK_DATE_FORMAT,
    UNSIGNED_PAYLOAD,
    AuthorizationHeader,
    canonical_headers,
    canonical_query,
    canonical_request,
    canonical_uri,
    parse_authorization,
    payload_hash,
    sign,
    signed_header_names,
    string_to_sign,
)

__all__ = [
    "ALGORITHM",
    "EMPTY_PAYLOAD_HASH",
    "SDK_DATE_FORMAT",
    "UNSIGNED_PAYLOAD",
    "AkSkAuth",
    "AuthorizationHeader",
    "IamTokenAuth",
    "canonical_headers",
    "canonical_query",
    "canonical_request",
    "canonical_uri",
    "parse_authorization",
    "payload_hash",
    "sign",
    "signed_header_names",
    "string_to_sign",
]
