"""Deferrable wait for a team labeling acceptance: polls from the triggerer instead of a worker slot.

Human review takes hours or days. The trigger holds no worker slot while it waits; it polls the task details
(and the acceptance report) with the async client and fires exactly one event when the shared evaluation in
:mod:`airflow_provider_modelarts.acceptance` says the wait is over, or when its deadline passes.

The trigger gets its client in one place, :meth:`AcceptanceTrigger._get_client`: it reads the connection
through a hook made by ``ModelArtsHook.for_connection`` like every task's, once when it starts, and shares the
client of those settings with the other triggers of the triggerer's event loop (:mod:`.clients`: which client,
and how its requests take turns). A poll is then one or two requests on a warm connection and the evaluation;
nothing is set up per poll. When the service refuses the client's credentials, the trigger lets the client go
(retired), reads the connection again and, if the settings changed since (a rotated key) or a token expired,
reads once more with the client of the new ones.

Deadline: a wait always finishes its first poll (so its event can say what it saw, even when it starts after
its deadline, as after a triggerer restart); after that no poll outlives the deadline: one still waiting for
a turn or an answer is cut off there and the ``timeout`` event fires at once.

It logs when something changes (status, counts, pass rate) and otherwise a short heartbeat every few
minutes (:class:`~airflow_provider_modelarts.acceptance.ProgressLog`), then one sentence with the outcome.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_modelarts.acceptance import (
    EVENT_STATUSES,
    AcceptanceCriteria,
    AcceptanceEvaluation,
    AcceptanceSnapshot,
    ProgressLog,
    aread_snapshot,
    evaluate_snapshot,
)
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

if TYPE_CHECKING:
    from collections.abc import Hashable

    from airflow_provider_modelarts.client import AsyncModelArtsClient, RetryPolicy

__all__ = ["EVENT_STATUSES", "AcceptanceTrigger"]


class AcceptanceTrigger(BaseTrigger):
    """Poll a team labeling task until the acceptance criteria hold, fail, or the deadline passes.

    Only ids, the criteria, the poll interval, the deadline and the connection id are serialised: the
    credentials are looked up from the connection inside the triggerer, so nothing secret is stored with the
    trigger row or shown in its repr.

    :param dataset_id: Dataset of the team labeling task.
    :param workforce_task_id: Team labeling task to watch.
    :param criteria: :meth:`AcceptanceCriteria.to_dict` output.
    :param checking_task_id: The acceptance round being waited on (optional).
    :param poll_interval: Seconds between polls.
    :param deadline: Unix time (seconds) after which a ``timeout`` event fires; ``None`` waits forever.
    :param modelarts_conn_id: Airflow connection to build the client from.
    :param project_id: Project override (else the connection's project).
    """

    def __init__(
        self,
        *,
        dataset_id: str,
        workforce_task_id: str,
        criteria: dict[str, Any],
        checking_task_id: str | None = None,
        poll_interval: float = 60.0,
        deadline: float | None = None,
        modelarts_conn_id: str = "modelarts_default",
        project_id: str | None = None,
    ) -> None:
        super().__init__()
        self.dataset_id = dataset_id
        self.workforce_task_id = workforce_task_id
        self._criteria = AcceptanceCriteria.from_dict(criteria)  # parsed once, not per poll
        self.criteria = self._criteria.to_dict()
        self.checking_task_id = checking_task_id
        self.poll_interval = float(poll_interval)
        self.deadline = None if deadline is None else float(deadline)
        self.modelarts_conn_id = modelarts_conn_id
        self.project_id = project_id
        self._client: AsyncModelArtsClient | None = None
        self._key: Hashable | None = None  # of the client got last (its settings' fingerprint)
        self._last_error: str | None = None
        self._progress = ProgressLog()

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "dataset_id": self.dataset_id,
                "workforce_task_id": self.workforce_task_id,
                "criteria": self.criteria,
                "checking_task_id": self.checking_task_id,
                "poll_interval": self.poll_interval,
                "deadline": self.deadline,
                "modelarts_conn_id": self.modelarts_conn_id,
                "project_id": self.project_id,
            },
        )

    async def _get_client(self) -> AsyncModelArtsClient:
        """The shared client of the connection's settings as they are now (read once per call with no client
        held: a start, or after a refusal; never per poll)."""
        if self._client is None:
            # Imported here: the hook pulls in the Task SDK connection machinery, which the scheduler
            # does not need when it only deserialises this trigger.
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

    def _now(self) -> float:
        """Unix time, for the deadline and the log's heartbeat (a test's subclass moves it by hand)."""
        return time.time()

    async def _sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    def _event(
        self, status: str, message: str, figures: dict[str, Any] | None = None, *, api_error: bool = False
    ) -> TriggerEvent:
        payload: dict[str, Any] = {
            "status": status,
            "message": message,
            "figures": figures or {},
            "dataset_id": self.dataset_id,
            "workforce_task_id": self.workforce_task_id,
        }
        if api_error:
            # Lets execute_complete raise a retryable error, as poke mode does for the same API failure.
            payload["api_error"] = True
        return TriggerEvent(payload)

    async def _read_once(self) -> AcceptanceSnapshot:
        client = await self._get_client()
        try:
            return await aread_snapshot(
                client, self.dataset_id, self.workforce_task_id, self.checking_task_id
            )
        except ModelArtsError as exc:
            if credentials_refused(exc):
                await self._close_client(refused=True)
            raise

    async def _read(self) -> AcceptanceSnapshot:
        """A snapshot; after a refusal, once more when the connection changed since or a token expired."""
        try:
            return await self._read_once()
        except ModelArtsError as exc:
            refused_key = self._key
            if not credentials_refused(exc):
                raise
            await self._get_client()  # the connection as it is now
            if self._key == refused_key and not is_token_expiry(exc):
                raise  # the same settings again: this will not heal by itself
            return await self._read_once()

    async def _poll(self) -> AcceptanceEvaluation | None:
        """One poll; ``None`` when a transient error means 'try again on the next poll'."""
        begin_poll()  # its requests take their turns in the order of this poll (clients.py)
        try:
            snapshot = await self._read()
        except ModelArtsError as exc:
            if not poll_again(exc):
                raise
            self._last_error = str(exc)
            self.log.warning(
                "Transient error while polling acceptance of task %s (will retry in %.0f s): %s",
                self.workforce_task_id,
                self.poll_interval,
                exc,
            )
            return None
        return evaluate_snapshot(snapshot, self._criteria)

    async def _poll_in_time(self, first: bool) -> AcceptanceEvaluation | None:
        """:meth:`_poll`, cut off at the deadline (``None`` then) except the first (see the docstring)."""
        if first or self.deadline is None:
            return await self._poll()
        try:
            return await asyncio.wait_for(self._poll(), self.deadline - self._now())
        except TimeoutError:
            return None

    async def run(self) -> AsyncIterator[TriggerEvent]:
        last: AcceptanceEvaluation | None = None
        first = True
        try:
            while True:
                try:
                    evaluation = await self._poll_in_time(first)
                except ModelArtsError as exc:
                    await self._close_client()
                    figures = last.figures if last else {}
                    yield self._event(
                        "failure",
                        f"Stopped waiting for the acceptance of task {self.workforce_task_id}: {exc}",
                        figures,
                        api_error=True,
                    )
                    return
                first = False
                now = self._now()
                if evaluation is not None:
                    last = evaluation
                    if evaluation.done:
                        await self._close_client()  # the sensor logs the outcome once, on resuming
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
                        f"Timed out waiting for the acceptance of task {self.workforce_task_id}. "
                        f"Last state: {detail}",
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
        """Release the client only: the acceptance is human work started by another task.

        Marking this wait failed or clearing it must not cancel the reviewers' round, which is what
        cancelling remote work would mean here; to cancel it, run
        ApplyAcceptanceActionOperator(action="cancel").
        """
        await self._close_client()
