"""What a ``modelarts`` Airflow connection holds: settings, their validation, and masking of its secrets.

Everything Airflow-specific about credentials lives here: where each setting is read from in the connection,
which ones are secrets (they are registered with Airflow's secrets masker as soon as they are read), and which
combination each auth type needs. The clients themselves (``airflow_provider_modelarts.client``) know nothing
about Airflow, so the same code runs in a notebook.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote, urlencode

import httpx

from airflow_provider_modelarts.auth import AkSkAuth, IamTokenAuth
from airflow_provider_modelarts.client import (
    OTC_REGIONS,
    resolve_endpoint,
)
from airflow_provider_modelarts.errors import ModelArtsConfigError

if TYPE_CHECKING:
    from airflow.sdk import BaseHook, Connection

__all__ = [
    "ModelArtsConnectionSettings",
    "aget_connection_and_extras",
    "amask_secrets",
    "build_auth",
    "client_kwargs",
    "console_url",
    "mask_secrets",
    "scrub",
]

CONN_TYPE = "modelarts"
AuthType = Literal["aksk", "password"]
AUTH_TYPES: tuple[AuthType, ...] = ("aksk", "password")
DEFAULT_TIMEOUT = 30.0

_TRUE = frozenset({"true", "yes", "on", "1"})
_FALSE = frozenset({"false", "no", "off", "0"})


def iam_endpoint_for_region(region: str) -> str:
    """The public IAM endpoint of a region (Huawei Cloud, or Open Telekom Cloud for eu-de / eu-nl)."""
    if region in OTC_REGIONS:
        return f"https://iam.{region}.otc.t-systems.com"
    return f"https://iam.{region}.myhuaweicloud.com"


def console_base_for_region(region: str | None) -> str:
    """Base URL of the public web console that manages ``region``."""
    if region in OTC_REGIONS:
        return "https://console.otc.t-systems.com"
    return "https://console.huaweicloud.com"


def console_url(
    connection: ModelArtsConnectionSettings | str | None,
    dataset_id: str,
    workforce_task_id: str | None = None,
) -> str:
    """Link to the dataset (and team labeling task) in the ModelArts console the connection names.

    ``connection``: the connection's settings (their ``console_url`` extra, else their region's public
    console) or a region name. Private clouds, partner regions and the emulator serve their own console.

    The console is a single-page app: ``/modelarts/?region=<region>#/dataLabel`` (the data labeling page)
    is the documented entry point. The ``datasetId`` / ``workforceTaskId`` query after it is our
    assumption of how to deep-link and is ignored by the console if it routes differently, so the link
    always lands on the right region's labeling page at worst.
    """
    if isinstance(connection, ModelArtsConnectionSettings):
        region = connection.region
        base = connection.console_url or console_base_for_region(region)
    else:
        region, base = connection, console_base_for_region(connection)
    query = {"region": region} if region else {}
    fragment = {"datasetId": dataset_id}
    if workforce_task_id:
        fragment["workforceTaskId"] = workforce_task_id
    prefix = f"?{urlencode(query)}" if query else ""
    deep_link = urlencode(fragment, quote_via=quote)
    return f"{base.rstrip('/')}/modelarts/{prefix}#/dataLabel?{deep_link}"


@dataclass(frozen=True)
class ModelArtsConnectionSettings:
    """A ``modelarts`` connection, resolved and checked: what the clients are built from.

    Secrets are excluded from ``repr`` so that printing the settings (or a traceback showing them) is safe.
    """

    conn_id: str
    auth_type: AuthType
    project_id: str
    region: str | None
    endpoint: str | None
    access_key: str | None = None
    secret_key: str | None = field(default=None, repr=False)
    security_token: str | None = field(default=None, repr=False)
    iam_endpoint: str | None = None
    domain_name: str | None = None
    user_name: str | None = None
    user_password: str | None = field(default=None, repr=False)
    verify: bool | str = True
    timeout: float = DEFAULT_TIMEOUT
    console_url: str | None = None  # the console's base URL when it is not the region's public one

    @property
    def base_url(self) -> str:
        """The ModelArts endpoint requests go to (explicit override, else derived from the region)."""
        return resolve_endpoint(self.region, self.endpoint)

    def secrets(self) -> Iterator[str]:
        """Every secret value in the settings (scrubbed from any message the hook returns)."""
        for value in (self.secret_key, self.security_token, self.user_password):
            if value:
                yield value

    @classmethod
    def from_connection(
        cls,
        conn: Connection,
        extras: Mapping[str, Any] | None = None,
        *,
        project_id: str | None = None,
    ) -> ModelArtsConnectionSettings:
        """Read and validate the settings of ``conn``; raise ``ModelArtsConfigError`` naming what is missing.

        ``extras`` is the connection's parsed extra (pass it when it was already read asynchronously);
        ``project_id`` overrides the connection's, so one connection can serve several projects.
        """
        conn_id = conn.conn_id or "<unnamed>"
        extra = _Extras(conn_id, conn.extra_dejson if extras is None else extras)

        auth_type = (extra.get("auth_type") or "aksk").strip().lower()
        if auth_type not in AUTH_TYPES:
            raise ModelArtsConfigError(
                f"Connection {conn_id!r} has auth_type {auth_type!r}; expected one of "
                f"{', '.join(repr(t) for t in AUTH_TYPES)}."
            )

        region = (extra.get("region") or "").lower() or None
        endpoint = extra.get("endpoint") or _endpoint_from_host(conn.host, conn.port)
        resolved_project = project_id or extra.get("project_id")

        missing: list[str] = []
        if not resolved_project:
            missing.append("project ID (extra 'project_id')")
        if not region and not endpoint:
            missing.append("region or endpoint (extra 'region' or 'endpoint')")

        settings: dict[str, Any] = {}
        if auth_type == "aksk":
            if not conn.login:
                missing.append("Access Key (AK) (the connection's login field)")
            if not conn.password:
                missing.append("Secret Key (SK) (the connection's password field)")
            settings.update(
                access_key=conn.login,
                secret_key=conn.password,
                security_token=extra.get("security_token"),
            )
        else:
            user_name = extra.get("user_name") or conn.login
            user_password = extra.get("user_password") or conn.password
            domain_name = extra.get("domain_name")
            iam_endpoint = extra.get("iam_endpoint") or (iam_endpoint_for_region(region) if region else None)
            if not user_name:
                missing.append("IAM user name (extra 'user_name' or the login field)")
            if not user_password:
                missing.append("IAM password (extra 'user_password' or the password field)")
            if not domain_name:
                missing.append("account (domain) name (extra 'domain_name')")
            if not iam_endpoint:
                missing.append("IAM endpoint (extra 'iam_endpoint', or 'region' to derive it)")
            settings.update(
                user_name=user_name,
                user_password=user_password,
                domain_name=domain_name,
                iam_endpoint=iam_endpoint.rstrip("/") if iam_endpoint else None,
            )

        if missing:
            raise ModelArtsConfigError(
                f"Connection {conn_id!r} uses auth_type {auth_type!r} but has no {_join(missing)}."
            )
        assert resolved_project is not None  # for mypy: checked above

        try:  # the same checks the client makes, reported against the connection
            base_url = resolve_endpoint(region, endpoint)
            if settings.get("iam_endpoint"):
                resolve_endpoint(None, settings["iam_endpoint"])
        except ModelArtsConfigError as exc:
            raise ModelArtsConfigError(f"Connection {conn_id!r}: {exc}") from None

        return cls(
            conn_id=conn_id,
            auth_type=auth_type,
            project_id=resolved_project,
            region=region,
            endpoint=base_url if endpoint else None,
            verify=extra.get_verify(),
            timeout=extra.get_timeout(),
            console_url=extra.get_console_url(),
            **settings,
        )


class _Extras:
    """Connection extras by short name, falling back to the ``extra__modelarts__<name>`` form of older UIs.

    Empty strings count as unset: the connection form stores untouched fields as "".
    """

    def __init__(self, conn_id: str, raw: Mapping[str, Any]) -> None:
        self._conn_id = conn_id
        self._raw = raw

    def raw(self, name: str) -> Any:
        for key in (name, f"extra__{CONN_TYPE}__{name}"):
            value = self._raw.get(key)
            if value is not None and value != "":
                return value
        return None

    def get(self, name: str) -> str | None:
        value = self.raw(name)
        if value is None:
            return None
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise ModelArtsConfigError(
                f"Connection {self._conn_id!r} has a {type(value).__name__} in extra {name!r}; "
                "expected a string."
            )
        text = str(value).strip()
        return text or None

    def get_verify(self) -> bool | str:
        value = self.raw("verify")
        if value is None or isinstance(value, bool):
            return True if value is None else value
        text = str(value).strip()
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        if not os.path.exists(text):
            raise ModelArtsConfigError(
                f"Connection {self._conn_id!r} has verify={text!r}: expected true, false, or the path of an "
                "existing CA bundle file (or directory) on this worker."
            )
        return text

    def get_console_url(self) -> str | None:
        """``console_url``: an absolute http(s) URL; a typo would otherwise show only as dead links."""
        value = self.get("console_url")
        if value is not None and not (value.startswith(("http://", "https://")) and value.split("://")[1]):
            raise ModelArtsConfigError(
                f"Connection {self._conn_id!r} has console_url={value!r}: expected the console's base URL, "
                "e.g. https://console.huaweicloud.com."
            )
        return value.rstrip("/") if value else None

    def get_timeout(self) -> float:
        value = self.raw("timeout")
        if value is None:
            return DEFAULT_TIMEOUT
        try:
            timeout = float(value)
        except (TypeError, ValueError):
            timeout = -1.0
        if isinstance(value, bool) or not timeout > 0:
            raise ModelArtsConfigError(
                f"Connection {self._conn_id!r} has timeout={value!r}: expected a positive number of seconds."
            )
        return timeout


def _endpoint_from_host(host: str | None, port: int | None) -> str | None:
    """``host`` is accepted as an endpoint override (URI-style connections); a bare host name means https."""
    if not host:
        return None
    url = host.strip() if "://" in host else f"https://{host.strip()}"
    if port and httpx.URL(url).port is None:
        url = f"{url.rstrip('/')}:{port}"
    return url


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def scrub(text: str, secrets: Iterator[str] | list[str]) -> str:
    """Last line of defence for messages shown to users: blank out any secret value that slipped in."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def mask_secrets(values: Iterator[str] | list[str]) -> None:
    """Register secrets with the task's (and the supervisor's) secrets masker."""
    try:
        from airflow.sdk.log import mask_secret
    except ImportError:  # Airflow 3.0/3.1 kept it here
        from airflow.sdk.execution_time.secrets_masker import mask_secret  # type: ignore[no-redef]

    for value in values:
        mask_secret(value)


