"""client/_requests/call.py: path encoding, lenient reply parsing, write replies kept raw, input coercion."""

from __future__ import annotations

import json

import pytest

from airflow_provider_modelarts._models._parse import SerializedSample
from airflow_provider_modelarts.client._requests import call as call_module
from airflow_provider_modelarts.client._requests.call import (
    UnparsedReply,
    check_page,
    coerce_samples,
    model_parser,
    parse_json_object,
    path_segment,
    query_value,
    workforce_task_path,
)
from airflow_provider_modelarts.errors import ResponseParseError
from airflow_provider_modelarts.models import (
    BatchResponse,
    Sample,
    SampleValidationError,
    TaskStatus,
    UploadSamplesResponse,
    WorkforceTask,
)


def test_ids_cannot_change_the_url() -> None:
    assert path_segment("dataset_id", "a/b ?#") == "a%2Fb%20%3F%23"
    assert workforce_task_path("p", "d", "t") == "/v2/p/datasets/d/workforce-tasks/t"
    for bad in ("", " ", ".", ".."):
        with pytest.raises(ValueError, match="task_id"):
            path_segment("task_id", bad)
    with pytest.raises(TypeError, match="task_id"):
        path_segment("task_id", 7)  # type: ignore[arg-type]


def test_a_read_reply_is_parsed_leniently_and_an_empty_body_is_an_empty_model() -> None:
    parse = model_parser(WorkforceTask)
    task = parse(b'{"task_id": "t", "status": 4, "extra": [1]}')
    assert task.status is TaskStatus.REJECTED
    assert task.model_dump()["extra"] == [1]
    assert parse(b"  ").task_id is None


def test_a_read_reply_that_is_not_the_documented_json_raises_with_the_raw_body_kept() -> None:
    with pytest.raises(ResponseParseError, match="not a valid WorkforceTask") as info:
        model_parser(WorkforceTask)(b"<html>login</html>")
    assert info.value.raw == b"<html>login</html>"
    assert "login" not in str(info.value)  # the body may echo data: it stays out of the message
    with pytest.raises(ResponseParseError, match="not JSON"):
        parse_json_object(b"{")
    with pytest.raises(ResponseParseError, match="not an object"):
        parse_json_object(b"[1]")


def test_a_write_reply_that_does_not_fit_is_an_applied_reply_with_the_raw_answer() -> None:
    parse = model_parser(UploadSamplesResponse, write=True)
    reply = parse(b'["unexpected"]')
    assert isinstance(reply, UploadSamplesResponse)
    assert isinstance(reply, UnparsedReply)
    assert (reply.success, reply.results) == (None, None)
    assert reply.raw == ["unexpected"]
    assert reply.parse_problems
    assert reply.model_dump(exclude_none=True) == {}  # raw and problems are not part of the documented shape
    text = model_parser(BatchResponse, write=True)(b"\xffnot json")
    assert isinstance(text, UnparsedReply) and isinstance(text.raw, str)
    fits = parse(b'{"success": true}')
    assert not isinstance(fits, UnparsedReply) and fits.success is True


def test_samples_are_validated_together_and_model_instances_pass_through() -> None:
    sample = Sample(name="a.txt", data="aGk=")
    assert coerce_samples(Sample, [sample])[0] is sample
    assert coerce_samples(Sample, []) == []
    with pytest.raises(SampleValidationError) as info:
        coerce_samples(Sample, [{"name": "x.jpg", "dta": "x"}, sample, {"name": "y.jpg", "sample_type": 42}])
    assert {p.index for p in info.value.problems} == {0, 2}
    with pytest.raises(TypeError, match="single item"):
        coerce_samples(Sample, {"name": "x"})  # type: ignore[arg-type]


def test_query_values_and_paging_arguments() -> None:
    assert [query_value(v) for v in (True, False, TaskStatus.ACCEPTED, 3)] == ["true", "false", "3", "3"]
    check_page(1000, 0, 1000)
    for limit, offset in ((0, 0), (1001, 0), (True, 0), (10, -1), (10, 1.5)):
        with pytest.raises(ValueError):
            check_page(limit, offset, 1000)  # type: ignore[arg-type]


def test_coerce_model_refuses_what_json_cannot_carry_naming_the_field() -> None:
    """A lone surrogate in a label format separator cannot be sent as UTF-8: refused before any request."""
    from pydantic import ValidationError

    from airflow_provider_modelarts.client._requests.call import coerce_model
    from airflow_provider_modelarts.models import LabelFormat

    with pytest.raises(ValidationError, match="text_label_separator") as info:
        coerce_model(LabelFormat, {"text_label_separator": "\ud800"}, "label_format")
    assert "surrogate" in str(info.value)
    assert (
        coerce_model(LabelFormat, {"text_label_separator": "|"}, "label_format").text_label_separator == "|"
    )


def test_written_samples_take_one_call_of_the_models_and_keep_their_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[int] = []
    real = call_module.parse_samples

    def parse_samples(model: object, items: list[tuple[int, object]]) -> object:
        calls.append(len(items))
        return real(model, items)  # type: ignore[arg-type]

    monkeypatch.setattr(call_module, "parse_samples", parse_samples)
    made = Sample(name="b.jpg")
    coerced = coerce_samples(Sample, [{"name": "a.jpg"}, made, {"name": "c.jpg", "sample_type": 0}])
    assert calls == [2]  # the two written samples, together
    first, second, third = coerced
    assert second is made  # valid already: passed through
    assert isinstance(first, SerializedSample) and isinstance(third, SerializedSample)
    assert json.loads(first.json) == {"name": "a.jpg"}
    assert json.loads(third.json) == {"name": "c.jpg", "sample_type": 0}


def test_a_batch_serialised_already_takes_no_call_of_the_models(monkeypatch: pytest.MonkeyPatch) -> None:
    """A bulk run's batches are :class:`SerializedSample` only: the client passes them on untouched."""
    calls: list[int] = []
    monkeypatch.setattr(call_module, "parse_samples", lambda model, items: calls.append(len(items)))
    batch = [SerializedSample(b'{"name":"a.jpg"}', "a.jpg"), SerializedSample(b'{"name":"b.jpg"}', "b.jpg")]
    coerced = coerce_samples(Sample, iter(batch))
    assert calls == []
    assert coerced == batch and all(got is sent for got, sent in zip(coerced, batch, strict=True))
