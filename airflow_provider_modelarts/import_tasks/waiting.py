"""Waiting for an import task: the one evaluation of its state, read leniently; imports no Airflow.

Page: ``../shared/spec/related/querying_details_about_a_dataset_import_task.rst`` (details; the list's Table 4
has the same fields and statuses). :func:`evaluate` is the one definition of "done" for the operator's first
look, its polls in the worker and the trigger's (``docs/design/obs-import.md``, section 4):

* QUEUING / STARTING / RUNNING: pending (status, imported/total samples, finished/total files).
* COMPLETED: success; with a warning naming ``not_imported`` when ``imported < total`` (a final failure with
  ``allow_partial=False``: a retry would adopt the same import and fail again), and "nothing to import" when
  ``total == 0``.
* FAILED: failure with ``error_code`` / ``error_msg`` and the hint of the error table (``errors.code_hint``).
* NOT_EXIST, or details answered with a "task gone" code (4612 / 4700, :func:`read_task`): failure.
* Any other status, or none: pending; the progress log says it once (it logs on a change of status).

``not_imported = total - imported`` (floored at 0): no page has a failed-sample count. Sub-samples are
reported apart, never summed. ``processor_task_status`` has no table: it is not judged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from airflow_provider_modelarts.errors import IMPORT_TASK_MISSING_CODES, ModelArtsNotFoundError, code_hint
from airflow_provider_modelarts.models import ImportMode, ImportTaskStatus, ImportTaskStatusResp, ImportType
from airflow_provider_modelarts.waiting import ProgressLog, WaitState

if TYPE_CHECKING:
    from airflow_provider_modelarts.client import AsyncModelArtsClient, ModelArtsClient

__all__ = [
    "UNFINISHED",
    "ImportCriteria",
    "ImportEvaluation",
    "aread_task",
    "evaluate",
    "figures_of",
    "progress_log",
    "read_task",
]

UNFINISHED = frozenset({ImportTaskStatus.QUEUING, ImportTaskStatus.STARTING, ImportTaskStatus.RUNNING})


# ----------------------------------------------------------------------------------------------- reading


def _gone(dataset_id: str, task_id: str) -> ImportTaskStatusResp:
    return ImportTaskStatusResp(dataset_id=dataset_id, task_id=task_id, status=ImportTaskStatus.NOT_EXIST)


def read_task(client: ModelArtsClient, dataset_id: str, task_id: str) -> ImportTaskStatusResp:
    """Details of an import task; a "task gone" answer (4612 / 4700 not found) reads as ``NOT_EXIST``."""
    try:
        return client.get_import_task(dataset_id, task_id)
    except ModelArtsNotFoundError as exc:
        if exc.error_code in IMPORT_TASK_MISSING_CODES:
            return _gone(dataset_id, task_id)
        raise


async def aread_task(client: AsyncModelArtsClient, dataset_id: str, task_id: str) -> ImportTaskStatusResp:
    """:func:`read_task` with an async client (the trigger's)."""
    try:
        return await client.get_import_task(dataset_id, task_id)
    except ModelArtsNotFoundError as exc:
        if exc.error_code in IMPORT_TASK_MISSING_CODES:
            return _gone(dataset_id, task_id)
        raise


# ---------------------------------------------------------------------------------------------- evaluate


@dataclass(frozen=True)
class ImportCriteria:
    """What an import wait accepts: ``allow_partial`` (``False``: ``imported < total`` fails for good)."""

    allow_partial: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {"allow_partial": self.allow_partial}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> ImportCriteria:
        return cls(allow_partial=bool((data or {}).get("allow_partial", True)))


@dataclass(frozen=True)
class ImportEvaluation:
    """One look at an import: ``state``, a sentence, figures for XCom; ``warning`` and ``final`` (a retry
    would adopt the same import and fail again) qualify it."""

    state: WaitState
    message: str
    figures: dict[str, Any] = field(default_factory=dict)
    warning: bool = False
    final: bool = False

    @property
    def done(self) -> bool:
        return self.state is not WaitState.PENDING


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def figures_of(task: ImportTaskStatusResp) -> dict[str, Any]:
    """The small XCom figures of a task (never sample lists); ``None`` where the reply has no number."""
    stats = task.file_statistics
    total, imported = _count(task.total_sample_count), _count(task.imported_sample_count)
    mode = task.import_type
    return {
        "import_task_id": task.task_id,
        "status": None if task.status is None else str(task.status),
        "import_path": task.import_path,
        "import_type": str(ImportType.MANIFEST if mode == ImportMode.MANIFEST else ImportType.DIR)
        if mode in (0, 1)
        else mode,
        "total": total,
        "imported": imported,
        "not_imported": None if total is None else max(0, total - (imported or 0)),
        "annotated": _count(task.annotated_sample_count),
        "unconfirmed": _count(task.unconfirmed_sample_count),
        "sub_samples_total": _count(task.total_sub_sample_count),
        "sub_samples_imported": _count(task.imported_sub_sample_count),
        "files_total": _count(task.total_file_count) or (stats and _count(stats.file_num_total)),
        "files_finished": _count(task.finished_file_count) or (stats and _count(stats.file_num_finished)),
        "bytes_total": _count(task.total_file_size) or (stats and _count(stats.file_size_total)),
        "bytes_finished": _count(task.finished_file_size) or (stats and _count(stats.file_size_finished)),
        "elapsed_seconds": _count(task.elapsed_time),
        "error_code": task.error_code,
        "error_msg": task.error_msg,
    }


def progress_log() -> ProgressLog:
    """The progress log of an import wait: a line when the status, imported count or finished files move."""
    return ProgressLog(watched=("status", "imported", "files_finished"))


def evaluate(
    task: ImportTaskStatusResp, criteria: ImportCriteria, *, dataset_id: str | None = None
) -> ImportEvaluation:
    """Pending / success / failure of an import task (module docstring: the table)."""
    figures = figures_of(task)
    label = f"import task {task.task_id} of dataset {dataset_id or task.dataset_id or '?'}"
    total, imported, missing = figures["total"], figures["imported"], figures["not_imported"]
    counts = (
        f"{imported if imported is not None else '?'}/{total if total is not None else '?'} samples imported"
    )
    status = task.status

    def result(state: WaitState, message: str, **flags: bool) -> ImportEvaluation:
        return ImportEvaluation(state, message, figures, **flags)

    if status in UNFINISHED:
        files = f"{figures['files_finished'] or 0}/{figures['files_total'] or '?'} files copied"
        return result(WaitState.PENDING, f"The {label} is {status}: {counts}, {files}.")
    if status == ImportTaskStatus.COMPLETED:
        if not total:
            return result(
                WaitState.SUCCESS, f"The {label} completed with nothing to import (0 samples).", warning=True
            )
        if missing:
            text = f"The {label} completed with {missing} of {total} samples not imported ({counts})"
            if not criteria.allow_partial:
                return result(
                    WaitState.FAILURE, f"{text}; allow_partial=False refuses a partial import.", final=True
                )
            return result(WaitState.SUCCESS, f"{text}.", warning=True)
        return result(WaitState.SUCCESS, f"The {label} completed: {counts}.")
    if status == ImportTaskStatus.FAILED:
        hint = code_hint(task.error_code)
        why = f"{task.error_code or 'no error_code'}: {task.error_msg or 'no error_msg'}" + (
            f"; {hint}" if hint else ""
        )
        return result(WaitState.FAILURE, f"The {label} failed ({why}); {counts}.")
    if status == ImportTaskStatus.NOT_EXIST:
        return result(WaitState.FAILURE, f"The {label} no longer exists.")
    return result(
        WaitState.PENDING, f"The {label} has status {status!r}, which is not one the page lists; {counts}."
    )
