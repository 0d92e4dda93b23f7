"""Dataset import tasks, decided in one place; imports no Airflow.

* :mod:`~airflow_provider_modelarts.import_tasks.adoption`: an import is created once (start or adopt the
  import this run owns: the task-state-store claim, the bounded search of the list, refusing to guess);
* :mod:`~airflow_provider_modelarts.import_tasks.waiting`: the one evaluation of an import task's state
  (pending, success, partial, failed, gone) and the figures of XCom.

``ModelArtsHook`` (for ``ImportFromObsOperator``) and ``ImportTaskTrigger`` call these, so a look in the
worker and a poll in the triggerer always mean the same thing. Design: ``docs/design/obs-import.md``.
"""

from __future__ import annotations

from airflow_provider_modelarts.import_tasks.adoption import (
    SEARCH_MARGIN_MS,
    AmbiguousImportTaskError,
    ImportBusyError,
    ImportNotListedError,
    ImportStart,
    import_mode,
    infer_import_type,
    normalize_path,
    read_ms,
    same_path,
    start_or_adopt,
)
from airflow_provider_modelarts.import_tasks.waiting import (
    UNFINISHED,
    ImportCriteria,
    ImportEvaluation,
    aread_task,
    evaluate,
    figures_of,
    progress_log,
    read_task,
)

__all__ = [
    "SEARCH_MARGIN_MS",
    "UNFINISHED",
    "AmbiguousImportTaskError",
    "ImportBusyError",
    "ImportCriteria",
    "ImportEvaluation",
    "ImportNotListedError",
    "ImportStart",
    "aread_task",
    "evaluate",
    "figures_of",
    "import_mode",
    "infer_import_type",
    "normalize_path",
    "progress_log",
    "read_ms",
    "read_task",
    "same_path",
    "start_or_adopt",
]
