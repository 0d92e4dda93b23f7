"""``BulkOperator``: what the two bulk operators (add samples, update labels) share.

Arguments, templating and the task outcome. The work itself is one hook call (``ModelArtsHook.add_samples``
/ ``update_labels``), which runs the Airflow-free engine in :mod:`airflow_provider_modelarts.bulk`. What stays
here is Airflow's side: checking arguments when the DAG is parsed, turning rendered templates back into a
sample list, resolving the console links, and turning the run's summary into the XCom value or a failed task.
Subclass :class:`BulkOperator` for another bulk call; its public home is this module.

**Parse-time checks** live in :meth:`BulkOperator.check_arguments` (and a subclass's extension of it), which
``__init__`` runs and so does ``partial`` for a mapped task (``.partial(...).expand(...)``; see
:mod:`airflow_provider_modelarts.operators.base`). Each check judges only the arguments present: one left to
``expand`` is unknown when the DAG is parsed. So the rule "exactly one source" (:attr:`BulkOperator.
source_arguments`) refuses two sources given, and no source only when every source argument was given (as
``None``); with a source argument mapped, each mapped task's ``__init__`` judges it. Each ``__init__`` level
checks the arguments it receives (Airflow fills ``default_args`` in per level), so a subclass runs the check
again on its own arguments with the sources.

The heavy modules (hook, client, pydantic models) are imported inside ``execute``: the scheduler and DAG
processor import DAG files, hence this module, all the time and never call ``execute``.
"""

from __future__ import annotations

import ast
import json
import os
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException

from airflow_provider_modelarts._text import quote
from airflow_provider_modelarts.bulk.planning import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_MAX_BATCH_BYTES,
    DEFAULT_MAX_CONCURRENCY,
    BulkOptions,
    OnInvalid,
)
from airflow_provider_modelarts.links import resolve_console_links
from airflow_provider_modelarts.operators.base import (
    ModelArtsBaseOperator,
    modelarts_template_fields,
    storage_location,
)

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_modelarts.bulk.sources import Source
    from airflow_provider_modelarts.hooks.modelarts import ModelArtsHook

__all__ = ["BulkOperator", "OnFailure", "OnInvalid", "as_location", "as_sample_list"]

OnFailure = Literal["fail", "warn"]

#: Samples nested deeper than this are refused by the models anyway (``models`` ``MAX_DEPTH`` is 64); past
#: this depth the value is hidden from Airflow's recursive walks so that parsing the DAG cannot crash.
_OPAQUE_DEPTH = 100


