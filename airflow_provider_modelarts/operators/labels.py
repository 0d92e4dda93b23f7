"""UpdateLabelsOperator: replace the labels of existing samples, in a dataset or in a team labeling task."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_provider_modelarts._text import quote
from airflow_provider_modelarts.links import ModelArtsDatasetLink, ModelArtsTeamTaskLink
from airflow_provider_modelarts.operators.base import LABELS_UPDATED_ALIAS, modelarts_template_fields
from airflow_provider_modelarts.operators.bulk import BulkOperator

if TYPE_CHECKING:
    from airflow.sdk import Context

__all__ = ["UpdateLabelsOperator"]


class UpdateLabelsOperator(BulkOperator):
    """Replace the labels of existing samples in batches.

    Without ``workforce_task_id``: ``PUT /v2/{project_id}/datasets/{dataset_id}/data-annotations/samples``.
    With it, the samples of that team labeling task are updated instead:
    ``PUT .../workforce-tasks/{workforce_task_id}/data-annotations/samples``.

    :param samples: list of ``SampleLabels`` (dicts or models): ``sample_id`` plus the new ``labels`` (and
        optionally ``metadata``, ``sample_type``, ``sample_usage``, ``source``, ``worker_id``). Templated.
    :param manifest: JSON array / JSON Lines file of the same objects (streamed): a local path or
        ``file://`` URL, or an object store's URL / ``ObjectStoragePath`` (with ``storage_conn_id``); one
        that is not there fails the task retryably (``BulkOperator.manifest_path``).
    :param storage_conn_id: Airflow connection of a remote ``manifest`` URL (templated).
    :param dataset_id: the dataset holding the samples.
    :param workforce_task_id: update the samples inside this team labeling task.
    :param worker_email: e-mail of the labeling team member the update is made as (the request's ``email``
        field). Not called ``email``: that name is BaseOperator's list of alert addresses, and
        ``default_args={"email": ...}`` would otherwise land here.
    :param worker_id: labeling team member id, set on every sample that does not name its own.
    :param allow_label_deletion: ModelArts deletes **all** labels of a sample sent without ``labels``. This
        operator refuses such samples (missing ``labels``, ``null`` or ``[]``) and names them, unless this is
        ``True``.
    :param batch_size: samples per request (default 100).
    :param max_concurrency: most requests in flight at once (1-20, default 16).
    :param adaptive_concurrency: start at 4 in flight and find the service's limit up to ``max_concurrency``
        (default); ``False`` pins ``max_concurrency``.
    :param on_invalid: ``"fail"`` (default) sends nothing if any sample is invalid; ``"skip"`` sends the rest.
    :param on_failure: ``"fail"`` (default) or ``"warn"`` when samples are rejected (e.g. ``ModelArts.4420``,
        unknown sample id), decided after every batch ran.
    :param project_id: project to use instead of the connection's.
    :param modelarts_conn_id: Airflow connection of type ``modelarts``.
    :param client_retry: client ``RetryPolicy`` for 429/5xx/network errors (attempts, backoff, deadline);
        default: the client's (6 attempts within 300 s).
    :param asset_alias: the ``AssetAlias`` the asset event goes through (default ``modelarts-labels-updated``;
        ``None``: no event). Emitted on success when labels were updated, for the team task's asset (with
        ``workforce_task_id``) or the dataset's, with ``extra``: ``dataset_id``, ``workforce_task_id``,
        ``updated``, ``failed``, ``invalid``, ``label_deletions``, ``total``.

    Returns (XCom) ``dataset_id``, ``workforce_task_id``, ``source``, ``total``, ``updated``,
    ``already_present`` (always 0 here), ``failed``, ``invalid``, ``label_deletions``, ``failures`` (first
    100, each ``sample_id``, ``index``, ``error_code``, ``error_msg``), ``failures_truncated``,
    ``invalid_samples``, ``invalid_truncated``, ``batches``, ``retries``, ``duration_seconds``.

    Safe to retry: an update sets the labels to the given value, so sending it again changes nothing. A
    ``sample_id`` may appear only once per run (two updates of one sample in concurrent batches would race).
    """

    template_fields: Sequence[str] = modelarts_template_fields(
        "dataset_id",
        "workforce_task_id",
        "samples",
        "manifest",
        "worker_email",
        "worker_id",
        "storage_conn_id",
    )
    template_fields_renderers: ClassVar[dict[str, str]] = {"samples": "json"}
    operator_extra_links = (ModelArtsDatasetLink(), ModelArtsTeamTaskLink())
    default_asset_alias = LABELS_UPDATED_ALIAS

    def __init__(
        self,
        *,
        workforce_task_id: str | None = None,
        worker_email: str | None = None,
        worker_id: str | None = None,
        allow_label_deletion: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.check_arguments({"allow_label_deletion": allow_label_deletion})
        self.workforce_task_id = workforce_task_id
        self.worker_email = worker_email
        self.worker_id = worker_id
        self.allow_label_deletion = allow_label_deletion

    @classmethod
    def check_arguments(cls, arguments: Mapping[str, Any]) -> None:
        """The bulk operators' checks and ``allow_label_deletion``'s type (``BulkOperator.__init__`` judged
        the rest; this ``__init__`` adds its own argument)."""
        super().check_arguments(arguments)
        if "allow_label_deletion" in arguments and not isinstance(arguments["allow_label_deletion"], bool):
            got = quote(arguments["allow_label_deletion"])
            raise ValueError(f"allow_label_deletion must be True or False, got {got}")

    def execute(self, context: Context) -> dict[str, Any]:
        source = self._list_or_manifest()
        summary = self.run_bulk(
            context,
            "sample_id",
            lambda hook: hook.update_labels(
                self.dataset_id,
                source,
                workforce_task_id=self.workforce_task_id,
                worker_email=self.worker_email,
                worker_id=self.worker_id,
                allow_label_deletion=self.allow_label_deletion,
                options=self.bulk_options,
            ),
        )
        uri = self.hook.asset_uri(self.dataset_id, self.workforce_task_id or None)
        self.record_lineage(self.manifest_read(), [uri])
        if summary["updated"]:
            counts = ("updated", "failed", "invalid", "label_deletions", "total")
            ids = {"dataset_id": self.dataset_id, "workforce_task_id": self.workforce_task_id or None}
            self.announce(context, uri, {**ids, **{k: summary.get(k) for k in counts}})
        return summary