async def amask_secrets(values: list[str]) -> None:
    """Async registration: the sync call blocks on the supervisor and can deadlock an event loop."""
    try:
        from airflow.sdk.log import amask_secret
    except ImportError:  # Airflow < 3.3: do the blocking call off the event loop
        from asgiref.sync import sync_to_async

        await sync_to_async(mask_secrets)(values)
        return
    for value in values:
        await amask_secret(value)


def mask_token(value: str) -> None:
    """Mask an IAM token fetched by a sync client (a task's worker thread): the blocking registration."""
    mask_secrets([value])


async def amask_token(value: str) -> None:
    """Mask an IAM token fetched by an async client (the triggerer), awaited before the request goes out."""
    await amask_secrets([value])


async def aget_connection_and_extras(hook: BaseHook, conn_id: str) -> tuple[Connection, dict[str, Any]]:
    """A connection and its extras from inside an event loop (the triggerer) without blocking it."""
    from airflow.sdk import Connection

    if hasattr(Connection, "aextra_dejson"):  # Airflow 3.3.2+: lookup and masking are natively async
        conn = await hook.aget_connection(conn_id)
        return conn, await conn.aextra_dejson()
    # Older Airflow masks synchronously inside the async lookup (can deadlock): use a worker thread.
    from asgiref.sync import sync_to_async

    conn = await sync_to_async(hook.get_connection)(conn_id)
    extras = await sync_to_async(lambda: conn.extra_dejson)()
    return conn, extras


