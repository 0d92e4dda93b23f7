"""Tests of ``_models/_parse.py``: parse_sample names the sample and the field of every problem."""

from __future__ import annotations

import json
import pickle
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from airflow_provider_modelarts._models._parse import format_loc
from airflow_provider_modelarts.models import (
    MAX_SAMPLE_BYTES,
    STRICT_INPUT_CONTEXT,
    AnnotatedBy,
    BatchResponse,
    LabelType,
    Sample,
    SampleLabel,
    SampleLabels,
    SampleProblem,
    SampleUsage,
    SampleValidationError,
    parse_sample,
    to_payload,
)

# Serializer warnings ("Expected `enum`...") mean a payload may not be what we think: fail on them.
pytestmark = pytest.mark.filterwarnings("error::UserWarning")


def test_parse_sample_reports_every_problem_of_a_sample() -> None:
    raw = {"name": "a<b.jpg", "labels": [{"score": 2}, {"score": 0.5, "scor": 1}], "encoding": "ascii"}
    with pytest.raises(SampleValidationError) as caught:
        parse_sample(Sample, raw, 3)
    assert sorted(p.field for p in caught.value.problems) == [
        "encoding",
        "labels[0].score",
        "labels[1].scor",
        "name",
    ]
    assert all(p.index == 3 and p.name == "a<b.jpg" for p in caught.value.problems)
    assert str(caught.value).splitlines()[0] == "4 problems in 1 sample:"


def test_parse_sample_names_update_samples_by_sample_id() -> None:
    with pytest.raises(SampleValidationError) as caught:
        parse_sample(SampleLabels, {"sample_id": "abc123", "labels": [{"score": 9}]}, 12)
    assert str(caught.value.problems[0]) == "sample #12 ('abc123'): labels[0].score: must be between 0 and 1"


@pytest.mark.parametrize("raw", [["not", "a", "mapping"], "text", 5])
def test_parse_sample_rejects_non_objects(raw: Any) -> None:
    with pytest.raises(SampleValidationError) as caught:
        parse_sample(Sample, raw, 1)
    assert caught.value.problems == [
        SampleProblem(1, None, "", f"must be an object (a mapping), not {type(raw).__name__}")
    ]


def test_parse_sample_revalidates_instances() -> None:
    good = Sample(name="ok.jpg", labels=[SampleLabel(name="cat", score=0.5)])
    parsed = parse_sample(Sample, good, 0)
    assert parsed == good
    assert parsed.model_fields_set == good.model_fields_set
    mutated = Sample(name="ok.jpg", labels=[SampleLabel(name="cat", score=0.5)])
    assert mutated.labels is not None
    mutated.labels[0].score = 3.0  # no validate_assignment: only a re-validation catches this
    constructed = Sample.model_construct(name="bad>name")
    with_extra = Sample(name="x.jpg", colour="red")
    for index, instance in enumerate([mutated, constructed, with_extra]):
        with pytest.raises(SampleValidationError) as caught:
            parse_sample(Sample, instance, index)
        assert caught.value.problems[0].index == index


def test_sample_validation_error_lists_twenty_lines_then_a_count() -> None:
    problems = [
        SampleProblem(i, f"s{i}.jpg", "labels[0].score", "must be between 0 and 1") for i in range(25)
    ]
    error = SampleValidationError(problems)
    lines = str(error).splitlines()
    assert lines[0] == "25 problems in 25 samples:"
    assert lines[1] == "  sample #0 ('s0.jpg'): labels[0].score: must be between 0 and 1"
    assert len(lines) == 22 and lines[-1] == "  ... and 5 more"
    assert isinstance(error, ValueError)
    clone = pickle.loads(pickle.dumps(error))
    assert clone.problems == problems and str(clone) == str(error)


@pytest.mark.parametrize(
    ("loc", "expected"),
    [
        (("labels", 0, "property", "@modelarts:feature"), "labels[0].property.@modelarts:feature"),
        ((0, "name"), "[0].name"),
        (("samples", 3, "labels", 1, "score"), "samples[3].labels[1].score"),
        ((), ""),
    ],
)
def test_format_loc(loc: tuple[Any, ...], expected: str) -> None:
    assert format_loc(loc) == expected


