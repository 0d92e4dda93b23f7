"""IAM password-token auth for httpx: :class:`IamTokenAuth`, with token caching and refresh.

The token request travels through the caller's own client (it is yielded from the auth flow), so proxies,
TLS settings, respx and the emulator all apply to it. Nothing here imports Airflow.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import re
import threading
import time
import weakref
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from airflow_provider_modelarts.errors import ModelArtsAuthError, ModelArtsConfigError, error_from_response

__all__ = ["IamTokenAuth"]

log = logging.getLogger(__name__)

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
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


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
        on_token: Callable[[str], Awaitable[None] | None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``on_token`` is called with every newly fetched token, before the request it authorises is sent
        (the hook registers it with Airflow's secrets masker). It may be a coroutine function when the auth
        serves an async client: the async flow awaits it, so no blocking call runs in the event loop.
        ``clock`` returns epoch seconds and exists so tests can move time without sleeping."""
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
                    self._report(token)
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
                self._report(fresh)
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
                    await self._areport(token)
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
                await self._areport(fresh)
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
        return token

    def _report(self, token: _Token) -> None:
        """Tell ``on_token`` about a fresh token (sync flow: ``on_token`` must be a plain function)."""
        if self._on_token is None:
            return
        result = self._on_token(token.value)
        if inspect.isawaitable(result):
            close = getattr(result, "close", None)
            if close is not None:
                close()  # never awaited: close it so no "coroutine was never awaited" warning leaks
            raise ModelArtsConfigError("on_token is a coroutine function: use this auth with an async client")

    async def _areport(self, token: _Token) -> None:
        """Tell ``on_token`` about a fresh token and wait for it (it may be a coroutine function)."""
        if self._on_token is None:
            return
        result = self._on_token(token.value)
        if inspect.isawaitable(result):
            await result

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
