"""Team labeling task operations of ``ModelArtsHook``: create or adopt a task by name, start it, delete it.

A daily pipeline labels each batch in its own team labeling task (the user guide: several team tasks per
dataset are normal, an accepted task is final). Creating one must be safe to retry, so the task's name is
its key: every attempt lists the dataset's tasks first and adopts the one of that name.

The pages (``../shared/spec/related/``) leave open what the hook must still get right, so it reads replies
leniently and concludes strictly:

* The create reply's ``task_id`` is not marked mandatory (``creating_a_team_labeling_task.rst``, Table 6);
  a 2xx reply without one means the task was created, and it is found by its name in the list.
* The pages do not say in what scope task names are unique: two tasks of one name are an error naming
  both (:class:`AmbiguousTeamTaskError`), never a guess.
* Only ``ModelArts.4619`` ("Workforce task does not exist", error table) means a team task is gone; a
  missing dataset, team or URL is an error, even on delete.
"""

from __future__ import annotations

from typing import Any

import tenacity

from airflow_provider_modelarts.client import ModelArtsClient, RetryPolicy, is_retryable
from airflow_provider_modelarts.errors import (
    TEAM_TASK_EXISTS,
    TEAM_TASK_MISSING,
    TEAM_TASK_NOT_STARTABLE,
    ModelArtsAPIError,
    ModelArtsError,
    ModelArtsNotFoundError,
)
from airflow_provider_modelarts.hooks.base import ModelArtsBaseHook
from airflow_provider_modelarts.models import TaskStatus

__all__ = [
    "AmbiguousTeamTaskError",
    "ModelArtsTeamTaskOperations",
    "TeamTaskNotListedError",
    "TeamTaskNotStartedError",
]

#: The list page's ``status`` table: after STARTING (0) a task is RUNNING (1) or further along (2 accepting,
#: 3 accepted, 4 rejected, 5 synchronizing, 7 sampling). CREATED (6) and STARTING (0) are not started yet;
#: a status the page does not list, or none, proves nothing.
_STARTED = frozenset(
    {
        TaskStatus.RUNNING,
        TaskStatus.ACCEPTING,
        TaskStatus.ACCEPTED,
        TaskStatus.REJECTED,
        TaskStatus.SYNCHRONIZING,
        TaskStatus.SAMPLING,
    }
)


class AmbiguousTeamTaskError(ModelArtsError):
    """The dataset has more than one team labeling task of the name the hook adopts by.

    The pages do not say whether names are unique per dataset, so the hook refuses to pick one: ``tasks``
    lists ``(task_id, status)`` of each. Rename or delete the extra tasks (or choose another name).
    """

    def __init__(self, dataset_id: str, task_name: str, tasks: list[tuple[str | None, Any]]) -> None:
        self.dataset_id = dataset_id
        self.task_name = task_name
        self.tasks = tasks
        listed = ", ".join(f"{task_id} (status {_status_text(status)})" for task_id, status in tasks)
        super().__init__(
            f"Dataset {dataset_id} has {len(tasks)} team labeling tasks named {task_name!r}: {listed}. "
            "Refusing to guess which one this run owns; rename or delete the extra ones."
        )


class TeamTaskNotListedError(ModelArtsError):
    """A create was answered with success but no ``task_id``, and the list does not show the task (yet)."""

    def __init__(self, dataset_id: str, task_name: str) -> None:
        self.dataset_id = dataset_id
        self.task_name = task_name
        super().__init__(
            f"The team labeling task {task_name!r} was created on dataset {dataset_id} (the service answered "
            "without a task_id) but the dataset's task list does not show it."
        )

    @property
    def is_transient(self) -> bool:
        return True  # the list may show it on the next look


class TeamTaskNotStartedError(ModelArtsError):
    """The task did not reach a started status (RUNNING or later) within ``wait_started`` seconds."""

    def __init__(self, dataset_id: str, task_id: str, status: Any, waited: float) -> None:
        self.dataset_id = dataset_id
        self.workforce_task_id = task_id
        self.status = status
        super().__init__(
            f"Team labeling task {task_id} on dataset {dataset_id} is still in status {_status_text(status)} "
            f"after {waited:g} s; it has not left STARTING, so labels cannot be written into it yet."
        )

    @property
    def is_transient(self) -> bool:
        return True  # waiting longer (an Airflow retry adopts the task and waits again) may help


def _status_text(status: Any) -> str:
    if isinstance(status, TaskStatus):
        return f"{int(status)} {status.name}"
    return "unknown" if status is None else repr(status)


