"""AddSamplesOperator: add raw (optionally pre-labeled) samples to a ModelArts dataset in batches."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_provider_modelarts._compat import AirflowFailException
from airflow_provider_modelarts.links import ModelArtsDatasetLink
from airflow_provider_modelarts.operators._batching import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_MAX_BATCH_BYTES,
    DEFAULT_MAX_CONCURRENCY,
    brief,
)
from airflow_provider_modelarts.operators._bulk import BulkSamplesOperator, OnFailure, OnInvalid, _Plan
from airflow_provider_modelarts.operators._sources import FileSource, Source

if TYPE_CHECKING:
    from airflow_provider_modelarts.client import AsyncModelArtsClient

__all__ = ["AddSamplesOperator"]

#: ModelArts' answer for a sample whose name is already in the dataset. After a retried request or a task
#: retry it means "added by the earlier attempt", so it is counted as ``already_present``, not as a failure.
SAMPLE_EXISTS = "ModelArts.4422"


class AddSamplesOperator(BulkSamplesOperator):
    """Add samples to a dataset (``POST /v2/{project_id}/datasets/{dataset_id}/data-annotations/samples``).

    Give exactly one source:

    :param samples: a list of samples (dicts in the API's JSON shape, or
        :class:`~airflow_provider_modelarts.models.Sample` objects). Templated; an ``XComArg`` works.
    :param manifest: path of a local JSON file (an array of sample objects) or JSON Lines file (one sample
        object per line), optionally ``.gz``. Streamed, never loaded whole.
    :param files: local file paths or glob patterns (``**`` recursive). Each file becomes a sample named after
        the file, its bytes base64-encoded as ``data``, its ``sample_type`` inferred from the extension.

    :param dataset_id: the dataset to add to.
    :param sample_type: sample type for ``files`` (a ``SampleType`` or its int), instead of inferring it.
    :param final_annotation: ``True`` puts the labels straight into the labeled set (service default),
        ``False`` into "to be confirmed" (image classification and object detection only).
    :param label_format: ``LabelFormat`` of text samples (dict or model).
    :param batch_size: samples per request (default 100, see the README for why).
    :param max_concurrency: requests in flight at once (1-20, default 4).
    :param max_batch_bytes: a batch also ends once its samples carry this much base64 data (default 8 MiB).
    :param on_invalid: ``"fail"`` (default): if any sample is invalid, fail before sending anything;
        ``"skip"``: report the invalid samples and send the rest.
    :param on_failure: ``"fail"`` (default): after all batches ran, fail the task if any sample was rejected;
        ``"warn"``: log the failures and succeed. Either way the failures are in the return value.
    :param project_id: project to use instead of the connection's.
    :param modelarts_conn_id: Airflow connection of type ``modelarts``.
    :param client_retry: client ``RetryPolicy`` for 429/5xx/network errors (attempts, backoff, deadline);
        default: the client's (6 attempts within 300 s).

    Returns (XCom) a summary, never the payload: ``dataset_id``, ``source``, ``total``, ``added``,
    ``already_present``, ``failed``, ``invalid``, ``failures`` (first 100, each ``name``, ``index``,
    ``error_code``, ``error_msg``), ``failures_truncated``, ``invalid_samples`` / ``invalid_truncated``,
    ``batches``, ``retries``, ``duration_seconds``.

    Safe to retry: samples are identified by name, and a sample the service reports as already existing
    (``ModelArts.4422``, e.g. added by a request whose answer was lost, or by an earlier try of this task) is
    counted as ``already_present``. Samples without a ``name`` cannot be recognised that way.
    """

    template_fields: Sequence[str] = (
        "dataset_id",
        "project_id",
        "samples",
        "manifest",
        "files",
        "label_format",
    )
    template_fields_renderers: ClassVar[dict[str, str]] = {"samples": "json", "label_format": "json"}
    operator_extra_links = (ModelArtsDatasetLink(),)

    _done_key = "added"
    _key_field = "name"
    _verb = "Adding"
    _already_present_codes = frozenset({SAMPLE_EXISTS})

    def __init__(
        self,
        *,
        dataset_id: str,
        samples: Any = None,
        manifest: str | os.PathLike[str] | None = None,
        files: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None = None,
        sample_type: int | None = None,
        final_annotation: bool | None = None,
        label_format: Any = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        max_batch_bytes: int = DEFAULT_MAX_BATCH_BYTES,
        on_invalid: OnInvalid = "fail",
        on_failure: OnFailure = "fail",
        project_id: str | None = None,
        modelarts_conn_id: str = "modelarts_default",
        **kwargs: Any,
    ) -> None:
        self.files = files
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
        if final_annotation is not None and not isinstance(final_annotation, bool):
            raise ValueError(f"final_annotation must be True, False or None, got {brief(final_annotation)}")
        self.sample_type = sample_type
        self.final_annotation = final_annotation
        self.label_format = label_format
        self._label_format_model: Any = None

    def _source_args(self) -> tuple[str, ...]:
        return ("samples", "manifest", "files")

    def _model_cls(self) -> type[Any]:
        from airflow_provider_modelarts.models import Sample

        return Sample

    def _build_source(self) -> Source:
        self._label_format_model = self._parse_label_format()
        if self.files is not None:
            source: Source = FileSource(self.files, sample_type=self._parse_sample_type())
        else:
            source = super()._build_source()
        return source

    def _parse_sample_type(self) -> int | None:
        if self.sample_type is None:
            return None
        from airflow_provider_modelarts.models import SampleType

        try:
            return int(SampleType.parse(self.sample_type))
        except ValueError:
            choices = ", ".join(f"{t.name.lower()} ({int(t)})" for t in SampleType)
            raise AirflowFailException(
                f"sample_type {brief(self.sample_type)} is not a ModelArts sample type; use one of {choices}"
            ) from None

    def _parse_label_format(self) -> Any:
        if self.label_format is None:
            return None
        from pydantic import ValidationError

        from airflow_provider_modelarts.models import LabelFormat

        if isinstance(self.label_format, LabelFormat):
            return self.label_format
        try:
            return LabelFormat.model_validate(self.label_format, context={"strict_input": True})
        except ValidationError as exc:
            details = "; ".join(
                f"label_format.{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
            )
            raise AirflowFailException(f"label_format is invalid, so nothing was sent: {details}") from None

    def _after_validation(self, plan: _Plan) -> None:
        if plan.nameless:
            self.log.warning(
                "%s samples have no name: ModelArts cannot tell them from an earlier attempt's copies, so a "
                "retried request or task retry may add them twice. Give every sample a unique name.",
                f"{plan.nameless:,}",
            )

    async def _send_batch(self, client: AsyncModelArtsClient, items: list[Any]) -> Any:
        return await client.add_samples(
            self.dataset_id,
            items,
            final_annotation=self.final_annotation,
            label_format=self._label_format_model,
        )
