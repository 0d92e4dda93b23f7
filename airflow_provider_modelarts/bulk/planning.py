"""A bulk run's settings (:class:`BulkOptions`, with their defaults) and where its batches end.

:class:`BulkOptions` is the one value of the five settings a run takes (``batch_size``, ``max_concurrency``,
``max_batch_bytes``, ``on_invalid``, ``adaptive_concurrency``): the operators build it from their arguments,
``ModelArtsHook.add_samples`` / ``update_labels`` pass it on, and
:class:`~airflow_provider_modelarts.bulk.sending.BulkOperation` runs with it. It is checked once, when it is
made, and each refusal names its field.

Batches hold at most ``batch_size`` samples and at most ``max_batch_bytes`` of sample data each. The same
:class:`BatchPlanner` runs in the validation pass (to know the batch count for progress lines before anything
is sent) and in the sending pass, so both agree exactly. Light on purpose (no pydantic, no httpx): operators
import this module when a DAG file is parsed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Generic, Literal, TypeVar

from airflow_provider_modelarts._text import quote

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_MAX_BATCH_BYTES",
    "DEFAULT_MAX_CONCURRENCY",
    "MAX_CONCURRENCY_LIMIT",
    "Batch",
    "BatchPlanner",
    "BulkOptions",
    "ItemRef",
    "OnInvalid",
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

#: ``"fail"``: send nothing if any sample is invalid; ``"skip"``: report the invalid samples, send the rest.
OnInvalid = Literal["fail", "skip"]


@dataclass(frozen=True, slots=True)
class BulkOptions:
    """How a bulk run sends; each field is checked when the value is made (``ValueError`` naming it).

    :param batch_size: samples per request, at least 1 (:data:`DEFAULT_BATCH_SIZE`).
    :param max_concurrency: most requests in flight at once, 1 to :data:`MAX_CONCURRENCY_LIMIT`
        (:data:`DEFAULT_MAX_CONCURRENCY`).
    :param max_batch_bytes: a batch also ends once its samples carry this much base64 data, at least 1
        (:data:`DEFAULT_MAX_BATCH_BYTES`).
    :param on_invalid: :data:`OnInvalid`, ``"fail"`` (default) or ``"skip"``.
    :param adaptive_concurrency: ``True`` (default): start at 4 requests in flight and find the service's
        limit up to ``max_concurrency`` (:mod:`.concurrency`); ``False``: exactly ``max_concurrency``.
    """

    batch_size: int = DEFAULT_BATCH_SIZE
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY
    max_batch_bytes: int = DEFAULT_MAX_BATCH_BYTES
    on_invalid: OnInvalid = "fail"
    adaptive_concurrency: bool = True

    def __post_init__(self) -> None:
        _check_int("batch_size", self.batch_size, None)
        _check_int("max_concurrency", self.max_concurrency, MAX_CONCURRENCY_LIMIT)
        _check_int("max_batch_bytes", self.max_batch_bytes, None)
        if self.on_invalid not in ("fail", "skip"):
            raise ValueError(f"on_invalid must be 'fail' or 'skip', got {quote(self.on_invalid)}")
        adaptive = self.adaptive_concurrency
        if not isinstance(adaptive, bool):
            raise ValueError(f"adaptive_concurrency must be True or False, got {quote(adaptive)}")

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """The settings' names, which are also the operators' and the hook's keyword arguments."""
        return tuple(f.name for f in fields(cls))

    @classmethod
    def given(cls, arguments: Mapping[str, Any]) -> BulkOptions:
        """The options of the settings present in ``arguments`` (the defaults for the others)."""
        return cls(**{name: arguments[name] for name in cls.names() if name in arguments})

    def replace(self, **settings: Any) -> BulkOptions:
        """These options with the settings named changed (checked again; an unknown name: ``TypeError``);
        themselves when none is named."""
        return dataclasses.replace(self, **settings) if settings else self


def _check_int(name: str, value: Any, high: int | None) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1 or (high and value > high):
        bound = f"from 1 to {high}" if high else "at least 1"
        raise ValueError(f"{name} must be an integer {bound}, got {quote(value)}")


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