class BulkOperator(ModelArtsBaseOperator):
    """The arguments and task outcome shared by :class:`AddSamplesOperator` and :class:`UpdateLabelsOperator`.

    Each subclass's ``execute`` makes its one hook call through :meth:`run_bulk`. The arguments below are
    declared here once; the subclasses take them (and ``modelarts_conn_id``, ``project_id``,
    ``client_retry`` of :class:`ModelArtsBaseOperator`) through ``**kwargs``. The five that say how the run
    sends become one :class:`~airflow_provider_modelarts.bulk.planning.BulkOptions`, :attr:`bulk_options`,
    which checks them and is handed to the hook as it is.

    :param dataset_id: the dataset.
    :param samples: a list of samples (templated; an ``XComArg`` works).
    :param manifest: a JSON array / JSON Lines file of samples (optionally ``.gz``; streamed, never read
        whole): a local path (a relative one against the worker's working directory, ``~`` expanded), a
        ``file://`` URL, a URL of any filesystem Airflow's ``ObjectStoragePath`` supports
        (``s3://bucket/key.jsonl``, with ``storage_conn_id``) or an ``ObjectStoragePath``; reported (log,
        XCom, lineage) under one name (:meth:`manifest_path`). One that is not there on the worker fails
        the task retryably, naming it and the host (:mod:`airflow_provider_modelarts.bulk.places`).
    :param storage_conn_id: Airflow connection of a remote ``manifest`` / ``files`` URL (templated; the
        ``conn_id`` of ``ObjectStoragePath``).
    :param batch_size: samples per request.
    :param max_concurrency: most requests in flight at once (1-20, default 16).
    :param adaptive_concurrency: start at 4 requests in flight and find the service's limit (grow while
        answers come back unthrottled and quick, back off on 429 / ``ModelArts.6101`` or rising latency),
        never above ``max_concurrency``; ``False`` pins exactly ``max_concurrency``.
    :param max_batch_bytes: a batch also ends once its samples carry this much base64 data.
    :param on_invalid: ``"fail"``: send nothing if any sample is invalid; ``"skip"``: send the rest.
    :param on_failure: ``"fail"``: fail the task, after every batch ran, if any sample was rejected;
        ``"warn"``: log the failures and succeed.
    """

    template_fields: Sequence[str] = modelarts_template_fields(
        "dataset_id", "samples", "manifest", "storage_conn_id"
    )
    template_fields_renderers: ClassVar[dict[str, str]] = {"samples": "json"}
    ui_color = "#dbe9f7"
    #: The arguments that each name where the samples come from: exactly one is given.
    source_arguments: ClassVar[tuple[str, ...]] = ("samples", "manifest")

    def __init__(
        self,
        *,
        dataset_id: str,
        samples: Any = None,
        manifest: Any = None,
        storage_conn_id: str | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        max_batch_bytes: int = DEFAULT_MAX_BATCH_BYTES,
        adaptive_concurrency: bool = True,
        on_invalid: OnInvalid = "fail",
        on_failure: OnFailure = "fail",
        **kwargs: Any,
    ) -> None:
        arguments = {
            "samples": samples,
            "manifest": manifest,
            "batch_size": batch_size,
            "max_concurrency": max_concurrency,
            "max_batch_bytes": max_batch_bytes,
            "adaptive_concurrency": adaptive_concurrency,
            "on_invalid": on_invalid,
            "on_failure": on_failure,
        }
        self.check_arguments({**arguments, **kwargs})
        super().__init__(**kwargs)
        self.dataset_id = dataset_id
        self.samples = _hide_if_too_deep(samples)
        self.manifest = manifest
        self.storage_conn_id = storage_conn_id
        #: How the run sends (none of the five is templated, so it is known when the DAG is parsed).
        self.bulk_options = _bulk_options(arguments)
        self.on_failure = on_failure
        #: Team labeling task the samples belong to (only :class:`UpdateLabelsOperator` takes one).
        self.workforce_task_id: str | None = None
        self.console_links: dict[str, str] = {}

    @classmethod
    def check_arguments(cls, arguments: Mapping[str, Any]) -> None:
        """The base's checks and the bulk arguments': the :class:`BulkOptions` settings, ``on_failure`` and
        exactly one source, each judged only when the arguments it needs are present (module docstring)."""
        super().check_arguments(arguments)
        _bulk_options(arguments)
        on_failure = arguments.get("on_failure", "fail")
        if on_failure not in ("fail", "warn"):
            raise ValueError(f"on_failure must be 'fail' or 'warn', got {quote(on_failure)}")
        names = cls.source_arguments
        given = [name for name in names if arguments.get(name) is not None]
        if len(given) > 1 or (not given and set(names).issubset(arguments)):
            wanted = " or ".join(f"{n}=" for n in names)
            listed = ", ".join(f"{n}=" for n in given) or "none"
            raise ValueError(f"{cls.__name__} needs exactly one of {wanted} (given: {listed})")

    def manifest_location(self) -> Any:
        """The rendered ``manifest`` as it is read: a local path, or an ``ObjectStoragePath`` with
        ``storage_conn_id`` (:func:`~airflow_provider_modelarts.operators.base.storage_location`)."""
        return storage_location(as_location(self.manifest, "manifest"), self.storage_conn_id)

    def manifest_path(self) -> str:
        """How the manifest is reported (log, XCom, lineage): a local one absolute
        (:func:`airflow_provider_modelarts.lineage.local_path`), a remote one by its public location
        (no credentials, no query string: :func:`airflow_provider_modelarts.bulk.places.place_name`)."""
        from airflow_provider_modelarts.bulk.places import place_name

        return place_name(self.manifest_location())

    def manifest_read(self) -> list[str]:
        """The lineage input of a run: its manifest's path (:meth:`manifest_path`), or none without one."""
        return [] if self.manifest is None else [self.manifest_path()]

    def render_template(
        self, content: Any, context: Context, jinja_env: Any = None, seen_oids: set[int] | None = None
    ) -> Any:
        """Skip Jinja for strings that cannot hold a template.

        Airflow compiles every string of a templated list as a Jinja template; for a ``samples`` list holding
        base64 image data that costs seconds and memory for nothing. A string without ``{`` has no Jinja
        syntax, so it is returned as is.
        """
        if isinstance(content, _Opaque) or (
            isinstance(content, str) and "{" not in content and not content.endswith(tuple(self.template_ext))
        ):
            return content
        return super().render_template(content, context, jinja_env, seen_oids)

    def _list_or_manifest(self) -> Source:
        from airflow_provider_modelarts.bulk.sources import ListSource, ManifestSource

        if self.manifest is not None:
            return ManifestSource(self.manifest_location())
        return ListSource(as_sample_list(self.samples))

    def run_bulk(
        self, context: Context, key_field: str, call: Callable[[ModelArtsHook], dict[str, Any]]
    ) -> dict[str, Any]:
        """Make the one hook call, then turn its summary into the XCom value or a failed task.

        Input the run refused (invalid samples, a guard) fails the task without retries: the same input would
        be refused again. A source that is not there (a missing manifest, ``files`` matching nothing) fails
        it retryably (``AirflowException``): it may arrive, or the retry may run where it is. Samples the
        service rejected fail it (retryable) only with ``on_failure="fail"``, after every batch was sent;
        the summary is pushed as XCom ``bulk_result`` first so it stays reachable.
        """
        from airflow_provider_modelarts.bulk.checks import RunRefused
        from airflow_provider_modelarts.bulk.places import SourceNotFoundError
        from airflow_provider_modelarts.bulk.tally import failure_lines
        from airflow_provider_modelarts.bulk.validation import MESSAGE_LINES

        if not self.dataset_id:
            raise AirflowFailException("dataset_id is empty")
        self.console_links = resolve_console_links(self.hook, self.dataset_id, self.workforce_task_id)
        try:
            summary = call(self.hook)
        except RunRefused as exc:
            raise AirflowFailException(str(exc)) from None
        except SourceNotFoundError as exc:
            raise AirflowException(str(exc)) from None
        failed = summary["failed"]
        if failed and self.on_failure == "fail":
            ti = context.get("ti") if isinstance(context, Mapping) else None
            if ti is not None:
                ti.xcom_push(key="bulk_result", value=summary)
            shown = failure_lines(summary["failures"][:MESSAGE_LINES], key_field)
            more = failed - len(shown)
            raise AirflowException(
                f"{failed:,} of {summary['total'] - summary['invalid']:,} samples failed in dataset "
                f"{self.dataset_id}: "
                + "; ".join(shown)
                + (f"; ... and {more:,} more" if more else "")
                + " (on_failure='fail'; all batches were sent first)"
            )
        return summary


