"""The bulk operators (operators/bulk.py) build one ``BulkOptions`` and it reaches the run unchanged."""

from __future__ import annotations

import json
from typing import Any

import pytest

from airflow_provider_modelarts.bulk.planning import BulkOptions
from airflow_provider_modelarts.bulk.sending import BulkOperation
from airflow_provider_modelarts.operators.labels import UpdateLabelsOperator
from airflow_provider_modelarts.operators.samples import AddSamplesOperator

SETTINGS: dict[str, Any] = {
    "batch_size": 7,
    "max_concurrency": 3,
    "max_batch_bytes": 4096,
    "on_invalid": "skip",
    "adaptive_concurrency": False,
}


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch) -> list[BulkOperation]:
    """The bulk runs started, each answering an empty summary instead of sending."""
    conn = {"conn_type": "modelarts", "login": "AK", "password": "SK-options-test"}
    conn["extra"] = {"endpoint": "https://modelarts.unit.test", "project_id": "p1"}  # type: ignore[assignment]
    monkeypatch.setenv("AIRFLOW_CONN_MODELARTS_DEFAULT", json.dumps(conn))
    started: list[BulkOperation] = []

    def run(self: BulkOperation, source: Any, **ids: Any) -> dict[str, Any]:
        started.append(self)
        counts = ("total", "added", "updated", "already_present", "failed", "invalid", "label_deletions")
        return {**ids, **dict.fromkeys(counts, 0), "failures": []}

    monkeypatch.setattr(BulkOperation, "run", run)
    return started


def test_the_operators_options_reach_the_run_unchanged(runs: list[BulkOperation]) -> None:
    add = AddSamplesOperator(task_id="add", dataset_id="d1", samples=[{"name": "a.jpg"}], **SETTINGS)
    update = UpdateLabelsOperator(task_id="update", dataset_id="d1", samples=[{"sample_id": "s"}], **SETTINGS)
    assert add.bulk_options == update.bulk_options == BulkOptions(**SETTINGS)
    add.execute(context={})
    update.execute(context={})
    assert [run.options for run in runs] == [add.bulk_options, update.bulk_options]
    assert runs[0].options is add.bulk_options and runs[1].options is update.bulk_options


def test_the_operators_defaults_are_the_options_defaults(runs: list[BulkOperation]) -> None:
    add = AddSamplesOperator(task_id="add", dataset_id="d1", samples=[{"name": "a.jpg"}])
    assert add.bulk_options == BulkOptions()
    add.execute(context={})
    assert runs[0].options == BulkOptions()


def test_adaptive_concurrency_counts_for_its_truth_value_as_it_always_did() -> None:
    op = AddSamplesOperator(task_id="add", dataset_id="d1", samples=[], adaptive_concurrency=0)
    assert op.bulk_options.adaptive_concurrency is False


def test_a_bad_setting_is_refused_when_the_dag_is_parsed_naming_it() -> None:
    with pytest.raises(ValueError, match="max_batch_bytes must be an integer at least 1, got 0"):
        AddSamplesOperator(task_id="add", dataset_id="d1", samples=[], max_batch_bytes=0)
    with pytest.raises(ValueError, match="on_invalid must be 'fail' or 'skip'"):
        UpdateLabelsOperator.partial(task_id="u", on_invalid="drop")
