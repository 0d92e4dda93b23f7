"""Team labeling task operations of ``ModelArtsHook``: create or adopt a task by name, start it, delete it.

A daily pipeline labels each batch in its own team labeling task (the user guide: several team tasks per
dataset are normal, an accepted task is final). Creating one must be safe to retry, so the task's name is
its key: every attempt lists the dataset's tasks first and adopts the one of that name.
"""

from __future__ import annotations

from typing import Any

import tenacity

from airflow_provider_modelarts.client import ModelArtsClient, RetryPolicy, is_retryable
from airflow_provider_modelarts.errors import ModelArtsAPIError, ModelArtsNotFoundError
from airflow_provider_modelarts.hooks.base import ModelArtsBaseHook
from airflow_provider_modelarts.models import TaskStatus

__all__ = ["ModelArtsTeamTaskOperations"]


class ModelArtsTeamTaskOperations(ModelArtsBaseHook):
    """``create_team_task`` and ``delete_team_task`` of ``ModelArtsHook``."""

    def create_team_task(
        self,
        dataset_id: str,
        task_name: str,
        *,
        start: bool = True,
        wait_started: float = 300.0,
        **options: Any,
    ) -> dict[str, Any]:
        """The dataset's team labeling task named ``task_name``: adopted if it exists, else created; started.

        The name is the key that makes this safe to retry (an Airflow retry, a cleared task, a lost answer):
        each attempt lists the dataset's team tasks first and adopts the one of that name. Create and start
        are sent once each, without the client's retries (a blind re-send after a lost answer could make a
        second task); a lost answer (network, 5xx, throttling) or the service's "already exists"
        (``ModelArts.4620``) / "cannot be started" (``ModelArts.4621``) repeats the list-then-act step under
        the hook's retry policy instead. With ``start``, a CREATED (6) task is started and the call returns
        once it has left STARTING (0), so labels can be written into it at once.

        :param options: other fields of the create request (``workforces_config``, ``synchronize_data``,
            ``sample_conditions``, ...), validated by the models.
        :return: a summary for XCom: ``workforce_task_id``, ``task_name``, ``created`` / ``started`` (this
            call sent the create / start) and ``status``.
        """
        sent_create = sent_start = False
        with self.get_client() as client, self.get_client(retry=RetryPolicy(max_attempts=1)) as once:
            for attempt in self._repeat_step_retrying():
                with attempt:
                    task = self._team_task_named(client, dataset_id, task_name)
                    if task is None:
                        sent_create = True
                        reply = once.create_workforce_task(dataset_id, {**options, "task_name": task_name})
                        task = client.get_workforce_task(dataset_id, str(reply.task_id))
                    task_id, status = str(task.task_id), task.status
                    if start and status == TaskStatus.CREATED:
                        sent_start = True
                        once.start_workforce_task(dataset_id, task_id)
            if start:
                status = tenacity.Retrying(
                    stop=tenacity.stop_after_delay(wait_started),
                    wait=tenacity.wait_exponential(multiplier=0.2, max=5.0),
                    retry=tenacity.retry_if_result(
                        lambda now: now in (TaskStatus.CREATED, TaskStatus.STARTING)
                    ),
                    retry_error_callback=lambda state: state.outcome.result() if state.outcome else None,
                )(lambda: client.get_workforce_task(dataset_id, task_id).status)
        how = "created" if sent_create else "adopted (it already existed)"
        self.log.info(
            "Team labeling task %s (%s) on %s: %s, status %s", task_name, task_id, dataset_id, how, status
        )
        return {
            "workforce_task_id": task_id,
            "task_name": task_name,
            "created": sent_create,
            "started": sent_start,
            "status": int(status) if status is not None else None,
        }

    def delete_team_task(self, dataset_id: str, workforce_task_id: str) -> bool:
        """Delete a team labeling task; ``False`` when it was already gone (so a retried delete succeeds)."""
        with self.get_client() as client:
            try:
                client.delete_workforce_task(dataset_id, workforce_task_id)
            except ModelArtsNotFoundError:
                return False
        return True

    @staticmethod
    def _team_task_named(client: ModelArtsClient, dataset_id: str, task_name: str) -> Any:
        """The dataset's team task of that name (the oldest, should a race ever have made two), or None."""
        named = [task for task in client.iter_workforce_tasks(dataset_id) if task.task_name == task_name]
        return min(named, key=lambda task: task.create_time or 0, default=None)

    def _repeat_step_retrying(self) -> Any:
        """Repeat a list-then-act step after a lost answer, or when the service says it was already done."""

        def worth_repeating(exc: BaseException) -> bool:
            if is_retryable(exc):  # the client's own rule: a lost answer, a server fault, throttling
                return True
            # "The workforce task already exists" / "Failed to start the team labeling task": a lost answer's
            # call may have done it; the next list shows what is there.
            return isinstance(exc, ModelArtsAPIError) and exc.error_code in (
                "ModelArts.4620",
                "ModelArts.4621",
            )

        policy = self.retry or RetryPolicy()
        return tenacity.Retrying(
            stop=tenacity.stop_after_attempt(policy.max_attempts)
            | tenacity.stop_after_delay(policy.deadline),
            wait=tenacity.wait_random_exponential(multiplier=policy.backoff_base, max=policy.backoff_max),
            retry=tenacity.retry_if_exception(worth_repeating),
            reraise=True,
        )
