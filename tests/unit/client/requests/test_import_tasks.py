"""client/_requests/import_tasks.py: each import task call is the documented method, path, query and body."""

from __future__ import annotations

import json

import pytest

from airflow_provider_modelarts.client._requests import import_tasks as imports
from airflow_provider_modelarts.client._requests.call import UnparsedReply
from airflow_provider_modelarts.errors import ResponseParseError
from airflow_provider_modelarts.models import SampleValidationError

IMPORTS = "/v2/p/datasets/d%2F1/import-tasks"


def test_create_is_a_post_sent_once_with_the_validated_body() -> None:
    call = imports.create_import_task("p", "d/1", {"import_path": "obs://b/x/", "import_type": "dir"})
    assert (call.operation, call.method, call.path, call.params) == (
        "create_import_task",
        "POST",
        IMPORTS,
        None,
    )
    assert json.loads(call.body or b"") == {"import_path": "obs://b/x/", "import_type": "dir"}
    assert call.repeatable is False  # a re-sent create could import twice
    assert call.parse(b'{"task_id": "t"}').task_id == "t"
    assert isinstance(call.parse(b"[]"), UnparsedReply)  # a write: created even when the answer is odd


def test_create_refuses_a_body_the_page_does_not_allow_before_sending() -> None:
    with pytest.raises((ValueError, SampleValidationError)):
        imports.create_import_task("p", "d", {"import_type": "dir"})


def test_list_sends_only_limit_and_offset_within_the_page_range() -> None:
    call = imports.list_import_tasks("p", "d/1", limit=100, offset=2)
    assert (call.method, call.path, call.params) == ("GET", IMPORTS, (("limit", "100"), ("offset", "2")))
    assert call.repeatable is True
    assert imports.list_import_tasks("p", "d/1").params is None
    for limit in (0, 101):
        with pytest.raises(ValueError, match="limit"):
            imports.list_import_tasks("p", "d", limit=limit)
    with pytest.raises(ResponseParseError):
        call.parse(b"<html>login</html>")  # a read: an answer that is not JSON is an error


def test_details_put_the_task_id_in_the_path() -> None:
    call = imports.get_import_task("p", "d/1", "a/b")
    assert (call.operation, call.method, call.path) == ("get_import_task", "GET", IMPORTS + "/a%2Fb")
    assert call.parse(b'{"status": "RUNNING"}').status == "RUNNING"
