"""Airflow plumbing shared by the two bulk operators (add samples, update labels).

A run has two passes over the input:

1. **Validate** every sample (pydantic models with the documented rules, plus operator checks such as
   duplicate names) while keeping only the problems and the counts. Nothing is sent yet, so
   ``on_invalid="fail"`` can refuse the whole run and guarantee that no request was made. For a manifest or
   local files this pass streams, so a 100,000-line manifest costs the same memory as a 100-line one.
2. **Send**: re-read the source, rebuild each valid sample and hand batches to the engine in
   :mod:`._batching`.

The heavy modules (hook, client, pydantic models) are imported inside ``execute``: the scheduler and DAG
processor import DAG files, hence this module, all the time and never call ``execute``.
"""

from __future__ import annotations

import ast
import json
import logging
import os
from array import array
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from airflow.sdk import BaseOperator

from airflow_provider_modelarts._compat import AirflowException, AirflowFailException
from airflow_provider_modelarts._models._sendable import MAX_DEPTH
from airflow_provider_modelarts.operators._batching import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_MAX_BATCH_BYTES,
    DEFAULT_MAX_CONCURRENCY,
    Batch,
    BatchPlanner,
    BulkTally,
    ItemRef,
    ItemResult,
    KeyHashes,
    Outcome,
    brief,
    frozen_heap,
    key_hash,
    log_lines,
    make_batches,
    relaxed_gc,
    results_from_response,
    run_batches,
    run_coroutine,
)
from airflow_provider_modelarts.operators._sources import (
    BadRecord,
    FileRef,
    ListSource,
    ManifestSource,
    Source,
)

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_modelarts.client import AsyncModelArtsClient, RetryPolicy
    from airflow_provider_modelarts.hooks.modelarts import ModelArtsHook
    from airflow_provider_modelarts.models import SampleValidationError

__all__ = ["BulkSamplesOperator", "OnFailure", "OnInvalid"]

OnInvalid = Literal["fail", "skip"]
OnFailure = Literal["fail", "warn"]

#: The HTTP connection pool of a client holds 20 connections; more concurrent requests would only queue.
MAX_CONCURRENCY_LIMIT = 20

#: Lines of problems / failures quoted in an exception message (all of them, capped at 100, are in the log).
_MESSAGE_LINES = 20


@dataclass
class Problem:
    field: str
    message: str


@dataclass
class _Plan:
    """What the validation pass learnt, small enough to keep for the sending pass."""

    tally: BulkTally
    invalid: set[int] = field(default_factory=set)
    models: list[Any] | None = None  # parsed models of an in-memory list (None: re-read the source)
    sizes: array[int] | None = None  # payload size of each valid model above, in order
    nameless: int = 0


