"""Deferrable wait for a team labeling acceptance: polls from the triggerer instead of a worker slot.

Human review takes hours or days. The trigger holds no worker slot while it waits; it polls the task details
(and the acceptance report) with the async client and fires exactly one event when the shared evaluation in
:mod:`airflow_provider_modelarts.acceptance` says the wait is over, or when its deadline passes.

The poll loop (the shared client and its refusals, the deadline, transient errors, the one event, the
progress log, cleanup) is :class:`~airflow_provider_modelarts.triggers.polling.PollingTrigger`'s; this
module says what one look reads (:func:`~airflow_provider_modelarts.acceptance.aread_snapshot`) and how it
is judged (:func:`~airflow_provider_modelarts.acceptance.evaluate_snapshot`). Its classpath and serialised
kwargs are what trigger rows already in the database hold: they do not change.

It logs when something changes (status, counts, pass rate) and otherwise a short heartbeat every few
minutes (:class:`~airflow_provider_modelarts.acceptance.ProgressLog`), then one sentence with the outcome.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_modelarts.acceptance import (
    EVENT_STATUSES,
    AcceptanceCriteria,
    AcceptanceEvaluation,
    ProgressLog,
    aread_snapshot,
    evaluate_snapshot,
)
from airflow_provider_modelarts.triggers.polling import PollingTrigger

if TYPE_CHECKING:
    from airflow_provider_modelarts.client import AsyncModelArtsClient

__all__ = ["EVENT_STATUSES", "AcceptanceTrigger"]


class AcceptanceTrigger(PollingTrigger):
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

    async def _look(self, client: AsyncModelArtsClient) -> AcceptanceEvaluation:
        snapshot = await aread_snapshot(
            client, self.dataset_id, self.workforce_task_id, self.checking_task_id
        )
        return evaluate_snapshot(snapshot, self._criteria)

    def _subject(self) -> str:
        return f"the acceptance of task {self.workforce_task_id}"

    def _poll_subject(self) -> str:
        return f"acceptance of task {self.workforce_task_id}"

    def _event_ids(self) -> dict[str, Any]:
        return {"dataset_id": self.dataset_id, "workforce_task_id": self.workforce_task_id}

    async def on_kill(self) -> None:
        """Release the client only: the acceptance is human work started by another task.

        Marking this wait failed or clearing it must not cancel the reviewers' round, which is what
        cancelling remote work would mean here; to cancel it, run
        ApplyAcceptanceActionOperator(action="cancel").
        """
        await self._close_client()
