"""Dataset import tasks created once: start or adopt the import this run owns; imports no Airflow.

Pages (``../shared/spec/related/``): ``creating_an_import_task.rst`` (create) and
``querying_the_dataset_import_task_list.rst`` (list); the design and its reasons:
``docs/design/obs-import.md`` (sections 3 and 6).

Create is sent once (``repeatable=False``); the pages give no caller-chosen key and no list filter, so there
are two memories and no guessing beyond them:

1. The task's own memory (Airflow 3.3+: the operator's ``task_state_store``). A claim ``{"sent_at_ms",
   "import_path", "import_type"}`` is stored (``on_claim``) *before* create is sent, the ``import_task_id``
   once known. A stored id whose task is neither FAILED nor gone is adopted without a list.
2. The service's list, read in full (``client/_paging.py``; order not trusted). A task *matches* when
   :func:`same_path` holds (``s3://`` and ``obs://`` are one scheme, as the create and list examples show;
   a trailing ``/`` is ignored for ``dir``) and its ``import_type`` (0/1) is the one sent (always sent).

:func:`start_or_adopt` is one list-then-act step, repeated under ``retries.repeat_steps``: an unfinished
matching task is adopted (``ModelArts.4356`` allows one running import per dataset); an unfinished task that
does not match raises :class:`ImportBusyError`, as does a create refused with a dataset-busy code; finished
matching tasks created at or after ``since - 2 min`` (``since``: this call's own send time after a lost
answer, else ``claim_since``: the stored claim's ``sent_at_ms``, or without a store the dag run's start;
``None``: nothing searched) are adopted when exactly one is not FAILED, and :class:`AmbiguousImportTaskError`
lists them when two or more are: "refusing to guess which import this run owns". Otherwise the claim is
stored and create sent. An answer lost in transport or a 5xx is never followed by a second create in this
call: the step looks again (:class:`ImportNotListedError`, transient) with ``since`` = the send time. A 2xx
without ``task_id`` is "created" and found the same way. A refusal (4xx, 429 included) applied nothing;
4356 repeats the step. A task whose ``create_time`` is missing cannot be placed in the window and is never
adopted by the search. ``create_time`` is read as ms, a value below 10^11 as seconds (:func:`read_ms`).

Residue: without a store (Airflow 3.1/3.2) a **cleared** finished run imports again (clearing resets the dag
run's start), and two runs importing one path into one dataset at once adopt each other's import;
``import_folder`` makes both harmless by the page's own rule ("to avoid repeated import of the same
samples"). With ``[state_store] clear_on_success`` on, a cleared successful run has no claim either and
imports again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_provider_modelarts.errors import DATASET_BUSY_CODES, ModelArtsAPIError, ModelArtsError
from airflow_provider_modelarts.import_tasks.waiting import read_task
from airflow_provider_modelarts.models import ImportMode, ImportTaskStatus, ImportTaskStatusResp, ImportType
from airflow_provider_modelarts.retries import RetryPolicy, repeat_steps

if TYPE_CHECKING:
    from airflow_provider_modelarts.client import ModelArtsClient

__all__ = [
    "SEARCH_MARGIN_MS",
    "AmbiguousImportTaskError",
    "ImportBusyError",
    "ImportNotListedError",
    "ImportStart",
    "import_mode",
    "infer_import_type",
    "normalize_path",
    "read_ms",
    "same_path",
    "start_or_adopt",
]

#: Clock skew allowed between this host and the service when searching by ``create_time`` (design, 6).
SEARCH_MARGIN_MS = 120_000
_GONE = frozenset({ImportTaskStatus.FAILED, ImportTaskStatus.NOT_EXIST})
_UNFINISHED = frozenset({ImportTaskStatus.QUEUING, ImportTaskStatus.STARTING, ImportTaskStatus.RUNNING})
_SCHEMES = {"s3": "obs", "obs": "obs"}


# ------------------------------------------------------------------------------------------------ paths


def infer_import_type(import_path: str, import_type: Any = None) -> ImportType:
    """The ``import_type`` to send: the given one, else ``manifest`` for a path ending in ``.manifest``."""
    if import_type is not None and str(import_type).strip():
        return ImportType.parse(import_type)
    return ImportType.MANIFEST if import_path.rstrip().lower().endswith(".manifest") else ImportType.DIR


def import_mode(import_type: ImportType) -> ImportMode:
    """The replies' integer for the request's string (``dir`` 0, ``manifest`` 1)."""
    return ImportMode.MANIFEST if import_type is ImportType.MANIFEST else ImportMode.DIR


def normalize_path(path: str, import_type: ImportType = ImportType.DIR) -> str:
    """``path`` as compared: ``s3://`` spelled ``obs://``, and for ``dir`` without a trailing ``/``."""
    text = path.strip()
    scheme, sep, rest = text.partition("://")
    if sep and scheme.lower() in _SCHEMES:
        text = f"{_SCHEMES[scheme.lower()]}://{rest}"
    return text.rstrip("/") if import_type is ImportType.DIR else text