class BulkSamplesOperator(BaseOperator):
    """Base class: validation pass, batching, concurrency, outcome counting, logging and XCom.

    Subclasses set the class attributes and implement :meth:`_model_cls`, :meth:`_send_batch` and, if needed,
    :meth:`_prepare_raw` / :meth:`_extra_problems` / :meth:`_after_validation`.
    """

    template_fields: Sequence[str] = ("dataset_id", "project_id", "samples", "manifest")
    template_fields_renderers: ClassVar[dict[str, str]] = {"samples": "json"}
    ui_color = "#dbe9f7"

    _done_key: ClassVar[str] = "done"
    _key_field: ClassVar[str] = "name"
    _verb: ClassVar[str] = "Sending"
    _already_present_codes: ClassVar[frozenset[str]] = frozenset()

    def __init__(
        self,
        *,
        dataset_id: str,
        samples: Any = None,
        manifest: str | os.PathLike[str] | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        max_batch_bytes: int = DEFAULT_MAX_BATCH_BYTES,
        on_invalid: OnInvalid = "fail",
        on_failure: OnFailure = "fail",
        project_id: str | None = None,
        modelarts_conn_id: str = "modelarts_default",
        client_retry: RetryPolicy | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if on_invalid not in ("fail", "skip"):
            raise ValueError(f"on_invalid must be 'fail' or 'skip', got {brief(on_invalid)}")
        if on_failure not in ("fail", "warn"):
            raise ValueError(f"on_failure must be 'fail' or 'warn', got {brief(on_failure)}")
        _check_int("batch_size", batch_size, 1, None)
        _check_int("max_concurrency", max_concurrency, 1, MAX_CONCURRENCY_LIMIT)
        _check_int("max_batch_bytes", max_batch_bytes, 1, None)
        self.dataset_id = dataset_id
        self.samples = samples
        self.manifest = manifest
        self.batch_size = batch_size
        self.max_concurrency = max_concurrency
        self.max_batch_bytes = max_batch_bytes
        self.on_invalid = on_invalid
        self.on_failure = on_failure
        self.project_id = project_id
        self.modelarts_conn_id = modelarts_conn_id
        self.client_retry = client_retry
        self.console_links: dict[str, str] = {}
        self._source_description = ""
        self._model: Any = None
        self._parsers: tuple[Callable[..., Any], type[SampleValidationError]] | None = None
        sources = [name for name in self._source_args() if getattr(self, name) is not None]
        if len(sources) != 1:
            given = ", ".join(f"{n}=" for n in sources) or "none"
            wanted = " or ".join(f"{n}=" for n in self._source_args())
            raise ValueError(f"{type(self).__name__} needs exactly one of {wanted} (given: {given})")

    # -- subclass interface --------------------------------------------------------------------------------
    def _source_args(self) -> tuple[str, ...]:
        return ("samples", "manifest")

    def _model_cls(self) -> type[Any]:
        raise NotImplementedError

    async def _send_batch(self, client: AsyncModelArtsClient, items: list[Any]) -> Any:
        raise NotImplementedError

    def _prepare_raw(self, raw: Any) -> Any:
        """Adjust one raw sample before validation (e.g. fill in a default); must be cheap and pure."""
        return raw

    def _extra_problems(self, model: Any) -> list[Problem]:
        """Operator-level checks on a sample the model accepted."""
        return []

    def _begin_pass(self) -> None:
        """Called before each validation pass (reset what :meth:`_on_valid` counts)."""

    def _on_valid(self, index: int, model: Any) -> None:
        """Called once per sample the validation pass accepted (for counts a subclass needs)."""

    def _after_validation(self, plan: _Plan) -> None:
        """Hook to refuse the run after the validation pass (nothing has been sent yet)."""

    def _result_ids(self) -> dict[str, Any]:
        return {"dataset_id": self.dataset_id, "source": self._source_description}

    def _build_source(self) -> Source:
        if self.manifest is not None:
            return ManifestSource(_as_path(self.manifest, "manifest"))
        return ListSource(_as_sample_list(self.samples))

    # -- Airflow ------------------------------------------------------------------------------------------
    def _set_xcomargs_dependencies(self) -> None:
        """Find XComArgs in the arguments, surviving absurdly nested ``samples``.

        Airflow walks every templated argument recursively once ``__init__`` returns (and again to render
        templates). A sample nested deeper than the interpreter's recursion limit would crash that walk with
        a bare ``RecursionError`` while the DAG file is parsed. Only then (no cost for normal input) is the
        value hidden from Airflow's walks; the validation pass reports the offending sample and field like any
        other problem.
        """
        try:
            super()._set_xcomargs_dependencies()
        except RecursionError:
            object.__setattr__(self, "samples", _Opaque(self.samples))
            super()._set_xcomargs_dependencies()

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

    def _hook(self) -> ModelArtsHook:
        from airflow_provider_modelarts.hooks.modelarts import ModelArtsHook

        return ModelArtsHook(self.modelarts_conn_id, project_id=self.project_id, retry=self.client_retry)

    def _store_console_links(self, hook: ModelArtsHook) -> None:
        """Resolve the console links now (region from the connection) so the extra links need no lookup."""
        try:
            self.console_links = {"dataset": hook.console_url(self.dataset_id)}
            task_id = getattr(self, "workforce_task_id", None)
            if task_id:
                self.console_links["workforce_task"] = hook.console_url(self.dataset_id, task_id)
        except Exception:  # a link is a convenience; never fail the task for it
            self.log.debug("Could not build the ModelArts console links", exc_info=True)

    def execute(self, context: Context) -> dict[str, Any]:
        if not self.dataset_id:
            raise AirflowFailException("dataset_id is empty")
        with frozen_heap() as refreeze:
            return self._execute(context, refreeze)

    def _execute(self, context: Context, refreeze: Callable[[], None]) -> dict[str, Any]:
        source = self._build_source()
        with relaxed_gc():
            plan = self._validate(source)
        refreeze()
        self._source_description = source.describe()
        tally = plan.tally
        self._report_invalid(plan)
        self._after_validation(plan)
        hook = self._hook()
        self._store_console_links(hook)
        if tally.to_send == 0:
            self.log.warning("Nothing to send: %s holds no valid samples.", source.describe())
            return tally.as_result(**self._result_ids())
        project_id = hook.project_id  # reads the connection here, outside the event loop
        self.log.info(
            "%s %s %s from %s to dataset %s (project %s) in %s batches of up to %s, %s requests at a time",
            self._verb,
            f"{tally.to_send:,}",
            tally.noun,
            source.describe(),
            self.dataset_id,
            project_id,
            f"{tally.planned_batches:,}",
            self.batch_size,
            self.max_concurrency,
        )
        try:
            run_coroutine(lambda: self._send_all(hook, source, plan))
        except Exception:
            self.log.error("Stopped early: %s", tally.summary_line())
            raise
        self.log.info("Finished: %s", tally.summary_line())
        result = tally.as_result(**self._result_ids())
        if tally.failed:
            lines = tally.failure_lines()
            log_lines(
                self.log,
                logging.WARNING,
                f"{tally.failed:,} of {tally.to_send:,} {tally.noun} failed:",
                lines,
                tally.failed - len(lines),
            )
            if self.on_failure == "fail":
                ti = context.get("ti") if isinstance(context, Mapping) else None
                if ti is not None:  # keep the per-sample report reachable although the task fails
                    ti.xcom_push(key="bulk_result", value=result)
                shown = tally.failure_lines(_MESSAGE_LINES)
                more = tally.failed - len(shown)
                raise AirflowException(
                    f"{tally.failed:,} of {tally.to_send:,} {tally.noun} failed in dataset "
                    f"{self.dataset_id}: "
                    + "; ".join(shown)
                    + (f"; ... and {more:,} more" if more else "")
                    + " (on_failure='fail'; all batches were sent first)"
                )
        return result

    # -- pass 1: validation --------------------------------------------------------------------------------
    def _tally(self) -> BulkTally:
        return BulkTally(done_key=self._done_key, key_field=self._key_field)

    def _check(self, index: int, raw: Any) -> tuple[Any, str | None, list[Problem]]:
        """Validate one raw sample: (model or None, name/id for reports, problems).

        The models own validation, including whether the sample can be sent as JSON unchanged (no NaN, lone
        surrogates, arbitrary objects or absurd nesting): :func:`parse_sample` reports those as this sample's
        problem, so nothing here can crash a batch later.
        """
        # Imported once per pass (see _validation_pass), not once per sample: an import statement costs
        # about a microsecond even when the module is loaded, and a run validates 100,000 samples.
        parsers = self._parsers
        if parsers is None:
            parsers = self._parsers = _load_parsers()
        parse_sample, validation_error = parsers
        model_cls = self._model
        if type(raw) is not dict:  # the common case (a list or manifest of plain objects) skips these
            if isinstance(raw, BadRecord):
                return None, None, [Problem("json", raw.message)]
            if isinstance(raw, FileRef):
                if raw.problem is not None:
                    return None, raw.name, [Problem(*raw.problem)]
                raw = raw.describe_sample()
            if not isinstance(raw, (dict, model_cls)) and not isinstance(raw, Mapping):
                return None, None, [Problem("sample", f"must be an object, got {type(raw).__name__}")]
        raw = self._prepare_raw(raw)
        try:
            model = parse_sample(model_cls, raw, index)
        except validation_error as exc:
            name = _raw_key(raw, self._key_field)
            return None, name, [Problem(p.field, p.message) for p in exc.problems]
        except Exception as exc:  # input so odd the validators trip over it: still this sample's problem
            detail = f"{type(exc).__name__}: {exc}"
            return None, _raw_key(raw, self._key_field), [Problem("", f"cannot be validated ({detail})")]
        key = getattr(model, self._key_field, None)
        return model, key, self._extra_problems(model)

    def _validate(self, source: Source) -> _Plan:
        """The validation pass; a second one only if names / ids may repeat (an error case).

        Duplicate detection must not cost memory per sample: the first pass keeps an 8-byte hash per key
        (:class:`KeyHashes`, ~0.8 MB per 100,000 samples). Only if some hash repeats does a second pass keep
        the exact keys of those few suspects, to confirm and name the duplicates.
        """
        plan, hashes = self._validation_pass(source, suspects=None)
        repeated = hashes.repeated() if hashes is not None else set()
        if repeated:
            plan, _ = self._validation_pass(source, suspects=repeated)
        return plan

    def _validation_pass(self, source: Source, suspects: set[int] | None) -> tuple[_Plan, KeyHashes | None]:
        self._model = self._model_cls()
        self._parsers = _load_parsers()
        self._begin_pass()
        plan = _Plan(tally=self._tally())
        tally = plan.tally
        planner = BatchPlanner(self.batch_size, self.max_batch_bytes)
        hashes = KeyHashes() if suspects is None else None
        seen: dict[str, int] = {}  # exact keys, of suspects only
        models: list[Any] | None = [] if isinstance(source, ListSource) else None
        sizes = array("q")  # payload size of each kept model (list sources), so pass 2 need not recompute
        add_size = planner.add
        add_hash = hashes.add if hashes is not None else None
        # Only a model with a ``data`` field can carry payload (extras live outside ``__dict__``), so label
        # updates skip the per-sample size lookup.
        sized = "data" in getattr(self._model, "model_fields", {"data": None})
        try:
            for index, raw in source:
                tally.total += 1
                model, key, problems = self._check(index, raw)
                if model is not None and key is not None and suspects and key_hash(key) in suspects:
                    first = seen.setdefault(key, index)
                    if first != index:
                        problems.append(
                            Problem(
                                self._key_field,
                                f"duplicate {self._key_field} {brief(key)} (also sample #{first}); "
                                "each sample may appear once per run",
                            )
                        )
                if problems:
                    plan.invalid.add(index)
                    tally.invalid += 1
                    for problem in problems:
                        tally.add_problem(index, key, problem.field, problem.message)
                    if models is not None:
                        models.append(None)
                    continue
                if key is None:
                    plan.nameless += 1
                elif add_hash is not None:
                    add_hash(key)
                self._on_valid(index, model)
                if type(raw) is not dict and isinstance(raw, FileRef):
                    size = _payload_size(raw)
                else:
                    size = _payload_size(model) if sized else 0
                add_size(size)
                tally.to_send += 1
                if models is not None:
                    models.append(model)
                    sizes.append(size)
        except ValueError as exc:  # ManifestError and friends: the source as a whole is unreadable
            raise AirflowFailException(str(exc)) from exc
        tally.planned_batches = planner.batches
        plan.models = models
        plan.sizes = sizes if models is not None else None
        return plan, hashes

    def _report_invalid(self, plan: _Plan) -> None:
        tally = plan.tally
        if not tally.invalid:
            return
        lines = [_problem_line(p, self._key_field) for p in tally.problems]
        if self.on_invalid == "fail":
            shown = lines[:_MESSAGE_LINES]
            more = tally.invalid_problem_count - len(shown)
            log_lines(
                self.log,
                logging.ERROR,
                f"{tally.invalid:,} of {tally.total:,} {tally.noun} are invalid; nothing was sent:",
                lines,
                tally.invalid_problem_count - len(lines),
            )
            raise AirflowFailException(
                f"{tally.invalid:,} of {tally.total:,} {tally.noun} are invalid, so nothing was sent "
                f"(on_invalid='fail'): " + "; ".join(shown) + (f"; ... and {more:,} more" if more else "")
            )
        log_lines(
            self.log,
            logging.WARNING,
            f"Skipping {tally.invalid:,} invalid {tally.noun} of {tally.total:,} (on_invalid='skip'):",
            lines,
            tally.invalid_problem_count - len(lines),
        )

    # -- pass 2: sending -----------------------------------------------------------------------------------
    def _items(self, source: Source, plan: _Plan) -> Iterator[tuple[ItemRef, Any, int]]:
        if plan.models is not None:
            key_field = self._key_field
            sizes = iter(plan.sizes) if plan.sizes is not None else None
            for index, model in enumerate(plan.models):
                if model is not None:
                    size = next(sizes) if sizes is not None else _payload_size(model)
                    yield ItemRef(index, getattr(model, key_field, None)), model, size
            return
        tally = plan.tally
        for index, raw in source:
            if index in plan.invalid:
                continue
            if isinstance(raw, FileRef):
                try:
                    raw = raw.read_sample()
                except OSError as exc:
                    raw = FileRef(raw.path, raw.name, 0, None, ("file", f"cannot read {raw.path}: {exc}"))
            model, key, problems = self._check(index, raw)
            if problems:  # the file changed between the two passes; report it, never send it
                tally.invalid += 1
                tally.to_send -= 1
                for problem in problems:
                    tally.add_problem(index, key, problem.field, problem.message)
                self.log.warning("Sample #%s changed since validation and is now invalid; not sent.", index)
                continue
            yield ItemRef(index, key), model, _payload_size(model)

    async def _send_all(self, hook: ModelArtsHook, source: Source, plan: _Plan) -> None:
        tally = plan.tally
        client = await hook.get_async_client()
        async with client:
            retries_before = client.retry_count

            async def send(batch: Batch[Any]) -> list[ItemResult]:
                return await self._send_and_map(client, batch)

            def on_done(batch: Batch[Any], results: list[ItemResult]) -> None:
                failed = tally.add_batch(batch, results)
                self.log.info(tally.progress_line(batch, failed))

            tally.start_clock()
            try:
                await run_batches(
                    make_batches(
                        self._items(source, plan), BatchPlanner(self.batch_size, self.max_batch_bytes)
                    ),
                    send,
                    max_concurrency=self.max_concurrency,
                    on_done=on_done,
                    classify_error=_classify_error,
                )
            finally:
                tally.retries = client.retry_count - retries_before
                tally.elapsed = tally.elapsed_since_start()

    async def _send_and_map(self, client: AsyncModelArtsClient, batch: Batch[Any]) -> list[ItemResult]:
        from airflow_provider_modelarts.errors import ModelArtsValidationError

        try:
            response = await self._send_batch(client, batch.items)
        except ModelArtsValidationError as exc:
            # Some deployments reject a whole batch when one sample already exists, instead of answering per
            # item. Nothing of that batch was applied, so each sample is sent on its own to sort them out.
            if exc.error_code not in self._already_present_codes or len(batch) == 1:
                if exc.error_code in self._already_present_codes:
                    return [ItemResult(Outcome.ALREADY_PRESENT, exc.error_code, exc.error_msg)]
                raise
            results: list[ItemResult] = []
            for ref, item in zip(batch.refs, batch.items, strict=True):
                single = Batch(batch.number, [item], [ref])
                results.extend(await self._send_and_map(client, single))
            return results
        return results_from_response(response, batch.refs, already_present_codes=self._already_present_codes)


# "Not found" codes about one sample or worker: a batch answered with one failed, the run goes on.
_ITEM_LEVEL_CODES = frozenset({"ModelArts.4420", "ModelArts.4604"})


def _classify_error(exc: BaseException) -> ItemResult | None:
    """Per-batch outcome of a failed request, or None when no other batch can succeed either."""
    from airflow_provider_modelarts.errors import (
        ModelArtsAPIError,
        ModelArtsAuthError,
        ModelArtsConfigError,
        ModelArtsError,
        ModelArtsNotFoundError,
        ModelArtsTransportError,
    )

    if isinstance(exc, (ModelArtsAuthError, ModelArtsConfigError)):
        return None
    if isinstance(exc, ModelArtsNotFoundError) and exc.error_code not in _ITEM_LEVEL_CODES:
        return None  # the project, dataset or task is missing: every other batch would fail too
    if isinstance(exc, ModelArtsAPIError):
        return ItemResult(Outcome.FAILED, exc.error_code or f"HTTP {exc.status}", exc.error_msg or str(exc))
    if isinstance(exc, ModelArtsTransportError):
        return ItemResult(Outcome.FAILED, "transport_error", str(exc))
    if isinstance(exc, ModelArtsError):
        return ItemResult(Outcome.FAILED, type(exc).__name__, str(exc))
    from pydantic_core import PydanticSerializationError

    if isinstance(exc, PydanticSerializationError):  # a manifest changed between the passes: fail the batch
        return ItemResult(Outcome.FAILED, "unsendable", _short_reason(exc))
    return None


class _Opaque:
    """A value Airflow's recursive walks must not descend into (see ``BulkSamplesOperator.__init__``)."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __repr__(self) -> str:
        return f"<samples nested more than {MAX_DEPTH} levels deep>"


def _short_reason(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text if len(text) <= 160 else text[:157] + "..."


def _check_int(name: str, value: Any, low: int, high: int | None) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high and value > high):
        bound = f"from {low} to {high}" if high else f"at least {low}"
        raise ValueError(f"{name} must be an integer {bound}, got {brief(value)}")


def _payload_size(item: Any) -> int:
    """Bytes a sample contributes to a batch's data budget (its base64 ``data``; labels count as zero)."""
    if isinstance(item, FileRef):
        return 4 * ((item.size + 2) // 3)
    # Via __dict__: a missing attribute on a pydantic model goes through its slow __getattr__.
    try:
        data = item.__dict__.get("data")
    except AttributeError:
        return 0
    return len(data) if type(data) is str or isinstance(data, str) else 0


def _load_parsers() -> tuple[Callable[..., Any], type[SampleValidationError]]:
    from airflow_provider_modelarts.models import SampleValidationError, parse_sample

    return parse_sample, SampleValidationError


def _raw_key(raw: Any, key_field: str) -> str | None:
    value = raw.get(key_field) if isinstance(raw, Mapping) else getattr(raw, key_field, None)
    return value if isinstance(value, str) else None


def _problem_line(problem: Mapping[str, Any], key_field: str) -> str:
    key = problem.get(key_field)
    label = f"sample #{problem['index']}" + (f" ({brief(key)})" if key else "")
    return f"{label}: {problem['field']}: {problem['message']}"


def _as_path(value: Any, name: str) -> str:
    if isinstance(value, (str, os.PathLike)) and os.fspath(value).strip():
        return os.fspath(value).strip()
    raise AirflowFailException(f"{name} must be a file path, got {type(value).__name__}")


def _as_sample_list(value: Any) -> Sequence[Any]:
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
