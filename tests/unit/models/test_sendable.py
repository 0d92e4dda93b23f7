"""Tests of ``_models/_sendable.py``: values a JSON body cannot carry are refused, naming the field."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from airflow_provider_modelarts._models._sendable import MAX_DEPTH, plainly_sendable, unsendable
from airflow_provider_modelarts.models import (
    Sample,
    SampleLabels,
    SampleValidationError,
    parse_sample,
    to_payload,
)

# Serializer warnings ("Expected `enum`...") mean a payload may not be what we think: fail on them.
pytestmark = pytest.mark.filterwarnings("error::UserWarning")


def _ids(cases: list[tuple[Any, ...]]) -> list[str]:
    return [case[0] for case in cases]


def _nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


class _Opaque:
    pass


UNSENDABLE_VALUES: list[tuple[str, type[BaseModel], dict[str, Any], str, str]] = [
    (
        "nan custom attribute",
        Sample,
        {"labels": [{"name": "c", "property": {"custom attribute": float("nan")}}]},
        "labels[0].property.custom attribute",
        "NaN or infinite numbers cannot be sent as JSON",
    ),
    (
        "inf metadata",
        Sample,
        {"metadata": {"custom": float("-inf")}},
        "metadata.custom",
        "NaN or infinite numbers cannot be sent as JSON",
    ),
    (
        "nan coordinate",
        Sample,
        {"labels": [{"name": "c", "property": {"@modelarts:feature": [[1, 2], [float("nan"), 3]]}}]},
        "labels[0].property.@modelarts:feature[1][0]",
        "NaN or infinite numbers",
    ),
    (
        "inf nested in a list attribute",
        SampleLabels,
        {"sample_id": "s1", "labels": [{"name": "c", "property": {"scores": [0.5, [float("inf")]]}}]},
        "labels[0].property.scores[1][0]",
        "NaN or infinite numbers",
    ),
    ("surrogate name", Sample, {"name": "cat\udfff.jpg"}, "name", "lone surrogate"),
    ("surrogate label name", Sample, {"labels": [{"name": "\ud800"}]}, "labels[0].name", "lone surrogate"),
    (
        "surrogate custom attribute",
        Sample,
        {"labels": [{"name": "c", "property": {"note": "ok \udc80"}}]},
        "labels[0].property.note",
        "lone surrogate",
    ),
    (
        "surrogate inside a custom key",
        Sample,
        {"metadata": {"custom": {"\ud83d": 1}}},
        "metadata.custom",
        "lone surrogate",
    ),
    ("surrogate custom key", Sample, {"metadata": {"\ud83d": 1}}, "metadata", "lone surrogate"),
    ("int key", Sample, {"metadata": {3: "x"}}, "metadata[3]", "keys must be strings"),
    (
        "int key nested",
        Sample,
        {"metadata": {"custom": {3: "x"}}},
        "metadata.custom",
        "key 3 is not a string",
    ),
    ("object", Sample, {"metadata": {"custom": _Opaque()}}, "metadata.custom", "_Opaque is not JSON"),
    (
        "set",
        SampleLabels,
        {"sample_id": "s", "metadata": {"tags": {1, 2}}},
        "metadata.tags",
        "set is not JSON",
    ),
    (
        "deep label attribute",
        Sample,
        {"labels": [{"name": "c", "property": {"deep": _nested(65)}}]},
        "labels[0].property.deep",
        "nested more than 64 levels deep",
    ),
    (
        "very deep metadata",
        SampleLabels,
        {"sample_id": "s", "metadata": {"deep": _nested(50_000)}},
        "metadata.deep",
        "nested more than 64 levels deep",
    ),
]


@pytest.mark.parametrize(
    ("case", "model_cls", "raw", "field", "message"), UNSENDABLE_VALUES, ids=_ids(UNSENDABLE_VALUES)
)
def test_values_json_cannot_carry_name_sample_and_field(
    case: str, model_cls: type[BaseModel], raw: dict[str, Any], field: str, message: str
) -> None:
    raw = {"name": "cat.jpg", **raw} if model_cls is Sample and "name" not in raw else raw
    with pytest.raises(SampleValidationError) as caught:
        parse_sample(model_cls, raw, 3)
    (problem,) = caught.value.problems
    assert problem.index == 3
    # a path 64 levels deep is shortened to its start, saying how long it was
    assert problem.field == field or (problem.field.startswith(field) and problem.field.endswith(" chars]"))
    assert message in problem.message
    assert "sample #3 (" in str(caught.value)


def test_json_safe_values_pass_unchanged() -> None:
    raw = {
        "name": "猫-ñandú-🐈.jpg",
        "labels": [
            {
                "name": "🐈",
                "property": {"note": "naïve", "nested": _nested(60), "flag": True, "x": 1e300},
            }
        ],
        "metadata": {"tags": ["a", 2, 3.5]},
    }
    assert to_payload(parse_sample(Sample, raw, 0)) == raw


def test_model_instances_are_checked_too() -> None:
    instance = Sample.model_construct(name="a.jpg", metadata={"custom": float("nan")})
    with pytest.raises(SampleValidationError) as caught:
        parse_sample(Sample, instance, 0)
    assert [p.field for p in caught.value.problems] == ["metadata.custom"]
    deep = Sample.model_construct(name="a.jpg", metadata={"custom": _nested(5_000)})
    with pytest.raises(SampleValidationError, match="nested more than 64 levels deep"):
        parse_sample(Sample, deep, 0)


# -- the fast walk: it may leave a value to the slow one, never pass what the slow one refuses -------------

_ODD_SCALARS = st.sampled_from(
    [float("nan"), float("inf"), "\ud800", "ñ", b"x", Decimal(1), {1, 2}, (1, 2), 2**70, 1.5, True, None, ""]
)
_JSONISH = st.recursive(
    st.one_of(st.integers(), st.text(max_size=4), st.floats(), st.none(), st.booleans(), _ODD_SCALARS),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.one_of(st.text(max_size=3), st.integers(), st.just("\udfff")), inner, max_size=3),
    ),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None)
@given(value=_JSONISH, wrap=st.integers(min_value=0, max_value=70))
def test_the_fast_walk_passes_only_what_the_slow_walk_passes(value: Any, wrap: int) -> None:
    for _ in range(wrap):
        value = [value]
    if plainly_sendable(value):
        assert unsendable(value) is None
    if type(value) in (dict, list):  # a chunk of samples in one walk says what each one alone says
        assert plainly_sendable([value, {}], depth=-1) == plainly_sendable(value)


@pytest.mark.parametrize("depth", [1, MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1])
def test_the_fast_walk_stops_at_the_depth_limit(depth: int) -> None:
    value = {"a": _nested(depth - 1)}  # depth levels of containers: the dict and depth - 1 lists
    assert plainly_sendable(value) == (depth <= MAX_DEPTH)
    assert plainly_sendable([value, {"b": 1}], depth=-1) == (depth <= MAX_DEPTH)
    assert (unsendable(value) is None) == (depth <= MAX_DEPTH)
