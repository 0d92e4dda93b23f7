"""Counting a bulk run's outcome: per-item results of a response, failures by position, the summary."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from types import SimpleNamespace

import pytest

from airflow_provider_modelarts.bulk.planning import Batch, ItemRef
from airflow_provider_modelarts.bulk.tally import (
    ITEM_DONE,
    BulkTally,
    ItemResult,
    Outcome,
    failure_lines,
    log_lines,
    problem_line,
    results_from_response,
)
from airflow_provider_modelarts.models import BatchResponse, UploadSamplesResponse


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


# ------------------------------------------------------------------------- reading a batch response


def test_an_item_answer_keeps_its_code_and_message_and_already_present_is_not_a_failure() -> None:
    refs = [ItemRef(0, "a"), ItemRef(1, "b")]
    response = _Response(
        success=False,
        results=[
            _Entry(success=False, error_code="ModelArts.4422", error_msg="Sample already exists."),
            _Entry(success=False, error_code="ModelArts.4656", error_msg="Sample oversized."),
        ],
    )
    assert results_from_response(response, refs, already_present_codes=frozenset({"ModelArts.4422"})) == [
        ItemResult(Outcome.ALREADY_PRESENT, "ModelArts.4422", "Sample already exists."),
        ItemResult(Outcome.FAILED, "ModelArts.4656", "Sample oversized."),
    ]
    # Without the already-present rule (label updates), the same answer is a failure like any other.
    assert results_from_response(response, refs)[0].outcome is Outcome.FAILED


def test_an_item_answer_with_an_error_code_but_no_success_flag_failed() -> None:
    """The reply models' rule (``success`` may be left out): an error code means the item failed."""
    refs = [ItemRef(0, "a"), ItemRef(1, "b")]
    response = _Response(
        success=None, results=[_Entry(error_code="ModelArts.4656", error_msg="too big"), _Entry()]
    )
    assert results_from_response(response, refs) == [
        ItemResult(Outcome.FAILED, "ModelArts.4656", "too big"),
        ItemResult(Outcome.DONE),
    ]
    # The same at the top level, when there is no per-item list to go by.
    top = results_from_response(_Response(success=None, error_code="ModelArts.0001", error_msg="x"), refs[:1])
    assert top == [ItemResult(Outcome.FAILED, "ModelArts.0001", "x")]


def test_service_messages_are_kept_short_in_item_results() -> None:
    long = "m" * 500
    response = _Response(success=False, results=[_Entry(False, "E.1", long), _Entry(False, "E.4422", long)])
    failed, present = results_from_response(
        response, [ItemRef(0, "a"), ItemRef(1, "b")], already_present_codes=frozenset({"E.4422"})
    )
    for result in (failed, present):
        assert result.error_msg is not None
        assert len(result.error_msg) == 160 and result.error_msg.endswith("...[500 chars]")
    top = results_from_response(_Response(success=False, error_code="E.2", error_msg=long), [ItemRef(0, "a")])
    assert top[0].error_msg is not None and len(top[0].error_msg) == 160


def test_a_failed_batch_without_code_or_message_still_says_what_happened() -> None:
    refs = [ItemRef(0, "a")]
    assert results_from_response(_Response(success=False), refs) == [
        ItemResult(Outcome.FAILED, "unknown", "the batch request was not successful")
    ]
    entry_only = results_from_response(_Response(success=False, results=[_Entry(success=False)]), refs)
    assert entry_only == [ItemResult(Outcome.FAILED, "unknown", None)]


def test_a_reply_of_another_shape_reads_missing_fields_as_absent() -> None:
    """results_from_response takes any reply object: a field it does not have is read as not sent."""
    refs = [ItemRef(0, "a"), ItemRef(1, "b")]
    assert results_from_response(SimpleNamespace(), refs) == [ItemResult(Outcome.DONE)] * 2
    bare_failure = SimpleNamespace(success=False, results=[SimpleNamespace(success=False), SimpleNamespace()])
    assert results_from_response(bare_failure, refs) == [
        ItemResult(Outcome.FAILED, "unknown", None),
        ItemResult(Outcome.DONE),
    ]
    present = SimpleNamespace(
        results=[SimpleNamespace(success=False, error_code="E.4422"), SimpleNamespace()]
    )
    assert results_from_response(present, refs, already_present_codes=frozenset({"E.4422"})) == [
        ItemResult(Outcome.ALREADY_PRESENT, "E.4422", None),
        ItemResult(Outcome.DONE),
    ]
    odd_length = SimpleNamespace(success=False, results=[SimpleNamespace(success=False)])
    assert (
        results_from_response(odd_length, refs)
        == [ItemResult(Outcome.FAILED, "unknown", "the batch request was not successful")] * 2
    )