def test_problem_lines_quote_huge_names_briefly() -> None:
    with pytest.raises(SampleValidationError) as caught:
        parse_sample(Sample, {"name": "\x00" * 5000}, 0)
    assert "must be at most 1024 characters" in str(caught.value)
    assert len(str(caught.value)) < 300
    assert "[20,002 chars]" in str(caught.value)  # the length of the quoted name (each NUL is \\x00)


@pytest.mark.parametrize(
    "data", [b"\x00\xffhello", bytearray(b"\x00\xffhello"), memoryview(b"\x00\xffhello")]
)
def test_bytes_in_a_sample_dict_are_base64_encoded(data: Any) -> None:
    # Issue 10: the models promise to encode bytes; a dict sample with bytes in ``data`` used to be
    # refused by the JSON-safety check ("a bytes is not JSON").
    sample = parse_sample(Sample, {"name": "a.bin", "data": data, "metadata": {"note": "naïve"}}, 0)
    assert to_payload(sample) == {"name": "a.bin", "data": "AP9oZWxsbw==", "metadata": {"note": "naïve"}}


def test_bytes_elsewhere_are_still_not_json() -> None:
    with pytest.raises(SampleValidationError) as caught:
        parse_sample(Sample, {"name": "a.bin", "data": b"hi", "metadata": {"raw": b"x"}}, 0)
    assert [(p.field, p.message) for p in caught.value.problems] == [("metadata.raw", "a bytes is not JSON")]


def test_oversized_bytes_are_refused_like_text() -> None:
    with pytest.raises(SampleValidationError, match="at most 12,582,912"):
        parse_sample(Sample, {"name": "big.bin", "data": bytes(MAX_SAMPLE_BYTES + 1)}, 0)
    assert parse_sample(Sample, {"data": bytes(MAX_SAMPLE_BYTES)}, 0).data is not None


_PLAIN_CASES: list[tuple[type[BaseModel], dict[str, Any]]] = [
    (Sample, {"name": "a.jpg", "sample_type": 0, "data": "aGk=", "labels": [{"name": "cat", "type": 0}]}),
    (SampleLabels, {"sample_id": "s1", "labels": [{"name": "cat", "score": 0.5, "annotated_by": "auto"}]}),
    (SampleLabels, {"sample_id": "s1", "sample_usage": "TRAIN", "labels": []}),
    (
        Sample,
        {
            "name": "o.jpg",
            "metadata": {"@modelarts:size": [10, 20, 3], "my_key": {"nested": [1, 2]}},
            "labels": [
                {
                    "name": "car",
                    "type": 1,
                    "property": {
                        "@modelarts:shape": "bndbox",
                        "@modelarts:feature": [[0, 1], [5, 6]],
                        "c": 1,
                    },
                }
            ],
        },
    ),
]


@pytest.mark.parametrize(("model_cls", "raw"), _PLAIN_CASES)
def test_parse_sample_gives_the_models_own_result(model_cls: type[BaseModel], raw: dict[str, Any]) -> None:
    expected = model_cls.model_validate(raw, context=dict(STRICT_INPUT_CONTEXT))
    got = parse_sample(model_cls, raw, 0)
    assert type(got) is model_cls
    assert got == expected
    assert got.model_dump() == expected.model_dump()
    assert to_payload(got) == to_payload(expected) == raw


@pytest.mark.parametrize(
    "label",
    [
        {"name": "cat", "type": True},  # bool is not a label type
        {"name": "cat", "type": 1.0},
        {"name": "cat", "type": 5},
        {"name": "cat", "score": float("nan")},
        {"name": "cat", "score": 1.5},
        {"name": "cat", "annotated_by": "robot"},
        {"name": "cat", "nmae": "x"},  # unknown key
        {"name": "cat", "property": {"@modelarts:shpae": "bndbox"}},  # reserved prefix, unknown
        {"name": "cat", "property": {1: "x"}},
    ],
)
def test_parse_sample_refuses_what_the_models_refuse(label: dict[str, Any]) -> None:
    raw = {"sample_id": "s1", "labels": [label]}
    with pytest.raises(ValidationError):
        SampleLabels.model_validate(raw, context=dict(STRICT_INPUT_CONTEXT))
    with pytest.raises(SampleValidationError):
        parse_sample(SampleLabels, raw, 0)


