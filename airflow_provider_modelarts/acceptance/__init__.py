"""Team labeling acceptance, decided in one place; imports no Airflow.

* :mod:`~airflow_provider_modelarts.acceptance.figures`: reading a task and its acceptance report, leniently
  (status, sampled, checked, accepted, rejected, pass rate, score, checking task id);
* :mod:`~airflow_provider_modelarts.acceptance.waiting`: the sensor's criteria and the evaluation of a wait
  (target statuses, check complete, min pass rate, "can no longer reach", cancelled or replaced round);
* :mod:`~airflow_provider_modelarts.acceptance.decision`: pass or reject by pass rate, and what a start or an
  action came to (the results of the hook's acceptance operations).

``ModelArtsHook`` (for the operators), ``AcceptanceSensor`` and ``AcceptanceTrigger`` all call these,
so the same figures always mean the same thing. Plain data in, plain data out: cheap to test, and usable from
the triggerer's event loop.
"""

from __future__ import annotations

from airflow_provider_modelarts.acceptance.decision import (
    SAMPLES_PREVIEW,
    TASK_IS_CHECKING,
    AcceptanceNotDecidableError,
    AcceptanceStart,
    AppliedAction,
    PassRateDecision,
    action_already_applied,
    decide_by_pass_rate,
    parse_action,
    parse_min_pass_rate,
    passes,
)
from airflow_provider_modelarts.acceptance.figures import (
    AcceptanceSnapshot,
    CheckStats,
    aread_snapshot,
    current_checking_task_id,
    field_of,
    parse_status,
    read_snapshot,
    read_status,
    report_round,
    should_fetch_report,
    status_name,
)
from airflow_provider_modelarts.acceptance.waiting import (
    EVENT_STATUSES,
    AcceptanceCriteria,
    AcceptanceEvaluation,
    AcceptanceState,
    ProgressLog,
    evaluate,
    evaluate_snapshot,
)

__all__ = [
    "EVENT_STATUSES",
    "SAMPLES_PREVIEW",
    "TASK_IS_CHECKING",
    "AcceptanceCriteria",
    "AcceptanceEvaluation",
    "AcceptanceNotDecidableError",
    "AcceptanceSnapshot",
    "AcceptanceStart",
    "AcceptanceState",
    "AppliedAction",
    "CheckStats",
    "PassRateDecision",
    "ProgressLog",
    "action_already_applied",
    "aread_snapshot",
    "current_checking_task_id",
    "decide_by_pass_rate",
    "evaluate",
    "evaluate_snapshot",
    "field_of",
    "parse_action",
    "parse_min_pass_rate",
    "parse_status",
    "passes",
    "read_snapshot",
    "read_status",
    "report_round",
    "should_fetch_report",
    "status_name",
]