def test_results_of_another_length_match_an_exact_name_too() -> None:
    refs = [ItemRef(0, "a.jpg"), ItemRef(1, "b.jpg"), ItemRef(2, None)]
    response = _Response(
        success=True,
        results=[_Entry(False, "E.1", "bad", name="b.jpg"), _Entry(True, name="a.jpg")],
    )
    assert results_from_response(response, refs) == [
        ItemResult(Outcome.DONE),
        ItemResult(Outcome.FAILED, "E.1", "bad"),
        ItemResult(Outcome.DONE),  # no name to match by: the top-level outcome
    ]
    # A name that only ends like the sample's is not it: "xb.jpg" is another sample.
    other = _Response(success=True, results=[_Entry(False, "E.1", "bad", name="xb.jpg"), _Entry(True)])
    assert [r.outcome for r in results_from_response(other, refs)] == [Outcome.DONE] * 3


def test_results_of_another_length_without_names_take_the_top_level_failure() -> None:
    """Label-update replies (BatchResponse) name no sample: unmatched items take the batch's outcome."""
    response = BatchResponse.model_validate(
        {
            "success": False,
            "error_code": "ModelArts.4302",
            "error_msg": "Some samples failed.",
            "results": [{"success": False, "error_code": "ModelArts.4420", "error_msg": "not found"}],
        }
    )
    refs = [ItemRef(0, "id-0"), ItemRef(1, "id-1")]
    assert (
        results_from_response(response, refs)
        == [ItemResult(Outcome.FAILED, "ModelArts.4302", "Some samples failed.")] * 2
    )


def test_the_reply_models_map_by_position() -> None:
    response = UploadSamplesResponse.model_validate(
        {
            "success": False,
            "results": [
                {"success": True, "name": "/bucket/a.jpg", "info": "id-a"},
                {"success": False, "name": "/bucket/b.jpg", "error_code": "ModelArts.4422", "error_msg": "x"},
            ],
        }
    )
    results = results_from_response(
        response,
        [ItemRef(0, "a.jpg"), ItemRef(1, "b.jpg")],
        already_present_codes=frozenset({"ModelArts.4422"}),
    )
    assert [r.outcome for r in results] == [Outcome.DONE, Outcome.ALREADY_PRESENT]


# ------------------------------------------------------------------------- counting


def _batch(number: int, indexes: range, key: str = "n") -> Batch[int]:
    return Batch(number, list(indexes), [ItemRef(i, f"{key}{i}") for i in indexes])


def test_a_new_tally_counts_nothing() -> None:
    tally = BulkTally(done_key="added", key_field="name")
    assert tally.as_result() == {
        "total": 0,
        "added": 0,
        "already_present": 0,
        "failed": 0,
        "invalid": 0,
        "failures": [],
        "failures_truncated": 0,
        "failure_codes": {},
        "invalid_samples": [],
        "invalid_truncated": 0,
        "batches": 0,
        "retries": 0,
        "throttled": 0,
        "peak_concurrency": 0,
        "duration_seconds": 0.0,
    }
    assert tally.summary_line() == (
        "0 added, 0 already present, 0 failed of 0 samples in 0 batches, 0.0 s, 0 retried requests"
    )


def test_every_outcome_is_counted_and_failures_are_itemised_with_their_codes() -> None:
    tally = BulkTally(done_key="updated", key_field="sample_id")
    tally.total = tally.to_send = 6
    results = [
        ItemResult(Outcome.DONE),
        ItemResult(Outcome.ALREADY_PRESENT, "ModelArts.4422", "exists"),
        ItemResult(Outcome.ALREADY_PRESENT, "ModelArts.4422", "exists"),
        ItemResult(Outcome.FAILED, "ModelArts.4420", "not found"),
        ItemResult(Outcome.FAILED, "ModelArts.4420", "not found"),
        ItemResult(Outcome.FAILED, None, None),
    ]
    assert tally.add_batch(_batch(1, range(6), key="id-"), results) == 3
    tally.retries, tally.elapsed = 2, 1.23456
    result = tally.as_result(dataset_id="ds-1")
    assert result == {
        "dataset_id": "ds-1",
        "total": 6,
        "updated": 1,
        "already_present": 2,
        "failed": 3,
        "invalid": 0,
        "failures": [
            {"sample_id": "id-3", "index": 3, "error_code": "ModelArts.4420", "error_msg": "not found"},
            {"sample_id": "id-4", "index": 4, "error_code": "ModelArts.4420", "error_msg": "not found"},
            {"sample_id": "id-5", "index": 5, "error_code": None, "error_msg": None},
        ],
        "failures_truncated": 0,
        "failure_codes": {"ModelArts.4420": 2, "unknown": 1},
        "invalid_samples": [],
        "invalid_truncated": 0,
        "batches": 1,
        "retries": 2,
        "throttled": 0,
        "peak_concurrency": 0,
        "duration_seconds": 1.235,
    }
    assert list(result["failure_codes"]) == sorted(result["failure_codes"])
    assert tally.summary_line() == (
        "1 updated, 2 already present, 3 failed of 6 samples in 1 batches, 1.2 s, 2 retried requests"
    )


