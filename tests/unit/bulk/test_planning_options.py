"""``BulkOptions`` (bulk/planning.py): the one value of a bulk run's settings, checked once when made."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from airflow_provider_modelarts.bulk.planning import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_MAX_BATCH_BYTES,
    DEFAULT_MAX_CONCURRENCY,
    MAX_CONCURRENCY_LIMIT,
    BulkOptions,
)


def test_the_defaults_are_the_modules_defaults() -> None:
    options = BulkOptions()
    assert (options.batch_size, options.max_concurrency, options.max_batch_bytes) == (
        DEFAULT_BATCH_SIZE,
        DEFAULT_MAX_CONCURRENCY,
        DEFAULT_MAX_BATCH_BYTES,
    )
    assert (options.on_invalid, options.adaptive_concurrency) == ("fail", True)
    assert BulkOptions.names() == (
        "batch_size",
        "max_concurrency",
        "max_batch_bytes",
        "on_invalid",
        "adaptive_concurrency",
    )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("batch_size", 0, "batch_size must be an integer at least 1, got 0"),
        ("batch_size", True, "batch_size must be an integer at least 1, got True"),
        ("batch_size", 2.0, "batch_size must be an integer at least 1, got 2.0"),
        ("max_concurrency", 0, "max_concurrency must be an integer from 1 to 20, got 0"),
        (
            "max_concurrency",
            MAX_CONCURRENCY_LIMIT + 1,
            "max_concurrency must be an integer from 1 to 20, got 21",
        ),
        ("max_concurrency", "4", "max_concurrency must be an integer from 1 to 20, got '4'"),
        ("max_batch_bytes", -1, "max_batch_bytes must be an integer at least 1, got -1"),
        ("max_batch_bytes", None, "max_batch_bytes must be an integer at least 1, got None"),
        ("on_invalid", "ignore", "on_invalid must be 'fail' or 'skip', got 'ignore'"),
        ("on_invalid", None, "on_invalid must be 'fail' or 'skip', got None"),
        ("adaptive_concurrency", 1, "adaptive_concurrency must be True or False, got 1"),
        ("adaptive_concurrency", "false", "adaptive_concurrency must be True or False, got 'false'"),
    ],
)
def test_each_bad_setting_is_refused_naming_its_field(field: str, value: Any, message: str) -> None:
    with pytest.raises(ValueError) as made:
        BulkOptions(**{field: value})
    assert str(made.value) == message
    with pytest.raises(ValueError) as replaced:  # a changed copy is checked again
        BulkOptions().replace(**{field: value})
    assert str(replaced.value) == message


def test_the_edges_of_each_range_are_accepted() -> None:
    low = BulkOptions(batch_size=1, max_concurrency=1, max_batch_bytes=1, on_invalid="skip")
    high = BulkOptions(max_concurrency=MAX_CONCURRENCY_LIMIT, adaptive_concurrency=False)
    assert (low.batch_size, low.max_concurrency, low.max_batch_bytes, low.on_invalid) == (1, 1, 1, "skip")
    assert (high.max_concurrency, high.adaptive_concurrency) == (MAX_CONCURRENCY_LIMIT, False)


def test_options_are_frozen_and_replace_makes_a_changed_copy() -> None:
    options = BulkOptions(batch_size=7)
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.batch_size = 8  # type: ignore[misc]
    changed = options.replace(max_concurrency=3)
    assert (changed.batch_size, changed.max_concurrency, options.max_concurrency) == (
        7,
        3,
        DEFAULT_MAX_CONCURRENCY,
    )
    assert options.replace() is options  # nothing named: the same value, not a copy
    with pytest.raises(TypeError, match="concurrency"):
        options.replace(concurrency=3)


def test_given_judges_only_the_settings_present() -> None:
    """What ``partial`` receives holds only some arguments: the others are left to the mapped tasks."""
    assert BulkOptions.given({"batch_size": 5, "samples": [], "on_failure": "warn"}) == BulkOptions(
        batch_size=5
    )
    assert BulkOptions.given({}) == BulkOptions()
    with pytest.raises(ValueError, match="on_invalid must be"):
        BulkOptions.given({"on_invalid": "later"})
