"""Tests of ``_models/_rules.py`` and the rules the models apply: each rule the pages state refuses bad input
naming the field; each rule they do not state is gone (the input passes unchanged)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from airflow_provider_modelarts.models import (
    MAX_SAMPLE_BYTES,
    STRICT_INPUT_CONTEXT,
    LabelFormat,
    Sample,
    SampleLabels,
    SampleValidationError,
    UploadSamplesRequest,
    parse_sample,
    to_payload,
)

# Serializer warnings ("Expected `enum`...") mean a payload may not be what we think: fail on them.
pytestmark = pytest.mark.filterwarnings("error::UserWarning")


def _label(**prop: Any) -> dict[str, Any]:
    return {"labels": [{"name": "x", "property": {f"@modelarts:{k}": v for k, v in prop.items()}}]}


def _shape(shape: str, feature: Any) -> dict[str, Any]:
    return _label(shape=shape, feature=feature)


FEATURE = "labels[0].property.@modelarts:feature"


PROPERTY = "labels[0].property.@modelarts:"


def _ids(cases: list[tuple[Any, ...]]) -> list[str]:
    return [case[0] for case in cases]


# (case id, model, raw sample, field the problem must name, message fragment)
RULE_VIOLATIONS: list[tuple[str, type[BaseModel], dict[str, Any], str, str]] = [
    ("score above 1", Sample, {"labels": [{"score": 1.01}]}, "labels[0].score", "must be between 0 and 1"),
    (
        "score below 0",
        SampleLabels,
        {"labels": [{"score": -0.1}]},
        "labels[0].score",
        "must be between 0 and 1",
    ),
    ("score NaN", Sample, {"labels": [{"score": float("nan")}]}, "labels[0].score", "must be"),
    (
        "bndbox reversed",
        Sample,
        _shape("bndbox", [[50, 95], [0, 10]]),
        FEATURE,
        "bndbox first point must be left of the second (x1 < x2)",
    ),
    ("bndbox same x", Sample, _shape("bndbox", [[5, 10], [5, 95]]), FEATURE, "left of the second"),
    ("bndbox same y", Sample, _shape("bndbox", [[0, 10], [50, 10]]), FEATURE, "must differ in y"),
    (
        "bndbox 3 points",
        Sample,
        _shape("bndbox", [[0, 1], [2, 3], [4, 5]]),
        FEATURE,
        "bndbox must be two points",
    ),
    ("bndbox 3 coords", Sample, _shape("bndbox", [[0, 1, 2], [5, 6]]), FEATURE, "point 0 must be [x, y]"),
    (
        "circle no radius",
        Sample,
        _shape("circle", [[100, 100]]),
        FEATURE,
        "circle must be [[x, y], [radius]]",
    ),
    ("circle 2-number radius", Sample, _shape("circle", [[100, 100], [5, 5]]), FEATURE, "circle must be"),
    (
        "circle negative centre",
        Sample,
        _shape("circle", [[-1, 100], [5]]),
        FEATURE,
        "point 0: coordinates must be >= 0",
    ),
    ("point two points", Sample, _shape("point", [[0, 1], [2, 3]]), FEATURE, "point must be one point"),
    ("polygon one point", Sample, _shape("polygon", [[0, 1]]), FEATURE, "polygon needs at least 2 points"),
    (
        "line three points",
        Sample,
        _shape("line", [[0, 1], [2, 3], [4, 5]]),
        FEATURE,
        "line must be two points",
    ),
    ("dashed one point", Sample, _shape("dashed", [[0, 1]]), FEATURE, "dashed must be two points"),
    ("polyline one point", Sample, _shape("polyline", [[0, 1]]), FEATURE, "polyline needs at least 2 points"),
    (
        "negative coordinate",
        Sample,
        _shape("polygon", [[0, 1], [2, -3], [4, 5]]),
        FEATURE,
        "point 1: coordinates must be >= 0",
    ),
    ("negative without shape", SampleLabels, _label(feature=[[-1, 0]]), FEATURE, "coordinates must be >= 0"),
    ("string coordinate", Sample, _shape("point", [["1", 2]]), FEATURE, "point 0 must contain only numbers"),
    ("bool coordinate", Sample, _shape("point", [[True, 2]]), FEATURE, "only numbers"),
    ("feature not a list", Sample, _shape("point", "1,2"), FEATURE, "must be a list of points"),
    ("point not a list", Sample, _shape("point", [5]), FEATURE, "point 0 must be a list of numbers"),
    (
        "three numbers, no shape",
        Sample,
        _label(feature=[[1, 2, 3]]),
        FEATURE,
        "must be a list of [x, y] points",
    ),
    (
        "NER negative start",
        Sample,
        _label(start_index=-1, end_index=3),
        PROPERTY + "start_index",
        "must be >= 0",
    ),
    ("NER negative end", Sample, _label(end_index=-2), PROPERTY + "end_index", "must be >= 0"),
    ("time without millis", Sample, _label(start_time="00:00:01"), PROPERTY + "start_time", "hh:mm:ss.SSS"),
    ("time 60 minutes", Sample, _label(end_time="00:60:00.000"), PROPERTY + "end_time", "hh:mm:ss.SSS"),
    (
        "time one-digit hour",
        SampleLabels,
        _label(start_time="1:00:00.000"),
        PROPERTY + "start_time",
        "hh:mm:ss.SSS",
    ),
    ("label hard flag", Sample, _label(hard="yes"), PROPERTY + "hard", "must be 0, 1, true or false"),
    (
        "label hard coefficient",
        Sample,
        _label(hard_coefficient="1.5"),
        PROPERTY + "hard_coefficient",
        "between 0 and 1",
    ),
    (
        "label hard coefficient text",
        Sample,
        _label(hard_coefficient="high"),
        PROPERTY + "hard_coefficient",
        "must be a number between 0 and 1",
    ),
    ("label hard reasons", Sample, _label(hard_reasons="3,20"), PROPERTY + "hard_reasons", "joined by '-'"),
    ("name too long", Sample, {"name": "a" * 1025}, "name", "must be at most 1024 characters (got 1025)"),
    (
        "size one number",
        Sample,
        {"metadata": {"@modelarts:size": [100]}},
        "metadata.@modelarts:size",
        "[width, height] or [width, height, depth]",
    ),
    (
        "size four numbers",
        SampleLabels,
        {"metadata": {"@modelarts:size": [1, 2, 3, 4]}},
        "metadata.@modelarts:size",
        "[width, height]",
    ),
    (
        "size not a list",
        Sample,
        {"metadata": {"@modelarts:size": {"width": 100, "height": 100}}},
        "metadata.@modelarts:size",
        "must be a list",
    ),
    (
        "size not ints",
        Sample,
        {"metadata": {"@modelarts:size": [1.5, 100]}},
        "metadata.@modelarts:size[0]",
        "must be an integer",
    ),
    (
        "metadata hard coefficient",
        Sample,
        {"metadata": {"@modelarts:hard_coefficient": 1.2}},
        "metadata.@modelarts:hard_coefficient",
        "must be between 0 and 1",
    ),
    (
        "metadata hard",
        SampleLabels,
        {"metadata": {"@modelarts:hard": 2}},
        "metadata.@modelarts:hard",
        "must be 0 (not a hard sample) or 1",
    ),
    ("encoding", Sample, {"encoding": "latin-1"}, "encoding", "must be one of UTF-8, GBK, GB2312"),
    (
        "object detection without size",
        Sample,
        {"labels": [{"type": 1, "name": "car"}]},
        "metadata.@modelarts:size",
        "is required when a label is object detection",
    ),
    ("score not a number", Sample, {"labels": [{"score": "high"}]}, "labels[0].score", "must be a number"),
    ("labels not a list", Sample, {"labels": {"name": "x"}}, "labels", "must be a list"),
    ("sample id not a string", SampleLabels, {"sample_id": 5}, "sample_id", "must be a string"),
]


@pytest.mark.parametrize(
    ("case", "model_cls", "raw", "field", "message"), RULE_VIOLATIONS, ids=_ids(RULE_VIOLATIONS)
)
def test_rule_violation_names_sample_and_field(
    case: str, model_cls: type[BaseModel], raw: dict[str, Any], field: str, message: str
) -> None:
    raw = {"name": "cat.jpg", **raw} if model_cls is Sample and "name" not in raw else raw
    with pytest.raises(SampleValidationError) as caught:
        parse_sample(model_cls, raw, 7)
    problems = caught.value.problems
    assert [p.field for p in problems] == [field]
    assert message in problems[0].message
    assert problems[0].index == 7
    text = str(caught.value)
    assert f"  {problems[0]}" in text and f": {field}: {problems[0].message}" in text
    assert (problems[0].name or "")[:40] in text
    if model_cls is Sample and "name" not in case:
        assert problems[0].name == "cat.jpg"


@pytest.mark.parametrize("char", list("!<>=&\"'"))
def test_sample_name_rejects_each_forbidden_character(char: str) -> None:
    with pytest.raises(SampleValidationError) as caught:
        parse_sample(Sample, {"name": f"cat{char}1.jpg"}, 0)
    (problem,) = caught.value.problems
    assert problem.field == "name"
    assert f"(found {char!r})" in problem.message


def test_sample_name_rules_unchanged_through_fast_path() -> None:
    ok = parse_sample(Sample, {"name": "x" * 1024}, 0)
    assert ok.name == "x" * 1024
    with pytest.raises(SampleValidationError, match=r"name: must be at most 1024 characters \(got 1025\)"):
        parse_sample(Sample, {"name": "x" * 1025}, 0)
    with pytest.raises(SampleValidationError, match="name: must not contain any of"):
        parse_sample(Sample, {"name": "a<b.jpg"}, 0)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("text_label_separator", ",,", "must be exactly one character (got 2)"),
        ("text_label_separator", "", "must be exactly one character (got 0)"),
        ("text_sample_separator", "\t\t", "must be exactly one character (got 2)"),
        ("label_type", "2", "must be 0 (labels in a separate _result file) or 1"),
    ],
)
def test_label_format_rejects_bad_separators(field: str, value: str, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        UploadSamplesRequest.model_validate({"label_format": {field: value}, "samples": []})
    (error,) = caught.value.errors()
    assert error["loc"] == ("label_format", field)
    assert message in error["msg"]


@pytest.mark.parametrize("separator", [*"aZ09", *"!@#$%^&*_=|?/':.;,"])
def test_label_format_accepts_every_documented_separator(separator: str) -> None:
    fmt = LabelFormat(text_label_separator=separator, text_sample_separator=separator, label_type="1")
    assert to_payload(fmt) == {
        "label_type": "1",
        "text_label_separator": separator,
        "text_sample_separator": separator,
    }


VALID_LABEL_PROPERTIES: list[tuple[str, dict[str, Any]]] = [
    ("bndbox", {"shape": "bndbox", "feature": [[0, 10], [50, 95]]}),
    ("polygon", {"shape": "polygon", "feature": [[0, 100], [50, 95], [10, 60], [500, 400]]}),
    ("circle", {"shape": "circle", "feature": [[100, 100], [50]]}),
    ("line", {"shape": "line", "feature": [[0, 100], [50, 95]]}),
    ("dashed", {"shape": "dashed", "feature": [[0, 100], [50, 95]]}),
    ("point", {"shape": "point", "feature": [[0, 100]]}),
    ("polyline", {"shape": "polyline", "feature": [[0, 100], [50, 95], [10, 60], [500, 400]]}),
    ("ner", {"start_index": 0, "end_index": 23}),
    (
        "speech",
        {"start_time": "00:00:01.000", "end_time": "00:00:01.000", "content": "hi", "source": "narrator"},
    ),
    ("long speech", {"start_time": "100:59:59.999"}),
    ("triplet", {"from": "e1", "to": "e2"}),
    ("hard", {"hard": "true", "hard_coefficient": "0.5", "hard_reasons": "3-20-21-19"}),
]


@pytest.mark.parametrize(("case", "prop"), VALID_LABEL_PROPERTIES, ids=_ids(VALID_LABEL_PROPERTIES))
def test_documented_label_properties_pass_strict_input(case: str, prop: dict[str, Any]) -> None:
    raw = _label(**prop) | {"name": "a.jpg", "metadata": {"@modelarts:size": [640, 480]}}
    assert to_payload(parse_sample(Sample, raw, 0)) == raw


def test_oversized_sample_is_rejected_before_sending() -> None:
    too_big = "A" * ((MAX_SAMPLE_BYTES // 3 + 1) * 4)
    with pytest.raises(SampleValidationError) as caught:
        parse_sample(Sample, {"name": "huge.bin", "data": too_big}, 2)
    (problem,) = caught.value.problems
    assert problem.field == "data"
    assert "at most 12,582,912" in problem.message
    assert "AAAA" not in str(caught.value)
    exact = "A" * (MAX_SAMPLE_BYTES // 3 * 4)
    assert parse_sample(Sample, {"data": exact}, 0).data == exact


# Rules the models used to apply although no page states them (issue 10): each input now passes unchanged.
# (case id, model, raw sample)
UNSOURCED_RULES_REMOVED: list[tuple[str, type[BaseModel], dict[str, Any]]] = [
    # the bndbox y order: UploadSamplesJson wants y1 < y2, UpdateSamples (000) says y2 < y1; either passes
    ("bndbox y1 < y2 (UploadSamplesJson edition)", Sample, _shape("bndbox", [[0, 10], [50, 95]])),
    ("bndbox y2 < y1 (UpdateSamples edition)", Sample, _shape("bndbox", [[0, 95], [50, 10]])),
    ("bndbox y2 < y1, label update", SampleLabels, _shape("bndbox", [[0, 95], [50, 10]])),
    # "polygon: consists of multiple points": two are multiple
    ("polygon of two points", Sample, _shape("polygon", [[0, 1], [2, 3]])),
    # the radius is not a coordinate point and has no stated range
    ("circle zero radius", Sample, _shape("circle", [[100, 100], [0]])),
    ("circle negative radius", SampleLabels, _shape("circle", [[100, 100], [-5]])),
    # no page orders end after start
    ("NER end equals start", Sample, _label(start_index=5, end_index=5)),
    ("NER end before start", SampleLabels, _label(start_index=5, end_index=3)),
    ("speech end before start", Sample, _label(start_time="00:00:02.000", end_time="00:00:01.999")),
    # the image size has no stated range
    ("size zero", Sample, {"metadata": {"@modelarts:size": [0, 100]}}),
    ("size negative depth", SampleLabels, {"metadata": {"@modelarts:size": [10, 100, -3]}}),
    # a feature with no shape and no points is still a list
    ("empty feature, no shape", Sample, _label(feature=[])),
]


@pytest.mark.parametrize(
    ("case", "model_cls", "raw"), UNSOURCED_RULES_REMOVED, ids=_ids(UNSOURCED_RULES_REMOVED)
)
def test_rules_no_page_states_are_not_applied(
    case: str, model_cls: type[BaseModel], raw: dict[str, Any]
) -> None:
    raw = {"name": "a.jpg", **raw} if model_cls is Sample else {"sample_id": "s1", **raw}
    assert to_payload(parse_sample(model_cls, raw, 0)) == raw
    assert to_payload(model_cls.model_validate(raw)) == raw


@pytest.mark.parametrize("separator", ["~", " ", "é", "\t", "-", "\u3001"])
def test_any_single_character_is_a_separator(separator: str) -> None:
    # The page lists letters, digits and !@#$%^&*_=|?/':.;, after "such as": examples, not the only ones.
    raw = {"label_format": {"text_label_separator": separator, "text_sample_separator": separator}}
    request = UploadSamplesRequest.model_validate(raw, context=STRICT_INPUT_CONTEXT)
    assert to_payload(request) == raw


def test_every_rule_quotes_its_source() -> None:
    """Issue 10: every validation rule cites the page and sentence it comes from."""
    import inspect

    from airflow_provider_modelarts._models import _rules

    checks = [getattr(_rules, name) for name in _rules.__all__ if name.startswith("check_")]
    assert len(checks) >= 8
    for check in checks:
        source = inspect.getsource(check)
        assert "Source:" in source or "source quoted" in source, check.__name__
