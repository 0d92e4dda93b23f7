"""Tests of ``_models/_base.py``: unknown keys refused with a hint in user input, kept in replies; enums."""

from __future__ import annotations

import json
import sys
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from airflow_provider_modelarts.models import (
    RESPONSE_CONTEXT,
    STRICT_INPUT_CONTEXT,
    DescribeSampleResp,
    LabelType,
    Sample,
    SampleLabel,
    SampleLabels,
    SampleUsage,
    SampleValidationError,
    TaskStatus,
    WorkforceTask,
    parse_response,
    parse_sample,
    to_payload,
)

# Serializer warnings ("Expected `enum`...") mean a payload may not be what we think: fail on them.
pytestmark = pytest.mark.filterwarnings("error::UserWarning")


@pytest.mark.parametrize(
    ("data", "field", "hint"),
    [
        ({"nmae": "a.jpg"}, "nmae", "did you mean 'name'?"),
        ({"labels": [{"scor": 0.5}]}, "labels[0].scor", "did you mean 'score'?"),
        (
            {"labels": [{"property": {"@modelarts:shap": "bndbox"}}]},
            "labels[0].property.@modelarts:shap",
            "did you mean '@modelarts:shape'?",
        ),
        (
            {"metadata": {"@modelarts:sise": [1, 2]}},
            "metadata.@modelarts:sise",
            "did you mean '@modelarts:size'?",
        ),
        ({"data_source": {"source_info": {"zzz": 1}}}, "data_source.source_info.zzz", ""),
    ],
)
def test_strict_input_rejects_unknown_keys_naming_them(data: dict[str, Any], field: str, hint: str) -> None:
    with pytest.raises(SampleValidationError) as caught:
        parse_sample(Sample, data, 4)
    (problem,) = caught.value.problems
    assert problem.field == field
    assert problem.message.startswith("unknown field")
    assert hint in problem.message
    # The plain pydantic error names the key too (as its location).
    with pytest.raises(ValidationError) as raw:
        Sample.model_validate(data, context=STRICT_INPUT_CONTEXT)
    assert field.endswith(f".{raw.value.errors()[0]['loc'][-1]}") or field == raw.value.errors()[0]["loc"][-1]


def test_unknown_keys_are_reported_with_the_objects_other_errors() -> None:
    with pytest.raises(ValidationError) as caught:
        SampleLabel.model_validate({"scor": 1, "score": 2, "type": 7}, context=STRICT_INPUT_CONTEXT)
    found = {(error["loc"], error["type"]) for error in caught.value.errors()}
    assert found == {(("scor",), "unknown_field"), (("score",), "modelarts_rule"), (("type",), "enum")}
    messages = {error["loc"]: error["msg"] for error in caught.value.errors()}
    assert messages[("scor",)] == "unknown field; did you mean 'score'?"
    assert messages[("score",)] == "must be between 0 and 1"


def test_unknown_keys_with_braces_keep_the_other_messages_unchanged() -> None:
    # The other errors of the object are re-raised with the unknown keys: their text must not change.
    with pytest.raises(SampleValidationError) as caught:
        parse_sample(Sample, {"name": "a{field}<b", "x{detail}": 1}, 0)
    assert {(p.field, p.message) for p in caught.value.problems} == {
        ("name", "must not contain any of !<>=&\"' (found '<')"),
        ("x{detail}", "unknown field"),
    }


def test_strict_input_allows_custom_label_attributes_and_metadata() -> None:
    data = {
        "labels": [
            {
                "name": "cat",
                "property": {"color": "red", "@modelarts:shape": "point", "@modelarts:feature": [[1, 2]]},
            }
        ],
        "metadata": {"camera": "front", "@modelarts:size": [10, 10]},
    }
    sample = parse_sample(Sample, data, 0)
    assert sample.labels is not None and sample.labels[0].property is not None
    assert sample.labels[0].property.model_extra == {"color": "red"}
    assert to_payload(sample) == data


def test_without_strict_input_unknown_keys_are_kept() -> None:
    sample = Sample.model_validate({"name": "a.jpg", "future_field": 1})
    assert to_payload(sample) == {"name": "a.jpg", "future_field": 1}


