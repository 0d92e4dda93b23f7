"""Counting the outcome of a bulk run: per-item results, failures by input position, the XCom summary.

Batches finish out of order; :class:`BulkTally` still itemises the *first* failures by input position (a
bounded heap), so the summary is deterministic and small however many samples failed.
"""

from __future__ import annotations

import heapq
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from airflow_provider_modelarts._text import quote, shorten
from airflow_provider_modelarts.bulk.planning import Batch, ItemRef

__all__ = [
    "FAILURES_CAP",
    "ITEM_DONE",
    "BulkTally",
    "ItemResult",
    "Outcome",
    "failure_lines",
    "log_lines",
    "problem_line",
    "results_from_response",
]

#: How many failures / invalid samples are itemised in the return value (the rest are only counted).
FAILURES_CAP = 100

#: Longest service message kept per failure: enough to read, small enough for XCom.
_MAX_ERROR_MSG = 160


def _short(msg: str | None) -> str | None:
    return None if msg is None else shorten(msg, _MAX_ERROR_MSG)


class Outcome(StrEnum):
    DONE = "done"
    ALREADY_PRESENT = "already_present"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class ItemResult:
    outcome: Outcome
    error_code: str | None = None
    error_msg: str | None = None


ITEM_DONE = ItemResult(Outcome.DONE)


def _failed(answer: Any) -> bool:
    return getattr(answer, "success", None) is False or bool(getattr(answer, "error_code", None))


def results_from_response(
    response: Any, refs: Sequence[ItemRef], *, already_present_codes: frozenset[str] = frozenset()
) -> list[ItemResult]:
    """Per-item results of a ModelArts batch response (``success``, ``results[]``, ``error_code/_msg``).

    ``results[i]`` answers ``samples[i]``. When the service returns no per-item list, the top-level
    ``success`` applies to every item. When the list has another length (not seen in practice), failed
    entries are matched to items by name where the entry names one (the service may answer with the stored
    path, so a suffix match is accepted) and the remaining items take the top-level outcome. An answer failed
    when it says ``success: false`` or carries an error code (``success`` may be left out), as the reply
    models read it.
    """
    top_ok = not _failed(response)
    top_failure = ItemResult(
        Outcome.FAILED,
        getattr(response, "error_code", None) or "unknown",
        _short(getattr(response, "error_msg", None)) or "the batch request was not successful",
    )
    results = list(getattr(response, "results", None) or [])

    def one(entry: Any) -> ItemResult:
        if not _failed(entry):
            return ITEM_DONE
        code = getattr(entry, "error_code", None)
        if code in already_present_codes:
            return ItemResult(Outcome.ALREADY_PRESENT, code, _short(getattr(entry, "error_msg", None)))
        return ItemResult(Outcome.FAILED, code or "unknown", _short(getattr(entry, "error_msg", None)))

    if len(results) == len(refs):  # the usual answer: one entry per item, most of them fine
        return [one(entry) if _failed(entry) else ITEM_DONE for entry in results]
    default = ITEM_DONE if top_ok else top_failure
    if not results:
        return [default] * len(refs)
    by_name: dict[str, ItemResult] = {}
    for entry in results:
        name = getattr(entry, "name", None)
        if name:
            by_name[str(name)] = one(entry)
    out: list[ItemResult] = []
    for ref in refs:
        found = None
        if ref.key is not None:
            found = by_name.get(ref.key)
            if found is None:
                found = next((r for n, r in by_name.items() if n.endswith("/" + ref.key)), None)
        out.append(found or default)
    return out


