"""The batching engine shared by the bulk operators: plan batches, send them concurrently, count the outcome.

Design, in the order things happen:

* :class:`BatchPlanner` cuts a stream of items into batches of at most ``batch_size`` items and at most
  ``max_batch_bytes`` of sample data. The same planner runs in the validation pass (to know the batch count
  for progress lines before anything is sent) and in the sending pass, so both agree exactly.
* :func:`run_batches` sends batches from one asyncio event loop with at most ``max_concurrency`` requests in
  flight. The next batch is built only once a slot is free, so at most ``max_concurrency + 1`` batches exist
  in memory at any time whatever the input size (backpressure by construction, no unbounded queue). One event
  loop with an async HTTP client costs less per request than a thread pool and needs no locks around the
  tally.
* :class:`BulkTally` turns per-item results into the XCom summary: counts, the first failures by input
  position (deterministic even though batches finish out of order), and progress log lines.

Nothing here knows about Airflow or ModelArts payloads; the operators supply a ``send`` coroutine and an error
classifier. That keeps the engine testable on its own and usable from the benchmarks.
"""

from __future__ import annotations

import asyncio
import gc
import heapq
import logging
import threading
import time
from array import array
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Generic, TypeVar

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_MAX_BATCH_BYTES",
    "DEFAULT_MAX_CONCURRENCY",
    "FAILURES_CAP",
    "Batch",
    "BatchPlanner",
    "BulkTally",
    "ItemRef",
    "ItemResult",
    "KeyHashes",
    "Outcome",
    "brief",
    "key_hash",
    "make_batches",
    "results_from_response",
    "run_batches",
    "run_coroutine",
]

T = TypeVar("T")

#: Samples per request. ModelArts documents no per-request count limit for the batch sample APIs; 100 is the
#: largest page its own sample APIs use (``limit`` 1-100), keeps a label-only request around 50-200 KB, and
#: keeps the cost of a retried request (the whole batch is re-sent) small. Larger batches gain little: at 100
#: samples per request the per-request overhead is already amortised, and the wall time is set by concurrency.
DEFAULT_BATCH_SIZE = 100

#: A batch is also closed once its samples carry this much ``data`` (base64 characters). ModelArts caps one
#: sample at 12,582,912 bytes (``ModelArts.4656``); 8 MiB per request keeps bodies that carry image bytes well
#: below API Gateway body limits and bounds memory to about ``(max_concurrency + 1) x 8 MiB`` of payload.
DEFAULT_MAX_BATCH_BYTES = 8 * 1024 * 1024

#: Requests in flight at once. Enough to hide network latency (4 x 100 samples per round trip) without
#: tripping ModelArts' ``ModelArts.6101`` "system busy" throttling on a shared project.
DEFAULT_MAX_CONCURRENCY = 4

#: How many failures / invalid samples are itemised in the return value (the rest are only counted).
FAILURES_CAP = 100

_MAX_ERROR_MSG = 160


class Outcome(str, Enum):
    DONE = "done"
    ALREADY_PRESENT = "already_present"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class ItemResult:
    outcome: Outcome
    error_code: str | None = None
    error_msg: str | None = None


ITEM_DONE = ItemResult(Outcome.DONE)


@dataclass(frozen=True, slots=True)
class ItemRef:
    """Where an item came from (0-based position in the input) and its name / sample id, for reports."""

    index: int
    key: str | None


@dataclass(slots=True)
class Batch(Generic[T]):
    number: int  # 1-based, in the order batches are built
    items: list[T] = field(default_factory=list)
    refs: list[ItemRef] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.items)

    def span(self) -> str:
        if not self.refs:
            return "no samples"
        return f"samples #{self.refs[0].index}-#{self.refs[-1].index}"


class BatchPlanner:
    """Decides where batches end. Deterministic, so the validation pass can count batches in advance."""

    def __init__(self, batch_size: int, max_batch_bytes: int) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        if max_batch_bytes < 1:
            raise ValueError(f"max_batch_bytes must be positive, got {max_batch_bytes}")
        self.batch_size = batch_size
        self.max_batch_bytes = max_batch_bytes
        self.batches = 0
        self._count = 0
        self._bytes = 0

    def add(self, size: int) -> bool:
        """Account for one item of ``size`` payload bytes; True if it starts a new batch."""
        if self._count == 0 or self._count >= self.batch_size or self._bytes + size > self.max_batch_bytes:
            self.batches += 1
            self._count = 1
            self._bytes = size
            return True
        self._count += 1
        self._bytes += size
        return False


