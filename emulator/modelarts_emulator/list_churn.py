"""Lists that change while they are read, counts that are wrong, offsets that are ignored (issue 25).

The emulator's three lists (a dataset's samples, a team task's samples, a dataset's team tasks) are by
default a quiet service's: nothing changes between two pages of one walk, the count is the number of
matching items, ``offset`` is honoured. A busy service is none of that, and ``client/_paging.py`` must be
right anyway; these settings of ``config.py`` (all changeable through ``POST /_emulator/config``) make the
emulator behave so, over HTTP:

* ``list_churn_insert`` / ``list_churn_remove``: after each page one of the three lists answers, that many
  items are added to / deleted from the collection it lists, for the next ``list_churn_pages`` pages
  (counting down; 0, the default: no change). Added samples are new files (``churn-<n>.jpg``) with the labels
  and state of the newest sample listed there, so they match the same filters; added team tasks are new
  CREATED tasks named ``churn-<n>``. Deleted items are the oldest of the collection (on a team task's list,
  the task sample goes; on the others the dataset sample or the team task itself).
* ``list_count_error``: added to every list's count (``sample_count``, ``count``); negative is a count that
  is low, floored at 0. ``list_count_omitted``: replies carry no count at all.
* ``list_ignore_offset``: every list answers its first page whatever ``offset`` asks.
"""

from __future__ import annotations

from typing import Any

from .records import BUCKET, DatasetRecord, SampleRecord, TaskSample, WorkforceTaskRecord, sample_id_for
from .state import EmulatorState

__all__ = ["after_page", "counted", "page_number"]


def page_number(state: EmulatorState, offset: int) -> int:
    """The page a list answers for ``offset`` (0 with ``list_ignore_offset``)."""
    return 0 if state.config.list_ignore_offset else offset


def counted(state: EmulatorState, name: str, count: int) -> dict[str, int]:
    """The reply's count field ``name`` as the settings shape it: off by ``list_count_error``, or absent."""
    if state.config.list_count_omitted:
        return {}
    return {name: max(0, count + state.config.list_count_error)}


def after_page(
    state: EmulatorState, dataset: DatasetRecord, task: WorkforceTaskRecord | None, kind: str
) -> None:
    """Change the collection just listed (``kind``: "samples", "task_samples" or "tasks") while the
    churn's pages last; called with the state's lock held, after the page was built."""
    config = state.config
    if config.list_churn_pages <= 0:
        return
    config.list_churn_pages -= 1
    for _ in range(config.list_churn_remove):
        _remove_oldest(dataset, task, kind)
    for _ in range(config.list_churn_insert):
        _insert(state, dataset, task, kind)


def _remove_oldest(dataset: DatasetRecord, task: WorkforceTaskRecord | None, kind: str) -> None:
    if kind == "tasks":
        if dataset.tasks:
            del dataset.tasks[next(iter(dataset.tasks))]
        return
    if kind == "task_samples" and task is not None:
        if task.samples:
            del task.samples[next(iter(task.samples))]
        return
    if dataset.samples:
        record = dataset.samples.pop(next(iter(dataset.samples)))
        dataset.names.pop(record.name, None)
        for other in dataset.tasks.values():
            other.samples.pop(record.sample_id, None)


def _insert(
    state: EmulatorState, dataset: DatasetRecord, task: WorkforceTaskRecord | None, kind: str
) -> None:
    now = state.now_ms()
    task_id = state.next_workforce_task_id(dataset.dataset_id)  # its counter numbers the names: no repeats
    number = state.task_counter
    if kind == "tasks":
        dataset.tasks[task_id] = WorkforceTaskRecord(
            task_id=task_id,
            task_name=f"churn-{number}",
            dataset_id=dataset.dataset_id,
            status=6,
            create_time=now,
            update_time=now,
            workforces=[],
        )
        return
    newest = _newest(dataset.samples)
    name = f"churn-{number}.jpg"
    record = SampleRecord(
        sample_id=sample_id_for(dataset.dataset_id, name),
        name=name,
        sample_type=newest.sample_type if newest else 0,
        size=1,
        source=f"{BUCKET}/{dataset.dataset_id}/{name}",
        sample_time=now,
        labels=[dict(label) for label in newest.labels or ()] if newest else None,
        to_be_confirmed=newest.to_be_confirmed if newest else False,
    )
    dataset.samples[record.sample_id] = record
    dataset.names[name] = record.sample_id
    if kind == "task_samples" and task is not None:
        model = _newest(task.samples)
        task.samples[record.sample_id] = TaskSample(
            record.sample_id,
            state=model.state if model else "UN_ANNOTATION",
            labels=[dict(label) for label in model.labels or ()] if model else None,
            update_time=now,
        )


def _newest(records: dict[str, Any]) -> Any:
    return next(reversed(records.values()), None)
