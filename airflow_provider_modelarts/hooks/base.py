"""The connection half of ``ModelArtsHook``: settings, secrets, clients, connection test, console links.

Kept apart from the operations (:mod:`.bulk`, :mod:`.team_tasks`, :mod:`.acceptance`) so each family of
ModelArts operations reads on its own; all of them reach the service through :meth:`get_conn` /
:meth:`get_client` / :meth:`get_async_client` defined here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

from airflow.sdk import BaseHook

from airflow_provider_modelarts.client import AsyncModelArtsClient, ModelArtsClient, RetryPolicy
from airflow_provider_modelarts.hooks.connection import (
    CONN_TYPE,
    ModelArtsConnectionSettings,
    aget_connection_and_extras,
    amask_secrets,
    amask_token,
    build_auth,
    connection_secrets,
    console_url,
    mask_secrets,
    mask_token,
    scrub,
)

__all__ = ["ModelArtsBaseHook"]

# test_connection() backs a button in the UI: answer within seconds, not after the task retry policy.
_TEST_CONNECTION_RETRY = RetryPolicy(max_attempts=2, backoff_base=0.5, backoff_max=2.0, deadline=20.0)


class ModelArtsBaseHook(BaseHook):
    """Reads a ``modelarts`` connection and builds ModelArts clients from it (see ``ModelArtsHook``).

    ``client_class`` / ``async_client_class`` are the client types built: a subclass (or a test) can swap
    them, for example to add a transport, without touching how the connection is read.
    """

    conn_name_attr = "modelarts_conn_id"
    default_conn_name = "modelarts_default"
    conn_type = CONN_TYPE
    hook_name = "Huawei Cloud ModelArts"
    client_class: ClassVar[type[ModelArtsClient]] = ModelArtsClient
    async_client_class: ClassVar[type[AsyncModelArtsClient]] = AsyncModelArtsClient

    def __init__(
        self,
        modelarts_conn_id: str = default_conn_name,
        *,
        project_id: str | None = None,
        retry: RetryPolicy | None = None,
        logger_name: str | None = None,
    ) -> None:
        super().__init__(logger_name=logger_name)
        self.modelarts_conn_id = modelarts_conn_id
        self._project_id_override = project_id
        self.retry = retry
        self._settings: ModelArtsConnectionSettings | None = None
        self._client: ModelArtsClient | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(modelarts_conn_id={self.modelarts_conn_id!r})"

    # -- connection ----------------------------------------------------------------------------------------

    @property
    def settings(self) -> ModelArtsConnectionSettings:
        """The connection's settings, read once per hook; secrets are masked before anything else happens."""
        if self._settings is None:
            conn = self.get_connection(self.modelarts_conn_id)
            extras = conn.extra_dejson
            mask_secrets(connection_secrets(conn, extras))
            self._settings = ModelArtsConnectionSettings.from_connection(
                conn, extras, project_id=self._project_id_override
            )
        return self._settings

    async def asettings(self) -> ModelArtsConnectionSettings:
        """Async :attr:`settings` for triggers: connection lookup and masking never block the event loop."""
        if self._settings is None:
            conn, extras = await aget_connection_and_extras(self, self.modelarts_conn_id)
            await amask_secrets(connection_secrets(conn, extras))
            self._settings = ModelArtsConnectionSettings.from_connection(
                conn, extras, project_id=self._project_id_override
            )
        return self._settings

    @property
    def project_id(self) -> str:
        return self.settings.project_id

    @property
    def region(self) -> str | None:
        return self.settings.region

    @property
    def endpoint(self) -> str:
        """The ModelArts endpoint requests go to (explicit override, else derived from the region)."""
        return self.settings.base_url

    # -- clients -------------------------------------------------------------------------------------------

    def get_conn(self) -> ModelArtsClient:
        """The hook's shared client (created on first use; pooled connections are reused across calls)."""
        if self._client is None:
            self._client = self.get_client()
        return self._client

    def get_client(self, *, retry: RetryPolicy | None = None) -> ModelArtsClient:
        """A new client; the caller owns it and should close it (``with hook.get_client() as client:``)."""
        settings = self.settings
        return self.client_class(**self._client_kwargs(settings, retry, on_token=mask_token))

    async def get_async_client(self, *, retry: RetryPolicy | None = None) -> AsyncModelArtsClient:
        """A new async client for triggers; ``async with await hook.get_async_client() as client:``.

        A coroutine because the connection lookup itself must not block the triggerer's event loop.
        """
        settings = await self.asettings()
        return self.async_client_class(**self._client_kwargs(settings, retry, on_token=amask_token))

    def close(self) -> None:
        """Close the shared client from :meth:`get_conn`, if any."""
        if self._client is not None:
            self._client.close()
            self._client = None

    def _client_kwargs(
        self,
        settings: ModelArtsConnectionSettings,
        retry: RetryPolicy | None,
        *,
        on_token: Callable[[str], Awaitable[None] | None],
    ) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "project_id": settings.project_id,
            "region": settings.region,
            "endpoint": settings.endpoint,
            # Fresh IAM tokens are masked before the request they authorise goes out: blocking for the sync
            # client, awaited for the async one (a blocking call could deadlock the triggerer's event loop).
            "auth": build_auth(settings, on_token=on_token),
            "timeout": settings.timeout,
            "verify": settings.verify,
        }
        if retry or self.retry:
            kwargs["retry"] = retry or self.retry
        return kwargs

    # -- UI helpers ------------------------------------------------------------------------------------------

    def console_url(self, dataset_id: str, workforce_task_id: str | None = None) -> str:
        """Link to the dataset (and team labeling task) in the console of the connection's region."""
        return console_url(self.settings.region, dataset_id, workforce_task_id)

    def test_connection(self) -> tuple[bool, str]:
        """Check credentials and project with one cheap read (list one dataset); never raises.

        The message never contains a secret: API errors are built from status and error code only, and any
        other text is scrubbed of the connection's secret values.
        """
        secrets: list[str] = []
        try:
            settings = self.settings
            secrets = list(settings.secrets())
            with self.get_client(retry=_TEST_CONNECTION_RETRY) as client:
                client.list_datasets(limit=1)
        except Exception as exc:
            return False, scrub(str(exc) or type(exc).__name__, secrets)
        return (
            True,
            f"Connection to ModelArts project {settings.project_id} at {settings.base_url} succeeded.",
        )
