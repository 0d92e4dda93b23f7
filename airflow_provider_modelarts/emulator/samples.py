"""Dataset samples: add in batches, update labels in batches (dataset and team task level), list by page.

Per-item outcomes follow the batch pages: HTTP 200 with ``results[i]`` for ``samples[i]`` (same order), each
``success`` plus ``error_code``/``error_msg`` when it failed; the batch ``success`` is false as soon as one
item failed. Nothing of a failed item is applied; the other items are.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from typing import Any

from airflow_provider_modelarts.models import LabelFormat, Sample, SampleLabels

from .codes import CODES, ApiError
from .payloads import MAX_SAMPLE_BYTES, decoded_size, item_problems, parse_body, query_int
from .state import DatasetRecord, EmulatorState, SampleRecord, TaskSample, WorkforceTaskRecord, sample_id_for

__all__ = [
    "DATASET_STATES",
    "TASK_STATES",
    "add_samples",
    "dataset_sample_view",
    "list_dataset_samples",
    "list_task_samples",
    "task_sample_view",
    "update_samples",
    "update_task_samples",
]

BUCKET = "obs://modelarts-emulator"

# Default sample type of a dataset's samples, from the dataset's label type.
_SAMPLE_TYPE_BY_DATASET = {0: 0, 1: 0, 3: 0, 100: 1, 101: 1, 102: 1, 200: 2, 201: 2, 202: 2, 400: 4, 600: 6}


def _failure(code: str, detail: str, **extra: Any) -> dict[str, Any]:
    message = CODES[code][1]
    return {"success": False, **extra, "error_code": code, "error_msg": f"{message.rstrip('.')}: {detail}"}


def _samples_of(payload: Mapping[str, Any]) -> list[Any]:
    samples = payload.get("samples")
    if samples is None:
        return []
    if not isinstance(samples, list):
        raise ApiError("ModelArts.4396", "'samples' must be an array")
    return samples


# ------------------------------------------------------------------------------------------------ add


def add_samples(state: EmulatorState, project_id: str, dataset_id: str, body: bytes) -> dict[str, Any]:
    payload = parse_body(body)
    samples = _samples_of(payload)
    final = payload.get("final_annotation")
    if final is not None and not isinstance(final, bool):
        raise ApiError("ModelArts.4396", "'final_annotation' must be a boolean")
    if payload.get("label_format") is not None:
        problems = item_problems(LabelFormat, [payload["label_format"]])
        if problems:
            raise ApiError("ModelArts.4396", f"label_format: {problems[0]}")
    problems = item_problems(Sample, samples)
    results: list[dict[str, Any]] = []
    with state.lock:
        dataset = state.dataset(project_id, dataset_id)
        now = state.now_ms()
        default_type = _SAMPLE_TYPE_BY_DATASET.get(dataset.dataset_type)
        for index, item in enumerate(samples):
            if not isinstance(item, dict):
                results.append(_failure("ModelArts.4396", f"samples[{index}] must be an object"))
                continue
            data = item.get("data")
            name = item.get("name")
            size = decoded_size(data) if isinstance(data, str) else 0
            if size > MAX_SAMPLE_BYTES:
                results.append(
                    _failure(
                        "ModelArts.4656",
                        f"sample {name!r} is {size:,} bytes, more than {MAX_SAMPLE_BYTES:,}",
                        name=name,
                    )
                )
                continue
            if index in problems:
                results.append(_failure("ModelArts.4396", f"samples[{index}]: {problems[index]}", name=name))
                continue
            data_md5 = (
                hashlib.md5(data.encode(), usedforsecurity=False).hexdigest()
                if isinstance(data, str)
                else None
            )
            if not name:
                # The page makes the name optional; the emulator names such a sample after its content.
                name = data_md5 or sample_id_for(dataset_id, str(index))
            if name in dataset.names:
                results.append(
                    _failure(
                        "ModelArts.4422",
                        f"sample {name!r} already exists in dataset {dataset_id!r}",
                        name=name,
                    )
                )
                continue
            record = _new_sample(dataset, item, name, size, data_md5, now, final, default_type)
            results.append({"success": True, "name": name, "info": record.sample_id})
    return {"success": all(result["success"] for result in results), "results": results}


def _new_sample(
    dataset: DatasetRecord,
    item: Mapping[str, Any],
    name: str,
    size: int,
    data_md5: str | None,
    now: int,
    final: bool | None,
    default_type: int | None,
) -> SampleRecord:
    sample_id = sample_id_for(dataset.dataset_id, name)
    labels = item.get("labels") or None
    sample_type = item.get("sample_type")
    record = SampleRecord(
        sample_id=sample_id,
        name=name,
        sample_type=default_type if sample_type is None else sample_type,
        size=size,
        source=f"{BUCKET}/{dataset.dataset_id}/{name}",
        sample_time=now,
        labels=labels,
        to_be_confirmed=bool(labels) and final is False,
        metadata=item.get("metadata"),
        encoding=item.get("encoding"),
        data_md5=data_md5,
    )
    dataset.samples[sample_id] = record
    dataset.names[name] = sample_id
    for task in dataset.tasks.values():
        if task.synchronize_data and sample_id not in task.samples:
            task.samples[sample_id] = TaskSample(sample_id, update_time=now)
    return record


# --------------------------------------------------------------------------------------------- update


def update_samples(state: EmulatorState, project_id: str, dataset_id: str, body: bytes) -> dict[str, Any]:
    samples = _samples_of(parse_body(body))
    problems = item_problems(SampleLabels, samples)
    results: list[dict[str, Any]] = []
    with state.lock:
        dataset = state.dataset(project_id, dataset_id)
        for index, item in enumerate(samples):
            failure = _item_failure(index, item, problems)
            if failure is None:
                sample_id = item["sample_id"]
                record = dataset.samples.get(sample_id)
                if record is None:
                    failure = _failure(
                        "ModelArts.4420", f"sample {sample_id!r} not found in dataset {dataset_id!r}"
                    )
                else:
                    # "If this parameter is left blank, all sample labels are deleted."
                    record.labels = item.get("labels") or None
                    record.to_be_confirmed = False
                    if item.get("metadata") is not None:
                        record.metadata = item["metadata"]
                    if item.get("sample_usage") is not None:
                        record.sample_usage = item["sample_usage"]
                    if item.get("sample_type") is not None:
                        record.sample_type = item["sample_type"]
            results.append(failure or {"success": True})
    return {"success": all(result["success"] for result in results), "results": results}


def update_task_samples(
    state: EmulatorState, project_id: str, dataset_id: str, task_id: str, body: bytes
) -> dict[str, Any]:
    samples = _samples_of(parse_body(body))
    problems = item_problems(SampleLabels, samples)
    results: list[dict[str, Any]] = []
    with state.lock:
        _, task = state.task(project_id, dataset_id, task_id)
        _check_labeling_allowed(task)
        workers = {worker.get("worker_id") for worker in task.workers()}
        now = state.now_ms()
        for index, item in enumerate(samples):
            failure = _item_failure(index, item, problems)
            if failure is None:
                sample_id = item["sample_id"]
                task_sample = task.samples.get(sample_id)
                worker_id = item.get("worker_id")
                if task_sample is None:
                    failure = _failure(
                        "ModelArts.4420", f"sample {sample_id!r} is not in team labeling task {task_id!r}"
                    )
                elif worker_id is not None and worker_id not in workers:
                    failure = _failure("ModelArts.4604", f"worker {worker_id!r} is not in the task's team")
                else:
                    labels = item.get("labels") or None
                    task_sample.labels = labels
                    task_sample.state = "UNCHECK" if labels else "UN_ANNOTATION"
                    task_sample.sampled = False
                    task_sample.check_accept = task_sample.check_score = task_sample.check_comment = None
                    task_sample.update_time = now
                    if worker_id is not None:
                        task_sample.worker_id = worker_id
            results.append(failure or {"success": True})
        task.update_time = now
    return {"success": all(result["success"] for result in results), "results": results}


def _item_failure(index: int, item: Any, problems: Mapping[int, str]) -> dict[str, Any] | None:
    if not isinstance(item, dict):
        return _failure("ModelArts.4396", f"samples[{index}] must be an object")
    if index in problems:
        return _failure("ModelArts.4396", f"samples[{index}]: {problems[index]}")
    if not item.get("sample_id"):
        return _failure("ModelArts.4396", f"samples[{index}]: sample_id is required")
    return None


def _check_labeling_allowed(task: WorkforceTaskRecord) -> None:
    if task.status in (2, 5, 7):
        raise ApiError(
            "ModelArts.4623",
            f"team labeling task {task.task_id!r} is being accepted (status {task.status}); "
            "finish or cancel the acceptance before changing labels",
        )
    if task.status == 3:
        raise ApiError(
            "ModelArts.4396", f"team labeling task {task.task_id!r} is already accepted (status 3)"
        )
    if task.status in (0, 6):
        raise ApiError(
            "ModelArts.4396", f"team labeling task {task.task_id!r} is not running yet (status {task.status})"
        )


# ----------------------------------------------------------------------------------------------- views


def _worker_index(task: WorkforceTaskRecord | None) -> dict[str, dict[str, Any]]:
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
                workers if workers is not None else _worker_index(task), task_sample.worker_id
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
        raise ApiError("ModelArts.4396", f"unknown sample_state {state!r}; valid: {', '.join(TASK_STATES)}")
    return state


def _page(items: list[Any], query: Mapping[str, str]) -> list[Any]:
    """``limit`` 1-100 (default 10); ``offset`` is the start *page* (default 0), as the pages define it."""
    limit = query_int(query, "limit", 10, low=1, high=100)
    offset = query_int(query, "offset", 0, low=0)
    start = offset * limit
    return items[start : start + limit]


def _order(records: list[Any], query: Mapping[str, str]) -> list[Any]:
    """``order`` desc (the pages' default) lists the newest samples first. Samples are kept in the order
    they were added, which is their ``sample_time`` order, so no sort is needed."""
    order = (query.get("order") or "desc").lower()
    if order not in ("asc", "desc"):
        raise ApiError("ModelArts.4396", f"order must be asc or desc, got {order!r}")
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
        page = _page(records, query)
        task = next(iter(dataset.tasks.values()), None)
        workers = _worker_index(task)
        return {
            "sample_count": len(records),
            "samples": [dataset_sample_view(dataset, r, workers) for r in page],
        }


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
        page = _page(pairs, query)
        workers = _worker_index(task)
        return {
            "sample_count": len(pairs),
            "samples": [task_sample_view(dataset, record, ts, workers) for record, ts in page],
        }
