"""The validate-first pass: models parse each sample, the checks passed in judge the run."""

from __future__ import annotations

import json
import logging

import pytest

from airflow_provider_modelarts.bulk.checks import (
    DuplicateKeys,
    LabelDeletionGuard,
    RequiredKey,
    RunRefused,
    UnnamedSamples,
)
from airflow_provider_modelarts.bulk.planning import BatchPlanner
from airflow_provider_modelarts.bulk.sources import ListSource
from airflow_provider_modelarts.bulk.tally import BulkTally
from airflow_provider_modelarts.bulk.validation import Validator
from airflow_provider_modelarts.models import Sample, SampleLabels

LOG = logging.getLogger("test_bulk_validation")


def _validate(validator: Validator, samples: list[object], key_field: str) -> tuple[object, BulkTally]:
    report = validator.validate(
        ListSource(samples), BulkTally(done_key="done", key_field=key_field), BatchPlanner(2, 1 << 20)
    )
    return report, report.tally  # type: ignore[attr-defined]


def test_duplicates_are_confirmed_by_a_second_pass_and_named() -> None:
    samples = [{"name": f"s{i}.jpg"} for i in range(5)] + [{"name": "s1.jpg"}, {"name": "s3.jpg"}]
    validator = Validator(Sample, "name", [DuplicateKeys("name")])
    report, tally = _validate(validator, samples, "name")
    assert (tally.total, tally.invalid, tally.to_send, tally.planned_batches) == (7, 2, 5, 3)
    assert [(p["index"], p["name"]) for p in tally.problems] == [(5, "s1.jpg"), (6, "s3.jpg")]
    assert "also sample #1" in tally.problems[0]["message"]
    with pytest.raises(RunRefused, match="2 of 7 samples are invalid"):
        validator.conclude(report, on_invalid="fail", log=LOG)  # type: ignore[arg-type]


def test_unique_names_take_a_single_pass() -> None:
    passes: list[int] = []

    class CountPasses(UnnamedSamples):
        def begin_pass(self) -> None:
            passes.append(1)
            super().begin_pass()

    validator = Validator(Sample, "name", [DuplicateKeys("name"), CountPasses()])
    _validate(validator, [{"name": "a.jpg"}, {"name": "b.jpg"}], "name")
    assert passes == [1]


def test_label_deletion_guard_refuses_and_names_the_samples_unless_allowed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    samples = [
        {"sample_id": "keep", "labels": [{"name": "cat"}]},
        {"sample_id": "wipe"},
        {"sample_id": "x", "labels": []},
    ]
    guard = LabelDeletionGuard(allow=False)
    validator = Validator(SampleLabels, "sample_id", [RequiredKey("sample_id", "why"), guard])
    report, tally = _validate(validator, samples, "sample_id")
    assert tally.invalid == 0 and guard.count == 2
    with pytest.raises(RunRefused, match=r"2 samples have no labels .*#1 \('wipe'\), #2 \('x'\)"):
        validator.conclude(report, on_invalid="fail", log=LOG)  # type: ignore[arg-type]

    allowed = LabelDeletionGuard(allow=True)
    validator = Validator(SampleLabels, "sample_id", [allowed])
    report, _ = _validate(validator, samples, "sample_id")
    with caplog.at_level(logging.WARNING, logger=LOG.name):
        validator.conclude(report, on_invalid="fail", log=LOG)  # type: ignore[arg-type]
    assert "all labels of 2 samples will be deleted" in caplog.text
    assert allowed.summary() == {"label_deletions": 2}


def test_required_key_runs_before_the_other_checks() -> None:
    guard = LabelDeletionGuard(allow=False)
    validator = Validator(SampleLabels, "sample_id", [RequiredKey("sample_id", "it names the sample"), guard])
    _, tally = _validate(validator, [{"labels": []}], "sample_id")
    assert tally.invalid == 1 and guard.count == 0
    assert tally.problems[0]["message"] == "is required: it names the sample"


def test_prepare_fills_defaults_before_validation() -> None:
    validator = Validator(SampleLabels, "sample_id", prepare=lambda raw: {**raw, "worker_id": "w1"})
    report, _ = _validate(validator, [{"sample_id": "s", "labels": [{"name": "a"}]}], "sample_id")
    kept = report.models[0]  # type: ignore[index]
    assert kept is not None and kept.key == "s"
    assert json.loads(kept.json)["worker_id"] == "w1"  # what will be sent carries the default


def test_valid_list_samples_are_kept_serialised_once_for_the_sending_pass() -> None:
    """Between the passes an in-memory list keeps each valid sample as its request JSON (flat bytes the
    garbage collector never walks), with its name for reporting; invalid ones leave a gap."""
    validator = Validator(Sample, "name")
    raw = [{"name": "a.jpg", "data": "AAAA"}, {"name": 5}, {"name": "c.jpg", "data": "AAAA"}]
    report, _ = _validate(validator, raw, "name")
    assert report.models is not None and report.models[1] is None
    kept = [item for item in report.models if item is not None]
    assert [item.key for item in kept] == ["a.jpg", "c.jpg"]
    assert [json.loads(item.json) for item in kept] == [
        {"name": "a.jpg", "data": "AAAA"},
        {"name": "c.jpg", "data": "AAAA"},
    ]
