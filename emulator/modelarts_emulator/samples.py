"""Dataset samples: add in batches, update labels in batches (dataset and team task level), list by page.

Per-item outcomes follow the batch pages: HTTP 200 with ``results[i]`` for ``samples[i]`` (same order), each
``success`` plus ``error_code``/``error_msg`` when it failed; the batch ``success`` is false as soon as one
item failed. Nothing of a failed item is applied; the other items are.

Codes (rows of ``modelarts_error_codes.tsv``): a bad parameter, of the whole request or of one item, is
``ModelArts.0104`` "Parameter error." (the generic row; the pages name no per-API code for it), a duplicate
name ``ModelArts.4422`` "Sample already exists", an unknown sample id ``ModelArts.4420`` "Sample not found",
data over 12,582,912 bytes ``ModelArts.4656`` "Sample oversized.", a worker outside the task's team
``ModelArts.4604`` "The worker does not exist"; a missing dataset or task is ``ModelArts.4352`` /
``ModelArts.4619`` at ``config.not_found_status`` (``codes.py``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from airflow_provider_modelarts._text import quote
from airflow_provider_modelarts.models import MAX_SAMPLE_BYTES, LabelFormat, Sample, SampleLabels

from .codes import CODES, PARAMETER_ERROR, ApiError
from .payloads import decoded_size, item_problems, parse_body
from .records import BUCKET, DatasetRecord, SampleRecord, TaskSample, WorkforceTaskRecord, sample_id_for
from .state import EmulatorState

__all__ = ["add_samples", "update_samples", "update_task_samples"]

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
        raise ApiError(PARAMETER_ERROR, "'samples' must be an array")
    return samples


# ------------------------------------------------------------------------------------------------ add


def add_samples(state: EmulatorState, project_id: str, dataset_id: str, body: bytes) -> dict[str, Any]:
    payload = parse_body(body)
    samples = _samples_of(payload)
    final = payload.get("final_annotation")
    if final is not None and not isinstance(final, bool):
        raise ApiError(PARAMETER_ERROR, "'final_annotation' must be a boolean")
    if payload.get("label_format") is not None:
        problems = item_problems(LabelFormat, [payload["label_format"]])
        if problems:
            raise ApiError(PARAMETER_ERROR, f"label_format: {problems[0]}")
    problems = item_problems(Sample, samples)
    results: list[dict[str, Any]] = []
    with state.lock:
        dataset = state.dataset(project_id, dataset_id)
        now = state.now_ms()
        default_type = _SAMPLE_TYPE_BY_DATASET.get(dataset.dataset_type)
        for index, item in enumerate(samples):
            if not isinstance(item, dict):
                results.append(_failure(PARAMETER_ERROR, f"samples[{index}] must be an object"))
                continue
            data = item.get("data")
            name = item.get("name")
            size = decoded_size(data) if isinstance(data, str) else 0
            if size > MAX_SAMPLE_BYTES:
                results.append(
                    _failure(
                        "ModelArts.4656",
                        f"sample {quote(name)} is {size:,} bytes, more than {MAX_SAMPLE_BYTES:,}",
                        name=name,
                    )
                )
                continue
            if index in problems:
                results.append(_failure(PARAMETER_ERROR, f"samples[{index}]: {problems[index]}", name=name))
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
                        f"sample {quote(name)} already exists in dataset {dataset_id!r}",
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
        # synchronize_data: new files join a started task; a created one takes them in when it starts, and
        # an accepted one is final.
        if task.synchronize_data and task.status not in (3, 6) and sample_id not in task.samples:
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
                        "ModelArts.4420", f"sample {quote(sample_id)} not found in dataset {dataset_id!r}"
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
                        "ModelArts.4420",
                        f"sample {quote(sample_id)} is not in team labeling task {task_id!r}",
                    )
                elif worker_id is not None and worker_id not in workers:
                    failure = _failure(
                        "ModelArts.4604", f"worker {quote(worker_id)} is not in the task's team"
                    )
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
        return _failure(PARAMETER_ERROR, f"samples[{index}] must be an object")
    if index in problems:
        return _failure(PARAMETER_ERROR, f"samples[{index}]: {problems[index]}")
    if not item.get("sample_id"):
        # The update pages make sample_id optional ("Mandatory: No"): the request is well formed, but without
        # an id there is no sample to update.
        return _failure("ModelArts.4420", f"samples[{index}] has no sample_id, so no sample to update")
    return None


def _check_labeling_allowed(task: WorkforceTaskRecord) -> None:
    if task.status in (2, 5, 7):
        raise ApiError(
            "ModelArts.4623",
            f"team labeling task {task.task_id!r} is being accepted (status {task.status}); "
            "finish or cancel the acceptance before changing labels",
        )
    if task.status == 3:
        # User guide: "Once the labeled data is accepted, team members cannot modify the labeling
        # information."
        raise ApiError(
            "ModelArts.4600",
            f"team labeling task {task.task_id!r} is accepted (status 3) and its labels are final; "
            "label new samples in a new team labeling task",
        )
    if task.status in (0, 6):
        # The tsv has no row for "not started yet"; the generic "Parameter error." (README assumption).
        raise ApiError(
            PARAMETER_ERROR, f"team labeling task {task.task_id!r} is not running yet (status {task.status})"
        )
