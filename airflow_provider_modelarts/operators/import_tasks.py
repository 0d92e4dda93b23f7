"""ImportFromObsOperator: bring data in the way production does, with the service's own import task.

The data stays in OBS (or any ``s3://`` path the service reads): the operator sends one create request and
then only looks at the task; no sample byte passes through the worker or the metadata database. What it
takes care of, each in one place:

* **Created once** across retries, clears and lost answers: ``ModelArtsHook.start_import``
  (:mod:`airflow_provider_modelarts.import_tasks.adoption` has the rules). On Airflow 3.3+ the operator gives
  it the task's own memory, ``context["task_state_store"]`` (scoped to the dag run, task and map index, kept
  across retries and clears): a claim is stored before create is sent and the task id once known, under
  :data:`STATE_KEY`. On 3.1/3.2 there is no store: the search of the list is bounded by the dag run's start.
* **Done** by one evaluation (:func:`airflow_provider_modelarts.import_tasks.evaluate`): the first look
  here, the polls in the worker (``deferrable=False``) and the trigger's in the triggerer.
* **Deferrable by default, literally** (``deferrable=True``; not ``[operators] default_deferrable``, false in
  Airflow's shipped config): an import copies files for minutes or hours and needs no worker slot meanwhile.
  One synchronous look first, so an import already over never goes to the triggerer.
* **Outcome**: XCom figures (never sample lists); on COMPLETED with something imported an asset event for
  the dataset through the alias ``modelarts-samples-imported``; lineage OBS path -> dataset. A partial import
  succeeds with a WARNING (``allow_partial=False``: fails for good); a failed or gone import fails the try
  retryably (a retry imports anew); a ``max_wait`` timeout too (a retry adopts the import and waits again).
* **Logs**: created or adopted (and why), one line before deferring, progress on change only (else a
  heartbeat every ten minutes), one outcome sentence.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException

from airflow_provider_modelarts.links import ModelArtsDatasetLink
from airflow_provider_modelarts.operators.base import (
    SAMPLES_IMPORTED_ALIAS,
    ModelArtsBaseOperator,
    modelarts_template_fields,
    read_trigger_event,
)

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_modelarts.import_tasks import ImportEvaluation

__all__ = ["STATE_KEY", "XCOM_KEYS", "ImportFromObsOperator"]

#: The ``task_state_store`` key of the claim / task id (renaming it would orphan claims of running tries).
STATE_KEY = "modelarts_import"
#: What the operator returns (XCom).
XCOM_KEYS = ("import_task_id", "dataset_id", "import_path", "import_type", "status", "adopted", "total",
             "imported", "not_imported", "annotated", "unconfirmed", "sub_samples_total",
             "sub_samples_imported", "files_total", "files_finished", "bytes_total", "bytes_finished",
             "elapsed_seconds", "error_code", "error_msg")  # fmt: skip
_EXTRA_KEYS = ("dataset_id", "import_task_id", "import_path", "import_type", "total", "imported",
               "not_imported", "annotated", "unconfirmed", "adopted")  # fmt: skip


def _labels(labels: Any) -> list[Any] | None:
    """``included_labels`` / ``excluded_labels``: label names are sent as ``{"name": ...}`` (Table 6)."""
    if labels is None:
        return None
    if isinstance(labels, (str, Mapping)):
        labels = [labels]
    return [{"name": label} if isinstance(label, str) else label for label in labels]


class ImportFromObsOperator(ModelArtsBaseOperator):
    """Import samples (and labels) from an OBS directory or manifest into a dataset with an import task.

    ``POST .../datasets/{dataset_id}/import-tasks`` once, then its details until it is over (pages
    ``creating_an_import_task``, ``querying_details_about_a_dataset_import_task``).

    :param dataset_id: the dataset (templated).
    :param import_path: ``obs://bucket/prefix/`` or ``s3://...``, a directory or a ``.manifest`` (templated).
    :param import_type: ``dir`` or ``manifest``; ``None``: ``manifest`` when the path ends in ``.manifest``.
    :param import_annotations, import_samples, final_annotation, difficult_only: create fields (Table 2);
        ``final_annotation=False`` imports labels as pre-labels to be confirmed.
    :param included_labels, excluded_labels: label names or Label dicts (Table 6) (templated).
    :param import_folder: the dataset subdirectory the samples go to; give a fixed name per source: the page's
        own rule imports the same samples once into one folder (templated).
    :param label_format, with_column_header: text datasets (Table 10) / table datasets.
    :param allow_partial: a COMPLETED import with ``imported < total`` succeeds with a warning (default);
        ``False`` fails it for good.
    :param wait_for_completion: ``False`` returns once the import is created or adopted.
    :param deferrable: wait in the triggerer (default ``True``); ``False`` polls in the worker.
    :param poll_interval: seconds between looks (default 30).
    :param max_wait: how long to wait before the try fails retryably (default 12 hours).
    """

    template_fields: Sequence[str] = modelarts_template_fields(
        "dataset_id", "import_path", "import_type", "import_folder", "included_labels", "excluded_labels"
    )
    operator_extra_links = (ModelArtsDatasetLink(),)
    default_asset_alias = SAMPLES_IMPORTED_ALIAS
    ui_color = "#e8f4e1"

    def __init__(
        self,
        *,
        dataset_id: str,
        import_path: str,
        import_type: str | None = None,
        import_annotations: bool = True,
        import_samples: bool = True,
        final_annotation: bool = True,
        difficult_only: bool = False,
        included_labels: Any = None,
        excluded_labels: Any = None,
        import_folder: str | None = None,
        label_format: dict[str, Any] | None = None,
        with_column_header: bool | None = None,
        allow_partial: bool = True,
        wait_for_completion: bool = True,
        deferrable: bool = True,
        poll_interval: float = 30.0,
        max_wait: timedelta | float = timedelta(hours=12),
        **kwargs: Any,
    ) -> None:
        self.check_arguments({**kwargs, "import_type": import_type})
        super().__init__(**kwargs)
        self.dataset_id, self.import_path, self.import_type = dataset_id, import_path, import_type
        self.import_annotations, self.import_samples = import_annotations, import_samples
        self.final_annotation, self.difficult_only = final_annotation, difficult_only
        self.included_labels, self.excluded_labels = included_labels, excluded_labels
        self.import_folder, self.label_format = import_folder, label_format
        self.with_column_header = with_column_header
        self.allow_partial, self.wait_for_completion = allow_partial, wait_for_completion
        self.deferrable, self.poll_interval = deferrable, float(poll_interval)
        self.max_wait = max_wait.total_seconds() if isinstance(max_wait, timedelta) else float(max_wait)
        if self.poll_interval <= 0 or self.max_wait <= 0:
            raise ValueError("poll_interval and max_wait must be positive")
        # Filled while running; read by the extra link (see links.py).
        self.console_links: dict[str, str] = {}

    @classmethod
    def check_arguments(cls, arguments: Mapping[str, Any]) -> None:
        """The base's checks, and ``import_type`` unless it is a template: ``dir``, ``manifest`` or None."""
        super().check_arguments(arguments)
        kind = arguments.get("import_type")
        if isinstance(kind, str) and "{{" not in kind and kind.strip().lower() not in ("", "dir", "manifest"):
            raise ValueError(f"import_type must be 'dir', 'manifest' or None, got {kind!r}")

    def _options(self) -> dict[str, Any]:
        options = {
            "import_annotations": self.import_annotations,
            "import_samples": self.import_samples,
            "final_annotation": self.final_annotation,
            "difficult_only": self.difficult_only,
            "included_labels": _labels(self.included_labels),
            "excluded_labels": _labels(self.excluded_labels),
            "import_folder": self.import_folder or None,
            "label_format": self.label_format,
            "with_column_header": self.with_column_header,
        }
        return {key: value for key, value in options.items() if value is not None}

    def _criteria(self) -> Any:
        from airflow_provider_modelarts.import_tasks import ImportCriteria

        return ImportCriteria(allow_partial=bool(self.allow_partial))

    # -- start ---------------------------------------------------------------------------------------------

    def _memory(self, context: Context, import_type: str) -> tuple[Any, str | None, int | None]:
        """``(store, stored task id, search since ms)``: the 3.3 store's claim, else the dag run's start."""
        store = context.get("task_state_store") if isinstance(context, Mapping) else None
        if store is None:
            dag_run = context.get("dag_run") if isinstance(context, Mapping) else None
            start = getattr(dag_run, "start_date", None)
            return None, None, None if start is None else int(start.timestamp() * 1000)
        record = store.get(STATE_KEY)
        if not isinstance(record, dict) or record.get("import_path") != self.import_path:
            return store, None, None  # no claim for this path: nothing to search for
        if record.get("import_type") != import_type:
            return store, None, None
        since, known = record.get("sent_at_ms"), record.get("import_task_id")
        return store, known if isinstance(known, str) else None, since if isinstance(since, int) else None

    def execute(self, context: Context) -> dict[str, Any]:
        try:
            return self._execute(context)
        finally:
            if "hook" in self.__dict__:  # release pooled connections of a client this try created
                self.hook.close()

    def _execute(self, context: Context) -> dict[str, Any]:
        from airflow_provider_modelarts.import_tasks import AmbiguousImportTaskError, infer_import_type

        if not self.dataset_id or not self.import_path or not str(self.import_path).strip():
            raise AirflowFailException("dataset_id and import_path must not be empty")
        self.import_path = str(self.import_path).strip()
        if "@" in urlsplit(self.import_path).netloc:
            # Not repeated: it would reach the log, XCom and lineage.
            raise AirflowFailException(
                "import_path must not hold credentials (the path is not repeated here); ModelArts reads OBS "
                "through its own access (an IAM agency), never credentials in the path"
            )
        try:
            import_type = str(infer_import_type(self.import_path, self.import_type))
        except ValueError as exc:
            raise AirflowFailException(f"import_type must be 'dir' or 'manifest': {exc}") from None
        store, known, since = self._memory(context, import_type)
        hook = self.hook
        try:
            start = hook.start_import(
                self.dataset_id,
                self.import_path,
                import_type=import_type,
                known_task_id=known,
                claim_since=since,
                on_claim=None if store is None else (lambda record: store.set(STATE_KEY, record)),
                **self._options(),
            )
        except AmbiguousImportTaskError as exc:
            raise AirflowFailException(str(exc)) from exc  # a retry would meet the same candidates
        how = "created" if start.created else f"adopted ({start.reason})"
        self.log.info(
            "Import task %s of %s into dataset %s: %s.", start.task_id, self.import_path, self.dataset_id, how
        )
        self._lineage()
        evaluation = hook.evaluate_import(self.dataset_id, start.task_id, self._criteria())
        if not self.wait_for_completion or evaluation.done:
            return self._finish(context, evaluation, start.adopted, import_type, require_done=False)
        if self.deferrable:
            self._defer(start.task_id, start.adopted)  # raises TaskDeferred
        return self._poll_here(context, start.task_id, start.adopted, import_type)

    def _lineage(self) -> None:
        from airflow_provider_modelarts.links import resolve_console_links

        self.console_links = resolve_console_links(self.hook, self.dataset_id)
        self.record_lineage([self.import_path], [self.hook.asset_uri(self.dataset_id)])

    # -- wait ----------------------------------------------------------------------------------------------

    def _defer(self, task_id: str, adopted: bool) -> None:
        from airflow_provider_modelarts.triggers.import_tasks import ImportTaskTrigger

        self.log.info(
            "Deferring: the triggerer now waits for import task %s to finish (a look every %.0f s, at most "
            "%.0f s). No worker slot is held meanwhile; the log speaks again on a change.",
            task_id, self.poll_interval, self.max_wait,
        )  # fmt: skip
        self.defer(
            trigger=ImportTaskTrigger(
                dataset_id=self.dataset_id,
                import_task_id=task_id,
                criteria=self._criteria().to_dict(),
                poll_interval=self.poll_interval,
                deadline=time.time() + self.max_wait,
                modelarts_conn_id=self.modelarts_conn_id,
                project_id=self.project_id or None,
            ),
            method_name="execute_complete",
            kwargs={"adopted": adopted},
            # Backstop only: the trigger's own deadline fires first and says what it last saw.
            timeout=timedelta(seconds=self.max_wait + max(60.0, self.poll_interval)),
        )

    def _poll_here(self, context: Context, task_id: str, adopted: bool, import_type: str) -> dict[str, Any]:
        """``deferrable=False``: the same evaluation, polled in the worker until done or ``max_wait``."""
        from airflow_provider_modelarts.errors import ModelArtsError
        from airflow_provider_modelarts.import_tasks import progress_log
        from airflow_provider_modelarts.retries import poll_again

        progress, deadline = progress_log(), time.monotonic() + self.max_wait
        while True:
            try:
                evaluation = self.hook.evaluate_import(self.dataset_id, task_id, self._criteria())
            except ModelArtsError as exc:  # as the trigger: a transient error means "look again"
                if not poll_again(exc) or time.monotonic() >= deadline:
                    raise
                self.log.warning(
                    "Transient error while polling import task %s; will poll again: %s", task_id, exc
                )
                time.sleep(self.poll_interval)
                continue
            if evaluation.done:
                return self._finish(context, evaluation, adopted, import_type)
            if time.monotonic() >= deadline:
                raise AirflowException(f"Timed out waiting for import task {task_id}: {evaluation.message}")
            line = progress.line(evaluation, time.monotonic())
            if line is not None:
                self.log.info("%s", line)
            time.sleep(self.poll_interval)

    # -- outcome -------------------------------------------------------------------------------------------

    def _finish(
        self,
        context: Context,
        evaluation: ImportEvaluation,
        adopted: bool,
        import_type: str,
        *,
        require_done: bool = True,
    ) -> dict[str, Any]:
        from airflow_provider_modelarts.waiting import WaitState

        if evaluation.state is WaitState.FAILURE:
            self.log.error("%s", evaluation.message)
            raise (AirflowFailException if evaluation.final else AirflowException)(evaluation.message)
        if evaluation.state is WaitState.PENDING and require_done:  # pragma: no cover - callers check
            raise AirflowException(evaluation.message)
        if evaluation.warning:
            self.log.warning("%s", evaluation.message)
        else:
            self.log.info("%s", evaluation.message)
        return self._result(context, evaluation.figures, adopted, import_type)

    def _result(
        self, context: Context, figures: Mapping[str, Any], adopted: bool, import_type: str | None
    ) -> dict[str, Any]:
        result = {key: figures.get(key) for key in XCOM_KEYS}
        result.update(dataset_id=self.dataset_id, import_path=self.import_path, adopted=bool(adopted))
        result["import_type"] = result["import_type"] or import_type
        imported = (result["imported"] or 0) + (result["sub_samples_imported"] or 0)
        if result["status"] == "COMPLETED" and imported > 0:
            extra = {key: result[key] for key in _EXTRA_KEYS}
            self.announce(context, self.hook.asset_uri(self.dataset_id), extra)
        return result

    def execute_complete(
        self, context: Context, event: dict[str, Any] | None = None, adopted: bool = False
    ) -> dict[str, Any]:
        """Resume after the trigger fired: the figures on success; a timeout or a failed or gone import fails
        the try retryably, a partial import refused by ``allow_partial=False`` for good."""
        status, message, figures = read_trigger_event(self, event, what="import wait")
        self._lineage()
        if status == "success":
            if figures.get("not_imported") or not figures.get("total"):
                self.log.warning("%s", message)
            return self._result(context, figures, adopted, None)
        final = status == "failure" and figures.get("status") == "COMPLETED"  # partial, allow_partial=False
        raise (AirflowFailException if final else AirflowException)(message)

    def on_kill(self) -> None:
        """No page cancels an import task: the import goes on in the service (a retry adopts it)."""
        self.log.info("Killed while waiting; the import task goes on in the service (a retry adopts it).")
        if "hook" in self.__dict__:
            self.hook.close()