def test_failure_codes_count_across_batches_in_sorted_order() -> None:
    tally = BulkTally(done_key="added", key_field="name")
    tally.add_batch(_batch(1, range(2)), [ItemResult(Outcome.FAILED, "Z.1", "z")] * 2)
    tally.add_batch(_batch(2, range(2, 3)), [ItemResult(Outcome.FAILED, "A.1", "a")])
    tally.add_batch(_batch(3, range(3, 4)), [ItemResult(Outcome.FAILED, "Z.1", "z")])
    assert list(tally.as_result()["failure_codes"].items()) == [("A.1", 1), ("Z.1", 3)]


def test_a_results_list_of_the_wrong_length_is_refused_not_silently_cut() -> None:
    tally = BulkTally(done_key="added", key_field="name")
    with pytest.raises(ValueError):
        tally.add_batch(_batch(1, range(3)), [ItemResult(Outcome.DONE)] * 2)
    with pytest.raises(ValueError):
        tally.add_batch(_batch(2, range(1)), [ItemResult(Outcome.DONE)] * 2)
    with pytest.raises(ValueError):  # as many done as items, and one more that failed
        tally.add_batch(_batch(3, range(2)), [ItemResult(Outcome.DONE)] * 2 + [ItemResult(Outcome.FAILED)])


class _NotWalked(list):  # type: ignore[type-arg]
    def __iter__(self):  # type: ignore[no-untyped-def]
        raise AssertionError("a batch whose items all succeeded was looked at item by item")


def test_a_batch_whose_items_all_succeeded_is_counted_in_one_step() -> None:
    tally = BulkTally(done_key="added", key_field="name")
    assert tally.add_batch(_batch(1, range(3)), _NotWalked([ITEM_DONE] * 3)) == 0
    assert (tally.done, tally.batches, tally.processed, tally.failed) == (3, 1, 3, 0)


def test_invalid_samples_are_itemised_in_input_order_and_their_count_kept() -> None:
    tally = BulkTally(done_key="added", key_field="name", cap=3)
    tally.total, tally.invalid = 5, 2
    # A sample can have several problems; they keep the order they were found in.
    tally.add_problem(7, "b.jpg", "labels", "first")
    tally.add_problem(2, "a.jpg", "name", "too long")
    tally.add_problem(7, "b.jpg", "labels", "second")
    tally.add_problem(7, "b.jpg", "labels", "third")  # over the cap, after the kept ones
    result = tally.as_result()
    assert result["invalid_samples"] == [
        {"index": 2, "name": "a.jpg", "field": "name", "message": "too long"},
        {"index": 7, "name": "b.jpg", "field": "labels", "message": "first"},
        {"index": 7, "name": "b.jpg", "field": "labels", "message": "second"},
    ]
    assert result["invalid_truncated"] == 1 and tally.invalid_problem_count == 4
    assert result["invalid"] == 2
    assert tally.summary_line().startswith("0 added, 0 already present, 0 failed, 2 invalid (not sent) of 5")
    # An earlier sample found later still displaces the last kept one.
    tally.add_problem(0, None, "data", "missing")
    assert [(p["index"], p["message"]) for p in tally.problems] == [
        (0, "missing"),
        (2, "too long"),
        (7, "first"),
    ]
    assert tally.as_result()["invalid_truncated"] == 2


def test_a_fresh_tally_counts_the_same_way_from_zero() -> None:
    tally = BulkTally(done_key="updated", key_field="sample_id", noun="items", cap=1)
    tally.add_batch(_batch(1, range(1)), [ItemResult(Outcome.DONE)])
    fresh = tally.fresh()
    fresh.add_batch(_batch(1, range(2)), [ItemResult(Outcome.FAILED, "E.1", "x")] * 2)
    result = fresh.as_result()
    assert result["updated"] == 0 and result["failed"] == 2
    assert [f["sample_id"] for f in result["failures"]] == ["n0"] and result["failures_truncated"] == 1
    assert " of 0 items " in fresh.summary_line()


