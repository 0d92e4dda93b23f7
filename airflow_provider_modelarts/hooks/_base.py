"""The plumbing of ``ModelArtsHook``: its connection settings and the clients it builds.

``ModelArtsHook`` (``modelarts.py``) is the operations a labeling DAG needs; this base is what each of them
stands on: the constructor and :meth:`ModelArtsHookBase.for_connection` (the one way tasks, the trigger and
the links build a hook), the connection's settings read once per hook with the secrets masked first
(:mod:`.connection` reads them), and the sync and async clients built from them.
"""

from __future__ import annotations

from typing import Any, ClassVar, Self

from airflow.sdk import BaseHook

from airflow_provider_modelarts.client import AsyncModelArtsClient, ModelArtsClient, RetryPolicy
from airflow_provider_modelarts.hooks.connection import (
    ModelArtsConnectionSettings,
    aget_connection_and_extras,
    amask_secrets,
    amask_token,
    client_kwargs,
    connection_secrets,
    mask_secrets,
    mask_token,
)

__all__ = ["ModelArtsHookBase"]


class ModelArtsHookBase(BaseHook):
    """A hook's connection arguments, settings and clients (see ``ModelArtsHook`` for the parameters).

    ``client_class`` / ``async_client_class`` are the client types built: a subclass (or a test) can swap
    them, for example to add a transport, without touching how the connection is read.
    """

    default_conn_name = "modelarts_default"
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

    @classmethod
    def for_connection(
        cls, modelarts_conn_id: str, *, project_id: str | None = None, retry: RetryPolicy | None = None
    ) -> Self:
        """The one way tasks, the trigger and the links build a hook; an empty ``project_id`` (a template that
        rendered to nothing) means the connection's project."""
        return cls(modelarts_conn_id, project_id=project_id or None, retry=retry)

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
        # Fresh IAM tokens are masked before the request they authorise goes out: blocking here, awaited in
        # the async client (a blocking call could deadlock the triggerer's event loop).
        return self.client_class(**client_kwargs(self.settings, retry or self.retry, on_token=mask_token))

    async def get_async_client(
        self, *, retry: RetryPolicy | None = None, max_connections: int = 20, transport: Any = None
    ) -> AsyncModelArtsClient:
        """A new async client (bulk runs, triggers); ``async with await hook.get_async_client() as c:``.

        A coroutine: the connection lookup must not block the event loop. ``transport``: send through it.
        """
        options = client_kwargs(await self.asettings(), retry or self.retry, on_token=amask_token)
        return self.async_client_class(**options, max_connections=max_connections, transport=transport)

    def close(self) -> None:
        """Close the shared client from :meth:`get_conn`, if any."""
        if self._client is not None:
            self._client.close()
            self._client = None