def same_path(listed: Any, wanted: str, import_type: ImportType) -> bool:
    """Whether a listed ``import_path`` is the one this import sends (see :func:`normalize_path`)."""
    return isinstance(listed, str) and normalize_path(listed, import_type) == normalize_path(
        wanted, import_type
    )


def read_ms(value: Any) -> int | None:
    """``create_time`` in epoch ms (the examples' unit; a value below 10^11 is read as seconds)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        return None
    return int(value * 1000) if value < 10**11 else int(value)


# ----------------------------------------------------------------------------------------------- errors


def _listed(tasks: list[ImportTaskStatusResp]) -> str:
    return ", ".join(f"{t.task_id} ({t.status}, created {t.create_time})" for t in tasks)


class AmbiguousImportTaskError(ModelArtsError):
    """Two or more imports of this path could be this run's: nothing is created, nothing guessed."""

    def __init__(self, dataset_id: str, import_path: str, tasks: list[tuple[Any, Any, Any]]) -> None:
        self.dataset_id, self.import_path, self.tasks = dataset_id, import_path, tasks
        listed = ", ".join(f"{task_id} ({status}, created {created})" for task_id, status, created in tasks)
        super().__init__(
            f"Dataset {dataset_id} has {len(tasks)} imports of {import_path} that this run could own: "
            f"{listed}. Refusing to guess which import this run owns; nothing was created. Use another "
            "import_path or run, or an import_folder per source."
        )


class ImportBusyError(ModelArtsError):
    """The dataset runs another import (one at a time, ``ModelArts.4356``) or is busy (4343, 4349, 4355):
    the try fails, and Airflow's ``retries`` try again later."""

    def __init__(self, dataset_id: str, detail: str) -> None:
        self.dataset_id = dataset_id
        super().__init__(
            f"Dataset {dataset_id} cannot import now: {detail}. Airflow's retries try again later."
        )


class ImportNotListedError(ModelArtsError):
    """Create was sent and its answer lost (or came without ``task_id``); the list does not show it yet."""

    def __init__(self, dataset_id: str, import_path: str) -> None:
        self.dataset_id, self.import_path = dataset_id, import_path
        super().__init__(
            f"The import of {import_path} into dataset {dataset_id} was sent, but its answer was lost or "
            "carried no task_id, and the dataset's import task list does not show it (yet); not sending it "
            "again."
        )

    @property
    def is_transient(self) -> bool:
        return True  # the list may show it on the next look


# ------------------------------------------------------------------------------------------ start, adopt


@dataclass(frozen=True)
class ImportStart:
    """What :func:`start_or_adopt` came to: the import task's id, whether this call created it, and why."""

    task_id: str
    created: bool
    reason: str
    status: Any = None

    @property
    def adopted(self) -> bool:
        return not self.created


