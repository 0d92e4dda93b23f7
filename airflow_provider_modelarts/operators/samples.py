"""AddSamplesOperator: add raw (optionally pre-labeled) samples to a ModelArts dataset in batches."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.providers.common.compat.sdk import AirflowFailException

from airflow_provider_modelarts._text import quote
from airflow_provider_modelarts.links import ModelArtsDatasetLink
from airflow_provider_modelarts.operators.base import (
    SAMPLES_ADDED_ALIAS,
    modelarts_template_fields,
    storage_location,
)
from airflow_provider_modelarts.operators.bulk import BulkOperator, as_location

if TYPE_CHECKING:
    from airflow.sdk import Context

__all__ = ["AddSamplesOperator"]


class AddSamplesOperator(BulkOperator):
    """Add samples to a dataset (``POST /v2/{project_id}/datasets/{dataset_id}/data-annotations/samples``).

    Give exactly one source:

    :param samples: a list of samples (dicts in the API's JSON shape, or
        :class:`~airflow_provider_modelarts.models.Sample` objects). Templated; an ``XComArg`` works.
    :param manifest: a JSON file (an array of sample objects) or JSON Lines file (one sample object per
        line), optionally ``.gz``. Streamed, never loaded whole. A local path or ``file://`` URL (reported
        absolute), or a URL / ``ObjectStoragePath`` of an object store (``s3://...`` with
        ``storage_conn_id``; reported without credentials): ``BulkOperator.manifest_path``.
    :param files: file paths, URLs or glob patterns (``**`` recursive), local or in an object store (as
        ``manifest``). Each file becomes a sample named after the file, its bytes base64-encoded as
        ``data`` (read when its batch is built, one file at a time), its ``sample_type`` inferred from the
        extension. Patterns that name no existing file at all fail the task retryably (``AirflowException``
        naming the patterns and the host: the files may not have arrived, or be on another machine's disk).
    :param allow_empty: ``True``: ``files`` matching nothing is an empty run (nothing added) instead.
    :param storage_conn_id: Airflow connection of a remote ``manifest`` / ``files`` URL (templated).

    :param dataset_id: the dataset to add to.
    :param sample_type: sample type for ``files`` (a ``SampleType`` or its int), instead of inferring it.
    :param final_annotation: ``True`` puts the labels straight into the labeled set (service default),
        ``False`` into "to be confirmed" (image classification and object detection only).
    :param label_format: ``LabelFormat`` of text samples (dict or model).
    :param batch_size: samples per request (default 100, see the README for why).
    :param max_concurrency: most requests in flight at once (1-20, default 16).
    :param adaptive_concurrency: start at 4 in flight and find the service's limit up to ``max_concurrency``
        (default); ``False`` pins ``max_concurrency``.
    :param max_batch_bytes: a batch also ends once its samples carry this much base64 data (default 8 MiB).
    :param on_invalid: ``"fail"`` (default): if any sample is invalid, fail before sending anything;
        ``"skip"``: report the invalid samples and send the rest.
    :param on_failure: ``"fail"`` (default): after all batches ran, fail the task if any sample was rejected;
        ``"warn"``: log the failures and succeed. Either way the failures are in the return value.
    :param project_id: project to use instead of the connection's.
    :param modelarts_conn_id: Airflow connection of type ``modelarts``.
    :param client_retry: client ``RetryPolicy`` for 429/5xx/network errors (attempts, backoff, deadline);
        default: the client's (6 attempts within 300 s).
    :param asset_alias: the ``AssetAlias`` the dataset's asset event goes through (default
        ``modelarts-samples-added``; ``None``: no event). Emitted on success when samples are in the dataset
        (``added`` or ``already_present``), with ``extra``: ``dataset_id``, ``added``, ``already_present``,
        ``failed``, ``invalid``, ``total``.

    Returns (XCom) a summary, never the payload: ``dataset_id``, ``source``, ``total``, ``added``,
    ``already_present``, ``failed``, ``invalid``, ``failures`` (first 100, each ``name``, ``index``,
    ``error_code``, ``error_msg``), ``failures_truncated``, ``invalid_samples`` / ``invalid_truncated``,
    ``batches``, ``retries``, ``duration_seconds``.

    Safe to retry: samples are identified by name, and a sample the service reports as already existing
    (``ModelArts.4422``, e.g. added by a request whose answer was lost, or by an earlier try of this task) is
    counted as ``already_present``. Samples without a ``name`` cannot be recognised that way.
    """

    template_fields: Sequence[str] = modelarts_template_fields(
        "dataset_id", "samples", "manifest", "files", "label_format", "storage_conn_id"
    )
    template_fields_renderers: ClassVar[dict[str, str]] = {"samples": "json", "label_format": "json"}
    operator_extra_links = (ModelArtsDatasetLink(),)
    default_asset_alias = SAMPLES_ADDED_ALIAS
    source_arguments = ("samples", "manifest", "files")

    def __init__(
        self,
        *,
        files: Any = None,
        allow_empty: bool = False,
        sample_type: int | None = None,
        final_annotation: bool | None = None,
        label_format: Any = None,
        **kwargs: Any,
    ) -> None:
        self.files = files
        super().__init__(**kwargs)
        # ``BulkOperator`` judged its arguments; the sources rule needs ``files`` too (``operators/bulk.py``).
        sources = {"samples": self.samples, "manifest": self.manifest, "files": files}
        self.check_arguments({**sources, "final_annotation": final_annotation})
        self.allow_empty = allow_empty
        self.sample_type = sample_type
        self.final_annotation = final_annotation
        self.label_format = label_format

    @classmethod
    def check_arguments(cls, arguments: Mapping[str, Any]) -> None:
        """The bulk operators' checks (``files`` is a source too) and ``final_annotation``'s type."""
        super().check_arguments(arguments)
        final_annotation = arguments.get("final_annotation")
        if final_annotation is not None and not isinstance(final_annotation, bool):
            raise ValueError(f"final_annotation must be True, False or None, got {quote(final_annotation)}")

    def execute(self, context: Context) -> dict[str, Any]:
        source = self._source()
        summary = self.run_bulk(
            context,
            "name",
            lambda hook: hook.add_samples(
                self.dataset_id,
                source,
                final_annotation=self.final_annotation,
                label_format=self.label_format,
                options=self.bulk_options,
            ),
        )
        uri = self.hook.asset_uri(self.dataset_id)
        self.record_lineage(self.manifest_read(), [uri])
        if summary["added"] or summary["already_present"]:
            counts = ("added", "already_present", "failed", "invalid", "total")
            self.announce(context, uri, {"dataset_id": self.dataset_id, **{k: summary[k] for k in counts}})
        return summary

    def _source(self) -> Any:
        if self.files is None:
            return self._list_or_manifest()
        from airflow_provider_modelarts.bulk.sources import FileSource

        files = self.files
        given = [files] if isinstance(files, (str, os.PathLike)) or hasattr(files, "fs") else list(files)
        patterns = [storage_location(as_location(f, "files"), self.storage_conn_id) for f in given]
        return FileSource(patterns, sample_type=self._parse_sample_type(), allow_empty=self.allow_empty)

    def _parse_sample_type(self) -> int | None:
        if self.sample_type is None:
            return None
        from airflow_provider_modelarts.models import SampleType

        try:
            return int(SampleType.parse(self.sample_type))
        except ValueError:
            choices = ", ".join(f"{t.name.lower()} ({int(t)})" for t in SampleType)
            raise AirflowFailException(
                f"sample_type {quote(self.sample_type)} is not a ModelArts sample type; use one of {choices}"
            ) from None