def connection_secrets(conn: Connection, extras: Mapping[str, Any]) -> list[str]:
    """The secret values of a connection, read before validation so even a rejected one gets masked."""
    names = ("security_token", "user_password")
    values = [
        conn.password,
        *(extras.get(key) for name in names for key in (name, f"extra__{CONN_TYPE}__{name}")),
    ]
    return [value for value in values if isinstance(value, str) and value]


def build_auth(
    settings: ModelArtsConnectionSettings,
    *,
    on_token: Callable[[str], Awaitable[None] | None] | None = None,
) -> httpx.Auth:
    """The ``httpx.Auth`` for the settings' auth type (fresh IAM tokens are reported to ``on_token``)."""
    if settings.auth_type == "aksk":
        assert settings.access_key and settings.secret_key  # checked by from_connection
        return AkSkAuth(
            settings.access_key,
            settings.secret_key,
            security_token=settings.security_token,
            project_id=settings.project_id,
        )
    assert settings.iam_endpoint and settings.user_name and settings.user_password and settings.domain_name
    return IamTokenAuth(
        settings.iam_endpoint,
        settings.user_name,
        settings.user_password,
        settings.domain_name,
        project_id=settings.project_id,
        on_token=on_token,
    )


def client_kwargs(settings: ModelArtsConnectionSettings, retry: Any, *, on_token: Any) -> dict[str, Any]:
    """A client's keyword arguments (``retry`` None: the client's default); IAM tokens go to ``on_token``."""
    names = ("project_id", "region", "endpoint", "timeout", "verify")
    kwargs = {"auth": build_auth(settings, on_token=on_token), **{n: getattr(settings, n) for n in names}}
    return {**kwargs, "retry": retry} if retry else kwargs
