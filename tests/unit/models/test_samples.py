"""Tests of ``_models/_samples.py``: aliases, numbers keeping their JSON type, the spellings fields take."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from airflow_provider_modelarts.models import (
    STRICT_INPUT_CONTEXT,
    LabelFormat,
    Sample,
    SampleLabelProperty,
    SampleLabels,
    SampleMetadata,
    SourceInfo,
    parse_sample,
    to_payload,
)

# Serializer warnings ("Expected `enum`...") mean a payload may not be what we think: fail on them.
pytestmark = pytest.mark.filterwarnings("error::UserWarning")


def _label(**prop: Any) -> dict[str, Any]:
    return {"labels": [{"name": "x", "property": {f"@modelarts:{k}": v for k, v in prop.items()}}]}


def test_aliases_and_python_names_are_both_accepted_and_dump_as_spec_keys() -> None:
    by_alias = SampleLabelProperty.model_validate({"@modelarts:from": "h", "@modelarts:to": "t"})
    by_name = SampleLabelProperty(from_="h", to="t")
    assert by_alias == by_name
    assert to_payload(by_name) == {"@modelarts:from": "h", "@modelarts:to": "t"}
    metadata = SampleMetadata(size=[10, 20, 3], hard_reasons=[1, 3])
    assert to_payload(metadata) == {"@modelarts:size": [10, 20, 3], "@modelarts:hard_reasons": [1, 3]}


def test_feature_keeps_int_and_float_coordinates() -> None:
    raw = {"@modelarts:shape": "polygon", "@modelarts:feature": [[0, 1.5], [10, 2], [3.25, 40]]}
    dumped = to_payload(SampleLabelProperty.model_validate(raw))
    assert dumped == raw
    assert [type(v) for point in dumped["@modelarts:feature"] for v in point] == [
        int,
        float,
        int,
        int,
        float,
        int,
    ]


def test_label_format_tab_default_and_int_label_type() -> None:
    fmt = LabelFormat.model_validate(
        {"text_sample_separator": "\t", "label_type": 0}, context=STRICT_INPUT_CONTEXT
    )
    assert to_payload(fmt) == {"text_sample_separator": "\t", "label_type": "0"}


def test_label_flags_accept_python_values_and_send_documented_strings() -> None:
    prop = SampleLabelProperty.model_validate(
        {"@modelarts:hard": True, "@modelarts:hard_coefficient": 0.25, "@modelarts:hard_reasons": [3, 20]}
    )
    assert to_payload(prop) == {
        "@modelarts:hard": "true",
        "@modelarts:hard_coefficient": "0.25",
        "@modelarts:hard_reasons": "3-20",
    }


def test_encoding_is_normalised() -> None:
    assert Sample(encoding="utf-8").encoding == "UTF-8"
    assert Sample(encoding="gb2312").encoding == "GB2312"


def test_sample_bytes_are_base64_encoded_and_hidden_from_repr() -> None:
    sample = Sample(name="a.txt", data=b"\x00\xffhello")
    assert to_payload(sample) == {"name": "a.txt", "data": "AP9oZWxsbw=="}
    assert "AP9o" not in repr(sample)


def test_object_detection_with_size_is_fine_and_update_does_not_need_size() -> None:
    parse_sample(Sample, {"labels": [{"type": 1}], "metadata": {"@modelarts:size": [10, 10, 3]}}, 0)
    parse_sample(SampleLabels, {"sample_id": "s", "labels": [{"type": 1}]}, 0)


def test_source_info_password_is_hidden_but_sent() -> None:
    info = SourceInfo(user_name="dws", user_password="s3cret-pw")
    assert "s3cret-pw" not in repr(info) and "s3cret-pw" not in str(info.model_dump())
    assert to_payload(info) == {"user_name": "dws", "user_password": "s3cret-pw"}
    assert json.loads(info.model_dump_json(exclude_none=True))["user_password"] == "s3cret-pw"


@pytest.mark.parametrize("context", [None, STRICT_INPUT_CONTEXT], ids=["default", "strict"])
def test_feature_and_size_must_be_lists_in_requests(context: Any) -> None:
    # Replies may carry other shapes (the pages type them "Object" / "Array of objects"); requests may not.
    with pytest.raises(ValidationError):
        SampleLabelProperty.model_validate({"@modelarts:feature": {"x": 1}}, context=context)
    with pytest.raises(ValidationError):
        SampleMetadata.model_validate({"@modelarts:size": [{"width": 1}, {"height": 2}]}, context=context)
