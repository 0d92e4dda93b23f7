"""The two bulk operations, with what each ModelArts call means; imports no Airflow.

:class:`~airflow_provider_modelarts.bulk.sending.BulkOperation` is the engine (validate first, batch, send
concurrently, tally); this module says which checks run before anything is sent and how one batch is sent
and read for adding samples and for updating labels. ``ModelArtsHook.add_samples`` / ``update_labels`` call
:func:`add_samples` / :func:`update_labels` with the connection's async client factory and the run's
:class:`~.planning.BulkOptions`.

The idempotency rules: a sample the service already has (``ModelArts.4422``, after a lost answer or an
earlier try) counts as done; a batch refused whole with 4422 applied nothing, so its samples are re-sent one
at a time to sort them out. An update sets labels to the given value, so repeating it is harmless.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from airflow_provider_modelarts.bulk.checks import (
    DuplicateKeys,
    LabelDeletionGuard,
    RequiredKey,
    UnnamedSamples,
)
from airflow_provider_modelarts.bulk.planning import Batch, BulkOptions
from airflow_provider_modelarts.bulk.sending import BulkOperation
from airflow_provider_modelarts.bulk.sources import ListSource, Source
from airflow_provider_modelarts.bulk.tally import ItemResult, Outcome, results_from_response
from airflow_provider_modelarts.bulk.validation import Validator, fill_default, parse_option
from airflow_provider_modelarts.client import AsyncModelArtsClient
from airflow_provider_modelarts.errors import SAMPLE_EXISTS, ModelArtsValidationError
from airflow_provider_modelarts.models import LabelFormat, Sample, SampleLabels

__all__ = ["add_samples", "update_labels"]

_ALREADY_PRESENT = frozenset({SAMPLE_EXISTS})

OpenClient = Callable[[], Awaitable[AsyncModelArtsClient]]


def add_samples(
    source: Source | Any,
    *,
    dataset_id: str,
    final_annotation: bool | None,
    label_format: Any,
    open_client: OpenClient,
    target: Callable[[], str],
    log: logging.Logger | Any,
    options: BulkOptions,
) -> dict[str, Any]:
    """Add samples (``ModelArtsHook.add_samples`` documents the contract) as ``options`` say."""
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
    operation = BulkOperation(
        validator, send, open_client, done_key="added", verb="Adding", target=target, options=options, log=log
    )
    return operation.run(_as_source(source), dataset_id=dataset_id)


def update_labels(
    source: Source | Any,
    *,
    dataset_id: str,
    workforce_task_id: str | None,
    worker_email: str | None,
    worker_id: str | None,
    allow_label_deletion: bool,
    open_client: OpenClient,
    target: Callable[[], str],
    log: logging.Logger | Any,
    options: BulkOptions,
) -> dict[str, Any]:
    """Replace labels (``ModelArtsHook.update_labels`` documents the contract) as ``options`` say."""
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
    operation = BulkOperation(
        validator,
        send,
        open_client,
        done_key="updated",
        verb="Updating labels of",
        target=target,
        options=options,
        log=log,
    )
    return operation.run(_as_source(source), dataset_id=dataset_id, workforce_task_id=workforce_task_id)


def _as_source(source: Source | Any) -> Source:
    return source if isinstance(source, Source) else ListSource(source)