def make_batches(items: Iterable[tuple[ItemRef, T, int]], planner: BatchPlanner) -> Iterator[Batch[T]]:
    """Group ``(ref, item, size)`` triples into batches as the planner decides, lazily."""
    batch: Batch[T] | None = None
    for ref, item, size in items:
        if planner.add(size):
            if batch is not None:
                yield batch
            batch = Batch(planner.batches)
        assert batch is not None
        batch.items.append(item)
        batch.refs.append(ref)
    if batch is not None:
        yield batch


def brief(value: Any, limit: int = 80) -> str:
    """``repr`` cut to ``limit`` characters: error messages quote user values, and those can be huge."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 15]}...[{len(text):,} chars]"


_HASH_MASK = (1 << 64) - 1


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
        value = hash(key) & _HASH_MASK  # key_hash(), inlined: this runs once per sample
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


def _short(msg: str | None) -> str | None:
    if msg is None:
        return None
    return msg if len(msg) <= _MAX_ERROR_MSG else msg[: _MAX_ERROR_MSG - 3] + "..."


def results_from_response(
    response: Any, refs: Sequence[ItemRef], *, already_present_codes: frozenset[str] = frozenset()
) -> list[ItemResult]:
    """Per-item results of a ModelArts batch response (``success``, ``results[]``, ``error_code/_msg``).

    ``results[i]`` answers ``samples[i]``. When the service returns no per-item list, the top-level
    ``success`` applies to every item. When the list has another length (not seen in practice), failed entries
    are matched to items by name where the entry names one (the service may answer with the stored path, so a
    suffix match is accepted) and the remaining items take the top-level outcome.
    """
    top_ok = getattr(response, "success", None) is not False
    top_failure = ItemResult(
        Outcome.FAILED,
        getattr(response, "error_code", None) or "unknown",
        _short(getattr(response, "error_msg", None)) or "the batch request was not successful",
    )
    results = list(getattr(response, "results", None) or [])

    def one(entry: Any) -> ItemResult:
        if getattr(entry, "success", None) is not False:
            return ITEM_DONE
        code = getattr(entry, "error_code", None)
        if code in already_present_codes:
            return ItemResult(Outcome.ALREADY_PRESENT, code, _short(getattr(entry, "error_msg", None)))
        return ItemResult(Outcome.FAILED, code or "unknown", _short(getattr(entry, "error_msg", None)))

    if len(results) == len(refs):
        return [one(entry) for entry in results]
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
        self.processed = 0
        self._failures: list[tuple[int, int, dict[str, Any]]] = []  # max-heap on index via negation
        self._failures_seen = 0
        self.failure_codes: dict[str, int] = {}
        self._problems: list[tuple[int, int, dict[str, Any]]] = []
        self._problems_seen = 0
        self._seq = 0
        self._started = time.monotonic()
        self.elapsed = 0.0

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
            {"index": index, self.key_field: name, "field": field_name, "message": _short(message)},
        )

    def add_batch(self, batch: Batch[Any], results: Sequence[ItemResult]) -> int:
        """Record one finished batch; returns how many of its items failed."""
        failed = 0
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
        return (
            f"{', '.join(parts)} of {self.total:,} {self.noun} in {self.batches:,} batches, "
            f"{self.elapsed:.1f} s, {self.retries:,} retried requests"
        )

    def failure_lines(self, limit: int | None = None) -> list[str]:
        lines = []
        for entry in self.failures[:limit]:
            key = entry.get(self.key_field)
            label = f"#{entry['index']}" + (f" ({brief(key)})" if key else "")
            lines.append(f"{label}: {entry['error_code']}: {entry['error_msg'] or 'no message'}")
        return lines

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
                "duration_seconds": round(self.elapsed, 3),
            }
        )
        return result


# -- sending -----------------------------------------------------------------------------------------------


async def run_batches(
    batches: Iterable[Batch[T]],
    send: Callable[[Batch[T]], Awaitable[list[ItemResult]]],
    *,
    max_concurrency: int,
    on_done: Callable[[Batch[T], list[ItemResult]], None],
    classify_error: Callable[[BaseException], ItemResult | None],
) -> int:
    """Send every batch with at most ``max_concurrency`` in flight; returns the highest concurrency reached.

    A failing request does not stop the run: ``classify_error`` turns the exception into the result recorded
    for each item of that batch. When it returns ``None`` the error is fatal (bad credentials, unknown
    dataset: every other batch would fail the same way): no further batch is started, the ones in flight
    finish and are recorded, then the error is raised. Items of batches never started are not recorded as
    sent.
    """
    if max_concurrency < 1:
        raise ValueError(f"max_concurrency must be at least 1, got {max_concurrency}")
    slots = asyncio.Semaphore(max_concurrency)
    in_flight: set[asyncio.Task[None]] = set()
    fatal: list[BaseException] = []
    peak = 0

    async def one(batch: Batch[T]) -> None:
        try:
            try:
                results = await send(batch)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                item = classify_error(exc)
                if item is None:
                    fatal.append(exc)
                    return
                results = [item] * len(batch)
            on_done(batch, results)
        finally:
            slots.release()

    try:
        for batch in batches:
            await slots.acquire()
            if fatal:
                slots.release()
                break
            task = asyncio.create_task(one(batch))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
            peak = max(peak, len(in_flight))
        if in_flight:
            await asyncio.gather(*in_flight)
    except BaseException:
        for task in in_flight:
            task.cancel()
        raise
    if fatal:
        raise fatal[0]
    return peak


def run_coroutine(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to completion from synchronous code, even if this thread already runs an event loop.

    ``execute`` is synchronous; normally ``asyncio.run`` is right. Inside a running loop (a notebook, an async
    test harness) ``asyncio.run`` refuses, so the coroutine gets its own loop in a helper thread instead.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(factory())
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(factory())
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=target, name="modelarts-batches", daemon=True)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    value: T = box["value"]
    return value


@contextmanager
def frozen_heap() -> Iterator[Callable[[], None]]:
    """Keep the cyclic garbage collector off the objects that exist already; yields ``refreeze()``.

    An Airflow task process holds a few hundred thousand long-lived objects (Airflow, pydantic schemas, the
    sample list it was handed). Every full collection walks all of them, and a bulk run allocates enough to
    trigger many. ``gc.freeze()`` moves them out of the collector's sight (refcounting still frees them);
    ``refreeze()`` does the same for what the validation pass kept (the parsed samples of a list source).
    They are handed back on exit, unless something froze objects before us (a forked worker), in which case
    the frozen set is left as it was.
    """
    already_frozen = gc.get_freeze_count() > 0
    gc.freeze()
    try:
        yield gc.freeze
    finally:
        if not already_frozen:
            gc.unfreeze()


@contextmanager
def relaxed_gc(min_threshold: int = 10_000) -> Iterator[None]:
    """Run the young-generation collector less often during the validation pass.

    Validating a sample allocates a dozen small containers and no reference cycles, so collecting every 700
    allocations (the default) is pure cost: it made validation about twice as slow (55 -> 23 us per sample
    in a task process). Not used while sending: HTTP requests and responses do form cycles, and delaying their
    collection holds request bodies in memory (measured: +20 MB over 1,000 batches).
    """
    old = gc.get_threshold()
    gc.set_threshold(max(old[0], min_threshold), *old[1:])
    try:
        yield
    finally:
        gc.set_threshold(*old)


def log_lines(log: logging.Logger | Any, level: int, header: str, lines: Sequence[str], more: int) -> None:
    """Log a header and a capped list as one record, so a long list stays one entry in the task log."""
    text = header + "".join(f"\n  {line}" for line in lines)
    if more:
        text += f"\n  ... and {more:,} more"
    log.log(level, text)


def describe_ids(ids: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in ids.items() if v is not None)