def _task_id(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _lost(exc: ModelArtsError) -> bool:
    """Whether a failed create may have been applied: no answer, or a server fault (not a refusal)."""
    return not isinstance(exc, ModelArtsAPIError) or exc.status >= 500 or exc.status == 408


def _search(
    tasks: list[ImportTaskStatusResp], since: int | None, dataset_id: str, import_path: str
) -> ImportTaskStatusResp | None:
    """The one finished, not failed matching task created in the window, or None; two raise."""
    if since is None:
        return None
    window = [
        t
        for t in tasks
        if (created := read_ms(t.create_time)) is not None and created >= since - SEARCH_MARGIN_MS
    ]
    alive = [t for t in window if t.status not in _GONE and _task_id(t.task_id)]
    if len(alive) > 1:
        raise AmbiguousImportTaskError(
            dataset_id, import_path, [(t.task_id, t.status, t.create_time) for t in alive]
        )
    return alive[0] if alive else None


def start_or_adopt(
    client: ModelArtsClient,
    dataset_id: str,
    import_path: str,
    *,
    import_type: ImportType,
    options: Mapping[str, Any],
    known_task_id: str | None,
    claim_since: int | None,
    on_claim: Callable[[dict[str, Any]], None] | None,
    now_ms: Callable[[], int],
    repeat: RetryPolicy,
    log: Any,
) -> ImportStart:
    """The import of ``import_path`` this run owns, adopted or created once (module docstring, the rules).

    ``known_task_id``: the id stored by an earlier try; ``claim_since``: epoch ms to search from (the stored
    claim's ``sent_at_ms``, or without a store the dag run's start; ``None``: no search); ``on_claim``: stores
    a record ``{"sent_at_ms", "import_path", "import_type"}`` before create is sent and again with
    ``import_task_id`` when it is known.
    """
    mode = import_mode(import_type)
    if known_task_id:
        task = read_task(client, dataset_id, known_task_id)
        if task.status not in _GONE:
            return ImportStart(known_task_id, False, "its id is in the task's state store", task.status)
        log.warning(
            "Import task %s (stored by an earlier try) is %s (%s: %s); importing anew.",
            known_task_id, task.status, task.error_code, task.error_msg,
        )  # fmt: skip
    claim = {"import_path": import_path, "import_type": str(import_type)}
    sent_at: int | None = None
    for attempt in repeat_steps(repeat):
        with attempt:
            tasks = [t for t in client.iter_import_tasks(dataset_id) if isinstance(t, ImportTaskStatusResp)]
            mine = [
                t
                for t in tasks
                if same_path(t.import_path, import_path, import_type) and t.import_type == mode
            ]
            running = [t for t in tasks if t.status in _UNFINISHED]
            if running:
                match = [t for t in running if any(t is m for m in mine) and _task_id(t.task_id)]
                if len(match) == 1:
                    why = "an unfinished import of the same path (one import runs per dataset)"
                    return ImportStart(str(match[0].task_id), False, why, match[0].status)
                if len(match) > 1:
                    raise AmbiguousImportTaskError(
                        dataset_id, import_path, [(t.task_id, t.status, t.create_time) for t in match]
                    )
                raise ImportBusyError(
                    dataset_id, f"it runs import task(s) {_listed(running)} of another path"
                )
            since = sent_at if sent_at is not None else claim_since
            found = _search([t for t in mine if t.status not in _UNFINISHED], since, dataset_id, import_path)
            if found is not None:
                why = (
                    "sent by this call, its answer lost"
                    if sent_at is not None
                    else "created since this run's claim"
                )
                return ImportStart(
                    str(found.task_id), False, f"a finished import of the same path {why}", found.status
                )
            if sent_at is not None:
                raise ImportNotListedError(dataset_id, import_path)
            sent_at = now_ms()
            if on_claim is not None:
                on_claim({"sent_at_ms": sent_at, **claim})
            try:
                reply = client.create_import_task(
                    dataset_id, {**options, "import_path": import_path, "import_type": str(import_type)}
                )
            except ModelArtsError as exc:
                if not _lost(exc):
                    sent_at = None  # refused: nothing was created
                if isinstance(exc, ModelArtsAPIError) and exc.error_code in DATASET_BUSY_CODES:
                    raise ImportBusyError(dataset_id, str(exc)) from exc
                raise
            new_id = _task_id(getattr(reply, "task_id", None))
            if new_id is None:  # created: found by the search, never sent again
                raise ImportNotListedError(dataset_id, import_path)
            if on_claim is not None:
                on_claim({"sent_at_ms": sent_at, **claim, "import_task_id": new_id})
            return ImportStart(new_id, True, "created", ImportTaskStatus.QUEUING)
    raise AssertionError("repeat_steps either returns or raises")  # pragma: no cover