def test_unknown_enum_values_from_the_service_are_kept() -> None:
    task = parse_response(WorkforceTask, {"status": 42, "checking_task_desc": {"action": 9}})
    assert task.status == 42 and not isinstance(task.status, TaskStatus)
    sample = parse_response(DescribeSampleResp, {"sample_status": "SOMETHING_NEW", "sample_type": 11})
    assert sample.sample_status == "SOMETHING_NEW"
    assert sample.sample_type == 11
    assert to_payload(sample) == {"sample_status": "SOMETHING_NEW", "sample_type": 11}


def test_response_context_skips_value_rules_but_default_enforces_them() -> None:
    body = {
        "labels": [
            {"score": 1.5, "property": {"@modelarts:shape": "bndbox", "@modelarts:feature": [[9, 9], [1, 1]]}}
        ]
    }
    assert to_payload(parse_response(DescribeSampleResp, body)) == body
    with pytest.raises(ValidationError, match="must be between 0 and 1"):
        DescribeSampleResp.model_validate(body)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"sample_type": 5}, "sample_type"),
        ({"labels": [{"type": 7}]}, "labels[0].type"),
        ({"labels": [{"annotated_by": "robot"}]}, "labels[0].annotated_by"),
        ({"labels": [{"property": {"@modelarts:shape": "box"}}]}, "labels[0].property.@modelarts:shape"),
        ({"data_source": {"data_type": 9}}, "data_source.data_type"),
    ],
)
def test_strict_input_rejects_undocumented_enum_values(data: dict[str, Any], field: str) -> None:
    with pytest.raises(SampleValidationError) as caught:
        parse_sample(Sample, data, 0)
    (problem,) = caught.value.problems
    assert problem.field == field
    assert problem.message.startswith("must be one of: ")


def test_strict_input_accepts_enum_names() -> None:
    labels = parse_sample(
        SampleLabels,
        {"sample_id": "s1", "sample_usage": "eval", "labels": [{"type": "text_classification"}]},
        0,
    )
    assert labels.sample_usage is SampleUsage.EVAL
    assert to_payload(labels) == {"sample_id": "s1", "sample_usage": "EVAL", "labels": [{"type": 100}]}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"sample_id": "s1", "labels": [{"type": " 1 "}]}, LabelType.OBJECT_DETECTION),  # spelling: slow path
        ({"sample_id": "s1", "labels": [{"type": "object_detection"}]}, LabelType.OBJECT_DETECTION),
        ({"sample_id": "s1", "labels": [{"type": 1}]}, LabelType.OBJECT_DETECTION),
    ],
)
def test_enum_spellings_still_accepted(raw: dict[str, Any], expected: LabelType) -> None:
    model = parse_sample(SampleLabels, raw, 0)
    assert model.labels is not None
    assert model.labels[0].type is expected


def test_enum_fields_serialise_without_python_callbacks_and_keep_their_output() -> None:
    """Enum fields are serialised by pydantic-core (every label of every batch sent goes through this)."""

    model = parse_sample(
        SampleLabels,
        {"sample_id": "s1", "sample_usage": "TRAIN", "labels": [{"type": 1, "annotated_by": "auto"}]},
        0,
    )
    adapter = TypeAdapter(SampleLabels)
    calls: list[str] = []

    def profile(frame: Any, event: str, arg: Any) -> None:
        # a serializer function of ours, or the enum module's ``value`` property (pydantic's own Python
        # entry point, TypeAdapter.dump_json, is not what this is about)
        name = frame.f_code.co_filename
        if event == "call" and ("airflow_provider_modelarts" in name or name.endswith("enum.py")):
            calls.append(f"{name}:{frame.f_code.co_name}")

    sys.setprofile(profile)
    try:
        body = adapter.dump_json(model, by_alias=True, exclude_none=True)
    finally:
        sys.setprofile(None)
    assert calls == []
    assert json.loads(body) == {
        "sample_id": "s1",
        "sample_usage": "TRAIN",
        "labels": [{"type": 1, "annotated_by": "auto"}],
    }
    dumped = model.model_dump(exclude_none=True)
    assert dumped["sample_usage"] is SampleUsage.TRAIN
    assert dumped["labels"][0]["type"] is LabelType.OBJECT_DETECTION
    # undocumented values from a reply are kept and sent back as they came
    reply = SampleLabels.model_validate(
        {"sample_type": 77, "labels": [{"type": 999}]}, context=RESPONSE_CONTEXT
    )
    assert json.loads(reply.model_dump_json(exclude_none=True)) == {
        "sample_type": 77,
        "labels": [{"type": 999}],
    }
