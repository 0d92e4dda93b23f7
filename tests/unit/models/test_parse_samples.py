"""Tests of ``parse_samples`` (``_models/_parse.py``): many samples to one pydantic call, each sample's
outcome exactly what :func:`parse_sample` gives it on its own, in input order."""

from __future__ import annotations

import json
from collections import deque
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_provider_modelarts._models import _parse
from airflow_provider_modelarts.models import (
    Sample,
    SampleLabels,
    SampleValidationError,
    parse_sample,
    parse_samples,
    to_payload,
)


def _alone(model_cls: Any, index: int, raw: Any) -> Any:
    try:
        return parse_sample(model_cls, raw, index)
    except SampleValidationError as error:
        return [str(problem) for problem in error.problems]


def _together(result: Any) -> Any:
    if isinstance(result, SampleValidationError):
        return [str(problem) for problem in result.problems]
    return result.model


_value = st.one_of(
    st.none(),
    st.integers(-3, 3),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=4),
    st.sampled_from(["cat<.jpg", "NaN", "Infinity.jpg", "\ud800", "object_detection"]),
)
_label = st.dictionaries(st.sampled_from(["name", "type", "score", "scor", "property"]), _value, max_size=3)
_sample = st.one_of(
    st.dictionaries(
        st.sampled_from(["name", "data", "sample_type", "labels", "nmae", "metadata"]),
        st.one_of(
            _value, st.lists(_label, max_size=2), st.dictionaries(st.text(max_size=3), _value, max_size=2)
        ),
        max_size=4,
    ),
    st.integers(),
    st.just(Sample(name="made.jpg")),
)


@settings(max_examples=150)
@given(samples=st.lists(_sample, max_size=8))
def test_each_sample_gets_what_it_would_get_on_its_own(samples: list[Any]) -> None:
    items = list(enumerate(samples, start=10))
    together = parse_samples(Sample, items)
    assert [_together(result) for result in together] == [_alone(Sample, i, raw) for i, raw in items]
    for result in together:
        if not isinstance(result, SampleValidationError):  # the JSON a request carries is the model's
            assert json.loads(result.json) == to_payload(result.model)


def test_outcomes_keep_the_input_order_and_name_their_own_sample() -> None:
    items = [
        (0, {"sample_id": "a", "labels": [{"name": "cat", "type": 0}]}),
        (1, {"sample_id": "b", "labels": [{"name": "cat", "scor": 0.5}]}),
        (2, "not a sample"),
        (3, SampleLabels(sample_id="d")),
        (4, {"sample_id": "e", "labels": [{"score": float("nan")}]}),
        (5, {"sample_id": "f", "metadata": {"note": float("inf")}}),
    ]
    first, second, third, fourth, fifth, sixth = parse_samples(SampleLabels, items)
    assert not isinstance(first, SampleValidationError) and first.model.sample_id == "a"
    assert isinstance(second, SampleValidationError)
    assert [str(p) for p in second.problems] == [
        "sample #1 ('b'): labels[0].scor: unknown field; did you mean 'score'?"
    ]
    assert isinstance(third, SampleValidationError) and third.problems[0].index == 2
    assert not isinstance(fourth, SampleValidationError) and fourth.json == b'{"sample_id":"d"}'
    assert isinstance(fifth, SampleValidationError) and fifth.problems[0].field == "labels[0].score"
    assert isinstance(sixth, SampleValidationError)
    assert (sixth.problems[0].index, sixth.problems[0].field) == (5, "metadata.note")


def test_text_that_spells_a_non_finite_number_is_sent_as_written() -> None:
    (result,) = parse_samples(Sample, [(0, {"name": "NaN-Infinity.jpg", "metadata": {"note": "NaN"}})])
    assert not isinstance(result, SampleValidationError)
    assert json.loads(result.json) == {"name": "NaN-Infinity.jpg", "metadata": {"note": "NaN"}}


def test_valid_samples_take_one_call_of_the_models_and_one_serialisation_each(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = {"validate": 0, "serialise": 0}
    real_many, real_json = _parse._validate_many, _parse.request_json

    def validate_many(*args: Any) -> Any:
        calls["validate"] += 1
        return real_many(*args)

    def request_json(model: Any) -> bytes:
        calls["serialise"] += 1
        return real_json(model)

    monkeypatch.setattr(_parse, "_validate_many", validate_many)
    monkeypatch.setattr(_parse, "request_json", request_json)
    results = parse_samples(Sample, [(i, {"name": f"{i}.jpg", "data": "aGk="}) for i in range(40)])
    assert not any(isinstance(result, SampleValidationError) for result in results)
    assert calls == {"validate": 1, "serialise": 40}
    # One bad sample among them: one more call, for the samples it did not blame.
    calls.update(validate=0, serialise=0)
    raws = [(i, {"name": f"{i}.jpg" if i != 7 else "bad<.jpg"}) for i in range(40)]
    results = parse_samples(Sample, raws)
    assert [i for i, result in enumerate(results) if isinstance(result, SampleValidationError)] == [7]
    assert calls == {"validate": 2, "serialise": 39}


# Values pydantic would convert quietly (lax mode) that are not what a JSON body carries: refused as before
# the samples were validated many to a call, naming the field.
_NOT_JSON = [
    ({"name": b"cat.jpg"}, "name", "a bytes is not JSON"),
    (
        {"name": "a", "labels": [{"name": "c", "score": Decimal("0.5")}]},
        "labels[0].score",
        "a Decimal is not JSON",
    ),
    (
        {"name": "a", "metadata": {"@modelarts:size": {100, 200}}},
        "metadata.@modelarts:size",
        "a set is not JSON",
    ),
    ({"name": "a", "labels": deque([{"name": "c"}])}, "labels", "a deque is not JSON"),
]


@pytest.mark.parametrize(("raw", "field", "message"), _NOT_JSON, ids=[case[1] for case in _NOT_JSON])
def test_values_pydantic_would_convert_are_still_refused(
    raw: dict[str, Any], field: str, message: str
) -> None:
    items = [(0, {"name": "fine.jpg"}), (1, raw), (2, {"name": "also-fine.jpg"})]
    fine, refused, also_fine = parse_samples(Sample, items)
    assert not isinstance(fine, SampleValidationError) and not isinstance(also_fine, SampleValidationError)
    assert isinstance(refused, SampleValidationError)
    assert [(p.index, p.field, p.message) for p in refused.problems] == [(1, field, message)]
