"""AcceptanceSensor without a service: resuming from a trigger event, parse-time checks, import cost."""

from __future__ import annotations

import ast
import subprocess
import sys
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import (
    AirflowException,
    AirflowFailException,
    AirflowSensorTimeout,
    AirflowSkipException,
)

from airflow_provider_modelarts.sensors.acceptance import AcceptanceSensor


def sensor(**kwargs: Any) -> AcceptanceSensor:
    return AcceptanceSensor(
        task_id="wait",
        dataset_id="d1",
        workforce_task_id="t1",
        modelarts_conn_id="modelarts_unit",
        deferrable=True,
        **kwargs,
    )


FIGURES = {"status": 2, "status_name": "ACCEPTING", "checked": 4, "sampled": 4, "pass_rate": 1.0}


def test_execute_complete_success_returns_small_figures() -> None:
    result = sensor().execute_complete({}, {"status": "success", "message": "done", "figures": FIGURES})
    assert result["checked"] == 4 and result["pass_rate"] == 1.0 and result["status_name"] == "ACCEPTING"
    assert set(result) == {
        "status",
        "status_name",
        "checking_task_id",
        "pass_rate",
        "sampled",
        "checked",
        "accepted",
        "rejected",
        "score",
    }


def test_execute_complete_failure_raises_with_the_reason() -> None:
    with pytest.raises(AirflowFailException, match="task t1 was REJECTED"):
        sensor().execute_complete(
            {}, {"status": "failure", "message": "The task t1 was REJECTED (4).", "figures": {}}
        )


def test_execute_complete_timeout_raises_sensor_timeout() -> None:
    with pytest.raises(AirflowSensorTimeout, match="Timed out"):
        sensor().execute_complete({}, {"status": "timeout", "message": "Timed out waiting.", "figures": {}})


@pytest.mark.parametrize("status", ["failure", "timeout"])
def test_execute_complete_soft_fail_skips_with_the_reason(status: str) -> None:
    with pytest.raises(AirflowSkipException, match="soft_fail: why it ended"):
        sensor(soft_fail=True).execute_complete(
            {}, {"status": status, "message": "why it ended", "figures": {}}
        )


def test_soft_fail_through_airflow_resume_path() -> None:
    # The task runner resumes through resume_execution; the skip must survive that path too.
    with pytest.raises(AirflowSkipException):
        sensor(soft_fail=True).resume_execution(
            "execute_complete", {"event": {"status": "failure", "message": "rejected", "figures": {}}}, {}
        )


def test_api_error_event_is_a_retryable_failure() -> None:
    with pytest.raises(AirflowException, match="HTTP 404") as info:
        sensor().execute_complete(
            {},
            {
                "status": "failure",
                "message": "GET ... failed with HTTP 404.",
                "figures": {},
                "api_error": True,
            },
        )
    assert not isinstance(info.value, AirflowFailException)


@pytest.mark.parametrize(
    "event",
    [None, {}, "success", {"status": "pending", "figures": {}}, {"status": "success", "figures": None}],
)
def test_execute_complete_rejects_malformed_events(event: Any) -> None:
    with pytest.raises(AirflowException, match="AcceptanceSensor wait received"):
        sensor().execute_complete({}, event)


def test_sensor_rejects_impossible_criteria_at_parse_time() -> None:
    with pytest.raises(ValueError, match="Nothing to wait for"):
        sensor(target_statuses=None)
    with pytest.raises(ValueError, match="between 0 and 1"):
        sensor(min_pass_rate=2)
    # A template is validated when it has been rendered, not at parse time.
    assert sensor(min_pass_rate="{{ params.rate }}").min_pass_rate == "{{ params.rate }}"


def _loaded_by(imports: list[str], watched: list[str], *, count_preloaded: bool = False) -> list[str]:
    """Which of ``watched`` a fresh interpreter holds after ``import airflow.sdk`` and then ``imports``;
    what ``airflow.sdk`` itself loaded counts only with ``count_preloaded`` (its imports are not ours)."""
    code = (
        "import sys, airflow.sdk\n"
        f"preloaded = set() if {count_preloaded} else set(sys.modules)\n"
        + "".join(f"import {m}\n" for m in imports)
        + f"print([m for m in {watched!r} if m in sys.modules and m not in preloaded])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return list(ast.literal_eval(out.stdout.strip().splitlines()[-1]))


def test_sensor_modules_import_without_client_or_models() -> None:
    """DAG files import the sensor on every parse; the client, models and hook load only when it polls."""
    modules = [
        "airflow_provider_modelarts.client",
        "airflow_provider_modelarts._models._base",  # the pydantic models: ``models`` loads them on first use
        "airflow_provider_modelarts.hooks.modelarts",
        "airflow_provider_modelarts.auth",
    ]
    imports = [f"airflow_provider_modelarts.{m}.acceptance" for m in ("sensors", "triggers")]
    assert _loaded_by(imports, modules, count_preloaded=True) == []


def test_dag_parse_leaves_the_retry_rules_to_the_first_error() -> None:
    """The operators and the sensor, as a DAG file imports them, do not load ``retries`` (its policies cost
    about 1 ms of every parse); the sensor loads it on its first error, the trigger module with itself."""
    modules = [
        "operators.samples",
        "operators.labels",
        "operators.acceptance",
        "operators.export",
        "operators.team_tasks",
        "sensors.acceptance",
    ]
    imports = [f"airflow_provider_modelarts.{m}" for m in modules]
    assert _loaded_by(imports, ["airflow_provider_modelarts.retries"]) == []


def test_sensor_module_leaves_the_trigger_to_the_deferring_task() -> None:
    """The trigger module pulls in ``airflow.triggers.base``; DAG parsing should not pay for it.

    (Airflow 3.1's ``airflow.sdk`` loads ``airflow.triggers.base`` itself; then only our trigger module is
    ours to keep out.)"""
    watched = ["airflow_provider_modelarts.triggers.acceptance", "airflow.triggers.base"]
    assert _loaded_by(["airflow_provider_modelarts.sensors.acceptance"], watched) == []
