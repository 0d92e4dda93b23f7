"""The team labeling task life cycle: create, list, start, update, delete, and the task views.

Pages (``../shared/spec/related/``): CreateWorkforceTask, ListWorkforceTasks, StartWorkforceTask,
UpdateWorkforceTask, DeleteWorkforceTask and Querying Details About a Team Labeling Task; states from the
list page's ``status`` table and the user guide's team-labeling chapter:

    create --> CREATED(6) --start--> STARTING(0) --step--> RUNNING(1)   (acceptance: see lifecycle.py)
    REJECTED(4) --start--> STARTING(0) --step--> RUNNING(1)             ("The manager starts the task again")
    ACCEPTED(3) is final: its labels are no longer changed by the team (403 ModelArts.4600)

Several team tasks per dataset are normal. Start assigns the task every dataset sample that is not in the
labeled set (no labels, or labels still to be confirmed), "to annotators randomly and evenly" (round robin
over the task's labelers here, so it is repeatable). Requests are validated with the package's models.

Errors (``modelarts_error_codes.tsv``, as on every call, see ``codes.py``): a bad parameter is
``ModelArts.0104`` "Parameter error." (the generic row; ``4396``'s row is about import tasks), a missing
dataset ``ModelArts.4352`` and a missing task ``ModelArts.4619``, both at ``config.not_found_status`` (400 as
the tsv files them, or 404 as the pages' status tables list). The settings of ``config.py`` also make the
other replies the pages allow: short list pages, a create reply without ``task_id``, and 429
``ModelArts.4395`` for creates; task details carry only the statistics their flags ask for (the default).

Body keys the create page does not list (``task_nmae``) are accepted and ignored: the page lists the fields
but states no refusal of others, and the emulator validates no more strictly than a page states (README).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow_provider_modelarts._text import quote
from airflow_provider_modelarts.models import (
    CreateWorkforceTaskRequest,
    StartWorkforceTaskRequest,
    UpdateWorkforceTaskRequest,
)

from . import list_churn
from .codes import ApiError
from .lifecycle import check_stats
from .payloads import query_bool, query_int, validated_body
from .records import DatasetRecord, TaskSample, WorkforceTaskRecord
from .state import EmulatorState

__all__ = ["create_task", "delete_task", "list_tasks", "start_task", "task_view", "update_task"]

#: ListWorkforceTasks: "The value ranges from 1 to 1000. The default value is 1000."
_MAX_PAGE = 1000

#: CreateWorkforceTask keys the emulator stores and shows back but does not act on.
_KEPT_OPTIONS = ("auto_sync_dataset", "data_sync_type", "sample_conditions", "synchronize_auto_labeling_data")


def _teams(state: EmulatorState, config: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """The teams (with the chosen members) a ``workforces_config`` names; every team when it names none.

    An unknown team is ``ModelArts.4601`` ("The workforce does not exist"), a member given by an e-mail or
    id the team lacks ``ModelArts.4604`` ("The worker does not exist"), both from the error table.
    """
    wanted = (config or {}).get("workforces") or [{"workforce_id": team_id} for team_id in state.workforces]
    teams = []
    for entry in wanted:
        team_id = entry.get("workforce_id")
        if team_id is None:  # the pages allow a team given by name only
            team_id = next(
                (
                    i
                    for i, t in state.workforces.items()
                    if t.get("workforce_name") == entry.get("workforce_name")
                ),
                None,
            )
        team = state.workforces.get(team_id) if team_id is not None else None
        if team is None:
            raise ApiError(
                "ModelArts.4601", f"team {quote(team_id or entry.get('workforce_name'))} not found"
            )
        members = list(team.get("workers") or [])
        if entry.get("workers"):
            chosen = []
            for worker in entry["workers"]:
                found = next(
                    (
                        m
                        for m in members
                        if (worker.get("email") and m.get("email") == worker.get("email"))
                        or (worker.get("worker_id") and m.get("worker_id") == worker.get("worker_id"))
                    ),
                    None,
                )
                if found is None:
                    who = worker.get("email") or worker.get("worker_id")
                    raise ApiError("ModelArts.4604", f"{quote(who)} is not a member of team {quote(team_id)}")
                chosen.append(found)
            members = chosen
        teams.append({**team, "workers": [dict(member) for member in members]})
    return teams


def _check_name_free(dataset: DatasetRecord, name: str, task_id: str | None = None) -> None:
    """``ModelArts.4620`` "A team labeling task whose name is the task_name value already exists" (error
    table). The pages do not say in what scope names are unique; per dataset is the emulator's assumption
    (README), and a seed may still hold two tasks of one name, as a service with another scope could."""
    if any(t.task_name == name and t.task_id != task_id for t in dataset.tasks.values()):
        raise ApiError(
            "ModelArts.4620",
            f"dataset {dataset.dataset_id!r} already has a team labeling task named {quote(name)}",
        )


def create_task(state: EmulatorState, project_id: str, dataset_id: str, body: bytes) -> dict[str, Any] | None:
    """CreateWorkforceTask: a new task in status CREATED (6), no samples until it is started.

    The reply is ``{"task_id"}`` (Table 6), or what ``config.create_task_reply`` asks for: ``{}`` or 204 with
    no body (the page marks no reply field mandatory). ``config.throttle_task_creates`` > 0 refuses this
    create with 429 ``ModelArts.4395`` and counts down; the throttle is checked after the body and the
    dataset, before anything is created.
    """
    payload = validated_body(CreateWorkforceTaskRequest, body)
    with state.lock:
        dataset = state.dataset(project_id, dataset_id)
        if state.config.throttle_task_creates > 0:
            state.config.throttle_task_creates -= 1
            raise ApiError("ModelArts.4395", f"too many team labeling task creations on {quote(dataset_id)}")
        task_id = state.next_workforce_task_id(dataset_id)
        name = payload.get("task_name") or f"task-{task_id[:4].lower()}"  # the page's example: "task-eb17"
        _check_name_free(dataset, name)
        teams = _teams(state, payload.get("workforces_config"))
        now = state.now_ms()
        dataset.tasks[task_id] = WorkforceTaskRecord(
            task_id=task_id,
            task_name=name,
            dataset_id=dataset_id,
            status=6,
            create_time=now,
            update_time=now,
            workforces=teams,
            # The list page: synchronize_data "false: Do not synchronize the added data. (Default value)".
            synchronize_data=bool(payload.get("synchronize_data", False)),
            repetition=int(payload.get("repetition") or 1),
            options={key: payload[key] for key in _KEPT_OPTIONS if payload.get(key) is not None},
        )
        reply = state.config.create_task_reply
        if reply == "no_content":
            return None
        return {} if reply == "empty" else {"task_id": task_id}


def list_tasks(
    state: EmulatorState, project_id: str, dataset_id: str, query: Mapping[str, str]
) -> dict[str, Any]:
    """ListWorkforceTasks: ``offset`` is a page number (default 0), ``limit`` 1-1000 (default 1000); tasks in
    the order they were created. Query parameters the page does not document are ignored.

    ``limit`` is the "Maximum number of records returned on each page": with ``config.task_page_cap`` set,
    pages hold at most that many tasks and ``offset`` counts pages of that size; ``count`` is the "Total
    number of team labeling tasks" (unless ``list_churn.py``'s settings shape it or change the list)."""
    limit = query_int(query, "limit", _MAX_PAGE, low=1, high=_MAX_PAGE)
    offset = list_churn.page_number(state, query_int(query, "offset", 0, low=0))
    if state.config.task_page_cap is not None:
        limit = min(limit, state.config.task_page_cap)
    with state.lock:
        dataset = state.dataset(project_id, dataset_id)
        tasks = list(dataset.tasks.values())
        page = tasks[offset * limit : offset * limit + limit]
        reply = {**list_churn.counted(state, "count", len(tasks)), "tasks": [_view(dataset, t) for t in page]}
        list_churn.after_page(state, dataset, None, "tasks")
        return reply


