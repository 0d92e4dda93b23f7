"""Deferrable wait for a dataset import task: polls its details from the triggerer, not a worker slot.

An import copies files inside the service for minutes or hours. ``ImportFromObsOperator`` defers to this
trigger after its first look; the trigger reads the task's details with the async client
(:func:`~airflow_provider_modelarts.import_tasks.aread_task`) and judges them with the same
:func:`~airflow_provider_modelarts.import_tasks.evaluate` the operator uses in the worker, so both ways of
waiting end on the same rule. The poll loop (shared client, refusals, deadline, transient errors, one event,
cleanup) is :class:`~airflow_provider_modelarts.triggers.polling.PollingTrigger`'s.

It logs when the status, the imported count or the finished files change, and otherwise a heartbeat every
ten minutes (:func:`~airflow_provider_modelarts.import_tasks.progress_log`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_modelarts.import_tasks import (
    ImportCriteria,
    ImportEvaluation,
    aread_task,
    evaluate,
    progress_log,
)
from airflow_provider_modelarts.triggers.polling import PollingTrigger

if TYPE_CHECKING:
    from airflow_provider_modelarts.client import AsyncModelArtsClient

__all__ = ["ImportTaskTrigger"]


class ImportTaskTrigger(PollingTrigger):
    """Poll an import task until it completes, fails, is gone, or the deadline passes.

    Only ids, the criteria, the poll interval, the absolute deadline and the connection id are serialised;
    the credentials are read from the connection inside the triggerer, so nothing secret is stored with
    the trigger row or shown in its repr.

    :param dataset_id: Dataset being imported into.
    :param import_task_id: The import task to watch.
    :param criteria: :meth:`ImportCriteria.to_dict` output.
    :param poll_interval: Seconds between polls.
    :param deadline: Unix time (seconds) after which a ``timeout`` event fires; ``None`` waits forever.
    :param modelarts_conn_id: Airflow connection to build the client from.
    :param project_id: Project override (else the connection's project).
    """

    def __init__(
        self,
        *,
        dataset_id: str,
        import_task_id: str,
        criteria: dict[str, Any] | None = None,
        poll_interval: float = 30.0,
        deadline: float | None = None,
        modelarts_conn_id: str = "modelarts_default",
        project_id: str | None = None,
    ) -> None:
        super().__init__()
        self.dataset_id = dataset_id
        self.import_task_id = import_task_id
        self._criteria = ImportCriteria.from_dict(criteria)
        self.criteria = self._criteria.to_dict()
        self.poll_interval = float(poll_interval)
        self.deadline = None if deadline is None else float(deadline)
        self.modelarts_conn_id = modelarts_conn_id
        self.project_id = project_id
        self._progress = progress_log()

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "dataset_id": self.dataset_id,
                "import_task_id": self.import_task_id,
                "criteria": self.criteria,
                "poll_interval": self.poll_interval,
                "deadline": self.deadline,
                "modelarts_conn_id": self.modelarts_conn_id,
                "project_id": self.project_id,
            },
        )

    async def _look(self, client: AsyncModelArtsClient) -> ImportEvaluation:
        task = await aread_task(client, self.dataset_id, self.import_task_id)
        return evaluate(task, self._criteria, dataset_id=self.dataset_id)

    def _subject(self) -> str:
        return f"import task {self.import_task_id} of dataset {self.dataset_id}"

    def _event_ids(self) -> dict[str, Any]:
        return {"dataset_id": self.dataset_id, "import_task_id": self.import_task_id}

    async def on_kill(self) -> None:
        """Release the client only: no page cancels or deletes an import task, so the import goes on in the
        service (a retry of the task adopts it)."""
        await self._close_client()
