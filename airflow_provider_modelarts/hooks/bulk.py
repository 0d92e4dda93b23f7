"""Bulk operations of ``ModelArtsHook``: add samples and update labels, with their idempotency rules.

The batching, streaming and validation engine is the Airflow-free :mod:`airflow_provider_modelarts.bulk`;
this class decides what a ModelArts bulk call means: which checks run before anything is sent, and that a
sample the service already has (``ModelArts.4422``, after a lost answer or an earlier try) counts as done.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow_provider_modelarts.bulk.checks import (
    DuplicateKeys,
    LabelDeletionGuard,
    RequiredKey,
    UnnamedSamples,
)
from airflow_provider_modelarts.bulk.planning import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_MAX_BATCH_BYTES,
    DEFAULT_MAX_CONCURRENCY,
    Batch,
)
from airflow_provider_modelarts.bulk.sending import BulkOperation
from airflow_provider_modelarts.bulk.sources import ListSource, Source
from airflow_provider_modelarts.bulk.tally import ItemResult, Outcome, results_from_response
from airflow_provider_modelarts.bulk.validation import Validator, fill_default, parse_option
from airflow_provider_modelarts.client import AsyncModelArtsClient
from airflow_provider_modelarts.errors import ModelArtsValidationError
from airflow_provider_modelarts.hooks.base import ModelArtsBaseHook
from airflow_provider_modelarts.models import LabelFormat, Sample, SampleLabels

__all__ = ["SAMPLE_EXISTS", "ModelArtsBulkOperations"]

#: ModelArts' answer for a sample whose name is already in the dataset. After a retried request or a task
#: retry it means "added by the earlier attempt", so it is counted as ``already_present``, not as a failure.
SAMPLE_EXISTS = "ModelArts.4422"
_ALREADY_PRESENT = frozenset({SAMPLE_EXISTS})


class ModelArtsBulkOperations(ModelArtsBaseHook):
    """``add_samples`` and ``update_labels`` of ``ModelArtsHook``."""

    def add_samples(
        self,
        dataset_id: str,
        source: Source | Sequence[Any],
        *,
        final_annotation: bool | None = None,
        label_format: Any = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        max_batch_bytes: int = DEFAULT_MAX_BATCH_BYTES,
        on_invalid: str = "fail",
    ) -> dict[str, Any]:
        """Add samples in concurrent batches after validating all of them; returns the run's summary.

        Safe to repeat: a sample the service reports as already there (``ModelArts.4422``, e.g. added by a
        request whose answer was lost, or by an earlier try of the task) counts as ``already_present``. Some
        deployments reject a whole batch with 4422 when one of its samples exists; nothing of it was applied,
        so its samples are re-sent one at a time to sort them out. Raises :class:`RunRefused` (nothing sent)
        for invalid input with ``on_invalid="fail"``; rejected samples are counted in the summary.
        """
        label_format = parse_option(LabelFormat, label_format, "label_format")

        async def send(client: AsyncModelArtsClient, batch: Batch[Any]) -> list[ItemResult]:
            try:
                response = await client.add_samples(
                    dataset_id, batch.items, final_annotation=final_annotation, label_format=label_format
                )
            except ModelArtsValidationError as exc:
                if exc.error_code != SAMPLE_EXISTS:
                    raise
                if len(batch) == 1:
                    return [ItemResult(Outcome.ALREADY_PRESENT, exc.error_code, exc.error_msg)]
                return [result for single in batch.singles() for result in await send(client, single)]
            return results_from_response(response, batch.refs, already_present_codes=_ALREADY_PRESENT)

        validator = Validator(Sample, "name", [DuplicateKeys("name"), UnnamedSamples()])
        return self._run_bulk(
            source,
            validator,
            send,
            done_key="added",
            verb="Adding",
            dataset_id=dataset_id,
            batch_size=batch_size,
            max_concurrency=max_concurrency,
            max_batch_bytes=max_batch_bytes,
            on_invalid=on_invalid,
        )

    def update_labels(
        self,
        dataset_id: str,
        source: Source | Sequence[Any],
        *,
        workforce_task_id: str | None = None,
        worker_email: str | None = None,
        worker_id: str | None = None,
        allow_label_deletion: bool = False,
        batch_size: int = DEFAULT_BATCH_SIZE,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        max_batch_bytes: int = DEFAULT_MAX_BATCH_BYTES,
        on_invalid: str = "fail",
    ) -> dict[str, Any]:
        """Replace the labels of existing samples (of the dataset, or of a team labeling task) in batches.

        Safe to repeat: an update sets labels to the given value. A ``sample_id`` may appear once per run (two
        updates of one sample in concurrent batches would race). A sample sent without labels makes ModelArts
        delete all of its labels, so such samples refuse the run unless ``allow_label_deletion``.
        """
        email = worker_email or None

        async def send(client: AsyncModelArtsClient, batch: Batch[Any]) -> list[ItemResult]:
            if workforce_task_id:
                response = await client.update_workforce_task_samples(
                    dataset_id, workforce_task_id, batch.items, email=email
                )
            else:
                response = await client.update_samples(dataset_id, batch.items, email=email)
            return results_from_response(response, batch.refs)

        checks = [
            RequiredKey("sample_id", "it names the sample whose labels are replaced"),
            DuplicateKeys("sample_id"),
            LabelDeletionGuard(allow=allow_label_deletion),
        ]
        validator = Validator(SampleLabels, "sample_id", checks, prepare=fill_default("worker_id", worker_id))
        return self._run_bulk(
            source,
            validator,
            send,
            done_key="updated",
            verb="Updating labels of",
            dataset_id=dataset_id,
            ids={"workforce_task_id": workforce_task_id},
            batch_size=batch_size,
            max_concurrency=max_concurrency,
            max_batch_bytes=max_batch_bytes,
            on_invalid=on_invalid,
        )

    def _run_bulk(
        self, source: Source | Sequence[Any], validator: Validator, send: Any, **kwargs: Any
    ) -> Any:
        """Run one :class:`BulkOperation` (``kwargs``: its fields and ``ids``, the summary's first keys)."""
        ids = {"dataset_id": kwargs.pop("dataset_id"), **kwargs.pop("ids", {})}

        def target() -> str:  # reads the connection: outside the event loop, after validation passed
            return f"dataset {ids['dataset_id']} (project {self.project_id})"

        operation = BulkOperation(
            validator, send, self.get_async_client, target=target, log=self.log, **kwargs
        )
        return operation.run(source if isinstance(source, Source) else ListSource(source), **ids)