def test_progress_line_names_the_failed_samples_of_the_batch() -> None:
    tally = BulkTally(done_key="added", key_field="name")
    tally.to_send, tally.planned_batches = 4, 2
    batch = _batch(1, range(10, 12))
    failed = tally.add_batch(batch, [ItemResult(Outcome.FAILED, "E.1", "x"), ItemResult(Outcome.DONE)])
    assert failed == 1
    line = tally.progress_line(batch, failed)
    assert line.startswith("batch 1/2: 2 samples (1 failed, samples #10-#11), 2/4 done (")


def test_the_rate_is_items_per_second_since_the_clock_started() -> None:
    tally = BulkTally(done_key="added", key_field="name")
    before = time.monotonic()
    tally.start_clock()
    started = time.monotonic()
    while time.monotonic() <= started:  # let the clock tick, however coarse it is: the elapsed time is > 0
        pass
    tally.add_batch(_batch(1, range(1000)), [ItemResult(Outcome.DONE)] * 1000)
    rate = tally.rate()
    elapsed = time.monotonic() - before
    # The tally's own elapsed time lies within ours, so its rate is at least ours.
    assert rate >= 1000 / elapsed
    assert 0 < tally.elapsed_since_start() <= time.monotonic() - before


# ------------------------------------------------------------------------- lines for the log


def test_failure_lines_with_and_without_names_and_a_limit() -> None:
    tally = BulkTally(done_key="added", key_field="name")
    tally.add_batch(
        Batch(1, [0, 1], [ItemRef(0, "a.jpg"), ItemRef(1, None)]),
        [ItemResult(Outcome.FAILED, "E.1", "bad"), ItemResult(Outcome.FAILED, "E.2", None)],
    )
    assert tally.failure_lines() == ["#0 ('a.jpg'): E.1: bad", "#1: E.2: no message"]
    assert tally.failure_lines(limit=1) == ["#0 ('a.jpg'): E.1: bad"]


def test_problem_line_with_and_without_a_name() -> None:
    named = {"index": 3, "sample_id": "s-1", "field": "labels", "message": "required"}
    assert problem_line(named, "sample_id") == "sample #3 ('s-1'): labels: required"
    unnamed = {"index": 4, "sample_id": None, "field": "labels", "message": "required"}
    assert problem_line(unnamed, "sample_id") == "sample #4: labels: required"


def test_log_lines_make_one_record_and_say_how_many_more() -> None:
    records: list[tuple[int, str]] = []

    class Log:
        def log(self, level: int, text: str) -> None:
            records.append((level, text))

    log_lines(Log(), logging.WARNING, "2 of 5 failed:", ["#0: a", "#1: b"], 3)
    log_lines(Log(), logging.INFO, "all listed:", ["#0: a"], 0)
    assert records == [
        (logging.WARNING, "2 of 5 failed:\n  #0: a\n  #1: b\n  ... and 3 more"),
        (logging.INFO, "all listed:\n  #0: a"),
    ]


def test_the_summary_line_says_how_often_the_service_asked_to_slow_down_and_how_many_went_at_once() -> None:
    tally = BulkTally(done_key="added", key_field="name")
    tally.retries, tally.throttled, tally.peak_concurrency = 4, 3, 7
    assert tally.summary_line() == (
        "0 added, 0 already present, 0 failed of 0 samples in 0 batches, 0.0 s, 4 retried requests "
        "(3 answers asked to slow down), up to 7 at a time"
    )
    assert tally.as_result()["throttled"] == 3 and tally.as_result()["peak_concurrency"] == 7


def test_a_run_that_stopped_early_says_how_many_items_no_request_carried() -> None:
    tally = BulkTally(done_key="added", key_field="name")
    tally.total, tally.to_send = 10, 9  # one invalid
    tally.add_batch(_batch(1, range(3)), [ItemResult(Outcome.DONE)] * 3)
    tally.add_batch(_batch(2, range(3, 5)), [ItemResult(Outcome.FAILED, "ModelArts.4302", "busy")] * 2)
    assert tally.not_sent == 4
    assert tally.summary_line() == (
        "3 added, 0 already present, 2 failed of 10 samples in 2 batches, 4 not sent, 0.0 s, "
        "0 retried requests"
    )
    tally.add_batch(_batch(3, range(5, 9)), [ItemResult(Outcome.DONE)] * 4)
    assert tally.not_sent == 0 and " not sent" not in tally.summary_line()
    tally.to_send = 5  # fewer to send than were sent (a tally reused by a caller): nothing is "not sent"
    assert tally.not_sent == 0
