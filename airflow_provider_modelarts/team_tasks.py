"""Team labeling tasks adopted by name: create or adopt, start, delete; imports no Airflow.

A daily pipeline labels each batch in its own team labeling task (the user guide: several team tasks per
dataset are normal, an accepted task is final). Creating one must be safe to retry, so the task's name is
its key: every attempt lists the dataset's tasks first and adopts the one of that name.

The pages (``../shared/spec/related/``) leave open what the provider must still get right, so replies are read
leniently and conclusions drawn strictly:

* The create reply's ``task_id`` is not marked mandatory (``creating_a_team_labeling_task.rst``, Table 6);
  a 2xx reply without one means the task was created, and it is found by its name in the list.
* The pages do not say in what scope task names are unique: two tasks of one name are an error naming
  both (:class:`AmbiguousTeamTaskError`), never a guess.
* Only ``ModelArts.4619`` ("Workforce task does not exist", error table) means a team task is gone; a
  missing dataset, team or URL is an error, even on delete.
* The list walk proves it saw every task or raises (``client/_paging.py``): a task is never created because
  the list was read short (a low ``count``, a list that changed while it was read).
* Only a listed task object with a ``task_id`` string is adopted. An item that is not an object cannot be
  the task (it is skipped, and counted in the error below); a task of the name without a ``task_id`` cannot
  be addressed, so nothing is created beside it (:class:`UnadoptableTeamTaskError`).
* A create answered ``ModelArts.4620`` ("The workforce task already exists") lists again and adopts the task;
  only if the list still does not show it is that an error (:class:`TeamTaskNameTakenError`).
* A listed task whose status is missing or not in the list page's table is started only if its details say
  it is CREATED (6): the list proves nothing either way.

Whether a step is tried again is decided in :mod:`airflow_provider_modelarts.retries`; ``ModelArtsHook``
calls :func:`create_or_adopt` and :func:`delete` with its client.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_modelarts.client import ModelArtsClient, RetryPolicy
from airflow_provider_modelarts.errors import (
    TEAM_TASK_EXISTS,
    TEAM_TASK_MISSING,
    ModelArtsAPIError,
    ModelArtsError,
    ModelArtsNotFoundError,
)
from airflow_provider_modelarts.models import TaskStatus, WorkforceTask
from airflow_provider_modelarts.retries import repeat_steps, wait_until

__all__ = [
    "AmbiguousTeamTaskError",
    "TeamTaskNameTakenError",
    "TeamTaskNotListedError",
    "TeamTaskNotStartedError",
    "UnadoptableTeamTaskError",
    "create_or_adopt",
    "delete",
    "team_task_named",
]

#: The list page's ``status`` table: after STARTING (0) a task is RUNNING (1) or further along (2 accepting,
#: 3 accepted, 4 rejected, 5 synchronizing, 7 sampling). CREATED (6) and STARTING (0) are not started yet;
#: a status the page does not list, or none, proves nothing.
STARTED = frozenset(
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


class TeamTaskNameTakenError(ModelArtsError):
    """Create answered ``ModelArts.4620`` (a task of that name exists) but the dataset's task list, read
    completely, shows no task of that name: the name is taken where the list does not look (another scope),
    or the list lags behind. ``unreadable``: listed items that were not task objects."""

    def __init__(self, dataset_id: str, task_name: str, unreadable: int) -> None:
        self.dataset_id, self.task_name, self.unreadable = dataset_id, task_name, unreadable
        skipped = f" ({unreadable} listed items were not task objects)" if unreadable else ""
        super().__init__(
            f"Creating the team labeling task {task_name!r} on dataset {dataset_id} was refused with "
            f"ModelArts.4620 (a task of that name already exists), but the dataset's task list shows none of "
            f"that name{skipped}. The name may be taken outside this dataset; choose another name."
        )

    @property
    def is_transient(self) -> bool:
        return True  # the list may show it on the next look


class UnadoptableTeamTaskError(ModelArtsError):
    """The dataset's task list shows a task of the name without a usable ``task_id`` (a non-empty string):
    it cannot be addressed (started, labeled, deleted), and creating a second one beside it is not safe."""

    def __init__(self, dataset_id: str, task_name: str, task_id: Any) -> None:
        self.dataset_id, self.task_name, self.task_id = dataset_id, task_name, task_id
        super().__init__(
            f"Dataset {dataset_id} lists a team labeling task named {task_name!r} without a usable task_id "
            f"(got {task_id!r}), so it cannot be adopted; refusing to create a second task of that name."
        )


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


def _named(client: ModelArtsClient, dataset_id: str, task_name: str) -> tuple[WorkforceTask | None, int]:
    """The dataset's one team task of that name (or None) and how many listed items were not task objects;
    more than one raise :class:`AmbiguousTeamTaskError`, one without a ``task_id``
    :class:`UnadoptableTeamTaskError`."""
    named: list[WorkforceTask] = []
    unreadable = 0
    for task in client.iter_workforce_tasks(dataset_id):
        if not isinstance(task, WorkforceTask):
            unreadable += 1
        elif task.task_name == task_name:
            named.append(task)
    if len(named) > 1:
        raise AmbiguousTeamTaskError(dataset_id, task_name, [(task.task_id, task.status) for task in named])
    if named and _new_task_id(named[0]) is None:
        raise UnadoptableTeamTaskError(dataset_id, task_name, named[0].task_id)
    return (named[0] if named else None), unreadable


def team_task_named(client: ModelArtsClient, dataset_id: str, task_name: str) -> WorkforceTask | None:
    """The dataset's one team task of that name, or None; more raise :class:`AmbiguousTeamTaskError`, one
    without a ``task_id`` :class:`UnadoptableTeamTaskError`."""
    return _named(client, dataset_id, task_name)[0]


def _create(
    client: ModelArtsClient, dataset_id: str, body: dict[str, Any]
) -> tuple[Any, WorkforceTask | None]:
    """Send the create once: ``(reply, None)``, or, when the service answers ``ModelArts.4620`` (the name
    exists), ``(None, the task of that name)`` from a second look at the list."""
    try:
        return client.create_workforce_task(dataset_id, body), None
    except ModelArtsAPIError as exc:
        if exc.error_code != TEAM_TASK_EXISTS:
            raise
        task, unreadable = _named(client, dataset_id, body["task_name"])
        if task is None:
            raise TeamTaskNameTakenError(dataset_id, body["task_name"], unreadable) from exc
        return None, task


def create_or_adopt(
    client: ModelArtsClient,
    dataset_id: str,
    task_name: str,
    *,
    start: bool,
    wait_started: float,
    options: dict[str, Any],
    repeat: RetryPolicy,
    log: Any,  # a logging.Logger or a hook's / task's structlog logger
) -> dict[str, Any]:
    """What ``ModelArtsHook.create_team_task`` does (its docstring is the contract); returns its summary.

    Create and start are sent once each (their request builders mark them not repeatable); the step
    list-then-act is repeated under ``repeat`` when ``retries.is_worth_repeating_step`` says so. A create
    answered without a ``task_id`` created the task: it is looked up, never created again.
    """
    sent_create = sent_start = created_without_id = False
    for attempt in repeat_steps(repeat):
        with attempt:
            task = team_task_named(client, dataset_id, task_name)
            if task is not None:
                task_id, status = str(task.task_id), task.status
            elif created_without_id:  # created already: only look again, never create twice
                raise TeamTaskNotListedError(dataset_id, task_name)
            else:
                sent_before, sent_create = sent_create, True
                reply, task = _create(client, dataset_id, {**options, "task_name": task_name})
                new_id = _new_task_id(reply)
                if task is not None:  # refused: the name exists, and the list shows it now
                    sent_create = sent_before
                    task_id, status = str(task.task_id), task.status
                elif new_id is None:
                    created_without_id = True
                    task = team_task_named(client, dataset_id, task_name)
                    if task is None:
                        raise TeamTaskNotListedError(dataset_id, task_name)
                    task_id, status = str(task.task_id), task.status
                else:
                    # The list page: "6: Created. The task has been created by the owner but has not been
                    # started."
                    task_id, status = new_id, TaskStatus.CREATED
            if start and not isinstance(status, TaskStatus):  # none, or not in the page's table
                status = client.get_workforce_task(dataset_id, task_id).status
            if start and status == TaskStatus.CREATED:
                sent_start = True
                client.start_workforce_task(dataset_id, task_id)
    if start:
        status = wait_until(
            lambda: client.get_workforce_task(dataset_id, task_id).status,
            lambda now: now in STARTED,
            timeout=wait_started,
        )
        if status not in STARTED:
            raise TeamTaskNotStartedError(dataset_id, task_id, status, wait_started)
    how = "created" if sent_create else "adopted (it already existed)"
    log.info("Team labeling task %s (%s) on %s: %s, status %s", task_name, task_id, dataset_id, how, status)
    return {
        "workforce_task_id": task_id,
        "task_name": task_name,
        "created": sent_create,
        "started": sent_start,
        "status": int(status) if isinstance(status, int) else None,
    }


def delete(client: ModelArtsClient, dataset_id: str, workforce_task_id: str) -> bool:
    """Delete a team labeling task; ``False`` when it was already gone (``ModelArts.4619`` only)."""
    try:
        client.delete_workforce_task(dataset_id, workforce_task_id)
    except ModelArtsNotFoundError as exc:
        if exc.error_code == TEAM_TASK_MISSING:
            return False
        raise
    return True
