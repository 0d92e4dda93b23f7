"""UpdateLabelsOperator: replace the labels of existing samples, in a dataset or in a team labeling task."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_provider_modelarts._compat import AirflowFailException
from airflow_provider_modelarts.links import ModelArtsDatasetLink, ModelArtsTeamTaskLink
from airflow_provider_modelarts.operators._batching import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_MAX_BATCH_BYTES,
    DEFAULT_MAX_CONCURRENCY,
    brief,
    log_lines,
)
from airflow_provider_modelarts.operators._bulk import (
    BulkSamplesOperator,
    OnFailure,
    OnInvalid,
    Problem,
    _Plan,
)

if TYPE_CHECKING:
    from airflow_provider_modelarts.client import AsyncModelArtsClient

__all__ = ["UpdateLabelsOperator"]

_DELETIONS_LISTED = 20


class UpdateLabelsOperator(BulkSamplesOperator):
    """Replace the labels of existing samples in batches.

    Without ``workforce_task_id``: ``PUT /v2/{project_id}/datasets/{dataset_id}/data-annotations/samples``.
    With it, the samples of that team labeling task are updated instead:
    ``PUT .../workforce-tasks/{workforce_task_id}/data-annotations/samples``.

    :param samples: list of ``SampleLabels`` (dicts or models): ``sample_id`` plus the new ``labels`` (and
        optionally ``metadata``, ``sample_type``, ``sample_usage``, ``source``, ``worker_id``). Templated.
    :param manifest: local JSON array / JSON Lines file of the same objects (streamed).
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
    :param max_concurrency: requests in flight at once (1-20, default 4).
    :param on_invalid: ``"fail"`` (default) sends nothing if any sample is invalid; ``"skip"`` sends the rest.
    :param on_failure: ``"fail"`` (default) or ``"warn"`` when samples are rejected (e.g. ``ModelArts.4420``,
        unknown sample id), decided after every batch ran.
    :param project_id: project to use instead of the connection's.
    :param modelarts_conn_id: Airflow connection of type ``modelarts``.
    :param client_retry: client ``RetryPolicy`` for 429/5xx/network errors (attempts, backoff, deadline);
        default: the client's (6 attempts within 300 s).

    Returns (XCom) ``dataset_id``, ``workforce_task_id``, ``source``, ``total``, ``updated``,
    ``already_present`` (always 0 here), ``failed``, ``invalid``, ``label_deletions``, ``failures`` (first
    100, each ``sample_id``, ``index``, ``error_code``, ``error_msg``), ``failures_truncated``,
    ``invalid_samples``, ``invalid_truncated``, ``batches``, ``retries``, ``duration_seconds``.

    Safe to retry: an update sets the labels to the given value, so sending it again changes nothing. A
    ``sample_id`` may appear only once per run (two updates of one sample in concurrent batches would race).
    """

    template_fields: Sequence[str] = (
        "dataset_id",
        "project_id",
        "workforce_task_id",
        "samples",
        "manifest",
        "worker_email",
        "worker_id",
    )
    template_fields_renderers: ClassVar[dict[str, str]] = {"samples": "json"}
    operator_extra_links = (ModelArtsDatasetLink(), ModelArtsTeamTaskLink())

    _done_key = "updated"
    _key_field = "sample_id"
    _verb = "Updating labels of"

    def __init__(
        self,
        *,
        dataset_id: str,
        samples: Any = None,
        manifest: str | os.PathLike[str] | None = None,
        workforce_task_id: str | None = None,
        worker_email: str | None = None,
        worker_id: str | None = None,
        allow_label_deletion: bool = False,
        batch_size: int = DEFAULT_BATCH_SIZE,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        max_batch_bytes: int = DEFAULT_MAX_BATCH_BYTES,
        on_invalid: OnInvalid = "fail",
        on_failure: OnFailure = "fail",
        project_id: str | None = None,
        modelarts_conn_id: str = "modelarts_default",
        **kwargs: Any,
    ) -> None:
        super().__init__(
            dataset_id=dataset_id,
            samples=samples,
            manifest=manifest,
            batch_size=batch_size,
            max_concurrency=max_concurrency,
            max_batch_bytes=max_batch_bytes,
            on_invalid=on_invalid,
            on_failure=on_failure,
            project_id=project_id,
            modelarts_conn_id=modelarts_conn_id,
            **kwargs,
        )
        if not isinstance(allow_label_deletion, bool):
            raise ValueError(f"allow_label_deletion must be True or False, got {brief(allow_label_deletion)}")
        self.workforce_task_id = workforce_task_id
        self.worker_email = worker_email
        self.worker_id = worker_id
        self.allow_label_deletion = allow_label_deletion
        self._deletions: list[tuple[int, str | None]] = []
        self._deletion_count = 0

    def _model_cls(self) -> type[Any]:
        from airflow_provider_modelarts.models import SampleLabels

        return SampleLabels

    def _prepare_raw(self, raw: Any) -> Any:
        if not self.worker_id:
            return raw
        if isinstance(raw, Mapping):
            return raw if raw.get("worker_id") else {**raw, "worker_id": self.worker_id}
        if getattr(raw, "worker_id", None):
            return raw
        return raw.model_copy(update={"worker_id": self.worker_id})

    def _extra_problems(self, model: Any) -> list[Problem]:
        if not model.sample_id:
            return [Problem("sample_id", "is required: it names the sample whose labels are replaced")]
        return []

    def _on_valid(self, index: int, model: Any) -> None:
        # "labels" missing, null or [] all leave the sample without labels: ModelArts deletes them all.
        # Counted here and judged after the pass, so the guard names every such sample in one error.
        if not model.labels:
            self._deletion_count += 1
            if len(self._deletions) < _DELETIONS_LISTED:
                self._deletions.append((index, model.sample_id))

    def _begin_pass(self) -> None:
        self._deletions = []
        self._deletion_count = 0

    def _after_validation(self, plan: _Plan) -> None:
        if not self._deletion_count:
            return
        ids = [f"#{index} ({brief(sample_id)})" for index, sample_id in self._deletions]
        more = self._deletion_count - len(ids)
        listed = ", ".join(ids) + (f" and {more:,} more" if more else "")
        if not self.allow_label_deletion:
            raise AirflowFailException(
                f"{self._deletion_count:,} samples have no labels ('labels' missing, null or []), which "
                f"makes ModelArts delete all of their labels: {listed}. Nothing was sent. Pass "
                "allow_label_deletion=True if deleting their labels is intended."
            )
        log_lines(
            self.log,
            logging.WARNING,
            f"allow_label_deletion=True: all labels of {self._deletion_count:,} samples will be deleted:",
            ids,
            more,
        )

    def _result_ids(self) -> dict[str, Any]:
        return {
            **super()._result_ids(),
            "workforce_task_id": self.workforce_task_id,
            "label_deletions": self._deletion_count,
        }

    async def _send_batch(self, client: AsyncModelArtsClient, items: list[Any]) -> Any:
        if self.workforce_task_id:
            return await client.update_workforce_task_samples(
                self.dataset_id, self.workforce_task_id, items, email=self.worker_email or None
            )
        return await client.update_samples(self.dataset_id, items, email=self.worker_email or None)
