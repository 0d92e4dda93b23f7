"""Airflow-facing behaviour of the operators that needs no service: arguments, templating, imports."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException

from airflow_provider_modelarts.operators.acceptance import AcceptanceOperator
from airflow_provider_modelarts.operators.base import ModelArtsBaseOperator
from airflow_provider_modelarts.operators.bulk import as_sample_list
from airflow_provider_modelarts.operators.labels import UpdateLabelsOperator
from airflow_provider_modelarts.operators.samples import AddSamplesOperator
from airflow_provider_modelarts.sensors.acceptance import AcceptanceSensor
from unit.hooks._helpers import aksk_conn, set_conn


def test_operator_modules_import_without_client_or_models() -> None:
    """DAG parsing imports operator modules constantly; the client and models load only in execute."""
    modules = [
        "airflow_provider_modelarts.client",
        "airflow_provider_modelarts._models._base",  # the pydantic models: ``models`` loads them on first use
        "airflow_provider_modelarts.hooks.modelarts",
        "airflow_provider_modelarts.auth",
    ]
    code = (
        "import sys, airflow.sdk\n"
        "import airflow_provider_modelarts.operators.samples, airflow_provider_modelarts.operators.labels\n"
        "import airflow_provider_modelarts.operators.acceptance, airflow_provider_modelarts.links\n"
        f"print([m for m in {modules!r} if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "exactly one of samples= or manifest= or files="),
        ({"samples": [], "manifest": "m.json"}, "given: samples=, manifest="),
        ({"samples": [], "batch_size": 0}, "batch_size must be an integer at least 1"),
        ({"samples": [], "max_concurrency": 21}, "max_concurrency must be an integer from 1 to 20"),
        ({"samples": [], "on_invalid": "ignore"}, "on_invalid must be 'fail' or 'skip'"),
        ({"samples": [], "on_failure": "raise"}, "on_failure must be 'fail' or 'warn'"),
    ],
)
def test_add_samples_rejects_bad_arguments_at_parse_time(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        AddSamplesOperator(task_id="t", dataset_id="d", **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "exactly one of action=, start_acceptance=True or min_pass_rate="),
        ({"action": "pass_all", "min_pass_rate": 0.9}, "given: action, min_pass_rate"),
        ({"start_acceptance": True}, "needs sampling_rate"),
        ({"start_acceptance": True, "sampling_rate": 0.2, "sampling_num": 3}, "not both"),
        ({"action": 0, "sampling_rate": 0.2}, "only apply with start_acceptance=True"),
        ({"min_pass_rate": 95}, "between 0 and 1"),
    ],
)
def test_acceptance_rejects_bad_mode_combinations(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        AcceptanceOperator(task_id="t", dataset_id="d", workforce_task_id="w", **kwargs)


def test_templates_render_ids_payloads_and_numbers() -> None:
    base64_with_newline = "QUJD\n"
    op = AddSamplesOperator(
        task_id="add",
        dataset_id="{{ params.dataset }}",
        samples=[
            {
                "name": "{{ ds }}-cat.jpg",
                "data": base64_with_newline,
                "labels": [{"name": "{{ params.label }}"}],
            }
        ],
        label_format={"label_type": "{{ params.label_type }}"},
    )
    context: Any = {"params": {"dataset": "ds-7", "label": "cat", "label_type": "1"}, "ds": "2024-05-01"}
    op.render_template_fields(context)
    assert op.dataset_id == "ds-7"
    assert op.samples[0]["name"] == "2024-05-01-cat.jpg"
    assert op.samples[0]["labels"][0]["name"] == "cat"
    # Strings without Jinja syntax are not run through Jinja (which would also drop the trailing newline).
    assert op.samples[0]["data"] is base64_with_newline
    assert op.label_format == {"label_type": "1"}
    assert AddSamplesOperator.template_fields_renderers["samples"] == "json"

    acc = AcceptanceOperator(
        task_id="acc",
        dataset_id="d",
        workforce_task_id="{{ params.task }}",
        min_pass_rate="{{ params.rate }}",
        checking_task_id="{{ ti_checking }}",
    )
    acc.render_template_fields({"params": {"task": "task-1", "rate": "0.9"}, "ti_checking": "chk-1"})  # type: ignore[arg-type]
    assert (acc.workforce_task_id, acc.min_pass_rate, acc.checking_task_id) == ("task-1", "0.9", "chk-1")

    upd = UpdateLabelsOperator(
        task_id="u", dataset_id="d", manifest="/data/{{ ds }}/labels.jsonl", worker_id="{{ params.w }}"
    )
    upd.render_template_fields({"ds": "2024-05-01", "params": {"w": "worker-9"}})  # type: ignore[arg-type]
    assert upd.manifest == "/data/2024-05-01/labels.jsonl"
    assert upd.worker_id == "worker-9"


def test_absurdly_deep_samples_do_not_break_dag_parsing() -> None:
    """Airflow walks templated arguments recursively; past the recursion limit the value is hidden from it."""
    deep: Any = "leaf"
    for _ in range(5_000):
        deep = [deep]
    op = AddSamplesOperator(task_id="deep", dataset_id="d", samples=[{"name": "a.jpg", "metadata": deep}])
    op.render_template_fields({})  # type: ignore[arg-type]
    assert as_sample_list(op.samples)[0]["name"] == "a.jpg"  # execute() gets the samples back, unchanged
    shallow = [{"name": "b.jpg", "labels": [{"name": "cat"}]}]
    assert AddSamplesOperator(task_id="ok", dataset_id="d", samples=shallow).samples is shallow


def test_samples_rendered_to_text_are_parsed_back() -> None:
    as_json = json.dumps([{"name": "a.jpg"}])
    assert as_sample_list(as_json) == [{"name": "a.jpg"}]
    as_python_repr = str([{"name": "a.jpg", "sample_type": 0}])  # what a non-native template renders
    assert as_sample_list(as_python_repr) == [{"name": "a.jpg", "sample_type": 0}]
    with pytest.raises(AirflowFailException, match="render_template_as_native_obj"):
        as_sample_list("not a list {")
    with pytest.raises(AirflowFailException, match="must be a list of samples, got dict"):
        as_sample_list({"name": "a.jpg"})


@pytest.mark.parametrize(
    "make",
    [
        lambda retry: AddSamplesOperator(task_id="a", dataset_id="d", samples=[], client_retry=retry),
        lambda retry: UpdateLabelsOperator(task_id="u", dataset_id="d", samples=[], client_retry=retry),
        lambda retry: AcceptanceOperator(
            task_id="c", dataset_id="d", workforce_task_id="t", action="pass_all", client_retry=retry
        ),
        lambda retry: AcceptanceSensor(
            task_id="s", dataset_id="d", workforce_task_id="t", client_retry=retry
        ),
    ],
)
def test_client_retry_reaches_the_clients_the_operator_builds(
    make: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``client_retry`` tunes HTTP retries; Airflow's own task ``retry_policy`` stays untouched."""
    from airflow_provider_modelarts.client import RetryPolicy

    set_conn(monkeypatch, aksk_conn())
    policy = RetryPolicy(max_attempts=2, deadline=5.0)
    op = make(policy)
    # Airflow 3.3's BaseOperator has a task-level ``retry_policy`` (None unless set); 3.1 has none at all.
    assert getattr(op, "retry_policy", None) is None
    assert isinstance(op, ModelArtsBaseOperator)
    assert op.hook.retry is policy
    assert op.hook is op.hook  # built once per task try


def test_connection_arguments_come_from_default_args_like_any_other() -> None:
    """The base declares modelarts_conn_id / project_id / client_retry once; default_args still fill them."""
    from airflow.sdk import DAG

    with DAG(
        "d", schedule=None, default_args={"modelarts_conn_id": "other", "project_id": "p-9", "batch_size": 7}
    ):
        add = AddSamplesOperator(task_id="a", dataset_id="d", samples=[])
        sensor = AcceptanceSensor(task_id="s", dataset_id="d", workforce_task_id="t")
    assert (add.modelarts_conn_id, add.project_id, add.bulk_options.batch_size) == ("other", "p-9", 7)
    assert (sensor.modelarts_conn_id, sensor.project_id) == ("other", "p-9")
    assert add.hook.modelarts_conn_id == "other"


def test_invalid_samples_are_reported_before_the_connection_is_needed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_MODELARTS_DEFAULT", raising=False)
    op = AddSamplesOperator(task_id="a", dataset_id="d", samples=[{"name": "a.jpg", "sample_type": "x"}])
    with pytest.raises(AirflowFailException, match=r"1 of 1 samples are invalid, so nothing was sent"):
        op.execute(context={})  # type: ignore[arg-type]