class _Opaque:
    """A value Airflow's recursive walks must not descend into (see :func:`_hide_if_too_deep`)."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __repr__(self) -> str:
        return f"<samples nested more than {_OPAQUE_DEPTH} levels deep>"


def _hide_if_too_deep(samples: Any) -> Any:
    """``samples`` itself, or wrapped in :class:`_Opaque` if nested absurdly deep.

    Airflow walks every templated argument recursively once ``__init__`` returns (and again to render
    templates); a sample nested deeper than the interpreter's recursion limit would crash that walk with a
    bare ``RecursionError`` while the DAG file is parsed. Such a value is hidden from the walks, and
    ``execute`` reports the offending sample and field like any other invalid sample. The check walks
    iteratively and stops at the first too-deep branch.
    """
    stack: list[tuple[Any, int]] = [(samples, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children: Any = value.values()
        elif isinstance(value, (list, tuple, set)):
            children = value
        else:
            continue
        if depth >= _OPAQUE_DEPTH:
            return _Opaque(samples)
        stack.extend((child, depth + 1) for child in children)
    return samples


def _bulk_options(arguments: Mapping[str, Any]) -> BulkOptions:
    """The :class:`BulkOptions` of the settings present in ``arguments`` (``ValueError`` naming a bad one).

    ``adaptive_concurrency`` counts for its truth value, as the operators always took it.
    """
    if "adaptive_concurrency" in arguments:
        arguments = {**arguments, "adaptive_concurrency": bool(arguments["adaptive_concurrency"])}
    return BulkOptions.given(arguments)


def as_location(value: Any, name: str) -> Any:
    """A rendered ``manifest`` / ``files`` entry: a non-empty path or URL (stripped), or a path object."""
    if hasattr(value, "protocol") and hasattr(value, "fs"):  # ObjectStoragePath, UPath
        return value
    if isinstance(value, (str, os.PathLike)) and os.fspath(value).strip():
        return os.fspath(value).strip()
    got = "an empty string" if isinstance(value, (str, os.PathLike)) else type(value).__name__
    raise AirflowFailException(f"{name} must be a file path or URL, got {got}")


def as_sample_list(value: Any) -> Sequence[Any]:
    """The rendered ``samples`` argument as a list.

    Templates render to text unless the DAG sets ``render_template_as_native_obj=True``, so a string is parsed
    back: JSON first, then a Python literal (what ``{{ ti.xcom_pull(...) }}`` renders a list to).
    """
    if isinstance(value, _Opaque):
        value = value.value
    if isinstance(value, str):
        text = value.strip()
        try:
            value = json.loads(text)
        except ValueError:
            try:
                value = ast.literal_eval(text)
            except (ValueError, SyntaxError):
                raise AirflowFailException(
                    "samples rendered to text that is neither JSON nor a Python literal list; pass a list, "
                    "an XComArg (task.output) or set render_template_as_native_obj=True on the DAG"
                ) from None
    if isinstance(value, (Mapping, str, bytes)) or not isinstance(value, Sequence):
        raise AirflowFailException(f"samples must be a list of samples, got {type(value).__name__}")
    return value