class BulkTally:
    """Counts per-item outcomes and keeps the first ``cap`` failures / invalid samples by input position."""

    def __init__(
        self, *, done_key: str, key_field: str, noun: str = "samples", cap: int = FAILURES_CAP
    ) -> None:
        self.done_key = done_key
        self.key_field = key_field
        self.noun = noun
        self.cap = cap
        self.total = 0  # items read from the source, valid or not
        self.to_send = 0
        self.planned_batches = 0
        self.done = 0
        self.already_present = 0
        self.failed = 0
        self.invalid = 0
        self.batches = 0
        self.retries = 0
        self.throttled = 0  # answers in which the service asked to slow down (429 / ModelArts.6101)
        self.peak_concurrency = 0  # most requests in flight at once
        self.processed = 0
        self._failures: list[tuple[int, int, dict[str, Any]]] = []  # max-heap on index via negation
        self._failures_seen = 0
        self.failure_codes: dict[str, int] = {}
        self._problems: list[tuple[int, int, dict[str, Any]]] = []
        self._problems_seen = 0
        self._seq = 0
        self._started = time.monotonic()
        self.elapsed = 0.0

    def fresh(self) -> BulkTally:
        """An empty tally counting the same way (for a repeated validation pass)."""
        return BulkTally(done_key=self.done_key, key_field=self.key_field, noun=self.noun, cap=self.cap)

    # -- collecting ----------------------------------------------------------------------------------------
    def _keep(self, heap: list[tuple[int, int, dict[str, Any]]], index: int, entry: dict[str, Any]) -> None:
        self._seq += 1
        item = (-index, -self._seq, entry)
        if len(heap) < self.cap:
            heapq.heappush(heap, item)
        elif item > heap[0]:  # smaller index than the largest kept one
            heapq.heapreplace(heap, item)

    def add_problem(self, index: int, name: str | None, field_name: str, message: str) -> None:
        self._problems_seen += 1
        self._keep(
            self._problems,
            index,
            # An invalid sample's name can be any size (a 200 KB name is one of the problems to report).
            {"index": index, self.key_field: _short(name), "field": field_name, "message": _short(message)},
        )

    def add_batch(self, batch: Batch[Any], results: Sequence[ItemResult]) -> int:
        """Record one finished batch; returns how many of its items failed."""
        failed = 0
        if len(results) == len(batch) == results.count(ITEM_DONE):  # the usual batch: nothing to itemise
            self.done += len(batch)
        else:
            for ref, result in zip(batch.refs, results, strict=True):
                if result.outcome is Outcome.DONE:
                    self.done += 1
                elif result.outcome is Outcome.ALREADY_PRESENT:
                    self.already_present += 1
                else:
                    failed += 1
                    self.failed += 1
                    self._failures_seen += 1
                    code = result.error_code or "unknown"
                    self.failure_codes[code] = self.failure_codes.get(code, 0) + 1
                    self._keep(
                        self._failures,
                        ref.index,
                        {
                            self.key_field: ref.key,
                            "index": ref.index,
                            "error_code": result.error_code,
                            "error_msg": _short(result.error_msg),
                        },
                    )
        self.batches += 1
        self.processed += len(batch)
        return failed

    # -- reporting -----------------------------------------------------------------------------------------
    @staticmethod
    def _sorted(heap: list[tuple[int, int, dict[str, Any]]]) -> list[dict[str, Any]]:
        return [entry for _, _, entry in sorted(heap, key=lambda t: (-t[0], -t[1]))]

    @property
    def failures(self) -> list[dict[str, Any]]:
        return self._sorted(self._failures)

    @property
    def problems(self) -> list[dict[str, Any]]:
        return self._sorted(self._problems)

    @property
    def invalid_problem_count(self) -> int:
        """Problems found (a sample can have several), including those not itemised."""
        return self._problems_seen

    @property
    def not_sent(self) -> int:
        """Valid items no request carried (a run that stopped early); 0 once every batch was sent."""
        return max(0, self.to_send - self.processed)

    def rate(self) -> float:
        elapsed = self.elapsed_since_start()
        return self.processed / elapsed if elapsed > 0 else 0.0

    def start_clock(self) -> None:
        self._started = time.monotonic()

    def elapsed_since_start(self) -> float:
        return time.monotonic() - self._started

    def progress_line(self, batch: Batch[Any], failed: int) -> str:
        extra = f" ({failed:,} failed, {batch.span()})" if failed else ""
        return (
            f"batch {self.batches:,}/{self.planned_batches:,}: {len(batch):,} {self.noun}{extra}, "
            f"{self.processed:,}/{self.to_send:,} done ({self.rate():,.0f} {self.noun}/s)"
        )

    def summary_line(self) -> str:
        parts = [f"{self.done:,} {self.done_key}", f"{self.already_present:,} already present"]
        parts.append(f"{self.failed:,} failed")
        if self.invalid:
            parts.append(f"{self.invalid:,} invalid (not sent)")
        line = f"{', '.join(parts)} of {self.total:,} {self.noun} in {self.batches:,} batches, "
        if self.not_sent:
            line += f"{self.not_sent:,} not sent, "
        line += f"{self.elapsed:.1f} s, {self.retries:,} retried requests"
        if self.throttled:
            line += f" ({self.throttled:,} answers asked to slow down)"
        if self.peak_concurrency:
            line += f", up to {self.peak_concurrency} at a time"
        return line

    def failure_lines(self, limit: int | None = None) -> list[str]:
        return failure_lines(self.failures[:limit], self.key_field)

    def as_result(self, **ids: Any) -> dict[str, Any]:
        """The XCom return value: counts and capped, JSON-serialisable failure lists; never payloads."""
        result: dict[str, Any] = dict(ids)
        result.update(
            {
                "total": self.total,
                self.done_key: self.done,
                "already_present": self.already_present,
                "failed": self.failed,
                "invalid": self.invalid,
                "failures": self.failures,
                "failures_truncated": max(0, self._failures_seen - len(self._failures)),
                "failure_codes": dict(sorted(self.failure_codes.items())),
                "invalid_samples": self.problems,
                "invalid_truncated": max(0, self._problems_seen - len(self._problems)),
                "batches": self.batches,
                "retries": self.retries,
                "throttled": self.throttled,
                "peak_concurrency": self.peak_concurrency,
                "duration_seconds": round(self.elapsed, 3),
            }
        )
        return result


def log_lines(log: logging.Logger | Any, level: int, header: str, lines: Sequence[str], more: int) -> None:
    """Log a header and a capped list as one record, so a long list stays one entry in the task log."""
    text = header + "".join(f"\n  {line}" for line in lines)
    if more:
        text += f"\n  ... and {more:,} more"
    log.log(level, text)


def failure_lines(failures: Sequence[Mapping[str, Any]], key_field: str) -> list[str]:
    """Itemised failures of a summary as lines: ``#3 ('a.jpg'): ModelArts.4656: sample oversized``."""
    lines = []
    for entry in failures:
        key = entry.get(key_field)
        label = f"#{entry['index']}" + (f" ({quote(key)})" if key else "")
        lines.append(f"{label}: {entry['error_code']}: {entry['error_msg'] or 'no message'}")
    return lines


def problem_line(problem: Mapping[str, Any], key_field: str) -> str:
    """One invalid-sample problem as a log / message line: ``sample #3 ('a.jpg'): labels: ...``."""
    key = problem.get(key_field)
    label = f"sample #{problem['index']}" + (f" ({quote(key)})" if key else "")
    return f"{label}: {problem['field']}: {problem['message']}"
