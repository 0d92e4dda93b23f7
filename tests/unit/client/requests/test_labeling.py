"""client/_requests/labeling.py: the sample, acceptance and read builders (method, path, query, body, reply
parser)."""

from __future__ import annotations

import json

import pytest

from airflow_provider_modelarts.client._requests import labeling as req
from airflow_provider_modelarts.client._requests.call import UnparsedReply
from airflow_provider_modelarts.errors import ResponseParseError
from airflow_provider_modelarts.models import AcceptanceAction, Sample

DS = "/v2/p/datasets/d"
TASK = f"{DS}/workforce-tasks/t"


def test_write_calls_report_an_odd_answer_as_applied() -> None:
    writes = [
        req.add_samples("p", "d", [Sample(name="a.txt", data="aGk=")]),
        req.update_samples("p", "d", [{"sample_id": "s1", "labels": []}]),
        req.update_workforce_task_samples("p", "d", "t", [{"sample_id": "s1", "labels": []}]),
        req.update_acceptance_status("p", "d", "t", "pass_all"),
        req.start_acceptance("p", "d", "t", sampling_rate=0.5),
    ]
    for call in writes:
        reply = call.parse(b"<html>ok</html>")
        assert isinstance(reply, UnparsedReply), call.operation
        assert reply.raw == "<html>ok</html>"


def test_read_calls_refuse_an_answer_they_cannot_read() -> None:
    reads = [
        req.get_workforce_task("p", "d", "t"),
        req.get_acceptance_report("p", "d", "t"),
        req.list_samples("p", "d"),
        req.list_workforce_task_samples("p", "d", "t"),
        req.list_datasets("p"),
    ]
    for call in reads:
        with pytest.raises(ResponseParseError):
            call.parse(b"<html>login</html>")


def test_builders_send_the_documented_shapes() -> None:
    status = req.update_acceptance_status(
        "p", "d", "t", AcceptanceAction.REJECT_ALL, overwrite_last_result=True
    )
    assert (status.method, status.path, status.params) == (
        "PUT",
        f"{TASK}/acceptance/status",
        (("locale", "en-us"),),
    )
    assert json.loads(status.body or b"") == {"action": 1, "overwrite_last_result": True}
    start = req.start_acceptance("p", "d", "t", sampling_num=3)
    assert (start.method, start.path, json.loads(start.body or b"")) == (
        "POST",
        f"{TASK}/acceptance",
        {"sampling_num": 3},
    )
    report = req.get_acceptance_report("p", "d", "t", "chk")
    assert (report.path, report.params) == (f"{TASK}/acceptance/report", (("checking_task_id", "chk"),))
    flags = req.get_workforce_task("p", "d", "t", sample_stats=True, workforce_stats=False)
    assert flags.params == (("sample_stats", "true"), ("workforce_stats", "false"))


def test_arguments_are_checked_before_a_call_exists() -> None:
    with pytest.raises(ValueError, match="locale"):
        req.update_acceptance_status("p", "d", "t", "pass_all", locale="")
    with pytest.raises(TypeError, match="final_annotation"):
        req.add_samples("p", "d", [], final_annotation="yes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="limit"):
        req.list_datasets("p", limit=0)
    with pytest.raises(TypeError, match="unknown filter"):
        req.list_samples("p", "d", colour="red")


def test_raw_calls_serialise_once_and_keep_the_path_as_given() -> None:
    call = req.raw_call("post", "_emulator/reset", params={"a": True, "b": None}, body={"x": [1, "é"]})
    assert (call.method, call.path, call.params) == ("POST", "/_emulator/reset", (("a", "true"),))
    assert call.body == '{"x":[1,"é"]}'.encode()
    assert req.raw_call("GET", "/x", params=None, body=b"raw").body == b"raw"
    with pytest.raises(ValueError, match="method"):
        req.raw_call("GE T", "/x", params=None, body=None)


@pytest.mark.parametrize("with_fields", [False, True])
def test_serialized_samples_make_the_same_body_as_models(with_fields: bool) -> None:
    """A bulk run hands the builders samples it serialised once; the body is the one models would give."""
    from airflow_provider_modelarts._models._parse import serialize_sample
    from airflow_provider_modelarts.models import SampleLabels, parse_sample

    raw = [{"name": "a.jpg", "data": "AAAA", "labels": [{"name": "cat"}]}, {"name": "b.jpg", "data": "AAAA"}]
    models = [parse_sample(Sample, item, index) for index, item in enumerate(raw)]
    options: dict[str, object] = {"final_annotation": False} if with_fields else {}
    from_models = req.add_samples("p", "d", models, **options).body or b""  # type: ignore[arg-type]
    mixed = [serialize_sample(models[0], "a.jpg"), models[1]]
    from_serialized = req.add_samples("p", "d", mixed, **options).body or b""  # type: ignore[arg-type]
    assert json.loads(from_serialized) == json.loads(from_models)

    label = parse_sample(SampleLabels, {"sample_id": "s1", "labels": [{"name": "dog"}]}, 0)
    update = req.update_samples("p", "d", [serialize_sample(label)], email="a@b.c").body or b""
    assert json.loads(update) == {
        "email": "a@b.c",
        "samples": [{"sample_id": "s1", "labels": [{"name": "dog"}]}],
    }