def start_task(
    state: EmulatorState, project_id: str, dataset_id: str, task_id: str, body: bytes
) -> dict[str, Any]:
    """StartWorkforceTask: CREATED (6) or REJECTED (4) -> STARTING (0); other states: ``ModelArts.4621``."""
    payload = validated_body(StartWorkforceTaskRequest, body)
    with state.lock:
        dataset, task = state.task(project_id, dataset_id, task_id)
        if task.status not in (4, 6):
            raise ApiError(
                "ModelArts.4621",
                f"team labeling task {task_id!r} is in status {task.status}; only a created (6) or "
                "rejected (4) task can be started",
            )
        if payload.get("workforces_config") is not None:
            task.workforces = _teams(state, payload["workforces_config"])
        now = state.now_ms()
        if task.status == 6:
            _assign_samples(dataset, task, now)
        task.status = 0 if state.config.start_steps else 1
        task.steps_left = max(state.config.start_steps - 1, 0)
        task.update_time = now
        return {}


def _assign_samples(dataset: DatasetRecord, task: WorkforceTaskRecord, now: int) -> None:
    labelers = [w.get("worker_id") for w in task.workers() if w.get("role", 0) == 0 and w.get("worker_id")]
    unlabeled = [r for r in dataset.samples.values() if not r.labels or r.to_be_confirmed]
    for position, record in enumerate(unlabeled):
        worker = labelers[position % len(labelers)] if labelers else None
        task.samples[record.sample_id] = TaskSample(record.sample_id, worker_id=worker, update_time=now)


