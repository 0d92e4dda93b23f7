"""The team labeling life cycle: acceptance sampling, simulated reviewers, the owner's decision, and time.

    RUNNING(1) --start acceptance--> SAMPLING(7) --step--> ACCEPTING(2)
    ACCEPTING(2): each step the reviewers check ``reviewer_pace`` sampled samples; each passes with
                  probability ``reviewer_pass_rate`` (decided by a hash of seed, round and sample, so a
                  result never depends on timing)
    ACCEPTING(2) --update status, action 0/4/5--> SYNCHRONIZING(5) --step--> ACCEPTED(3)
    ACCEPTING(2) --update status, action 1-----> SYNCHRONIZING(5) --step--> REJECTED(4)
    ACCEPTING(2) --update status, action 2-----> RUNNING(1)            (cancel)
    ACCEPTING(2) --update status, action 3-----> unchanged             (list the conflicted samples)

Time moves in *steps*: one step per ``step_seconds`` of emulator time (wall clock plus the admin clock
offset), evaluated lazily at every request, and on demand through ``POST /_emulator/advance``.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from typing import Any

from airflow_provider_modelarts._text import quote
from airflow_provider_modelarts.models import (
    CreateWorkforceSamplingTaskRequest,
    UpdateWorkforceSamplingTaskRequest,
)

from . import import_tasks
from .codes import ApiError
from .payloads import validated_body
from .records import CheckingTask, DatasetRecord, TaskSample, WorkforceTaskRecord
from .sample_lists import task_sample_view, worker_index
from .state import EmulatorState

__all__ = [
    "acceptance_report",
    "advance",
    "check_stats",
    "start_acceptance",
    "step",
    "tick",
    "update_acceptance_status",
]

_LOCALES = ("en-us", "zh-cn")
_TRANSITIONAL = (0, 2, 5, 7)


# ------------------------------------------------------------------------------------------------ time


def tick(state: EmulatorState) -> int:
    """Apply the steps the emulator clock owes since the last tick; returns how many were applied."""
    step_seconds = state.config.step_seconds
    now = state.now()
    if step_seconds is None:
        state.last_tick = now
        return 0
    elapsed = now - state.last_tick
    if elapsed < step_seconds:
        return 0
    with state.lock:
        steps = int((now - state.last_tick) // step_seconds)
        if steps <= 0:
            return 0
        state.last_tick += steps * step_seconds
        return step(state, steps)


def advance(state: EmulatorState, *, steps: int = 0, seconds: float = 0.0) -> int:
    """Move the emulator forward: ``seconds`` moves the clock (tokens age, reviewers progress at their
    pace); ``steps`` applies that many steps at once. Returns the number of steps applied."""
    with state.lock:
        applied = 0
        if seconds:
            state.clock_offset += seconds
            applied += tick(state)
        if steps:
            applied += step(state, steps)
        return applied


def step(state: EmulatorState, count: int = 1) -> int:
    """Apply ``count`` steps to every team labeling task and import task (``import_tasks.py``); stops early
    once nothing is left to move."""
    with state.lock:
        for done in range(count):
            moving = [
                (dataset, task)
                for dataset in state.datasets.values()
                for task in dataset.tasks.values()
                if task.status in _TRANSITIONAL and _can_move(task)
            ]
            importing = import_tasks.moving(state)
            if not moving and not importing:
                return done
            for dataset, task in moving:
                _step_task(state, dataset, task)
            import_tasks.step_imports(state, importing)
        return count


def _can_move(task: WorkforceTaskRecord) -> bool:
    if task.status != 2:
        return True
    current = task.current
    return current is not None and len(current.results) < len(current.sampled)


def _step_task(state: EmulatorState, dataset: DatasetRecord, task: WorkforceTaskRecord) -> None:
    now = state.now_ms()
    if task.status in (0, 5, 7) and task.steps_left > 0:
        task.steps_left -= 1
        return
    if task.status == 0:
        task.status = 1
    elif task.status == 7:
        task.status = 2
    elif task.status == 5:
        _finish_sync(dataset, task, now)
    elif task.status == 2:
        _review(state, task, now)
    task.update_time = now


def _review(state: EmulatorState, task: WorkforceTaskRecord, now: int) -> None:
    current = task.current
    if current is None:
        return
    config = state.config
    pending = [sample_id for sample_id in current.sampled if sample_id not in current.results]
    for sample_id in pending[: config.reviewer_pace]:
        draw = random.Random(f"{config.random_seed}:{current.task_id}:{sample_id}").random()
        accepted = draw < config.reviewer_pass_rate
        current.results[sample_id] = accepted
        task_sample = task.samples.get(sample_id)
        if task_sample is not None:
            task_sample.check_accept = accepted
            task_sample.check_score = "A" if accepted else "E"
            task_sample.check_comment = "" if accepted else "label does not match the sample"
            task_sample.update_time = now


def _finish_sync(dataset: DatasetRecord, task: WorkforceTaskRecord, now: int) -> None:
    """The end of SYNCHRONIZING(5): accepted team labels become the dataset's labels."""
    overwrite = bool(task.current and task.current.overwrite_last_result)
    for sample_id, task_sample in task.samples.items():
        if task_sample.state != "ACCEPTED" or not task_sample.labels:
            continue
        record = dataset.samples.get(sample_id)
        if record is None:
            continue
        if record.labels and not overwrite:
            continue  # overwrite_last_result=false keeps labels the dataset already has
        record.labels = [dict(label) for label in task_sample.labels]
        record.to_be_confirmed = False
    task.status = task.next_status if task.next_status is not None else 3
    task.next_status = None


