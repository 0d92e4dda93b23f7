"""ModelArtsHook.add_samples / update_labels take one ``BulkOptions``; its fields by name still work."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_modelarts.bulk import operations
from airflow_provider_modelarts.bulk.planning import BulkOptions
from airflow_provider_modelarts.hooks.modelarts import ModelArtsHook


@pytest.fixture
def passed(monkeypatch: pytest.MonkeyPatch) -> list[BulkOptions]:
    """The options each bulk operation was called with (nothing is sent)."""
    seen: list[BulkOptions] = []

    def record(source: Any, *, options: BulkOptions, **rest: Any) -> dict[str, Any]:
        seen.append(options)
        return {}

    monkeypatch.setattr(operations, "add_samples", record)
    monkeypatch.setattr(operations, "update_labels", record)
    return seen


def test_the_options_given_are_passed_on_as_they_are(passed: list[BulkOptions]) -> None:
    options = BulkOptions(batch_size=9, on_invalid="skip")
    hook = ModelArtsHook()
    hook.add_samples("d1", [], options=options)
    hook.update_labels("d1", [], options=options)
    hook.add_samples("d1", [])
    assert passed[0] is options and passed[1] is options and passed[2] == BulkOptions()


def test_settings_by_name_keep_working_and_replace_those_of_options(passed: list[BulkOptions]) -> None:
    hook = ModelArtsHook()
    hook.add_samples("d1", [], batch_size=5, adaptive_concurrency=False)
    hook.update_labels("d1", [], options=BulkOptions(batch_size=9, max_concurrency=2), max_concurrency=4)
    assert passed == [
        BulkOptions(batch_size=5, adaptive_concurrency=False),
        BulkOptions(batch_size=9, max_concurrency=4),
    ]


def test_a_bad_or_unknown_setting_by_name_is_refused_before_anything_runs(passed: list[BulkOptions]) -> None:
    hook = ModelArtsHook()
    with pytest.raises(ValueError, match="batch_size must be an integer at least 1, got 0"):
        hook.add_samples("d1", [], batch_size=0)
    with pytest.raises(TypeError, match="batches"):
        hook.update_labels("d1", [], batches=3)
    assert passed == []
