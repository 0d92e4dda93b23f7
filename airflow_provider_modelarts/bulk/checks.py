"""Run-level rules of a bulk run, passed into :class:`~.validation.Validator` by whoever builds the run.

Each rule is a :class:`SampleCheck` object holding its own counts: duplicate names / ids (found with 8 bytes
per sample), a key the operation needs, samples without a name, and the guard against an update that would
delete all labels of a sample. The hook picks the checks an operation needs; the validator knows none of them.
"""

from __future__ import annotations

import logging
from array import array
from dataclasses import dataclass
from typing import Any

from airflow_provider_modelarts._text import quote
from airflow_provider_modelarts.bulk.tally import log_lines
from airflow_provider_modelarts.errors import ModelArtsError

__all__ = [
    "DuplicateKeys",
    "KeyHashes",
    "LabelDeletionGuard",
    "Problem",
    "RequiredKey",
    "RunRefused",
    "SampleCheck",
    "UnnamedSamples",
    "key_hash",
]

_HASH_MASK = (1 << 64) - 1


class RunRefused(ModelArtsError, ValueError):
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