def _check_outcome(model_cls: type[BaseModel], raw: Any) -> str:
    """parse_sample either accepts what the models accept and a JSON body carries unchanged, or refuses
    naming the sample; nothing else (no other exception, no body that differs from the input)."""
    try:
        model = parse_sample(model_cls, raw, 7)
    except SampleValidationError as exc:
        assert exc.problems
        assert all(p.index == 7 and p.message for p in exc.problems)
        return "refused"
    assert type(model) is model_cls
    assert model == model_cls.model_validate(raw, context=dict(STRICT_INPUT_CONTEXT))
    body = json.dumps(to_payload(model), allow_nan=False)
    body.encode("utf-8")  # no lone surrogates
    assert model.model_dump_json(by_alias=True)
    return "accepted"


_ODD_TEXT = st.one_of(
    st.sampled_from(["cat", "a.jpg", "auto", "human", "TRAIN", "bndbox", "1", " 1 ", "object_detection", ""]),
    st.text(max_size=5),
    st.sampled_from(["\ud800", "x\udfff", "a<b", "ü.jpg", "@modelarts:shape"]),
)


_ODD_SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-2, 1200),
    st.sampled_from([0.5, 1.0, 1.5, -0.0, float("nan"), float("inf"), 2**70]),
    _ODD_TEXT,
    st.sampled_from([b"aGk=", LabelType.OBJECT_DETECTION, AnnotatedBy.AUTO, SampleUsage.TRAIN, object()]),
)


_ODD_VALUE = st.recursive(
    _ODD_SCALAR,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.lists(inner, max_size=2).map(tuple),
        st.dictionaries(st.one_of(_ODD_TEXT, st.integers(0, 2)), inner, max_size=3),
    ),
    max_leaves=6,
)


def _odd_object(keys: list[str]) -> st.SearchStrategy[dict[Any, Any]]:
    return st.dictionaries(st.sampled_from(keys), _ODD_VALUE, max_size=4)


_PROPERTY = st.one_of(
    _odd_object(
        ["@modelarts:shape", "@modelarts:feature", "@modelarts:hard", "@modelarts:shpae", "custom", "content"]
    ),
    st.just({"@modelarts:shape": "bndbox", "@modelarts:feature": [[0, 0], [2, 2]]}),
)


_LABEL = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "name": _ODD_TEXT,
            "type": st.one_of(st.sampled_from([0, 1, 100, True, 1.0, "1"]), _ODD_SCALAR),
            "score": st.one_of(st.floats(allow_nan=True), _ODD_SCALAR),
            "annotated_by": _ODD_TEXT,
            "property": _PROPERTY,
            "nmae": _ODD_SCALAR,
        },
    ),
    _ODD_VALUE,
    st.builds(lambda: SampleLabel(name="inst")),
)


_LABELS = st.one_of(st.lists(_LABEL, max_size=3), st.lists(_LABEL, max_size=2).map(tuple), _ODD_SCALAR)


_METADATA = _odd_object(["@modelarts:size", "@modelarts:hard_coefficient", "my_key", "@modelarts:sise"])


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    raw=st.one_of(
        st.fixed_dictionaries(
            {"sample_id": st.just("s1")},
            optional={
                "labels": _LABELS,
                "sample_usage": _ODD_TEXT,
                "metadata": _METADATA,
                "worker": _ODD_SCALAR,
            },
        ).map(lambda d: (SampleLabels, d)),
        st.fixed_dictionaries(
            {"name": _ODD_TEXT},
            optional={
                "data": _ODD_SCALAR,
                "labels": _LABELS,
                "sample_type": _ODD_SCALAR,
                "metadata": _METADATA,
            },
        ).map(lambda d: (Sample, d)),
    )
)
def test_parse_sample_on_odd_input_accepts_sendable_models_or_names_problems(
    raw: tuple[type[BaseModel], Any],
) -> None:
    model_cls, sample = raw
    assert _check_outcome(model_cls, sample) in ("accepted", "refused")


class _Text(str):
    pass


class _Number(float):
    pass


_L = {"name": "cat", "type": 0, "score": 0.5, "annotated_by": "auto"}