# ----------------------------------------------------------------------------------------- acceptance


def start_acceptance(
    state: EmulatorState, project_id: str, dataset_id: str, task_id: str, body: bytes
) -> dict[str, Any]:
    payload = validated_body(CreateWorkforceSamplingTaskRequest, body)
    with state.lock:
        _, task = state.task(project_id, dataset_id, task_id)
        if task.status in (2, 5, 7):
            raise ApiError(
                "ModelArts.4623",
                f"team labeling task {task_id!r} already has an acceptance in progress "
                f"(status {task.status})",
            )
        if task.status not in (1, 4):
            raise ApiError(
                "ModelArts.4615",
                f"team labeling task {task_id!r} cannot start an acceptance in status {task.status}",
            )
        candidates = [sample_id for sample_id, ts in task.samples.items() if ts.state == "UNCHECK"]
        if not candidates:
            raise ApiError(
                "ModelArts.4625",
                f"team labeling task {task_id!r} has no labeled samples waiting for acceptance",
            )
        checking_id = state.next_checking_task_id(task)
        if payload.get("sampling_num") is not None:
            count = min(int(payload["sampling_num"]), len(candidates))
        else:
            count = max(1, math.ceil(float(payload["sampling_rate"]) * len(candidates) - 1e-9))
        chosen = set(random.Random(f"{state.config.random_seed}:{checking_id}").sample(candidates, count))
        sampled = [sample_id for sample_id in candidates if sample_id in chosen]
        now = state.now_ms()
        for sample_id in candidates:
            task_sample = task.samples[sample_id]
            task_sample.sampled = sample_id in chosen
            task_sample.check_accept = task_sample.check_score = task_sample.check_comment = None
        current = CheckingTask(
            task_id=checking_id,
            sampling_num=count,
            sampling_rate=round(count / len(candidates), 4)
            if payload.get("sampling_rate") is None
            else float(payload["sampling_rate"]),
            total_sample_count=len(candidates),
            sampled=sampled,
            create_time=now,
        )
        task.checking.append(current)
        task.current = current
        task.status = 7
        task.steps_left = max(state.config.sampling_steps - 1, 0)
        task.update_time = now
        if state.config.sampling_steps == 0:
            task.status = 2
        return {"task_id": checking_id}


