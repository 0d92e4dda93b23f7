"""The validate-first pass of a bulk run, with the checks passed in by the caller.

Every sample is validated before anything is sent, keeping only the problems and the counts, so
``on_invalid="fail"`` can refuse the whole run and guarantee that no request was made. For a manifest or local
files this pass streams, so a 100,000-line manifest costs the same memory as a 100-line one.

The models own validation of one sample (:func:`~airflow_provider_modelarts.models.parse_sample`). What
depends on the run (names that repeat, samples whose labels an update would delete, samples without a name)
is a :class:`SampleCheck` the caller composes into :class:`Validator`; the engine knows none of them.
"""

from __future__ import annotations

import logging
from array import array
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_modelarts._text import quote
from airflow_provider_modelarts.bulk.planning import BatchPlanner, ItemRef, payload_size
from airflow_provider_modelarts.bulk.sources import BadRecord, FileRef, ListSource, Source
from airflow_provider_modelarts.bulk.tally import BulkTally, log_lines, problem_line
from airflow_provider_modelarts.models import SampleValidationError, parse_sample

__all__ = [
    "DuplicateKeys",
    "KeyHashes",
    "LabelDeletionGuard",
    "Problem",
    "RequiredKey",
    "RunRefused",
    "SampleCheck",
    "UnnamedSamples",
    "ValidationReport",
    "Validator",
    "key_hash",
]

#: Lines of problems quoted in an exception message (all of them, capped at 100, are in the log).
MESSAGE_LINES = 20

_HASH_MASK = (1 << 64) - 1


class RunRefused(ValueError):
    """The run was refused before anything was sent (invalid samples, unreadable source, a guard said no).

    Sending again with the same input cannot succeed, so a caller should not retry it.
    """


@dataclass(frozen=True)
class Problem:
    field: str
    message: str


class SampleCheck:
    """One run-level rule applied to each sample the model accepted. Subclass and override what you need.

    The validator calls :meth:`begin_pass` before each pass, :meth:`check` per sample (skipped once an earlier
    check found a problem), :meth:`another_pass` after a pass, and :meth:`conclude` once before sending (it
    may raise :class:`RunRefused` or log a warning). :meth:`summary` adds fields to the run's summary.
    """

    def begin_pass(self) -> None:
        """Reset what :meth:`check` counts (a pass may run twice)."""

    def check(self, index: int, key: str | None, model: Any) -> list[Problem]:
        return []

    def another_pass(self) -> bool:
        """Whether this check needs a second pass over the source to decide (rare; an error case)."""
        return False

    def conclude(self, log: logging.Logger) -> None:
        """Judge the whole run after the last pass; nothing has been sent yet."""

    def summary(self) -> dict[str, Any]:
        return {}


def key_hash(key: str) -> int:
    """64-bit hash of a sample name / id; stable within the process, all that duplicate detection needs."""
    return hash(key) & _HASH_MASK


class KeyHashes:
    """Which key hashes occur more than once, for 8 bytes per key.

    A dict of 100,000 names costs ~10 MB and grows with every sample; 256 ``array('Q')`` buckets (by the top
    byte of the hash) cost 0.8 MB and can be checked bucket by bucket, so the check's temporary list stays
    tiny too. A repeated hash means "maybe the same key": the caller confirms with the exact keys.
    """

    def __init__(self) -> None:
        self._buckets = [array("Q") for _ in range(256)]

    def add(self, key: str) -> None:
        value = key_hash(key)
        self._buckets[value >> 56].append(value)

    def __len__(self) -> int:
        return sum(len(bucket) for bucket in self._buckets)

    def repeated(self) -> set[int]:
        found: set[int] = set()
        for bucket in self._buckets:
            if len(bucket) < 2:
                continue
            previous = None
            for value in sorted(bucket):
                if value == previous:
                    found.add(value)
                previous = value
        return found


class DuplicateKeys(SampleCheck):
    """Each name / sample id may appear once per run, without keeping every key in memory.

    The first pass keeps an 8-byte hash per key (:class:`KeyHashes`). Only if some hash repeats does a second
    pass keep the exact keys of those few suspects, to confirm and name the duplicates.
    """

    def __init__(self, key_field: str) -> None:
        self.key_field = key_field
        self._hashes: KeyHashes | None = KeyHashes()
        self._suspects: set[int] = set()
        self._seen: dict[str, int] = {}

    def begin_pass(self) -> None:
        self._seen = {}

    def check(self, index: int, key: str | None, model: Any) -> list[Problem]:
        if key is None:
            return []
        if self._hashes is not None:
            self._hashes.add(key)
            return []
        if key_hash(key) not in self._suspects:
            return []
        first = self._seen.setdefault(key, index)
        if first == index:
            return []
        return [
            Problem(
                self.key_field,
                f"duplicate {self.key_field} {quote(key)} (also sample #{first}); each sample may appear "
                "once per run",
            )
        ]

    def another_pass(self) -> bool:
        if self._hashes is None:
            return False
        self._suspects = self._hashes.repeated()
        self._hashes = None
        return bool(self._suspects)


class RequiredKey(SampleCheck):
    """The model allows the key to be missing, but this operation needs it (``sample_id`` of an update)."""

    def __init__(self, key_field: str, why: str) -> None:
        self.key_field = key_field
        self.why = why

    def check(self, index: int, key: str | None, model: Any) -> list[Problem]:
        return [] if key else [Problem(self.key_field, f"is required: {self.why}")]


