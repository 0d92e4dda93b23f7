"""The validate-first pass of a bulk run, with the checks passed in by the caller.

Every sample is validated before anything is sent, keeping only the problems and the counts, so
``on_invalid="fail"`` can refuse the whole run and guarantee that no request was made. For a manifest or local
files this pass streams, so a 100,000-line manifest costs the same memory as a 100-line one.

The models own validation of samples (:func:`~airflow_provider_modelarts.models.parse_samples`, :data:`CHUNK`
to a call, each valid sample with its request JSON). What depends on the run (names that repeat, samples
whose labels an update would delete, samples without a name) is a :class:`~.checks.SampleCheck` the caller
composes into :class:`Validator`; the engine knows none of them.
"""

from __future__ import annotations

import logging
from array import array
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from airflow_provider_modelarts._models._parse import SerializedSample, Valid, format_loc
from airflow_provider_modelarts.bulk.checks import Problem, RunRefused, SampleCheck
from airflow_provider_modelarts.bulk.planning import BatchPlanner, ItemRef, payload_size
from airflow_provider_modelarts.bulk.sources import BadRecord, FileRef, ListSource, Source
from airflow_provider_modelarts.bulk.tally import BulkTally, log_lines, problem_line
from airflow_provider_modelarts.models import (
    STRICT_INPUT_CONTEXT,
    SampleProblem,
    SampleValidationError,
    parse_samples,
)

__all__ = [
    "CHUNK",
    "MESSAGE_LINES",
    "Problem",
    "RunRefused",
    "SampleCheck",
    "ValidationReport",
    "Validator",
    "fill_default",
    "parse_option",
]

NO_PROBLEMS: list[Problem] = []  # shared, never changed: a valid sample's (one list less per sample)

#: Lines of problems quoted in an exception message (all of them, capped at 100, are in the log).
MESSAGE_LINES = 20

#: Samples validated in one call of the models. Small enough that the models of one call (about ten
#: tracked objects a sample) stay under the garbage collector's 700-allocation trigger: larger calls made it
#: run once per call and promote short-lived models to the older generations (a full collection of an
#: Airflow worker's heap costs ~0.1 s); a manifest still streams.
CHUNK = 32

M = TypeVar("M", bound=BaseModel)


def parse_option(model_cls: type[M], value: Any, name: str) -> M | None:
    """An option of the whole run (e.g. ``label_format``) as its model, validated strictly before sending."""
    if value is None or isinstance(value, model_cls):
        return value
    try:
        return model_cls.model_validate(value, context=dict(STRICT_INPUT_CONTEXT))
    except ValidationError as exc:
        details = "; ".join(f"{name}.{format_loc(err['loc'])}: {err['msg']}" for err in exc.errors())
        raise RunRefused(f"{name} is invalid, so nothing was sent: {details}") from None


def fill_default(field_name: str, value: Any) -> Callable[[Any], Any] | None:
    """A ``prepare`` step for :class:`Validator`: set ``field_name`` on each raw sample that has none."""
    if not value:
        return None

    def prepare(raw: Any) -> Any:
        if isinstance(raw, Mapping):
            return raw if raw.get(field_name) else {**raw, field_name: value}
        return raw if getattr(raw, field_name, None) else raw.model_copy(update={field_name: value})

    return prepare


@dataclass
class ValidationReport:
    """What the validation pass learnt, small enough to keep for the sending pass."""

    tally: BulkTally
    invalid: set[int] = field(default_factory=set)
    # Valid samples of an in-memory list, serialised once (None: re-read the source). Bytes rather than the
    # parsed models: the garbage collector walks live model trees over and over, never a bytes object.
    models: list[SerializedSample | None] | None = None
    sizes: array[int] | None = None  # payload size of each valid model above, in order