def update_acceptance_status(
    state: EmulatorState,
    project_id: str,
    dataset_id: str,
    task_id: str,
    query: Mapping[str, str],
    body: bytes,
) -> dict[str, Any]:
    locale = query.get("locale")
    if not locale:
        raise ApiError("ModelArts.4398", "query parameter 'locale' is required (for example locale=en-us)")
    if locale.lower() not in _LOCALES:
        raise ApiError("ModelArts.4398", f"locale {quote(locale)} is not one of {', '.join(_LOCALES)}")
    payload = validated_body(UpdateWorkforceSamplingTaskRequest, body)
    action = int(payload["action"])
    overwrite = payload.get("overwrite_last_result")
    with state.lock:
        dataset, task = state.task(project_id, dataset_id, task_id)
        current = task.current
        if task.status in (5, 7):
            raise ApiError(
                "ModelArts.4623",
                f"team labeling task {task_id!r} is {'sampling' if task.status == 7 else 'synchronizing'} "
                f"(status {task.status}); try again shortly",
            )
        if task.status != 2 or current is None:
            raise ApiError(
                "ModelArts.4631",
                f"team labeling task {task_id!r} has no acceptance in progress (status {task.status}); "
                "start one first",
            )
        workers = worker_index(task)
        now = state.now_ms()
        candidates = [ts for ts in task.samples.values() if ts.state == "UNCHECK"]
        if action == 3:
            conflicts = [ts for ts in candidates if ts.check_accept is False]
            return _sample_answer(dataset, conflicts, workers)
        if action == 2:
            for task_sample in candidates:
                task_sample.sampled = False
                task_sample.check_accept = task_sample.check_score = task_sample.check_comment = None
            current.cancelled = True
            current.action = action
            task.current = None
            task.status = 1
            task.update_time = now
            return {"sample_count": 0, "samples": []}
        passed: list[TaskSample]
        if action == 0:
            passed = candidates
        elif action == 1:
            passed = []
        elif action == 4:
            passed = [ts for ts in candidates if ts.check_accept is not False]
        else:  # 5
            passed = [ts for ts in candidates if ts.check_accept is True]
        passed_ids = {ts.sample_id for ts in passed}
        for task_sample in candidates:
            task_sample.state = "ACCEPTED" if task_sample.sample_id in passed_ids else "REJECTED"
            task_sample.update_time = now
        current.action = action
        current.overwrite_last_result = bool(overwrite) if overwrite is not None else False
        task.status = 5
        task.next_status = 4 if action == 1 else 3
        task.steps_left = max(state.config.sync_steps - 1, 0)
        task.update_time = now
        if state.config.sync_steps == 0:
            _finish_sync(dataset, task, now)
        return _sample_answer(dataset, passed, workers)


def _sample_answer(
    dataset: DatasetRecord, task_samples: list[TaskSample], workers: Mapping[str, dict[str, Any]]
) -> dict[str, Any]:
    views = [
        task_sample_view(dataset, dataset.samples[ts.sample_id], ts, workers)
        for ts in task_samples
        if ts.sample_id in dataset.samples
    ]
    return {"sample_count": len(views), "samples": views}


# -------------------------------------------------------------------------------------------- reports


def _grade(pass_rate: float) -> str:
    for threshold, grade in ((0.9, "A"), (0.8, "B"), (0.7, "C"), (0.6, "D")):
        if pass_rate >= threshold:
            return grade
    return "E"


def check_stats(rounds: list[CheckingTask]) -> dict[str, Any]:
    sampled = sum(len(r.sampled) for r in rounds)
    checked = sum(len(r.results) for r in rounds)
    accepted = sum(sum(1 for ok in r.results.values() if ok) for r in rounds)
    total = sum(r.total_sample_count for r in rounds)
    pass_rate = round(accepted / checked, 4) if checked else 0.0
    last = rounds[-1] if rounds else None
    if len(rounds) == 1 and last is not None:
        sampling_rate = last.sampling_rate
    else:
        sampling_rate = round(sampled / total, 4) if total else 0.0
    return {
        "task_id": last.task_id if last else None,
        "sampling_rate": sampling_rate,
        "sampling_num": sampled,
        "pass_rate": pass_rate,
        "score": _grade(pass_rate),
        "total_score": accepted * 100,
        "total_sample_count": total,
        "sampled_sample_count": sampled,
        "unchecked_sample_count": sampled - checked,
        "checked_sample_count": checked,
        "accepted_sample_count": accepted,
        "rejected_sample_count": checked - accepted,
    }


def acceptance_report(
    state: EmulatorState, project_id: str, dataset_id: str, task_id: str, query: Mapping[str, str]
) -> dict[str, Any]:
    checking_task_id = query.get("checking_task_id") or None
    with state.lock:
        _, task = state.task(project_id, dataset_id, task_id)
        rounds = [r for r in task.checking if not r.cancelled]
        if checking_task_id is None:
            # The page marks checking_task_id mandatory, but its example omits it: the latest round answers.
            chosen = task.current or (task.checking[-1] if task.checking else None)
        else:
            chosen = next((r for r in task.checking if r.task_id == checking_task_id), None)
            if chosen is None:
                raise ApiError(
                    "ModelArts.4612",
                    f"acceptance task {quote(checking_task_id)} not found for task {task_id!r}",
                )
        report: dict[str, Any] = {"total_stats": check_stats(rounds)}
        if chosen is not None:
            report["checking_stats"] = check_stats([chosen])
        return report
