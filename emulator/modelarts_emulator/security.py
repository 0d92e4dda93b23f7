"""Who may call: AK/SK signatures (API gateway), IAM tokens, and the IAM token endpoint itself.

Refusals: a bad AK/SK signature, an unknown AK, or an ``X-Sdk-Date`` more than ``max_clock_skew`` (15 min)
off the emulator clock -> 401 ``APIGW.0301`` with the cause in ``error_msg``; an unknown IAM token -> 401
``ModelArts.4201``; an expired or invalidated one -> 401 ``ModelArts.4127``; no credentials -> 401
``APIGW.0301``. The signature check is :func:`airflow_provider_modelarts.auth.verify_signature`, the very
function the client's signing is tested against.

Key rotation (the admin API, ``/_emulator/access-keys``): :func:`set_access_key` adds an AK or replaces its
SK, :func:`remove_access_key` removes one; a request signed with a replaced SK or a removed AK is refused from
then on, as the service refuses a rotated key. Neither answers with a secret.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from email.utils import formatdate
from typing import Any

from .codes import PARAMETER_ERROR, ApiError
from .payloads import parse_body
from .records import TokenRecord
from .signature import verify_signature
from .state import EmulatorState

__all__ = [
    "access_key_ids",
    "authenticate",
    "issue_token",
    "remove_access_key",
    "revoke_tokens",
    "set_access_key",
    "token_summary",
]


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> str | None:
    for key, value in headers:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def authenticate(state: EmulatorState, scope: dict[str, Any], body: bytes) -> None:
    """Raise :class:`ApiError` unless the request carries a valid token or AK/SK signature."""
    raw_headers: list[tuple[bytes, bytes]] = scope["headers"]
    token = _header(raw_headers, b"x-auth-token")
    if token is not None:
        _check_token(state, token.strip())
        return
    if _header(raw_headers, b"authorization") is None:
        raise ApiError(
            "APIGW.0301", "the request has neither an X-Auth-Token header nor an AK/SK Authorization header"
        )
    headers = [(key.decode("latin-1"), value.decode("latin-1")) for key, value in raw_headers]
    config = state.config
    check = verify_signature(
        scope["method"],
        scope.get("raw_path") or scope["path"].encode(),
        scope.get("query_string", b""),
        headers,  # type: ignore[arg-type]  # verify_signature takes header pairs too
        body,
        config.access_keys.get,
        now=datetime.fromtimestamp(state.now(), UTC),
        max_skew=timedelta(seconds=config.max_clock_skew),
    )
    if not check.ok:
        raise ApiError("APIGW.0301", check.reason)
    if config.security_tokens is not None:
        security_token = _header(raw_headers, b"x-security-token")
        if security_token is not None and security_token.strip() not in config.security_tokens:
            raise ApiError("APIGW.0301", "the X-Security-Token is unknown or has expired")


def _check_token(state: EmulatorState, token: str) -> None:
    record = state.tokens.get(token)
    if record is None:
        raise ApiError("ModelArts.4201", "the X-Auth-Token is not a token this service issued")
    if record.revoked or state.now() >= record.expires_at:
        raise ApiError("ModelArts.4127", "the X-Auth-Token has expired or was invalidated; get a new one")


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def issue_token(state: EmulatorState, body: bytes) -> tuple[dict[str, Any], str, list[tuple[str, str]]]:
    """``POST /v3/auth/tokens`` (password method): the answer body, the token, and extra headers.

    Wrong name, password or domain, or an unknown project scope -> 401 ``APIGW.0301`` with the cause.
    """
    payload = parse_body(body)
    try:
        auth = payload["auth"]
        identity = auth["identity"]
        methods = identity["methods"]
    except (KeyError, TypeError):
        raise ApiError(
            PARAMETER_ERROR, "body must be {'auth': {'identity': {'methods': [...], ...}}}"
        ) from None
    if "password" not in methods:
        raise ApiError(PARAMETER_ERROR, "only the 'password' identity method is emulated")
    try:
        user = identity["password"]["user"]
        name, password, domain = user["name"], user["password"], user["domain"]["name"]
    except (KeyError, TypeError):
        raise ApiError(
            PARAMETER_ERROR, "auth.identity.password.user needs name, password and domain.name"
        ) from None
    config = state.config
    known = config.iam_users.get(name)
    if (
        known is None
        or not secrets.compare_digest(str(password), known.password)
        or domain != known.domain_name
    ):
        raise ApiError("APIGW.0301", "the user name, password or domain name is wrong")
    project = ((auth.get("scope") or {}).get("project")) or {}
    if not isinstance(project, dict):
        raise ApiError(PARAMETER_ERROR, "auth.scope.project must be an object")
    project_id = project.get("id")
    project_name = project.get("name")
    if project_id is not None and project_id != config.project_id:
        raise ApiError("APIGW.0301", f"project id {project_id!r} does not exist")
    if (
        project_id is None
        and project_name is not None
        and project_name not in (config.project_name, config.project_id)
    ):
        raise ApiError("APIGW.0301", f"project name {project_name!r} does not exist")
    with state.lock:
        now = state.now()
        token = "MIIE" + secrets.token_urlsafe(48)
        record = TokenRecord(name, domain, config.project_id, now, now + config.token_ttl)
        state.tokens[token] = record
    answer = {
        "token": {
            "expires_at": _iso(record.expires_at),
            "issued_at": _iso(record.issued_at),
            "methods": ["password"],
            "user": {
                "name": name,
                "id": f"user-{name}",
                "domain": {"name": domain, "id": f"domain-{domain}"},
            },
            "project": {
                "id": config.project_id,
                "name": config.project_name,
                "domain": {"name": domain, "id": f"domain-{domain}"},
            },
            "catalog": [],
        }
    }
    # Date from the emulator clock: the client measures the token's lifetime against the server's Date.
    return answer, token, [("Date", formatdate(now, usegmt=True))]


def revoke_tokens(state: EmulatorState, token: str | None = None) -> int:
    """Invalidate one token or all of them (a password change does that); returns how many."""
    with state.lock:
        targets = [state.tokens[token]] if token is not None and token in state.tokens else []
        if token is None:
            targets = list(state.tokens.values())
        for record in targets:
            record.revoked = True
        return len(targets)


def token_summary(state: EmulatorState) -> list[dict[str, Any]]:
    """Tokens without their values (admin view)."""
    with state.lock:
        return [
            {
                "user_name": record.user_name,
                "project_id": record.project_id,
                "expires_at": _iso(record.expires_at),
                "revoked": record.revoked,
                "expired": state.now() >= record.expires_at,
            }
            for record in state.tokens.values()
        ]


def access_key_ids(state: EmulatorState) -> list[str]:
    """The AKs the emulator accepts, sorted (never their SKs)."""
    with state.lock:
        return sorted(state.config.access_keys)


def set_access_key(state: EmulatorState, access_key: str, secret_key: Any) -> bool:
    """Accept ``access_key`` with ``secret_key`` from now on (a new key, or a rotation of its SK); returns
    whether it replaced an SK. The AK is printable text without spaces, commas or ``=`` (it travels in the
    ``Authorization`` header); the SK a non-empty string."""
    if not access_key or not access_key.isprintable() or any(c in access_key for c in " ,="):
        raise ValueError(f"access key {access_key!r} must be printable text without spaces, commas or '='")
    if not isinstance(secret_key, str) or not secret_key:
        raise ValueError("secret_key must be a non-empty string")
    with state.lock:
        replaced = access_key in state.config.access_keys
        state.config.access_keys[access_key] = secret_key
        return replaced


def remove_access_key(state: EmulatorState, access_key: str) -> bool:
    """Stop accepting ``access_key``; returns whether it was known."""
    with state.lock:
        return state.config.access_keys.pop(access_key, None) is not None
