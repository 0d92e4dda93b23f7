"""Tests of ``_models/_modes.py``: unknown keys found and hinted from pydantic's errors, and replies whose
odd values are kept raw at their own place, however deep, with positions shifted by other odd values."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from airflow_provider_modelarts._models._modes import unknown_key_hint, validate_strictly
from airflow_provider_modelarts.models import (
    STRICT_INPUT_CONTEXT,
    DescribeSampleResp,
    HardDetail,
    ListSamplesResponse,
    Sample,
    SampleLabel,
    SampleLabelProperty,
    SampleLabels,
    SampleMetadata,
    SampleValidationError,
    parse_response,
    parse_samples,
    to_payload,
)


@pytest.mark.parametrize(
    ("root", "loc", "hint"),
    [
        (Sample, ("nmae",), "; did you mean 'name'?"),
        (Sample, ("labels", 3, "scor"), "; did you mean 'score'?"),
        (Sample, ("labels", 0, "property", "@modelarts:shap"), "; did you mean '@modelarts:shape'?"),
        (SampleLabels, ("metadata", "@modelarts:sise"), "; did you mean '@modelarts:size'?"),
        # Through a mapping of models (hard_details: dict[str, HardDetail]) to the model of its values.
        (DescribeSampleResp, ("hard_details", "any-key", "reasn"), "; did you mean 'reason'?"),
        (Sample, ("zzzz",), ""),
        (Sample, ("labels", 0, 7), ""),  # not a key: nothing to suggest
    ],
)
def test_the_hint_comes_from_the_model_at_the_keys_location(root: Any, loc: Any, hint: str) -> None:
    assert unknown_key_hint(root, loc) == hint


def test_a_list_read_strictly_reports_each_items_unknown_keys_with_hints_and_keeps_other_errors() -> None:
    adapter = TypeAdapter(list[Sample])
    chunk = [{"name": "ok.jpg"}, {"nmae": "a.jpg", "labels": [{"score": 7}]}, {"name": "b<.jpg"}]
    with pytest.raises(ValidationError) as caught:
        validate_strictly(
            lambda data: adapter.validate_python(data, extra="forbid", context={"strict_input": True}),
            Sample,
            chunk,
            "samples",
        )
    found = {(error["loc"], error["type"], error["msg"]) for error in caught.value.errors()}
    assert found == {
        ((1, "nmae"), "unknown_field", "unknown field; did you mean 'name'?"),
        ((1, "labels", 0, "score"), "modelarts_rule", "must be between 0 and 1"),
        ((2, "name"), "modelarts_rule", "must not contain any of !<>=&\"' (found '<')"),
    }


def test_odd_values_of_a_reply_stay_where_they_were_even_after_an_earlier_item_was_kept_raw() -> None:
    reply: dict[str, Any] = {
        "sample_count": 4,
        "samples": [
            {"sample_id": "s0"},
            "not an object",  # kept raw in place: the later samples keep their positions
            {"sample_id": "s2", "labels": [{"name": "cat", "score": "high"}, 5, {"name": "dog", "type": 0}]},
            {"sample_id": "s3", "sample_size": "big", "hard_details": {"a": {"reason": 1}, "b": 7}},
        ],
    }
    page = parse_response(ListSamplesResponse, reply)
    assert page.samples is not None
    assert page.samples[1] == "not an object"
    third, fourth = page.samples[2], page.samples[3]
    assert isinstance(third, DescribeSampleResp) and third.labels is not None
    assert third.labels[0].score == "high" and third.labels[0].name == "cat"
    assert third.labels[1] == 5 and third.labels[2].name == "dog"
    assert isinstance(fourth, DescribeSampleResp) and fourth.sample_size == "big"
    assert fourth.hard_details is not None and fourth.hard_details["b"] == 7
    assert to_payload(page) == reply


def test_a_reply_that_is_not_an_object_still_fails() -> None:
    with pytest.raises(ValidationError):
        parse_response(ListSamplesResponse, b"[1, 2]")


def test_a_reply_as_bytes_is_read_as_leniently_as_decoded_json() -> None:
    reply = b'{"samples": [{"sample_id": "s0", "sample_size": "big"}, 3], "extra": {"a": 1}}'
    page = parse_response(ListSamplesResponse, reply)
    assert to_payload(page) == {"samples": [{"sample_id": "s0", "sample_size": "big"}, 3], "extra": {"a": 1}}


_junk = st.one_of(
    st.text(max_size=3), st.integers(), st.lists(st.integers(), max_size=2)
)  # no nulls: not sent


@given(
    samples=st.lists(
        st.one_of(
            _junk,
            st.fixed_dictionaries(
                {"sample_id": st.one_of(st.text(max_size=3), st.integers())},
                optional={
                    "sample_size": _junk,
                    "labels": st.lists(st.one_of(_junk, st.just({"score": "x"}))),
                },
            ),
        ),
        max_size=6,
    )
)
def test_whatever_a_reply_holds_comes_back_out_unchanged(samples: list[Any]) -> None:
    reply = {"samples": samples}
    assert to_payload(parse_response(ListSamplesResponse, reply)) == reply


def test_a_nested_object_with_one_odd_value_is_read_and_keeps_only_that_value_raw() -> None:
    reply = {
        "samples": [
            {
                "sample_id": "s0",
                "metadata": {"@modelarts:size": "big", "@modelarts:hard": 1},
                "labels": [
                    {"name": "cat", "property": {"@modelarts:start_index": "x", "@modelarts:end_index": 4}}
                ],
                "hard_details": {"a": {"reason": "blur"}, "b": 7},
            }
        ]
    }
    page = parse_response(ListSamplesResponse, reply)
    assert page.samples is not None
    (sample,) = page.samples
    assert isinstance(sample, DescribeSampleResp)
    # The object that holds the odd value is read; only that value is kept raw, at its field.
    assert isinstance(sample.metadata, SampleMetadata)
    assert sample.metadata.size == "big" and sample.metadata.hard == 1.0
    assert sample.labels is not None and sample.labels[0].property is not None
    assert sample.labels[0].property.start_index == "x" and sample.labels[0].property.end_index == 4
    assert sample.hard_details is not None and isinstance(sample.hard_details["a"], HardDetail)
    assert sample.hard_details["b"] == 7
    assert to_payload(page) == reply


def test_strict_errors_keep_their_type_message_location_and_input_beside_an_unknown_key() -> None:
    # One call of the models: an unknown key in one sample, a rule on a whole object in the other (object
    # detection without @modelarts:size), whose message names the sub-field it is about.
    adapter = TypeAdapter(list[Sample])
    chunk = [{"name": "a.jpg", "nmae": "b.jpg"}, {"name": "c.jpg", "labels": [{"name": "car", "type": 1}]}]
    with pytest.raises(ValidationError) as caught:
        validate_strictly(
            lambda data: adapter.validate_python(data, extra="forbid", context=STRICT_INPUT_CONTEXT),
            Sample,
            chunk,
            "samples",
        )
    errors = caught.value.errors()
    assert {(e["loc"], e["type"], e["msg"]) for e in errors} == {
        ((0, "nmae"), "unknown_field", "unknown field; did you mean 'name'?"),
        (
            (1,),
            "modelarts_rule",
            "metadata.@modelarts:size: is required when a label is object detection (type 1)",
        ),
    }
    assert {e["loc"]: e["input"] for e in errors}[(0, "nmae")] == "b.jpg"
    rule = next(e for e in errors if e["type"] == "modelarts_rule")
    assert rule.get("ctx") == {
        "field": "metadata.@modelarts:size",
        "detail": "is required when a label is object detection (type 1)",
    }
    results = parse_samples(Sample, list(enumerate(chunk)))
    assert [
        [(p.field, p.message) for p in r.problems] for r in results if isinstance(r, SampleValidationError)
    ] == [
        [("nmae", "unknown field; did you mean 'name'?")],
        [("metadata.@modelarts:size", "is required when a label is object detection (type 1)")],
    ]


def test_a_hint_is_only_the_closest_key_of_the_right_kind() -> None:
    # One hint, the closest; an @modelarts: key is compared by what follows the prefix.
    assert unknown_key_hint(SampleLabel, ("nme",)) == "; did you mean 'name'?"
    # "tp" is too short to be a typo of "to"; against the whole "@modelarts:to" it would look 90% alike.
    assert unknown_key_hint(SampleLabelProperty, ("@modelarts:tp",)) == ""
    assert unknown_key_hint(Sample, ()) == ""
    # Below a field that holds no model (plain text, custom JSON) there is nothing to suggest.
    assert unknown_key_hint(Sample, ("name", "k")) == ""
    assert unknown_key_hint(Sample, ("name", "inner", "k")) == ""
