"""client/_requests/team_tasks.py: each team labeling task call is the documented method, path, query and
body."""

from __future__ import annotations

import json

import pytest

from airflow_provider_modelarts.client._requests import team_tasks as team
from airflow_provider_modelarts.client._requests.call import UnparsedReply
from airflow_provider_modelarts.errors import ResponseParseError
from airflow_provider_modelarts.models import CreateWorkforceTaskRequest

TASKS = "/v2/p/datasets/d%2F1/workforce-tasks"


def test_create_is_a_post_to_the_dataset_tasks_with_the_validated_body() -> None:
    call = team.create_workforce_task("p", "d/1", {"task_name": "t", "repetition": 2})
    assert (call.operation, call.method, call.path, call.params) == (
        "create_workforce_task",
        "POST",
        TASKS,
        None,
    )
    assert json.loads(call.body or b"") == {"task_name": "t", "repetition": 2}
    model = CreateWorkforceTaskRequest(task_name="m")
    assert json.loads(team.create_workforce_task("p", "d", model).body or b"") == {"task_name": "m"}
    assert call.parse(b'{"task_id": "x"}').task_id == "x"
    assert isinstance(call.parse(b"[]"), UnparsedReply)  # a write: applied even when the answer is odd


def test_list_sends_only_what_is_given() -> None:
    call = team.list_workforce_tasks("p", "d/1", limit=50, offset=3, order="desc")
    assert (call.method, call.path) == ("GET", TASKS)
    assert call.params == (("limit", "50"), ("offset", "3"), ("order", "desc"))
    assert team.list_workforce_tasks("p", "d/1").params is None
    with pytest.raises(ValueError, match="limit"):
        team.list_workforce_tasks("p", "d", limit=team.MAX_TASK_PAGE_SIZE + 1)
    with pytest.raises(ResponseParseError):  # a read: nothing changed, so an unreadable answer is an error
        call.parse(b"<html>")


def test_start_update_delete_address_one_task() -> None:
    start = team.start_workforce_task("p", "d", "t 1")
    assert (start.method, start.path, start.body) == ("POST", "/v2/p/datasets/d/workforce-tasks/t%201", b"{}")
    update = team.update_workforce_task("p", "d", "t", {"description": "nightly batch"})
    assert (update.method, json.loads(update.body or b"")) == ("PUT", {"description": "nightly batch"})
    delete = team.delete_workforce_task("p", "d", "t")
    assert (delete.method, delete.body) == ("DELETE", None)
    assert delete.parse(b"").model_dump() == {}  # 204 No Content


def test_bodies_are_checked_strictly_before_a_call_exists() -> None:
    with pytest.raises(ValueError, match="did you mean 'workforces_config'"):
        team.start_workforce_task("p", "d", "t", {"workforce_config": {}})
    with pytest.raises(ValueError, match="task_name"):
        team.update_workforce_task("p", "d", "t", {"task_name": "a b"})


def test_create_replies_without_a_task_id_are_kept_not_refused() -> None:
    # Table 6 of the create page marks no field mandatory: a 2xx reply is a created task, whatever it says.
    parse = team.create_workforce_task("p", "d", {}).parse
    for body in (b"", b"{}", b'{"task_id": null}'):
        reply = parse(body)
        assert reply.task_id is None and not isinstance(reply, UnparsedReply)
    for body in (b"OK", b"[]"):
        reply = parse(body)
        assert isinstance(reply, UnparsedReply) and reply.task_id is None
    assert parse(b'{"task_id": ["x"]}').task_id == ["x"]  # kept as sent; the hook uses only a string id
    assert parse(b'{"task_id": "t", "request_id": "r"}').model_extra == {"request_id": "r"}