def update_task(
    state: EmulatorState, project_id: str, dataset_id: str, task_id: str, body: bytes
) -> dict[str, Any]:
    """UpdateWorkforceTask: name, description and teams; the body's ``dataset_id``/``task_id`` are ignored
    (the path says which task)."""
    payload = validated_body(UpdateWorkforceTaskRequest, body)
    with state.lock:
        dataset, task = state.task(project_id, dataset_id, task_id)
        if payload.get("task_name") is not None:
            _check_name_free(dataset, payload["task_name"], task_id)
        teams = _teams(state, payload["workforces_config"]) if payload.get("workforces_config") else None
        if payload.get("task_name") is not None:
            task.task_name = payload["task_name"]
        if payload.get("description") is not None:
            task.description = payload["description"]
        if teams is not None:
            task.workforces = teams
        task.update_time = state.now_ms()
        return {}


def delete_task(state: EmulatorState, project_id: str, dataset_id: str, task_id: str) -> None:
    """DeleteWorkforceTask (any status): "the labeling details that are not accepted will be lost", while the
    dataset keeps what acceptance already synchronized to it (user guide)."""
    with state.lock:
        dataset, _ = state.task(project_id, dataset_id, task_id)
        del dataset.tasks[task_id]


def _sample_stats(task: WorkforceTaskRecord) -> dict[str, int]:
    samples = list(task.samples.values())
    return {
        "total_sample_count": len(samples),
        "unannotated_sample_count": sum(1 for s in samples if not s.labels),
        "unreviewed_sample_count": 0,
        "uncheck_sample_count": sum(1 for s in samples if s.state == "UNCHECK"),
        "sampled_sample_count": sum(1 for s in samples if s.sampled and s.state == "UNCHECK"),
        "rejected_sample_count": sum(1 for s in samples if s.state == "REJECTED"),
        "accepted_sample_count": sum(1 for s in samples if s.state == "ACCEPTED"),
        "auto_annotation_sample_count": 0,
        "deleted_sample_count": 0,
    }