class Validator:
    """Validates raw samples into ``model_cls`` instances and applies the run's checks.

    :param prepare: adjusts one raw sample before validation (e.g. fills in a default); cheap and pure.
    """

    def __init__(
        self,
        model_cls: type[Any],
        key_field: str,
        checks: Sequence[SampleCheck] = (),
        *,
        prepare: Callable[[Any], Any] | None = None,
    ) -> None:
        self.model_cls = model_cls
        self.key_field = key_field
        self.checks = list(checks)
        self.prepare = prepare
        # Only a model with a ``data`` field can carry payload, so label updates skip the size lookup.
        self._sized = "data" in getattr(model_cls, "model_fields", {"data": None})

    def parse(self, index: int, raw: Any) -> tuple[Valid | None, str | None, list[Problem]]:
        """Validate one raw sample: (model and its request JSON, or None; name/id for reports; problems of
        the model itself).

        The models own validation, including whether the sample can be sent as JSON unchanged (no NaN, lone
        surrogates, arbitrary objects or absurd nesting), so nothing here can crash a batch later.
        """
        return self.parse_many([(index, raw)])[0]

    def parse_many(
        self, items: Sequence[tuple[int, Any]]
    ) -> list[tuple[Valid | None, str | None, list[Problem]]]:
        """:meth:`parse` of each ``(index, raw)``, in order; the samples validate in one call of the models
        (:func:`~airflow_provider_modelarts.models.parse_samples`)."""
        results: list[tuple[Valid | None, str | None, list[Problem]] | None]
        if self.prepare is None and all(type(raw) is dict for _, raw in items):  # the common case
            results, ready = [None] * len(items), items
        else:
            results, ready = [], []
            for index, raw in items:
                early = self._early_problem(raw)
                if early is None:
                    raw = raw.describe_sample() if isinstance(raw, FileRef) else raw
                    ready.append((index, raw if self.prepare is None else self.prepare(raw)))
                results.append(early)
        parsed = iter(self._parse_all(ready))
        raws = iter(ready)
        return [
            result if result is not None else self._outcome(next(raws)[1], next(parsed)) for result in results
        ]

    def _parse_all(self, ready: Sequence[tuple[int, Any]]) -> list[Any]:
        try:
            return parse_samples(self.model_cls, ready)
        except Exception:  # input so odd the validators trip over it: each sample on its own says which
            return [self._parse_alone(index, raw) for index, raw in ready]

    def _early_problem(self, raw: Any) -> tuple[None, str | None, list[Problem]] | None:
        """What is wrong with a record before any validation (unreadable JSON, an unreadable file, ...)."""
        if type(raw) is dict:  # the common case (a list or manifest of plain objects)
            return None
        if isinstance(raw, BadRecord):
            return None, None, [Problem("json", raw.message)]
        if isinstance(raw, FileRef):
            return None if raw.problem is None else (None, raw.name, [Problem(*raw.problem)])
        if not isinstance(raw, (Mapping, self.model_cls)):
            return None, None, [Problem("sample", f"must be an object, got {type(raw).__name__}")]
        return None

    def _parse_alone(self, index: int, raw: Any) -> Any:
        try:
            return parse_samples(self.model_cls, [(index, raw)])[0]
        except Exception as exc:  # still this sample's problem, never the run's
            return SampleValidationError(
                [SampleProblem(index, None, "", f"cannot be validated ({type(exc).__name__}: {exc})")]
            )

    def _outcome(self, raw: Any, parsed: Any) -> tuple[Valid | None, str | None, list[Problem]]:
        if isinstance(parsed, SampleValidationError):
            return None, self._raw_key(raw), [Problem(p.field, p.message) for p in parsed.problems]
        return parsed, getattr(parsed.model, self.key_field, None), NO_PROBLEMS

    def validate(self, source: Source, tally: BulkTally, planner: BatchPlanner) -> ValidationReport:
        """The validation pass, run again if a check asks for it (names / ids that may repeat)."""
        while True:
            report = self._pass(source, tally, planner)
            if not any([check.another_pass() for check in self.checks]):
                return report
            tally, planner = tally.fresh(), BatchPlanner(planner.batch_size, planner.max_batch_bytes)

    def _pass(self, source: Source, tally: BulkTally, planner: BatchPlanner) -> ValidationReport:
        for check in self.checks:
            check.begin_pass()
        report = ValidationReport(tally=tally)
        models: list[SerializedSample | None] | None = [] if isinstance(source, ListSource) else None
        sizes = array("q")  # payload size of each kept model (list sources), so pass 2 need not recompute
        for chunk in self._chunks(source):
            tally.total += len(chunk)
            for (index, raw), (valid, key, problems) in zip(chunk, self.parse_many(chunk), strict=True):
                if valid is not None:
                    problems = self._run_checks(index, key, valid.model)
                if problems:
                    report.invalid.add(index)
                    tally.invalid += 1
                    for problem in problems:
                        tally.add_problem(index, key, problem.field, problem.message)
                    if models is not None:
                        models.append(None)
                    continue
                if isinstance(raw, FileRef):
                    size = raw.encoded_size()
                else:
                    size = payload_size(valid.model) if self._sized else 0  # type: ignore[union-attr]
                planner.add(size)
                tally.to_send += 1
                if models is not None:
                    models.append(SerializedSample(valid.json, key))  # type: ignore[union-attr]
                    sizes.append(size)
        tally.planned_batches = planner.batches
        report.models = models
        report.sizes = sizes if models is not None else None
        return report

    @staticmethod
    def _chunks(source: Source) -> Iterator[list[tuple[int, Any]]]:
        """``source``'s ``(index, raw)`` samples, :data:`CHUNK` at a time (one call of the models each)."""
        chunk: list[tuple[int, Any]] = []
        for item in source:
            chunk.append(item)
            if len(chunk) == CHUNK:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    def _run_checks(self, index: int, key: str | None, model: Any) -> list[Problem]:
        for check in self.checks:
            problems = check.check(index, key, model)
            if problems:
                return problems
        return NO_PROBLEMS

    def conclude(self, report: ValidationReport, *, on_invalid: str, log: logging.Logger) -> None:
        """Report invalid samples (refusing the run if ``on_invalid="fail"``), then let each check judge."""
        tally = report.tally
        if tally.invalid:
            lines = [problem_line(p, self.key_field) for p in tally.problems]
            unlisted = tally.invalid_problem_count - len(lines)
            if on_invalid == "fail":
                header = f"{tally.invalid:,} of {tally.total:,} {tally.noun} are invalid; nothing was sent:"
                log_lines(log, logging.ERROR, header, lines, unlisted)
                shown = lines[:MESSAGE_LINES]
                more = tally.invalid_problem_count - len(shown)
                raise RunRefused(
                    f"{tally.invalid:,} of {tally.total:,} {tally.noun} are invalid, so nothing was sent "
                    f"(on_invalid='fail'): " + "; ".join(shown) + (f"; ... and {more:,} more" if more else "")
                )
            header = (
                f"Skipping {tally.invalid:,} invalid {tally.noun} of {tally.total:,} (on_invalid='skip'):"
            )
            log_lines(log, logging.WARNING, header, lines, unlisted)
        for check in self.checks:
            check.conclude(log)

    def items(
        self, source: Source, report: ValidationReport, log: logging.Logger
    ) -> Iterator[tuple[ItemRef, Any, int]]:
        """The valid samples again, as ``(ref, model, payload size)``, for the sending pass.

        An in-memory list was kept parsed; a manifest or files are re-read and re-validated (a file that
        changed between the passes is reported as invalid, never sent).
        """
        if report.models is not None:
            sizes = iter(report.sizes if report.sizes is not None else ())
            for index, serialized in enumerate(report.models):
                if serialized is not None:
                    yield ItemRef(index, serialized.key), serialized, next(sizes)
            return
        tally = report.tally
        for index, raw in source:
            if index in report.invalid:
                continue
            if isinstance(raw, FileRef):
                try:
                    raw = raw.read_sample()
                except OSError as exc:
                    raw = FileRef(raw.path, raw.name, 0, None, ("file", f"cannot read {raw.path}: {exc}"))
            valid, key, problems = self.parse(index, raw)
            if valid is None:
                tally.invalid += 1
                tally.to_send -= 1
                for problem in problems:
                    tally.add_problem(index, key, problem.field, problem.message)
                log.warning("Sample #%s changed since validation and is now invalid; not sent.", index)
                continue
            yield ItemRef(index, key), SerializedSample(valid.json, key), payload_size(valid.model)

    def _raw_key(self, raw: Any) -> str | None:
        value = raw.get(self.key_field) if isinstance(raw, Mapping) else getattr(raw, self.key_field, None)
        return value if isinstance(value, str) else None
