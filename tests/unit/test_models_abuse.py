"""Hostile payloads against the models and the shared request builders (what both clients send).

Every input must end one of two ways: a clear validation error raised before anything is serialised
(``SampleValidationError`` naming the sample and field, or a ``ValueError`` / ``TypeError`` with a message),
or a request body that a strict service accepts (valid UTF-8 JSON, no NaN, every sample passing the models in
strict mode). Anything else -- another exception type, an error only at serialisation time, a body that
silently differs from the input (NaN sent as ``null``) -- is a bug. The hypothesis deadline catches hangs.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from abuse_strategies import (
    ANY_VALUE,
    DEEP,
    HOSTILE,
    HUGE_TEXT,
    SURROGATES,
    UNICODE,
    InvalidBody,
    check_body,
    hostile_label_update,
    hostile_sample,
    must_be_rejected,
    nested,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from airflow_provider_modelarts.client._requests import labeling as req
from airflow_provider_modelarts.models import (
    AcceptanceAction,
    AcceptanceReport,
    LabelFormat,
    ListSamplesResponse,
    Sample,
    SampleLabels,
    SampleType,
    SampleValidationError,
    UploadSamplesResponse,
    WorkforceTask,
    parse_response,
    parse_sample,
)

ABUSE = settings(
    max_examples=150,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _assert_clear(exc: SampleValidationError, count: int = 1) -> None:
    assert exc.problems, "a SampleValidationError must list its problems"
    text = str(exc)
    for problem in exc.problems:
        assert 0 <= problem.index < count
        assert problem.message.strip(), f"empty message for {problem}"
        assert f"sample #{problem.index}" in text or "more" in text
    assert len(text) < 20_000, "the message must stay readable (no dumped payloads)"


def _build(kind: str, items: list[Any]) -> bytes:
    if kind == "add":
        return req.add_samples("project-1", "dataset-1", items).body or b""
    return req.update_samples("project-1", "dataset-1", items).body or b""


def _outcome(kind: str, raw: Any) -> None:
    """Parse one raw sample the way the operators do, then build the request the way the clients do."""
    model_cls = Sample if kind == "add" else SampleLabels
    try:
        model = parse_sample(model_cls, raw, 0)
    except SampleValidationError as exc:
        _assert_clear(exc)
        return
    reason = must_be_rejected(raw)
    assert reason is None, f"accepted a sample holding {reason}: it cannot be sent as JSON unchanged"
    try:
        body = _build(kind, [model])
    except Exception as exc:  # accepted by validation, so building the request must work
        pytest.fail(f"validation accepted the sample but building the request raised {exc!r}")
    try:
        check_body(kind, body)
    except InvalidBody as exc:
        pytest.fail(f"validation accepted the sample but the request is invalid: {exc}")


@ABUSE
@given(raw=hostile_sample())
def test_hostile_samples_end_in_a_clear_error_or_a_valid_upload(raw: Any) -> None:
    _outcome("add", raw)


@ABUSE
@given(raw=hostile_label_update())
def test_hostile_label_updates_end_in_a_clear_error_or_a_valid_update(raw: Any) -> None:
    _outcome("update", raw)


@ABUSE
@given(raw=ANY_VALUE)
def test_arbitrary_values_as_samples(raw: Any) -> None:
    _outcome("add", raw)
    _outcome("update", raw)


@settings(ABUSE, max_examples=60)
@given(items=st.lists(st.one_of(hostile_sample(), st.just({"name": "ok.jpg"})), min_size=1, max_size=6))
def test_batches_report_every_bad_sample_before_building_a_body(items: list[Any]) -> None:
    try:
        body = _build("add", items)
    except SampleValidationError as exc:
        _assert_clear(exc, len(items))
        return
    except (TypeError, ValueError) as exc:
        assert str(exc).strip()
        assert not isinstance(exc, ValidationError) or "samples" in str(exc)
        return
    for item in items:
        assert must_be_rejected(item) is None, f"a batch with {must_be_rejected(item)} was accepted"
    assert len(check_body("add", body)["samples"]) == len(items)


# -- specific hostile values, each of which must be refused (not sent, not crashed on) -------------------


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("labels", 0, "score"), math.nan),
        (("labels", 0, "score"), math.inf),
        (("labels", 0, "property", "@modelarts:feature"), [[math.nan, 1], [2, 3]]),
        (("labels", 0, "property", "@modelarts:feature"), [[1, 2], [math.inf, 3]]),
        (("labels", 0, "property", "color"), math.nan),
        (("metadata", "custom"), -math.inf),
        (("labels", 0, "name"), "\ud800"),
        (("name",), "cat\udfff.jpg"),
        (("labels", 0, "property", "note"), "\udc80"),
    ],
    ids=[
        "nan-score",
        "inf-score",
        "nan-coordinate",
        "inf-coordinate",
        "nan-custom-attribute",
        "inf-metadata",
        "surrogate-label-name",
        "surrogate-name",
        "surrogate-custom-attribute",
    ],
)
def test_values_json_cannot_carry_are_refused_up_front(path: tuple[Any, ...], value: Any) -> None:
    from abuse_strategies import put

    raw = put(
        {"name": "cat.jpg", "labels": [{"name": "cat", "type": 0, "property": {}}], "metadata": {}},
        path,
        value,
    )
    with pytest.raises(SampleValidationError) as info:
        parse_sample(Sample, raw, 4)
    _assert_clear(info.value, 5)
    assert "sample #4 ('cat" in str(info.value) or "sample #4" in str(info.value)


@pytest.mark.parametrize("depth", [200, 1_000, 5_000])
@pytest.mark.parametrize("where", ["label-attribute", "metadata"])
def test_deep_nesting_is_refused_or_sent_intact(depth: int, where: str) -> None:
    value = nested(depth)
    raw: dict[str, Any] = {"name": "deep.jpg", "labels": [{"name": "cat", "type": 0}]}
    if where == "metadata":
        raw["metadata"] = {"custom": value}
    else:
        raw["labels"][0]["property"] = {"custom": value}
    _outcome("add", raw)


def test_huge_values_are_refused_quickly() -> None:
    with pytest.raises(SampleValidationError, match=r"name: must be at most 1024 characters"):
        parse_sample(Sample, {"name": "a" * 1_000_000}, 0)
    too_big = "A" * (12_582_912 * 4 // 3 + 8)
    with pytest.raises(SampleValidationError, match=r"data: sample is .* bytes; the service accepts at most"):
        parse_sample(Sample, {"name": "big.jpg", "data": too_big}, 0)


@settings(ABUSE, max_examples=100)
@given(name=st.one_of(UNICODE, HUGE_TEXT, SURROGATES))
def test_unicode_names_are_kept_exactly_or_refused_naming_the_field(name: str) -> None:
    try:
        model = parse_sample(Sample, {"name": name}, 0)
    except SampleValidationError as exc:
        _assert_clear(exc)
        assert any(p.field == "name" for p in exc.problems)
        return
    body = check_body("add", _build("add", [model]))
    assert body["samples"][0]["name"] == name


@ABUSE
@given(value=st.one_of(HOSTILE, st.sampled_from(["pass_all", "PASS-ALL", " 2 ", "5", "six", "", "pass all"])))
def test_acceptance_action_parse_returns_a_member_or_a_clear_value_error(value: Any) -> None:
    try:
        action = AcceptanceAction.parse(value)
    except ValueError as exc:
        assert "pass_all" in str(exc).lower() or "PASS_ALL" in str(exc), str(exc)
        return
    assert isinstance(action, AcceptanceAction)


@ABUSE
@given(value=HOSTILE)
def test_sample_type_parse_returns_a_member_or_a_clear_value_error(value: Any) -> None:
    try:
        kind = SampleType.parse(value)
    except ValueError as exc:
        assert str(exc).strip()
        return
    assert isinstance(kind, SampleType)


@ABUSE
@given(
    raw=st.one_of(
        st.dictionaries(
            st.sampled_from(["label_type", "text_label_separator", "text_sample_separator", "other"]),
            HOSTILE,
            max_size=3,
        ),
        HOSTILE,
    )
)
def test_label_format_is_validated_or_refused(raw: Any) -> None:
    try:
        model = req.coerce_model(LabelFormat, raw, "label_format")
    except (ValidationError, TypeError) as exc:
        assert str(exc).strip()
        return
    assert must_be_rejected(raw) is None
    body = req.add_samples("p", "d", [{"name": "a.txt"}], label_format=model).body or b""
    check_body("add", body)


# -- service replies: whatever comes back, the parse ends in the model or a ValidationError -------------

RESPONSE_MODELS = [WorkforceTask, AcceptanceReport, ListSamplesResponse, UploadSamplesResponse]


@ABUSE
@given(
    model=st.sampled_from(RESPONSE_MODELS),
    data=st.one_of(
        st.dictionaries(
            st.sampled_from(
                [
                    "status",
                    "pass_rate",
                    "samples",
                    "sample_count",
                    "results",
                    "success",
                    "sample_stats",
                    "task_id",
                    "x",
                ]
            ),
            ANY_VALUE,
            max_size=5,
        ),
        st.binary(max_size=64),
        st.builds(lambda d: ('{"samples": ' * d + "1" + "}" * d).encode(), st.sampled_from([10, 500, 3000])),
    ),
)
def test_hostile_service_replies_parse_or_raise_validation_error(model: type, data: Any) -> None:
    try:
        parse_response(model, data)
    except ValidationError as exc:
        assert str(exc).strip()


@settings(ABUSE, max_examples=40)
@given(raw=DEEP)
def test_deeply_nested_input_never_overflows_the_stack(raw: Any) -> None:
    _outcome("add", raw)
    _outcome("add", {"name": "x.jpg", "labels": raw})
