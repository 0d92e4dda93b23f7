"""Dataset import tasks: create, list, details, and their life cycle on the emulator's steps.

Pages (``../shared/spec/related/``): ``creating_an_import_task.rst``,
``querying_the_dataset_import_task_list.rst``, ``querying_details_about_a_dataset_import_task.rst``. The
objects come from a real S3-compatible server through the S3 API (``obs.py``), so what an import finds is
what the store holds::

    create --> QUEUING --import_steps--> STARTING --import_steps--> RUNNING --import_pace per step-->
        COMPLETED (every object read; empty ones and unusable manifest lines count in total, not imported)
        FAILED    (an OBS code: a path error with import_path_errors="task", an object that cannot be read
                   (4374) or is too large (4419), or the import_fail setting)

* One running import per dataset: create answers 400 ``ModelArts.4356`` while one is unfinished.
* Samples get the emulator's md5 ids of their names: ``<import_folder>/<key below the prefix>`` with an
  ``import_folder`` (a second import of the same file into that folder is the same sample, counted as
  imported and not added twice: the page's "to avoid repeated import of the same samples"),
  ``<task_id>/<key>`` without one (a second import adds the file again). A directory import labels an
  object with the sub-folder it sits in (``cat/1.jpg``: cat), a manifest line with its ``annotation`` names,
  when ``import_annotations``; ``final_annotation=false`` leaves them to be confirmed.
* ``included_labels`` / ``excluded_labels`` (names, or Label objects with a ``name``) choose what counts.
* The list: ``limit`` 1-100 (default 10), ``offset`` a page number; ``import_list_order``,
  ``import_list_lag`` and ``import_page_cap`` give the replies the page allows (no order stated, a lag).
* Create's body is checked with the provider's ``CreateImportTaskRequest`` (a bad field:
  ``ModelArts.4396``); its reply is ``{"task_id"}`` or what ``create_import_reply`` asks for; an unknown
  task id is ``ModelArts.4612``.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_modelarts.models import CreateImportTaskRequest

from .codes import ApiError
from .obs import ObsObject, read_object, scan
from .payloads import parse_body, query_int, validated_body
from .records import DatasetRecord, SampleRecord, TaskSample, sample_id_for
from .state import EmulatorState

__all__ = [
    "ImportTaskRecord",
    "create_import_task",
    "delete_import_task",
    "get_import_task",
    "list_import_tasks",
    "moving",
    "step_imports",
]

_MAX_PAGE = 100
_UNFINISHED = ("QUEUING", "STARTING", "RUNNING")


@dataclass
class ImportTaskRecord:
    task_id: str
    dataset_id: str
    import_path: str
    import_type: int  # the replies' 0 (dir) / 1 (manifest)
    options: dict[str, Any]
    create_time: int
    status: str = "QUEUING"
    update_ms: int = 0
    steps_left: int = 0
    hidden_steps: int = 0  # import_list_lag: steps before the list shows the task
    objects: list[ObsObject] | None = None
    position: int = 0
    total: int = 0
    imported: int = 0
    annotated: int = 0
    unconfirmed: int = 0
    bytes_finished: int = 0
    error_code: str | None = None
    error_msg: str | None = None
    finished_at: int | None = None
    samples: list[str] = field(default_factory=list)

    def view(self, now: int) -> dict[str, Any]:
        objects = self.objects or []
        total_size = sum(obj.size for obj in objects)
        files = sum(1 for obj in objects if obj.valid)
        end = self.finished_at or now
        return {
            "task_id": self.task_id, "dataset_id": self.dataset_id, "import_path": self.import_path,
            "import_type": self.import_type, "status": self.status, "create_time": self.create_time,
            "update_ms": self.update_ms, "elapsed_time": max(0, (end - self.create_time) // 1000),
            "total_sample_count": self.total, "imported_sample_count": self.imported,
            "annotated_sample_count": self.annotated, "unconfirmed_sample_count": self.unconfirmed,
            "total_sub_sample_count": 0, "imported_sub_sample_count": 0,
            "total_file_count": files, "finished_file_count": min(self.position, files),
            "total_file_size": total_size, "finished_file_size": self.bytes_finished,
            "file_statistics": {"file_num_total": files, "file_num_finished": min(self.position, files),
                                "file_size_total": total_size, "file_size_finished": self.bytes_finished},
            "data_source": {"data_type": 0, "data_path": self.import_path},
            **({"error_code": self.error_code, "error_msg": self.error_msg} if self.error_code else {}),
        }  # fmt: skip


def _imports(dataset: DatasetRecord) -> dict[str, ImportTaskRecord]:
    return dataset.imports


def _label_names(labels: Any) -> set[str]:
    return {label if isinstance(label, str) else str(label.get("name")) for label in labels or ()
            if isinstance(label, str) or (isinstance(label, dict) and label.get("name"))}  # fmt: skip


def _fail(task: ImportTaskRecord, error: ApiError, now: int) -> None:
    task.status, task.error_code, task.error_msg = "FAILED", error.code, error.message
    task.finished_at = task.update_ms = now


def _scanned(state: EmulatorState, task: ImportTaskRecord) -> list[ObsObject]:
    found = scan(state.config, task.import_path, task.import_type == 1).objects
    included, excluded = (
        _label_names(task.options.get("included_labels")),
        _label_names(task.options.get("excluded_labels")),
    )
    if included:
        found = [obj for obj in found if included & set(obj.labels)]
    return [obj for obj in found if not excluded & set(obj.labels)]


def create_import_task(
    state: EmulatorState, project_id: str, dataset_id: str, body: bytes
) -> dict[str, Any] | None:
    """ImportTask: a new task in QUEUING; 4356 while the dataset runs one; OBS codes at create when
    ``import_path_errors`` is "create"."""
    payload = parse_body(body)
    try:
        validated_body(CreateImportTaskRequest, body)
    except ApiError as exc:
        raise ApiError("ModelArts.4396", exc.message) from None
    import_type = payload.get("import_type")
    if isinstance(import_type, str) and import_type.lower() == "manifest":
        mode = 1
    elif import_type is None or (isinstance(import_type, str) and import_type.lower() == "dir"):
        mode = 1 if str(payload["import_path"]).endswith(".manifest") and import_type is None else 0
    else:
        raise ApiError("ModelArts.4396", f"import_type must be dir or manifest, got {import_type!r}")
    config = state.config
    with state.lock:
        dataset = state.dataset(project_id, dataset_id)
        running = [t for t in _imports(dataset).values() if t.status in _UNFINISHED]
        if running:
            raise ApiError("ModelArts.4356", f"import task {running[0].task_id} is still {running[0].status}")
        now = state.now_ms()
        task = ImportTaskRecord(
            task_id=state.next_import_task_id(dataset_id), dataset_id=dataset_id,
            import_path=str(payload["import_path"]), import_type=mode, options=payload, create_time=now,
            update_ms=now, steps_left=config.import_steps, hidden_steps=config.import_list_lag,
        )  # fmt: skip
        if config.import_path_errors == "create":
            task.objects = _scanned(state, task)  # raises the OBS code: nothing is created
            task.total = len(task.objects)
        _imports(dataset)[task.task_id] = task
        reply = config.create_import_reply
        if reply == "no_content":
            return None
        return {} if reply == "empty" else {"task_id": task.task_id}


def list_import_tasks(
    state: EmulatorState, project_id: str, dataset_id: str, query: Mapping[str, str]
) -> dict[str, Any]:
    """ListImportTasks: ``limit`` 1-100 (default 10), ``offset`` the start page (default 0)."""
    limit = query_int(query, "limit", 10, low=1, high=_MAX_PAGE)
    offset = query_int(query, "offset", 0, low=0)
    config = state.config
    if config.import_page_cap is not None:
        limit = min(limit, config.import_page_cap)
    with state.lock:
        dataset = state.dataset(project_id, dataset_id)
        tasks = [t for t in _imports(dataset).values() if t.hidden_steps <= 0]
        if config.import_list_order == "desc":
            tasks.reverse()
        elif config.import_list_order == "shuffled":
            random.Random(f"{config.random_seed}:{len(tasks)}").shuffle(tasks)
        now = state.now_ms()
        page = tasks[offset * limit : offset * limit + limit]
        return {"total_count": len(tasks), "import_tasks": [t.view(now) for t in page]}


def get_import_task(state: EmulatorState, project_id: str, dataset_id: str, task_id: str) -> dict[str, Any]:
    """DescImportTask; an unknown id is ``ModelArts.4612`` at ``config.not_found_status``."""
    with state.lock:
        task = _imports(state.dataset(project_id, dataset_id)).get(task_id)
        if task is None:
            raise ApiError("ModelArts.4612", f"import task {task_id!r} not found in dataset {dataset_id!r}")
        return task.view(state.now_ms())


# ------------------------------------------------------------------------------------------- life cycle


def moving(state: EmulatorState) -> list[tuple[DatasetRecord, ImportTaskRecord]]:
    """The import tasks a step changes: unfinished ones, and ones the list does not show yet."""
    return [
        (dataset, task)
        for dataset in state.datasets.values()
        for task in dataset.imports.values()
        if task.status in _UNFINISHED or task.hidden_steps > 0
    ]


def step_imports(state: EmulatorState, tasks: list[tuple[DatasetRecord, ImportTaskRecord]]) -> None:
    """One step of each task (``lifecycle.step`` calls it with :func:`moving`, under the state's lock)."""
    now = state.now_ms()
    for dataset, task in tasks:
        task.hidden_steps = max(0, task.hidden_steps - 1)
        if task.status not in _UNFINISHED:
            continue
        task.update_ms = now
        if task.steps_left > 0:
            task.steps_left -= 1
        elif task.status == "QUEUING":
            task.status, task.steps_left = "STARTING", state.config.import_steps
        elif task.status == "STARTING":
            try:
                if task.objects is None:
                    task.objects = _scanned(state, task)
                    task.total = len(task.objects)
            except ApiError as exc:
                _fail(task, exc, now)
                continue
            task.status = "RUNNING"
        else:
            _copy(state, dataset, task, now)


def _copy(state: EmulatorState, dataset: DatasetRecord, task: ImportTaskRecord, now: int) -> None:
    objects, config = task.objects or [], state.config
    fail = config.import_fail
    for obj in objects[task.position : task.position + config.import_pace]:
        if (
            fail
            and fail.get("path") == task.import_path
            and task.imported >= int(fail.get("after_samples", 0))
        ):
            _fail(task, ApiError(str(fail["error_code"]), "import_fail setting"), now)
            return
        task.position += 1
        if not obj.valid:
            continue
        try:
            data = read_object(config, obj)
        except ApiError as exc:
            _fail(task, exc, now)
            return
        task.bytes_finished += len(data)
        _add_sample(dataset, task, obj, len(data), now)
    if task.position >= len(objects):
        task.status, task.finished_at = "COMPLETED", now


def _add_sample(dataset: DatasetRecord, task: ImportTaskRecord, obj: ObsObject, size: int, now: int) -> None:
    options = task.options
    _, _, prefix_key = task.import_path.partition("://")[2].partition("/")
    relative = obj.key[len(prefix_key) :].lstrip("/") if obj.key.startswith(prefix_key) else obj.key
    folder = options.get("import_folder")
    name = f"{folder}/{relative}" if folder else f"{task.task_id}/{relative}"
    task.imported += 1
    labels = [{"name": label} for label in obj.labels] if options.get("import_annotations", True) else []
    final = options.get("final_annotation", True) is not False
    present = dataset.samples.get(dataset.names.get(name, ""))
    if present is not None:  # the same file into the same import_folder: the page's "avoid repeated import"
        task.annotated += bool(present.labels) and not present.to_be_confirmed
        task.unconfirmed += bool(present.labels) and present.to_be_confirmed
        return
    sample_id = sample_id_for(dataset.dataset_id, name)
    dataset.samples[sample_id] = SampleRecord(
        sample_id=sample_id, name=name, sample_type=0, size=size, source=f"obs://{obj.bucket}/{obj.key}",
        sample_time=now, labels=labels or None, to_be_confirmed=bool(labels) and not final,
    )  # fmt: skip
    dataset.names[name] = sample_id
    task.samples.append(sample_id)
    for team_task in dataset.tasks.values():  # synchronize_data: as an added sample (samples.py)
        if (
            team_task.synchronize_data
            and team_task.status not in (3, 6)
            and sample_id not in team_task.samples
        ):
            team_task.samples[sample_id] = TaskSample(sample_id, update_time=now)
    if labels and final:
        task.annotated += 1
    elif labels:
        task.unconfirmed += 1


def delete_import_task(state: EmulatorState, dataset_id: str, task_id: str) -> bool:
    """Admin: forget an import task (details then answer 4612, "task gone"); ``False`` if unknown."""
    with state.lock:
        dataset = state.datasets.get(dataset_id)
        return dataset is not None and dataset.imports.pop(task_id, None) is not None