def _new_task_id(reply: Any) -> str | None:
    """The created task's id from a create reply, if it has one the page's type allows (Table 6: ``task_id``
    String). A number, a list or no value is not trusted as an id: the task is then found by its name."""
    task_id = getattr(reply, "task_id", None)
    return task_id if isinstance(task_id, str) and task_id.strip() else None


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
        each attempt lists the dataset's team tasks first and adopts the one of that name; two of that name
        raise :class:`AmbiguousTeamTaskError` (nothing is guessed). Create and start are sent once each,
        without the client's retries (a blind re-send after a lost answer could make a second task); a lost
        answer (network, 5xx, throttling such as ``ModelArts.4395``) or the service's "already exists"
        (``ModelArts.4620``) / "cannot be started" (``ModelArts.4621``) repeats the list-then-act step under
        the hook's retry policy instead. A create answered without a ``task_id`` created the task: it is
        found by its name in the list and never created again.

        With ``start``, a CREATED (6) task is started and the call returns only once the task has left
        STARTING (0) for RUNNING (1) or a later status, so labels can be written into it at once; if that
        takes longer than ``wait_started`` seconds, :class:`TeamTaskNotStartedError` is raised (a retry
        adopts the task and waits again). Without ``start`` the task is returned in whatever status it has.

        :param options: other fields of the create request (``workforces_config``, ``synchronize_data``,
            ``sample_conditions``, ...), validated by the models.
        :return: a summary for XCom: ``workforce_task_id``, ``task_name``, ``created`` / ``started`` (this
            call sent the create / start) and ``status``.
        """
        sent_create = sent_start = created_without_id = False
        with self.get_client() as client, self.get_client(retry=RetryPolicy(max_attempts=1)) as once:
            for attempt in self._repeat_step_retrying():
                with attempt:
                    task = self._team_task_named(client, dataset_id, task_name)
                    if task is not None:
                        task_id, status = str(task.task_id), task.status
                    elif created_without_id:  # created already: only look again, never create twice
                        raise TeamTaskNotListedError(dataset_id, task_name)
                    else:
                        sent_create = True
                        reply = once.create_workforce_task(dataset_id, {**options, "task_name": task_name})
                        new_id = _new_task_id(reply)
                        if new_id is None:
                            created_without_id = True
                            task = self._team_task_named(client, dataset_id, task_name)
                            if task is None:
                                raise TeamTaskNotListedError(dataset_id, task_name)
                            task_id, status = str(task.task_id), task.status
                        else:
                            # The list page: "6: Created. The task has been created by the owner but has
                            # not been started."
                            task_id, status = new_id, TaskStatus.CREATED
                    if start and status == TaskStatus.CREATED:
                        sent_start = True
                        once.start_workforce_task(dataset_id, task_id)
            if start:
                status = self._wait_started(client, dataset_id, task_id, wait_started)
        how = "created" if sent_create else "adopted (it already existed)"
        self.log.info(
            "Team labeling task %s (%s) on %s: %s, status %s", task_name, task_id, dataset_id, how, status
        )
        return {
            "workforce_task_id": task_id,
            "task_name": task_name,
            "created": sent_create,
            "started": sent_start,
            "status": int(status) if isinstance(status, int) else None,
        }

    def delete_team_task(self, dataset_id: str, workforce_task_id: str) -> bool:
        """Delete a team labeling task; ``False`` when it was already gone (so a retried delete succeeds).

        Only ``ModelArts.4619`` ("Workforce task does not exist", error table; at 400 as the table files it
        or 404 as the pages list) counts as gone. Every other not-found is raised: a missing dataset
        (``ModelArts.4352``), team (``ModelArts.4601``) or URL (the gateway's ``APIGW.0101``) says nothing
        about the task.
        """
        with self.get_client() as client:
            try:
                client.delete_workforce_task(dataset_id, workforce_task_id)
            except ModelArtsNotFoundError as exc:
                if exc.error_code == TEAM_TASK_MISSING:
                    return False
                raise
        return True

    @staticmethod
    def _team_task_named(client: ModelArtsClient, dataset_id: str, task_name: str) -> Any:
        """The dataset's one team task of that name, or None; more raise :class:`AmbiguousTeamTaskError`."""
        named = [task for task in client.iter_workforce_tasks(dataset_id) if task.task_name == task_name]
        if len(named) > 1:
            raise AmbiguousTeamTaskError(
                dataset_id, task_name, [(task.task_id, task.status) for task in named]
            )
        return named[0] if named else None

    @staticmethod
    def _wait_started(client: ModelArtsClient, dataset_id: str, task_id: str, wait_started: float) -> Any:
        """Poll the task until it is RUNNING or later; :class:`TeamTaskNotStartedError` after the wait."""
        status = tenacity.Retrying(
            stop=tenacity.stop_after_delay(wait_started),
            wait=tenacity.wait_exponential(multiplier=0.2, max=5.0),
            retry=tenacity.retry_if_result(lambda now: now not in _STARTED),
            retry_error_callback=lambda state: state.outcome.result() if state.outcome else None,
        )(lambda: client.get_workforce_task(dataset_id, task_id).status)
        if status not in _STARTED:
            raise TeamTaskNotStartedError(dataset_id, task_id, status, wait_started)
        return status

    def _repeat_step_retrying(self) -> Any:
        """Repeat a list-then-act step after a lost answer, or when the service says it was already done."""

        def worth_repeating(exc: BaseException) -> bool:
            if is_retryable(exc):  # the client's own rule: a lost answer, a server fault, throttling
                return True
            # "The workforce task already exists" / "Failed to start the team labeling task": a lost answer's
            # call may have done it; the next list shows what is there.
            return isinstance(exc, ModelArtsAPIError) and exc.error_code in (
                TEAM_TASK_EXISTS,
                TEAM_TASK_NOT_STARTABLE,
            )

        policy = self.retry or RetryPolicy()
        return tenacity.Retrying(
            stop=tenacity.stop_after_attempt(policy.max_attempts)
            | tenacity.stop_after_delay(policy.deadline),
            wait=tenacity.wait_random_exponential(multiplier=policy.backoff_base, max=policy.backoff_max),
            retry=tenacity.retry_if_exception(worth_repeating),
            reraise=True,
        )
