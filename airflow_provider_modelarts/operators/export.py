"""ExportLabelsOperator: the hand-off after labeling, a JSON Lines manifest of the labeled samples.

Thin on purpose: it checks its arguments, turns ``path`` into a local path or an ``ObjectStoragePath``, makes
one :meth:`ModelArtsHook.export_labels` call and returns the counts. The streaming and writing live in the
Airflow-free :mod:`airflow_provider_modelarts.export`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from airflow.providers.common.compat.sdk import AirflowFailException

from airflow_provider_modelarts._text import quote
from airflow_provider_modelarts.links import (
    ModelArtsDatasetLink,
    ModelArtsTeamTaskLink,
    resolve_console_links,
)
from airflow_provider_modelarts.operators.base import (
    ModelArtsBaseOperator,
    modelarts_template_fields,
    storage_location,
)

if TYPE_CHECKING:
    from airflow.sdk import Context

__all__ = ["ExportLabelsOperator", "OnIncomplete"]

#: The list pages' ``limit``: "The value ranges from 1 to 100" (``querying_the_sample_list.rst``).
MAX_PAGE_SIZE = 100

OnIncomplete = Literal["fail", "warn"]
#: ``on_incomplete`` as the sample walk spells it (``client/_paging.py``).
_WALK_ON_INCOMPLETE: dict[str, str] = {"fail": "raise", "warn": "warn"}


class ExportLabelsOperator(ModelArtsBaseOperator):
    """Write the labeled samples of a dataset, or the accepted samples of a team labeling task, to a JSON
    Lines manifest, one sample per line, fetched and written page by page (memory does not grow with the
    dataset).

    ``GET .../datasets/{dataset_id}/data-annotations/samples?sample_state=__ALL__`` ("labeled"), or with
    ``workforce_task_id`` ``GET .../workforce-tasks/{workforce_task_id}/data-annotations/samples?
    sample_state=__ACCEPTED__`` ("accepted"), as the two sample-list pages document them.

    :param dataset_id: the dataset (templated).
    :param path: where the manifest goes (templated): a local path (a relative one against the worker's
        working directory; reported absolute), or a URL of any filesystem Airflow's ``ObjectStoragePath``
        supports (``s3://bucket/key.jsonl``, ...; reported without credentials or query string). Either way
        written beside it under a temporary name and moved into place once complete: a failed try leaves
        the previous manifest or none, never half of one; a retry replaces it whole
        (:mod:`airflow_provider_modelarts.export`).
    :param workforce_task_id: export this team labeling task's samples instead (templated; empty: the
        dataset's).
    :param sample_state: another documented ``sample_state`` filter (templated); default ``__ALL__`` for a
        dataset, ``__ACCEPTED__`` for a team task.
    :param page_size: samples per page, 1-100 (default 100, the pages' maximum).
    :param storage_conn_id: Airflow connection for a remote ``path`` (``ObjectStoragePath``'s ``conn_id``).
    :param on_incomplete: what a sample walk that cannot prove it read every sample does (the list kept
        changing over every pass, as while a labeling team works, or its count says more than it listed;
        ``client/_paging.py``): ``"fail"`` (default) raises ``IncompleteListError`` (retryable) and leaves
        the previous manifest; ``"warn"`` logs the numbers as a warning and writes the samples it read
        (each once), for a dataset that never holds still.
    :param asset_alias: an ``AssetAlias`` name to announce the manifest's asset through (default: none).
    :param modelarts_conn_id, project_id, client_retry: see :class:`ModelArtsBaseOperator`.

    Returns (XCom) ``dataset_id``, ``workforce_task_id``, ``sample_state``, ``source`` (the ``modelarts://``
    URI read), ``path``, ``samples``, ``labels``, ``unlabeled_skipped``, ``bytes``, ``label_counts`` (the 50
    most frequent label names) and ``label_names``.

    Fails for good (``AirflowFailException``) on arguments that would fail again (an undocumented
    ``sample_state``, an empty ``path``); anything else, such as a sample walk that could not prove it read
    every sample (a transient ``ModelArtsError``, with ``on_incomplete="fail"``), a network or storage
    error, is raised as it is, so Airflow retries the task.
    """

    template_fields: Sequence[str] = modelarts_template_fields(
        "dataset_id", "path", "workforce_task_id", "sample_state"
    )
    template_fields_renderers: ClassVar[dict[str, str]] = {}
    operator_extra_links = (ModelArtsDatasetLink(), ModelArtsTeamTaskLink())
    ui_color = "#f6eedb"

    def __init__(
        self,
        *,
        dataset_id: str,
        path: str,
        workforce_task_id: str | None = None,
        sample_state: str | None = None,
        page_size: int = MAX_PAGE_SIZE,
        storage_conn_id: str | None = None,
        on_incomplete: OnIncomplete = "fail",
        **kwargs: Any,
    ) -> None:
        self.check_arguments({"path": path, "page_size": page_size, "on_incomplete": on_incomplete, **kwargs})
        super().__init__(**kwargs)
        self.dataset_id = dataset_id
        self.path = path
        self.workforce_task_id = workforce_task_id
        self.sample_state = sample_state
        self.page_size = page_size
        self.storage_conn_id = storage_conn_id
        self.on_incomplete = on_incomplete
        self.console_links: dict[str, str] = {}

    @classmethod
    def check_arguments(cls, arguments: Mapping[str, Any]) -> None:
        """The base's checks and ``page_size``, ``path`` (a string: a template renders to one),
        ``on_incomplete``, each when present (``partial`` leaves out what ``expand`` maps)."""
        super().check_arguments(arguments)
        page_size = arguments.get("page_size", MAX_PAGE_SIZE)
        if (
            isinstance(page_size, bool)
            or not isinstance(page_size, int)
            or not 1 <= page_size <= MAX_PAGE_SIZE
        ):
            raise ValueError(
                f"page_size must be an integer from 1 to {MAX_PAGE_SIZE}, got {quote(page_size)}"
            )
        if "path" in arguments and not isinstance(arguments["path"], str):
            got = type(arguments["path"]).__name__
            raise ValueError(f"path must be a string (a local path or a URL), got {got}")
        on_incomplete = arguments.get("on_incomplete", "fail")
        if on_incomplete not in ("fail", "warn"):
            raise ValueError(f"on_incomplete must be 'fail' or 'warn', got {quote(on_incomplete)}")

    def execute(self, context: Context) -> dict[str, Any]:
        task_id = _optional(self.workforce_task_id)
        state = _optional(self.sample_state)
        if not _optional(self.dataset_id) or not _optional(self.path):
            raise AirflowFailException(
                f"dataset_id and path must not be empty (dataset_id {quote(self.dataset_id)}, "
                f"path {quote(self.path)})"
            )
        hook = self.hook
        self.console_links = resolve_console_links(hook, self.dataset_id, task_id)
        source = hook.asset_uri(self.dataset_id, task_id)
        try:
            result = hook.export_labels(
                self.dataset_id,
                self._target(),
                workforce_task_id=task_id,
                sample_state=state,
                page_size=self.page_size,
                on_incomplete=_WALK_ON_INCOMPLETE[self.on_incomplete],
            )
        except ValueError as exc:  # an undocumented sample_state, a bad id: the same input fails again
            raise AirflowFailException(str(exc)) from None
        finally:
            hook.close()
        summary = {
            "dataset_id": self.dataset_id,
            "workforce_task_id": task_id,
            "sample_state": state,
            "source": source,
            **result.summary(),
        }
        self.log.info(
            "Exported %s labeled samples (%s labels) of %s to %s%s.",
            f"{result.samples:,}",
            f"{result.labels:,}",
            source,
            result.path,
            f"; {result.unlabeled_skipped:,} without labels left out" if result.unlabeled_skipped else "",
        )
        self.record_lineage([source], [result.path])
        if self.asset_alias is not None:
            from airflow_provider_modelarts.export import location_uri

            self.announce(context, location_uri(result.path), summary)
        return summary

    def _target(self) -> Any:
        """A local path as is; a URL as an ``ObjectStoragePath`` (with ``storage_conn_id``; a ``file://`` one
        is still written as a local file: :mod:`airflow_provider_modelarts.export` decides)."""
        path = self.path.strip()
        try:
            return storage_location(path, self.storage_conn_id)
        except AirflowFailException as exc:
            raise AirflowFailException(f"path is {exc}") from None


def _optional(value: Any) -> str | None:
    """A templated optional argument: ``None``, ``""`` and ``"None"`` (``None`` rendered) mean unset."""
    if value is None or (isinstance(value, str) and value.strip() in ("", "None")):
        return None
    return str(value).strip()
