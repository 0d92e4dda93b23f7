"""The run-level checks on their own: duplicate keys (8 bytes each), the label-deletion guard, keys."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest

from airflow_provider_modelarts.bulk.checks import (
    DuplicateKeys,
    KeyHashes,
    LabelDeletionGuard,
    RequiredKey,
    RunRefused,
    UnnamedSamples,
    key_hash,
)

LOG = logging.getLogger("test_bulk_checks")


def test_key_hashes_find_repeats_compactly() -> None:

    hashes = KeyHashes()
    for i in range(50_000):
        hashes.add(f"sample-{i}.jpg")
    assert hashes.repeated() == set()
    hashes.add("sample-123.jpg")
    hashes.add("sample-49999.jpg")
    assert hashes.repeated() == {key_hash("sample-123.jpg"), key_hash("sample-49999.jpg")}
    assert len(hashes) == 50_002


def test_duplicate_keys_need_a_second_pass_only_when_a_hash_repeats() -> None:
    check = DuplicateKeys("name")
    for index, key in enumerate(["a", "b", "a", None]):
        assert check.check(index, key, None) == []  # first pass: hashes only
    assert check.another_pass() is True
    check.begin_pass()
    problems = [check.check(index, key, None) for index, key in enumerate(["a", "b", "a", None])]
    assert problems[:2] == [[], []] and problems[3] == []
    assert "duplicate name 'a' (also sample #0)" in problems[2][0].message
    assert check.another_pass() is False

    unique = DuplicateKeys("name")
    unique.check(0, "x", None)
    assert unique.another_pass() is False


def test_label_deletion_guard_counts_unlabelled_samples_and_refuses_them() -> None:
    guard = LabelDeletionGuard(allow=False)
    guard.begin_pass()
    for index in range(25):
        guard.check(index, f"s{index}", SimpleNamespace(labels=[] if index % 2 else None))
    guard.check(25, "kept", SimpleNamespace(labels=[{"name": "cat"}]))
    assert guard.summary() == {"label_deletions": 25}
    with pytest.raises(RunRefused, match=r"25 samples have no labels.*and 5 more\. Nothing was sent"):
        guard.conclude(LOG)


def test_required_key_and_unnamed_samples() -> None:
    required = RequiredKey("sample_id", "it names the sample")
    assert required.check(0, "", None)[0].message == "is required: it names the sample"
    assert required.check(0, "s1", None) == []
    unnamed = UnnamedSamples()
    unnamed.check(0, None, None)
    unnamed.check(1, "a.jpg", None)
    assert unnamed.count == 1
