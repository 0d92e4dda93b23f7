"""Counting a bulk run's outcome: per-item results of a response, failures by position, the summary."""

from __future__ import annotations

import json
from dataclasses import dataclass

from airflow_provider_modelarts.bulk.planning import Batch, ItemRef
from airflow_provider_modelarts.bulk.tally import (
    BulkTally,
    ItemResult,
    Outcome,
    failure_lines,
    results_from_response,
)


@dataclass
class _Entry:
    success: bool | None = None
    error_code: str | None = None
    error_msg: str | None = None
    name: str | None = None


@dataclass
class _Response:
    success: bool | None = True
    results: list[_Entry] | None = None
    error_code: str | None = None
    error_msg: str | None = None


def test_results_map_by_position_with_already_present_codes() -> None:
    refs = [ItemRef(0, "a"), ItemRef(1, "b"), ItemRef(2, "c")]
    response = _Response(
        success=False,
        results=[
            _Entry(success=True),
            _Entry(success=False, error_code="ModelArts.4422", error_msg="exists"),
            _Entry(success=False, error_code="ModelArts.4656", error_msg="too big"),
        ],
    )
    results = results_from_response(response, refs, already_present_codes=frozenset({"ModelArts.4422"}))
    assert [r.outcome for r in results] == [Outcome.DONE, Outcome.ALREADY_PRESENT, Outcome.FAILED]
    assert results[2].error_code == "ModelArts.4656"


def test_results_without_item_list_follow_the_top_level() -> None:
    refs = [ItemRef(0, "a"), ItemRef(1, "b")]
    assert {r.outcome for r in results_from_response(_Response(success=True), refs)} == {Outcome.DONE}
    failed = results_from_response(_Response(success=False, error_code="X.1", error_msg="no"), refs)
    assert [(r.outcome, r.error_code) for r in failed] == [(Outcome.FAILED, "X.1")] * 2


def test_results_of_another_length_are_matched_by_name_suffix() -> None:
    refs = [ItemRef(0, "a.jpg"), ItemRef(1, "b.jpg"), ItemRef(2, "c.jpg")]
    response = _Response(success=True, results=[_Entry(False, "E.1", "bad", name="/bucket/dir/b.jpg")])
    results = results_from_response(response, refs)
    assert [r.outcome for r in results] == [Outcome.DONE, Outcome.FAILED, Outcome.DONE]


def test_tally_keeps_the_first_failures_by_input_position_whatever_the_finish_order() -> None:
    tally = BulkTally(done_key="added", key_field="name", cap=3)
    failed = ItemResult(Outcome.FAILED, "E.1", "x" * 500)
    # Batches finish out of order: 2 then 0 then 1.
    for number, start in ((3, 20), (1, 0), (2, 10)):
        batch: Batch[int] = Batch(
            number, list(range(start, start + 2)), [ItemRef(i, f"n{i}") for i in range(start, start + 2)]
        )
        tally.add_batch(batch, [failed, ItemResult(Outcome.DONE)])
    result = tally.as_result(dataset_id="d")
    assert [f["index"] for f in result["failures"]] == [0, 10, 20]
    assert result["failures_truncated"] == 0
    assert result["failed"] == 3 and result["added"] == 3 and result["batches"] == 3
    assert len(result["failures"][0]["error_msg"]) <= 200
    tally.add_batch(Batch(4, [5], [ItemRef(5, "n5")]), [failed])
    result = tally.as_result()
    assert [f["index"] for f in result["failures"]] == [0, 5, 10]
    assert result["failures_truncated"] == 1
    json.dumps(result)  # XCom-safe


def test_progress_line_format() -> None:
    tally = BulkTally(done_key="added", key_field="name")
    tally.to_send, tally.planned_batches = 10_000, 20
    batch: Batch[int] = Batch(7, list(range(500)), [ItemRef(i, None) for i in range(500)])
    for _ in range(7):
        tally.add_batch(batch, [ItemResult(Outcome.DONE)] * 500)
    line = tally.progress_line(batch, 0)
    assert line.startswith("batch 7/20: 500 samples, 3,500/10,000 done (")
    assert line.endswith(" samples/s)")


def test_huge_invalid_names_stay_small_in_the_summary() -> None:
    tally = BulkTally(done_key="added", key_field="name")
    tally.add_problem(0, "a" * 200_000, "name", "must be at most 1024 characters (got 200000)")
    assert len(json.dumps(tally.as_result())) < 2_000


def test_failure_lines_quote_names_and_codes() -> None:
    failures = [{"index": 3, "name": "a.jpg", "error_code": "E.1", "error_msg": None}]
    assert failure_lines(failures, "name") == ["#3 ('a.jpg'): E.1: no message"]
