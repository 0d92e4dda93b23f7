"""Sample views and lists: how dataset and team-task samples are shown, filtered and paged.

Querying the Sample List (``querying_the_sample_list.rst``) and Querying the Sample List of a Team Labeling
Task by Page (``querying_the_sample_list_of_a_team_labeling_task_by_page.rst``): ``sample_state`` filters,
``label_name``, ``order`` and paging (``limit`` 1-100, ``offset`` a page number). ``sample_count`` ("Number
of samples.") is the number of samples matching the query, all pages together (README assumption). A bad
query parameter is ``ModelArts.0104`` "Parameter error." (the tsv's generic row, see ``codes.py``). The
settings of ``list_churn.py`` change a list between its pages, shape its count and ignore ``offset``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from airflow_provider_modelarts._text import quote

from . import list_churn
from .codes import PARAMETER_ERROR, ApiError
from .payloads import query_int
from .records import BUCKET, DatasetRecord, SampleRecord, TaskSample, WorkforceTaskRecord
from .state import EmulatorState

__all__ = [
    "DATASET_STATES",
    "TASK_STATES",
    "dataset_sample_view",
    "list_dataset_samples",
    "list_datasets",
    "list_task_samples",
    "task_sample_view",
    "worker_index",
]


# ----------------------------------------------------------------------------------------------- views


def worker_index(task: WorkforceTaskRecord | None) -> dict[str, dict[str, Any]]:
    if task is None:
        return {}
    return {str(worker.get("worker_id")): worker for worker in task.workers()}


def _labeler(workers: Mapping[str, dict[str, Any]], worker_id: str | None) -> list[dict[str, Any]]:
    worker = workers.get(worker_id or "")
    if worker is None:
        return []
    return [{key: worker[key] for key in ("email", "worker_id", "role") if key in worker}]


def _base_view(dataset: DatasetRecord, record: SampleRecord) -> dict[str, Any]:
    view: dict[str, Any] = {
        "sample_id": record.sample_id,
        "sample_name": record.name,
        "sample_type": record.sample_type,
        "source": record.source,
        "sample_dir": f"{BUCKET}/{dataset.dataset_id}/",
        "sample_size": record.size,
        "sample_time": record.sample_time,
        "metadata": record.metadata or {"@modelarts:import_origin": 0},
    }
    if record.sample_usage is not None:
        view["sample_usage"] = record.sample_usage
    return view


def dataset_sample_view(
    dataset: DatasetRecord, record: SampleRecord, workers: Mapping[str, dict[str, Any]] | None = None
) -> dict[str, Any]:
    view = _base_view(dataset, record)
    view["labels"] = record.labels or []
    if record.to_be_confirmed:
        view["sample_status"] = "AUTO_ANNOTATION"
    else:
        view["sample_status"] = "MANUAL_ANNOTATION" if record.labels else "UN_ANNOTATION"
    for task in dataset.tasks.values():
        task_sample = task.samples.get(record.sample_id)
        if task_sample is not None and task_sample.worker_id:
            view["worker_id"] = task_sample.worker_id
            view["labelers"] = _labeler(
                workers if workers is not None else worker_index(task), task_sample.worker_id
            )
            break
    return view


def task_sample_view(
    dataset: DatasetRecord,
    record: SampleRecord,
    task_sample: TaskSample,
    workers: Mapping[str, dict[str, Any]],
) -> dict[str, Any]:
    view = _base_view(dataset, record)
    view["labels"] = task_sample.labels or []
    view["sample_status"] = task_sample.state
    if task_sample.worker_id:
        view["worker_id"] = task_sample.worker_id
        view["labelers"] = _labeler(workers, task_sample.worker_id)
    if task_sample.check_accept is not None:
        view["check_accept"] = task_sample.check_accept
        view["check_score"] = task_sample.check_score
        view["check_comment"] = task_sample.check_comment
    return view


# ----------------------------------------------------------------------------------------------- lists


def _labeled(labels: list[dict[str, Any]] | None) -> bool:
    return bool(labels)


TaskPredicate = Callable[[TaskSample], bool]

TASK_STATES: dict[str, TaskPredicate] = {
    "__ALL__": lambda s: _labeled(s.labels),
    "__NONE__": lambda s: not s.labels,
    "__UNCHECK__": lambda s: s.state == "UNCHECK",
    "__ACCEPTED__": lambda s: s.state == "ACCEPTED",
    "__REJECTED__": lambda s: s.state == "REJECTED",
    # No separate review stage in the emulator: a labeled team sample counts as reviewed.
    "__UNREVIEWED__": lambda s: False,
    "__REVIEWED__": lambda s: s.state in ("UNCHECK", "ACCEPTED", "REJECTED"),
    "__WORKFORCE_SAMPLED__": lambda s: s.sampled,
    "__WORKFORCE_SAMPLED_UNCHECK__": lambda s: s.sampled and s.check_accept is None,
    "__WORKFORCE_SAMPLED_CHECKED__": lambda s: s.sampled and s.check_accept is not None,
    "__WORKFORCE_SAMPLED_ACCEPTED__": lambda s: s.sampled and s.check_accept is True,
    "__WORKFORCE_SAMPLED_REJECTED__": lambda s: s.sampled and s.check_accept is False,
    "__AUTO_ANNOTATION__": lambda s: False,
}

DATASET_STATES = (*TASK_STATES, "__AUTO_ANNOTATION__")


def _state_name(query: Mapping[str, str]) -> str | None:
    state = query.get("sample_state") or None
    if state is not None and state not in TASK_STATES:
        raise ApiError(
            PARAMETER_ERROR, f"unknown sample_state {quote(state)}; valid: {', '.join(TASK_STATES)}"
        )
    return state


def _page(items: list[Any], query: Mapping[str, str], state: EmulatorState) -> list[Any]:
    """``limit`` 1-100 (default 10); ``offset`` is the start *page* (default 0), as the pages define it.

    ``limit`` is the "Maximum number of records returned on each page" (both sample list pages): with
    ``config.sample_page_cap`` set, pages hold at most that many samples and ``offset`` counts pages of that
    size, while ``sample_count`` stays the number of matching samples."""
    limit = query_int(query, "limit", 10, low=1, high=100)
    offset = list_churn.page_number(state, query_int(query, "offset", 0, low=0))
    cap = state.config.sample_page_cap
    if cap is not None:
        limit = min(limit, cap)
    start = offset * limit
    return items[start : start + limit]


def _order(records: list[Any], query: Mapping[str, str]) -> list[Any]:
    """``order`` desc (the pages' default) lists the newest samples first. Samples are kept in the order
    they were added, which is their ``sample_time`` order, so no sort is needed."""
    order = (query.get("order") or "desc").lower()
    if order not in ("asc", "desc"):
        raise ApiError(PARAMETER_ERROR, f"order must be asc or desc, got {quote(order)}")
    if order == "desc":
        records.reverse()
    return records


def _has_label(labels: list[dict[str, Any]] | None, name: str) -> bool:
    return any(isinstance(label, dict) and label.get("name") == name for label in labels or ())


def list_dataset_samples(
    state: EmulatorState, project_id: str, dataset_id: str, query: Mapping[str, str]
) -> dict[str, Any]:
    sample_state = _state_name(query)
    label_name = query.get("label_name") or None
    sample_type = query_int(query, "sample_type", -1) if query.get("sample_type") else None
    with state.lock:
        dataset = state.dataset(project_id, dataset_id)
        records = list(dataset.samples.values())
        if sample_state is not None:
            records = [r for r in records if _dataset_state_matches(dataset, r, sample_state)]
        if label_name is not None:
            records = [r for r in records if _has_label(r.labels, label_name)]
        if sample_type is not None:
            records = [r for r in records if r.sample_type == sample_type]
        records = _order(records, query)
        page = _page(records, query, state)
        task = next(iter(dataset.tasks.values()), None)
        workers = worker_index(task)
        reply = {
            **list_churn.counted(state, "sample_count", len(records)),
            "samples": [dataset_sample_view(dataset, r, workers) for r in page],
        }
        list_churn.after_page(state, dataset, None, "samples")
        return reply


def _dataset_state_matches(dataset: DatasetRecord, record: SampleRecord, sample_state: str) -> bool:
    if sample_state == "__ALL__":
        return bool(record.labels) and not record.to_be_confirmed
    if sample_state == "__NONE__":
        return not record.labels
    if sample_state == "__AUTO_ANNOTATION__":
        return record.to_be_confirmed
    predicate = TASK_STATES[sample_state]
    return any(
        (task_sample := task.samples.get(record.sample_id)) is not None and predicate(task_sample)
        for task in dataset.tasks.values()
    )


def list_task_samples(
    state: EmulatorState, project_id: str, dataset_id: str, task_id: str, query: Mapping[str, str]
) -> dict[str, Any]:
    sample_state = _state_name(query)
    label_name = query.get("label_name") or None
    with state.lock:
        dataset, task = state.task(project_id, dataset_id, task_id)
        pairs = [
            (dataset.samples[sample_id], task_sample)
            for sample_id, task_sample in task.samples.items()
            if sample_id in dataset.samples
        ]
        if sample_state is not None:
            predicate = TASK_STATES[sample_state]
            pairs = [pair for pair in pairs if predicate(pair[1])]
        if label_name is not None:
            pairs = [pair for pair in pairs if _has_label(pair[1].labels, label_name)]
        pairs = _order(pairs, query)
        page = _page(pairs, query, state)
        workers = worker_index(task)
        reply = {
            **list_churn.counted(state, "sample_count", len(pairs)),
            "samples": [task_sample_view(dataset, record, ts, workers) for record, ts in page],
        }
        list_churn.after_page(state, dataset, task, "task_samples")
        return reply


def list_datasets(state: EmulatorState, project_id: str, query: Mapping[str, str]) -> dict[str, Any]:
    """A minimal dataset list (not in the pages; the connection test's cheap call)."""
    limit = query_int(query, "limit", 10, low=1, high=100)
    offset = query_int(query, "offset", 0, low=0)
    with state.lock:
        found = [d for d in state.datasets.values() if d.project_id == project_id]
        page = found[offset * limit : offset * limit + limit]
        datasets = [
            {
                "dataset_id": d.dataset_id,
                "dataset_name": d.dataset_name,
                "dataset_type": d.dataset_type,
                "description": d.description,
                "create_time": d.create_time,
                "status": 1,
                "total_sample_count": len(d.samples),
                "annotated_sample_count": sum(1 for s in d.samples.values() if s.labels),
            }
            for d in page
        ]
    return {"total_number": len(found), "datasets": datasets}
