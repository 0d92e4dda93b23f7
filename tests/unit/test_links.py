"""Operator extra links: the console URLs resolved during execute, else built from the connection."""

from __future__ import annotations

import json

import pytest

from airflow_provider_modelarts.links import ModelArtsDatasetLink, ModelArtsTeamTaskLink
from airflow_provider_modelarts.operators.acceptance import AcceptanceOperator
from airflow_provider_modelarts.operators.labels import UpdateLabelsOperator
from airflow_provider_modelarts.operators.samples import AddSamplesOperator

SK = "links-test-secret-4b9e21"


@pytest.fixture
def region_conn(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_MODELARTS_DEFAULT",
        json.dumps(
            {
                "conn_type": "modelarts",
                "login": "LINKSTESTAK0000001",
                "password": SK,
                "extra": {"project_id": "proj-1", "region": "ap-southeast-3"},
            }
        ),
    )


def test_links_use_the_urls_resolved_during_execute() -> None:
    op = UpdateLabelsOperator(task_id="u", dataset_id="d", samples=[], workforce_task_id="w")
    op.console_links = {
        "dataset": "https://console.example/ds",
        "workforce_task": "https://console.example/w",
    }
    assert ModelArtsDatasetLink().get_link(op, ti_key=None) == "https://console.example/ds"  # type: ignore[arg-type]
    assert ModelArtsTeamTaskLink().get_link(op, ti_key=None) == "https://console.example/w"  # type: ignore[arg-type]
    assert {link.name for link in op.operator_extra_links} == {"ModelArts Dataset", "ModelArts Team Task"}


@pytest.mark.usefixtures("region_conn")
def test_links_fall_back_to_the_connection_region() -> None:
    op = AcceptanceOperator(task_id="a", dataset_id="ds-1", workforce_task_id="task-1", action="pass_all")
    url = ModelArtsTeamTaskLink().get_link(op, ti_key=None)  # type: ignore[arg-type]
    assert "region=ap-southeast-3" in url
    assert "ds-1" in url and "task-1" in url
    assert SK not in url
    unrendered = AddSamplesOperator(task_id="x", dataset_id="{{ params.ds }}", samples=[])
    assert ModelArtsDatasetLink().get_link(unrendered, ti_key=None) == ""  # type: ignore[arg-type]


def test_links_are_empty_without_a_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_MODELARTS_DEFAULT", raising=False)
    op = AddSamplesOperator(task_id="x", dataset_id="ds-1", samples=[], modelarts_conn_id="missing_conn")
    assert ModelArtsDatasetLink().get_link(op, ti_key=None) == ""  # type: ignore[arg-type]


def test_links_open_the_console_the_connection_names(monkeypatch: pytest.MonkeyPatch) -> None:
    """A connection to the emulator or a private cloud names its console: both ways of building a link (while
    the task runs, and afterwards from the connection) open that console, not the public one."""
    from airflow_provider_modelarts.hooks.modelarts import ModelArtsHook
    from airflow_provider_modelarts.links import resolve_console_links

    console = "http://127.0.0.1:8080/_emulator/console"
    monkeypatch.setenv(
        "AIRFLOW_CONN_MODELARTS_DEFAULT",
        json.dumps(
            {
                "conn_type": "modelarts",
                "login": "LINKSTESTAK0000001",
                "password": SK,
                "extra": {"project_id": "proj-1", "region": "cn-north-4", "console_url": console},
            }
        ),
    )
    op = AcceptanceOperator(task_id="a", dataset_id="ds-1", workforce_task_id="task-1", action="pass_all")
    after_the_fact = ModelArtsTeamTaskLink().get_link(op, ti_key=None)  # type: ignore[arg-type]
    during_execute = resolve_console_links(
        ModelArtsHook.for_connection("modelarts_default"), "ds-1", "task-1"
    )
    expected = f"{console}/modelarts/?region=cn-north-4#/dataLabel?datasetId=ds-1&workforceTaskId=task-1"
    assert after_the_fact == during_execute["workforce_task"] == expected
    assert during_execute["dataset"] == f"{console}/modelarts/?region=cn-north-4#/dataLabel?datasetId=ds-1"
    assert SK not in json.dumps(during_execute)