class UnnamedSamples(SampleCheck):
    """Warns about samples without a name: a retry cannot recognise them, so they may be added twice."""

    def __init__(self) -> None:
        self.count = 0

    def begin_pass(self) -> None:
        self.count = 0

    def check(self, index: int, key: str | None, model: Any) -> list[Problem]:
        if key is None:
            self.count += 1
        return []

    def conclude(self, log: logging.Logger) -> None:
        if self.count:
            log.warning(
                "%s samples have no name: ModelArts cannot tell them from an earlier attempt's copies, so a "
                "retried request or task retry may add them twice. Give every sample a unique name.",
                f"{self.count:,}",
            )


class LabelDeletionGuard(SampleCheck):
    """ModelArts deletes **all** labels of a sample updated without labels: refuse that unless allowed.

    ``labels`` missing, ``null`` or ``[]`` all leave the sample without labels. Such samples are counted
    during the pass and judged after it, so the refusal names every one of them (the first 20) in one error.
    """

    listed = 20

    def __init__(self, *, allow: bool) -> None:
        self.allow = allow
        self.count = 0
        self._first: list[tuple[int, str | None]] = []

    def begin_pass(self) -> None:
        self.count = 0
        self._first = []

    def check(self, index: int, key: str | None, model: Any) -> list[Problem]:
        if not model.labels:
            self.count += 1
            if len(self._first) < self.listed:
                self._first.append((index, key))
        return []

    def conclude(self, log: logging.Logger) -> None:
        if not self.count:
            return
        ids = [f"#{index} ({quote(key)})" for index, key in self._first]
        more = self.count - len(ids)
        if not self.allow:
            listed = ", ".join(ids) + (f" and {more:,} more" if more else "")
            raise RunRefused(
                f"{self.count:,} samples have no labels ('labels' missing, null or []), which makes "
                f"ModelArts delete all of their labels: {listed}. Nothing was sent. Pass "
                "allow_label_deletion=True if deleting their labels is intended."
            )
        log_lines(
            log,
            logging.WARNING,
            f"allow_label_deletion=True: all labels of {self.count:,} samples will be deleted:",
            ids,
            more,
        )

    def summary(self) -> dict[str, Any]:
        return {"label_deletions": self.count}


@dataclass
class ValidationReport:
    """What the validation pass learnt, small enough to keep for the sending pass."""

    tally: BulkTally
    invalid: set[int] = field(default_factory=set)
    models: list[Any] | None = None  # parsed models of an in-memory list (None: re-read the source)
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

    def parse(self, index: int, raw: Any) -> tuple[Any, str | None, list[Problem]]:
        """Validate one raw sample: (model or None, name/id for reports, problems of the model itself).

        The models own validation, including whether the sample can be sent as JSON unchanged (no NaN, lone
        surrogates, arbitrary objects or absurd nesting), so nothing here can crash a batch later.
        """
        model_cls = self.model_cls
        if type(raw) is not dict:  # the common case (a list or manifest of plain objects) skips these
            if isinstance(raw, BadRecord):
                return None, None, [Problem("json", raw.message)]
            if isinstance(raw, FileRef):
                if raw.problem is not None:
                    return None, raw.name, [Problem(*raw.problem)]
                raw = raw.describe_sample()
            if not isinstance(raw, (Mapping, model_cls)):
                return None, None, [Problem("sample", f"must be an object, got {type(raw).__name__}")]
        if self.prepare is not None:
            raw = self.prepare(raw)
        try:
            model = parse_sample(model_cls, raw, index)
        except SampleValidationError as exc:
            return None, self._raw_key(raw), [Problem(p.field, p.message) for p in exc.problems]
        except Exception as exc:  # input so odd the validators trip over it: still this sample's problem
            detail = f"{type(exc).__name__}: {exc}"
            return None, self._raw_key(raw), [Problem("", f"cannot be validated ({detail})")]
        return model, getattr(model, self.key_field, None), []

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
        models: list[Any] | None = [] if isinstance(source, ListSource) else None
        sizes = array("q")  # payload size of each kept model (list sources), so pass 2 need not recompute
        for index, raw in source:
            tally.total += 1
            model, key, problems = self.parse(index, raw)
            if model is not None:
                problems = self._run_checks(index, key, model)
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
                size = payload_size(model) if self._sized else 0
            planner.add(size)
            tally.to_send += 1
            if models is not None:
                models.append(model)
                sizes.append(size)
        tally.planned_batches = planner.batches
        report.models = models
        report.sizes = sizes if models is not None else None
        return report

    def _run_checks(self, index: int, key: str | None, model: Any) -> list[Problem]:
        for check in self.checks:
            problems = check.check(index, key, model)
            if problems:
                return problems
        return []

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
            key_field = self.key_field
            sizes = iter(report.sizes) if report.sizes is not None else None
            for index, model in enumerate(report.models):
                if model is not None:
                    size = next(sizes) if sizes is not None else payload_size(model)
                    yield ItemRef(index, getattr(model, key_field, None)), model, size
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
            model, key, problems = self.parse(index, raw)
            if problems:
                tally.invalid += 1
                tally.to_send -= 1
                for problem in problems:
                    tally.add_problem(index, key, problem.field, problem.message)
                log.warning("Sample #%s changed since validation and is now invalid; not sent.", index)
                continue
            yield ItemRef(index, key), model, payload_size(model)

    def _raw_key(self, raw: Any) -> str | None:
        value = raw.get(self.key_field) if isinstance(raw, Mapping) else getattr(raw, self.key_field, None)
        return value if isinstance(value, str) else None