_EDGE_CASES: list[tuple[type[BaseModel], Any]] = [
    (SampleLabels, {"sample_id": "s1", "labels": [_L]}),
    (SampleLabels, {"sample_id": "s1", "labels": [{**_L, "name": "x\udfff"}]}),
    (SampleLabels, {"sample_id": "\ud800", "labels": [_L]}),
    (SampleLabels, {"sample_id": "s1", "labels": [{**_L, "annotated_by": "aut\ud800"}]}),
    (SampleLabels, {"sample_id": "s1", "labels": [{**_L, "score": float("nan")}]}),
    (SampleLabels, {"sample_id": "s1", "labels": [{**_L, "score": float("inf")}]}),
    (SampleLabels, {"sample_id": "s1", "labels": [{**_L, "score": True}]}),
    (SampleLabels, {"sample_id": "s1", "labels": [{**_L, "score": 1}]}),
    (SampleLabels, {"sample_id": "s1", "labels": [{**_L, "score": _Number(0.25)}]}),
    (SampleLabels, {"sample_id": "s1", "labels": [{**_L, "type": True}]}),
    (SampleLabels, {"sample_id": "s1", "labels": [{**_L, "type": LabelType.OBJECT_DETECTION}]}),
    (SampleLabels, {"sample_id": "s1", "labels": [{**_L, "annotated_by": AnnotatedBy.HUMAN}]}),
    (SampleLabels, {"sample_id": "s1", "labels": [{**_L, "name": _Text("cat")}]}),
    (SampleLabels, {"sample_id": "s1", "labels": (_L,)}),
    (SampleLabels, {"sample_id": "s1", "labels": [SampleLabel(name="instance")]}),
    (SampleLabels, {"sample_id": "s1", "labels": [{**_L, "property": {"colour": "red"}}]}),
    (SampleLabels, {"sample_id": "s1", "labels": [{**_L, "property": {"colour": float("nan")}}]}),
    (SampleLabels, {"sample_id": "s1", "labels": [{**_L, "property": {"colour": {1: "x"}}}]}),
    (
        SampleLabels,
        {
            "sample_id": "s1",
            "labels": [
                {
                    **_L,
                    "property": {
                        "@modelarts:shape": "bndbox",
                        "@modelarts:feature": [[0, 0], [1, float("inf")]],
                    },
                }
            ],
        },
    ),
    (SampleLabels, {"sample_id": "s1", "sample_usage": " train", "metadata": {"my_key": [object()]}}),
    (
        SampleLabels,
        {"sample_id": "s1", "metadata": {"@modelarts:size": [1, 2], "@modelarts:hard_coefficient": 0.5}},
    ),
    (SampleLabels, {"sample_id": b"s1"}),
    (SampleLabels, {"sample_id": "s1", "labels": [{**_L, "name": b"cat"}]}),
    (SampleLabels, {"sample_id": "s1", "labels": [{**_L, "score": Decimal("0.5")}]}),
    (SampleLabels, {"sample_id": "s1", "metadata": {"@modelarts:size": frozenset({1, 2})}}),
    (SampleLabels, {"sample_id": "s1", "metadata": {"@modelarts:import_origin": 1.0}}),
    (Sample, {"name": "a.jpg", "data": "aGk=", "sample_type": 0, "labels": [_L]}),
    (Sample, {"name": "a.jpg", "data": b"hi"}),
    (Sample, {"name": "a.jpg", "data": _Text("aGk=")}),
    (Sample, {"name": _Text("a.jpg")}),
    (Sample, {"name": "a\ud800.jpg"}),
    (Sample, {"name": "a.jpg", "encoding": "utf-8"}),
    (
        Sample,
        {
            "name": "a.jpg",
            "data_source": {"data_path": "obs://b/a.jpg", "source_info": {"user_password": "pw"}},
        },
    ),
]


@pytest.mark.parametrize(("model_cls", "raw"), _EDGE_CASES)
def test_parse_sample_edge_cases(model_cls: type[BaseModel], raw: Any) -> None:
    assert _check_outcome(model_cls, raw) in ("accepted", "refused")


def test_parse_sample_works_for_every_model_class() -> None:
    """Any model class can check user input: it accepts or names problems, never raises anything else."""
    import airflow_provider_modelarts.models as models

    classes = [
        value
        for value in vars(models).values()
        if isinstance(value, type) and issubclass(value, BaseModel) and value.__module__.startswith("airflow")
    ]
    assert len(classes) > 20
    for cls in classes:
        for raw in ({}, {"surprise": 1}):
            try:
                parse_sample(cls, raw, 0)
            except SampleValidationError as exc:
                assert exc.problems
    parsed = parse_sample(BatchResponse, {"success": True}, 0)
    assert parsed.success is True
    with pytest.raises(SampleValidationError, match="#0"):
        parse_sample(BatchResponse, {"success": True, "surprise": 1}, 0)
