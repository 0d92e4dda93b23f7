"""Where batches end: at most ``batch_size`` samples and at most ``max_batch_bytes`` of sample data each.

The same :class:`BatchPlanner` runs in the validation pass (to know the batch count for progress lines before
anything is sent) and in the sending pass, so both agree exactly. Light on purpose (no pydantic, no httpx):
operators import the defaults below when a DAG file is parsed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_MAX_BATCH_BYTES",
    "DEFAULT_MAX_CONCURRENCY",
    "MAX_CONCURRENCY_LIMIT",
    "Batch",
    "BatchPlanner",
    "ItemRef",
    "make_batches",
    "payload_size",
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

#: Most requests in flight at once. A run starts at 4 and, with ``adaptive_concurrency`` (the default), grows
#: towards this while the service answers without throttling or queueing (see :mod:`.concurrency`); payload
#: memory is bounded by about ``(max_concurrency + 1) x max_batch_bytes``.
DEFAULT_MAX_CONCURRENCY = 16

#: The HTTP connection pool of a client holds 20 connections; more concurrent requests would only queue.
MAX_CONCURRENCY_LIMIT = 20


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

    def singles(self) -> list[Batch[T]]:
        """One batch per item (same number): to re-send the items of a batch the service refused whole."""
        return [Batch(self.number, [item], [ref]) for item, ref in zip(self.items, self.refs, strict=True)]

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


def payload_size(item: Any) -> int:
    """Bytes a sample contributes to a batch's data budget: the length of its base64 ``data`` (labels: 0).

    Read through ``__dict__``: a missing attribute on a pydantic model goes through its slow ``__getattr__``.
    """
    try:
        data = item.__dict__.get("data")
    except AttributeError:
        return 0
    return len(data) if isinstance(data, str) else 0
