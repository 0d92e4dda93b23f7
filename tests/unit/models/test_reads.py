"""Tests of ``_models/_reads.py`` and of reading replies: what fits no model is kept as it came.

One reply fixture per field the pages type loosely (``@modelarts:feature`` "Object", ``@modelarts:size``
"Array of objects"), and list reads where one item has an unexpected shape (issue 10, item 2)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from airflow_provider_modelarts.models import (
    DescribeSampleResp,
    HardDetail,
    ListSamplesResponse,
    ListWorkforceTasksResponse,
    SampleLabels,
    SampleType,
    SampleValidationError,
    Shape,
    TaskStatus,
    UpdateAcceptanceStatusResponse,
    WorkforceTask,
    parse_response,
    parse_sample,
    to_payload,
)

# Serializer warnings ("Expected `enum`...") mean a payload may not be what we think: fail on them.
pytestmark = pytest.mark.filterwarnings("error::UserWarning")


def _sample(**fields: Any) -> dict[str, Any]:
    return {"sample_id": "s1", "sample_type": 0, **fields}


def _labelled(prop: dict[str, Any]) -> dict[str, Any]:
    return _sample(labels=[{"name": "car", "type": 1, "property": prop}])


# (case id, property or metadata the reply carries): the pages type these loosely
LOOSE_FEATURES: list[tuple[str, Any]] = [
    ("feature as an object", {"points": [[0, 10], [50, 95]], "closed": True}),
    ("feature as a flat list", [0, 10, 50, 95]),
    ("feature with numbers as strings", [["0", "10"], ["50", "95"]]),
    ("feature as a string", "0,10,50,95"),
    ("feature breaking the request rules", [[50, 95], [0, 10], [-1, 3]]),
]
LOOSE_SIZES: list[tuple[str, Any]] = [
    ("size as an array of objects", [{"width": 640}, {"height": 480}]),
    ("size as an object", {"width": 640, "height": 480}),
    ("size with numbers as strings", ["640", "480", "3"]),
    ("size with one number", [640]),
]


@pytest.mark.parametrize(("case", "feature"), LOOSE_FEATURES, ids=[c for c, _ in LOOSE_FEATURES])
def test_sample_list_keeps_a_loosely_typed_feature(case: str, feature: Any) -> None:
    prop = {"@modelarts:shape": "bndbox", "@modelarts:feature": feature}
    body = {"sample_count": 1, "samples": [_labelled(prop)]}
    reply = parse_response(ListSamplesResponse, json.dumps(body))
    assert reply.samples is not None
    (sample,) = reply.samples
    assert isinstance(sample, DescribeSampleResp)
    assert sample.labels is not None and sample.labels[0].property is not None
    assert sample.labels[0].property.shape is Shape.BNDBOX
    assert sample.labels[0].property.feature == feature
    assert to_payload(reply) == body


@pytest.mark.parametrize(("case", "size"), LOOSE_SIZES, ids=[c for c, _ in LOOSE_SIZES])
def test_sample_list_keeps_a_loosely_typed_size(case: str, size: Any) -> None:
    body = {"samples": [_sample(metadata={"@modelarts:size": size, "@modelarts:import_origin": 0})]}
    reply = parse_response(ListSamplesResponse, body)
    assert reply.samples is not None and isinstance(reply.samples[0], DescribeSampleResp)
    metadata = reply.samples[0].metadata
    assert metadata is not None and metadata.import_origin == 0
    assert metadata.size == size
    assert to_payload(reply) == body


def test_sample_details_and_acceptance_status_keep_loose_shapes_too() -> None:
    sample = _labelled({"@modelarts:feature": {"x": 1}}) | {"metadata": {"@modelarts:size": [{"w": 1}]}}
    assert to_payload(parse_response(DescribeSampleResp, sample)) == sample
    body = {"sample_count": 1, "samples": [sample]}
    assert to_payload(parse_response(UpdateAcceptanceStatusResponse, body)) == body


def test_sample_list_keeps_items_of_an_unexpected_shape_raw_in_place() -> None:
    body = {
        "sample_count": 4,
        "samples": [_sample(sample_id="a"), "not an object", 7, _sample(sample_id="d")],
    }
    reply = parse_response(ListSamplesResponse, body)
    assert reply.samples is not None
    first, second, third, fourth = reply.samples
    assert isinstance(first, DescribeSampleResp) and first.sample_id == "a"
    assert (second, third) == ("not an object", 7)
    assert isinstance(fourth, DescribeSampleResp) and fourth.sample_id == "d"
    assert to_payload(reply) == body


def test_task_list_keeps_an_odd_task_raw() -> None:
    body = {"count": 2, "tasks": [{"task_id": "t1", "status": 1}, ["odd"]]}
    reply = parse_response(ListWorkforceTasksResponse, body)
    assert reply.tasks is not None
    good, odd = reply.tasks
    assert isinstance(good, WorkforceTask) and good.status is TaskStatus.RUNNING
    assert odd == ["odd"]
    assert to_payload(reply) == body


def test_values_of_the_wrong_type_are_kept_raw_and_the_rest_is_read() -> None:
    body = _sample(
        sample_size="12",  # a number sent as a string: read as the number
        sample_time="yesterday",  # no number at all: kept as it came
        check_score=0.5,  # a number where the page says string: kept
        labels="none",  # not a list: kept
        hard_details={"1": {"id": 1, "reason": "low confidence"}, "2": "odd"},
        labelers=[{"email": "a@b.c", "role": 1, "status": "?"}],
        sample_status="SOMETHING_NEW",
        future_key={"nested": True},
    )
    sample = parse_response(DescribeSampleResp, body)
    assert sample.sample_size == 12
    assert sample.sample_time == "yesterday"
    assert sample.check_score == 0.5
    assert sample.labels == "none"
    assert sample.hard_details is not None
    assert isinstance(sample.hard_details["1"], HardDetail) and sample.hard_details["2"] == "odd"
    assert sample.labelers is not None and sample.labelers[0].status == "?"
    assert sample.sample_status == "SOMETHING_NEW" and sample.sample_type is SampleType.IMAGE
    assert sample.model_extra == {"future_key": {"nested": True}}
    assert to_payload(sample) == body | {"sample_size": 12}


def test_task_reply_reads_numbers_sent_as_strings() -> None:
    task = parse_response(
        WorkforceTask, {"status": "2", "pass_rate": "0.8", "sample_stats": {"total_sample_count": "9"}}
    )
    assert task.status is TaskStatus.ACCEPTING
    assert task.pass_rate == 0.8
    assert task.sample_stats is not None and task.sample_stats.total_sample_count == 9


def test_a_reply_that_is_not_an_object_still_fails_to_parse() -> None:
    # What to do with it is the caller's decision (the client reports a ResponseParseError).
    with pytest.raises(ValidationError):
        parse_response(ListSamplesResponse, b'["not", "an", "object"]')


def test_requests_are_not_read_leniently() -> None:
    # The same shapes in user input are errors: leniency is for replies only.
    with pytest.raises(SampleValidationError) as caught:
        parse_sample(
            SampleLabels,
            {"sample_id": "s1", "labels": "none", "metadata": {"@modelarts:size": [{"w": 1}]}},
            0,
        )
    assert {p.field for p in caught.value.problems} == {"labels", "metadata.@modelarts:size[0]"}