def task_view(
    state: EmulatorState, project_id: str, dataset_id: str, task_id: str, query: Mapping[str, str]
) -> dict[str, Any]:
    """Querying Details About a Team Labeling Task: the list's view plus per-member statistics.

    The page's query flags ``label_stats``, ``sample_stats`` and ``workforce_stats`` all default to false
    ("Do not return ... (Default value)"), so each statistic is answered only when its flag asks for it.
    The page's example shows sample and personnel statistics without the flags; ``config.task_stats_by_flag``
    off answers ``sample_stats`` / ``workforce_stats`` always, as that example does. ``worker_stats``
    (per-member progress) goes with ``workforce_stats`` ("Whether to return personnel statistics"), an
    assumption: the page ties it to no flag.
    """
    with state.lock:
        dataset, task = state.task(project_id, dataset_id, task_id)
        view = _view(dataset, task)
        view["worker_stats"] = [
            _worker_stats(dataset, task, worker, view["sample_stats"]) for worker in task.workers()
        ]
        if query_bool(query, "label_stats"):
            view["label_stats"] = _label_stats(task)
        if state.config.task_stats_by_flag:
            if not query_bool(query, "sample_stats"):
                del view["sample_stats"]
            if not query_bool(query, "workforce_stats"):
                del view["workforce_stats"], view["worker_stats"]
        return view


def _view(dataset: DatasetRecord, task: WorkforceTaskRecord) -> dict[str, Any]:
    """Table 4 "WorkforceTask" of the list page (the details page answers the same fields and more)."""
    workers = task.workers()
    stats = _sample_stats(task)
    rounds = [r for r in task.checking if not r.cancelled]
    view: dict[str, Any] = {
        "dataset_id": dataset.dataset_id,
        "task_id": task.task_id,
        "task_name": task.task_name,
        "description": task.description,
        "status": task.status,
        "create_time": task.create_time,
        "update_time": task.update_time,
        "repetition": task.repetition,
        "workforces_config": {"workforces": task.workforces},
        "synchronize_data": task.synchronize_data,
        "synchronize_auto_labeling_data": bool(task.options.get("synchronize_auto_labeling_data", False)),
        "auto_sync_dataset": bool(task.options.get("auto_sync_dataset", True)),
        # The page's example answers these without the flags being set; so does the emulator.
        "sample_stats": stats,
        "workforce_stats": {
            "workforce_count": len(task.workforces),
            "labeler_count": sum(1 for w in workers if w.get("role", 0) == 0),
            "reviewer_count": sum(1 for w in workers if w.get("role") == 1),
        },
    }
    latest = task.current or (rounds[-1] if rounds else None)
    if latest is not None:
        checking = check_stats([latest])
        desc: dict[str, Any] = {
            "checking_task_id": latest.task_id,
            "overwrite_last_result": bool(latest.overwrite_last_result),
            "checking_stats": checking,
            "total_stats": check_stats(rounds),
        }
        if latest.action is not None:
            desc["action"] = latest.action
        view["checking_task_desc"] = desc
        view["pass_rate"] = checking["pass_rate"]
        view["check_rate"] = latest.sampling_rate
        view["score"] = round(checking["pass_rate"] * 100, 2)
    return view


def _worker_stats(
    dataset: DatasetRecord, task: WorkforceTaskRecord, worker: dict[str, Any], stats: dict[str, int]
) -> dict[str, Any]:
    return {
        "email": worker.get("email"),
        "worker_id": worker.get("worker_id"),
        "role": worker.get("role", 0),
        "task_id": task.task_id,
        "workforce_task_name": task.task_name,
        "dataset_id": dataset.dataset_id,
        "dataset_type": dataset.dataset_type,
        "task_status": task.status,
        "sample_stats": stats,
        "create_time": task.create_time,
        "update_time": task.update_time,
        "email_status": 3,
        "last_notify_time": 0,
    }


def _label_stats(task: WorkforceTaskRecord) -> list[dict[str, Any]]:
    counts: dict[tuple[str, Any], list[int]] = {}
    for task_sample in task.samples.values():
        seen: set[tuple[str, Any]] = set()
        for label in task_sample.labels or ():
            key = (str(label.get("name")), label.get("type"))
            entry = counts.setdefault(key, [0, 0])
            entry[0] += 1
            if key not in seen:
                entry[1] += 1
                seen.add(key)
    return [
        {"name": name, "type": label_type, "count": count, "sample_count": sample_count, "property": {}}
        for (name, label_type), (count, sample_count) in counts.items()
    ]
