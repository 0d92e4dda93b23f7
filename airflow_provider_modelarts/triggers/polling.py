"""The poll loop every deferrable wait of this provider shares: one base, :class:`PollingTrigger`.

A subclass says what to look at and what "done" means (:meth:`PollingTrigger._look`, which returns the
domain's own evaluation: acceptance, import task), what it waits on (:meth:`PollingTrigger._subject`, for
messages) and which ids go in its event (:meth:`PollingTrigger._event_ids`). Everything else is here, once:

* **Client.** The trigger gets its client in one place, :meth:`PollingTrigger._get_client`: it reads the
  connection through a hook made by ``ModelArtsHook.for_connection`` like every task's, once when it starts,
  and shares the client of those settings with the other triggers of the triggerer's event loop
  (:mod:`.clients`: which client, and how its requests take turns). A poll is then a request or two on a
  warm connection and the evaluation; nothing is set up per poll. When the service refuses the client's
  credentials, the trigger lets the client go (retired), reads the connection again and, if the settings
  changed since (a rotated key) or a token expired, looks once more with the client of the new ones.
* **Deadline.** A wait always finishes its first poll (so its event can say what it saw, even when it starts
  after its deadline, as after a triggerer restart); after that no poll outlives the deadline: one still
  waiting for a turn or an answer is cut off there and the ``timeout`` event fires at once.
* **Errors.** A transient error (``retries.poll_again``) is logged and the next poll looks again; any other
  ends the wait with a ``failure`` event marked ``api_error`` (the task fails retryably, as in the worker).
* **Events.** Exactly one: ``success`` / ``failure`` when an evaluation is done, ``timeout`` at the
  deadline; ``status``, ``message``, ``figures`` and the subclass's ids.
* **Logs.** A line when something changes and otherwise a heartbeat every few minutes (the subclass's
  :class:`~airflow_provider_modelarts.waiting.ProgressLog`); the outcome is logged once, by the task.
* **Cleanup.** The client is released on every way out (event, error, cancellation, ``on_kill``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_modelarts.errors import ModelArtsError
from airflow_provider_modelarts.retries import is_token_expiry, poll_again
from airflow_provider_modelarts.triggers.clients import (
    Turns,
    begin_poll,
    credentials_refused,
    settings_fingerprint,
    shared_clients,
    turn_transport,
)
from airflow_provider_modelarts.waiting import Evaluation, ProgressLog

if TYPE_CHECKING:
    from collections.abc import Hashable

    from airflow_provider_modelarts.client import AsyncModelArtsClient, RetryPolicy

__all__ = ["PollingTrigger"]


class PollingTrigger(BaseTrigger):
    """Poll until the subclass's evaluation is done or the deadline passes; one event (module docstring).

    Subclasses set ``poll_interval``, ``deadline``, ``modelarts_conn_id``, ``project_id`` and
    ``_progress`` (their :class:`ProgressLog`) in ``__init__`` after ``super().__init__()``, and implement
    :meth:`serialize`, :meth:`_look`, :meth:`_subject` and :meth:`_event_ids`.
    """

    poll_interval: float
    deadline: float | None
    modelarts_conn_id: str
    project_id: str | None

    def __init__(self) -> None:
        super().__init__()
        self._client: AsyncModelArtsClient | None = None
        self._key: Hashable | None = None  # of the client got last (its settings' fingerprint)
        self._last_error: str | None = None
        self._progress = ProgressLog()

    # -- what a subclass gives ------------------------------------------------------------------------

    async def _look(self, client: AsyncModelArtsClient) -> Evaluation:
        """One look with ``client``: the domain's evaluation (raises ``ModelArtsError`` on API errors)."""
        raise NotImplementedError

    def _subject(self) -> str:
        """What is waited on, for messages: "the acceptance of task X", "import task Y of dataset Z"."""
        raise NotImplementedError

    def _poll_subject(self) -> str:
        """What the warning about a transient error names (default :meth:`_subject`)."""
        return self._subject()

    def _event_ids(self) -> dict[str, Any]:
        """The ids every event of this trigger carries besides status, message and figures."""
        raise NotImplementedError

    # -- the client ----------------------------------------------------------------------------------------

    async def _get_client(self) -> AsyncModelArtsClient:
        """The shared client of the connection's settings as they are now (read once per call with no client
        held: a start, or after a refusal; never per poll)."""
        if self._client is None:
            # Imported here: the hook pulls in the Task SDK connection machinery, which the scheduler
            # does not need when it only deserialises a trigger.
            from airflow_provider_modelarts.hooks.modelarts import ModelArtsHook

            hook = ModelArtsHook.for_connection(self.modelarts_conn_id, project_id=self.project_id)
            settings = await hook.asettings()
            policy = self._retry_policy()

            async def build(turns: Turns) -> AsyncModelArtsClient:
                transport = turn_transport(turns, settings.verify)
                return await hook.get_async_client(retry=policy, transport=transport)

            fingerprint = settings_fingerprint(settings)  # a digest: the key holds no secret
            key = (self.modelarts_conn_id, self.project_id, self.poll_interval, fingerprint)
            self._client = await shared_clients().acquire(key, build, poll_interval=self.poll_interval)
            self._key = key
        return self._client

    def _retry_policy(self) -> RetryPolicy:
        from airflow_provider_modelarts.retries import trigger_call_retry

        return trigger_call_retry(self.poll_interval)

    async def _close_client(self, *, refused: bool = False) -> None:
        """Let go of the shared client (closed once no trigger uses it; ``refused``: nobody gets it again)."""
        client, self._client = self._client, None
        if client is not None:
            try:
                await shared_clients().release(client, refused=refused)
            except Exception:  # closing must never mask the event or the original error
                self.log.warning("Closing the ModelArts client failed", exc_info=True)

    # -- time ------------------------------------------------------------------------------------------

    def _now(self) -> float:
        """Unix time, for the deadline and the log's heartbeat (a test's subclass moves it by hand)."""
        return time.time()

    async def _sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    # -- one poll --------------------------------------------------------------------------------------

    def _event(
        self, status: str, message: str, figures: dict[str, Any] | None = None, *, api_error: bool = False
    ) -> TriggerEvent:
        payload: dict[str, Any] = {
            "status": status,
            "message": message,
            "figures": figures or {},
            **self._event_ids(),
        }
        if api_error:
            # Lets execute_complete raise a retryable error, as a look in the worker does for that failure.
            payload["api_error"] = True
        return TriggerEvent(payload)

    async def _look_once(self) -> Evaluation:
        client = await self._get_client()
        try:
            return await self._look(client)
        except ModelArtsError as exc:
            if credentials_refused(exc):
                await self._close_client(refused=True)
            raise

    async def _read(self) -> Evaluation:
        """A look; after a refusal, once more when the connection changed since or a token expired."""
        try:
            return await self._look_once()
        except ModelArtsError as exc:
            refused_key = self._key
            if not credentials_refused(exc):
                raise
            await self._get_client()  # the connection as it is now
            if self._key == refused_key and not is_token_expiry(exc):
                raise  # the same settings again: this will not heal by itself
            return await self._look_once()

    async def _poll(self) -> Evaluation | None:
        """One poll; ``None`` when a transient error means 'try again on the next poll'."""
        begin_poll()  # its requests take their turns in the order of this poll (clients.py)
        try:
            return await self._read()
        except ModelArtsError as exc:
            if not poll_again(exc):
                raise
            self._last_error = str(exc)
            self.log.warning(
                "Transient error while polling %s (will retry in %.0f s): %s",
                self._poll_subject(),
                self.poll_interval,
                exc,
            )
            return None

    async def _poll_in_time(self, first: bool) -> Evaluation | None:
        """:meth:`_poll`, cut off at the deadline (``None`` then) except the first (see the docstring)."""
        if first or self.deadline is None:
            return await self._poll()
        try:
            return await asyncio.wait_for(self._poll(), self.deadline - self._now())
        except TimeoutError:
            return None

    # -- the loop --------------------------------------------------------------------------------------

    async def run(self) -> AsyncIterator[TriggerEvent]:
        last: Evaluation | None = None
        first = True
        try:
            while True:
                try:
                    evaluation = await self._poll_in_time(first)
                except ModelArtsError as exc:
                    await self._close_client()
                    figures = last.figures if last else {}
                    message = f"Stopped waiting for {self._subject()}: {exc}"
                    yield self._event("failure", message, figures, api_error=True)
                    return
                first = False
                now = self._now()
                if evaluation is not None:
                    last = evaluation
                    if evaluation.done:
                        await self._close_client()  # the task logs the outcome once, on resuming
                        yield self._event(str(evaluation.state), evaluation.message, evaluation.figures)
                        return
                    line = self._progress.line(evaluation, now)
                    if line is not None:
                        self.log.info("%s", line)
                if self.deadline is not None and now >= self.deadline:
                    await self._close_client()
                    detail = last.message if last else f"no successful poll (last error: {self._last_error})"
                    yield self._event(
                        "timeout",
                        f"Timed out waiting for {self._subject()}. Last state: {detail}",
                        last.figures if last else {},
                    )
                    return
                delay = self.poll_interval
                if self.deadline is not None:
                    # Wake up at the deadline rather than sleeping past it, so the timeout event is punctual.
                    delay = min(delay, max(0.0, self.deadline - now))
                await self._sleep(delay)
        finally:
            # Also reached when the triggerer cancels the run (task killed, triggerer shutting down).
            await self._close_client()

    async def cleanup(self) -> None:
        await self._close_client()

    async def on_kill(self) -> None:
        """Release the client only; a subclass says why nothing remote is cancelled."""
        await self._close_client()
