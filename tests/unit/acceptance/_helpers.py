"""Replies of the acceptance tests, built with the real response models (imported by name)."""

from __future__ import annotations

from typing import Any

from airflow_provider_modelarts.models import RESPONSE_CONTEXT, AcceptanceReport, WorkforceTask


def task(status: int, checking_task_id: str | None = "chk-1", **extra: Any) -> WorkforceTask:
    data: dict[str, Any] = {"task_id": "task-1", "status": status, **extra}
    if checking_task_id:
        data["checking_task_desc"] = {"checking_task_id": checking_task_id, "action": 0}
    return WorkforceTask.model_validate(data, context=RESPONSE_CONTEXT)


def stats(sampled: int, accepted: int, rejected: int, *, pass_rate: float | None = None) -> dict[str, Any]:
    checked = accepted + rejected
    figures: dict[str, Any] = {
        "sampled_sample_count": sampled,
        "checked_sample_count": checked,
        "unchecked_sample_count": sampled - checked,
        "accepted_sample_count": accepted,
        "rejected_sample_count": rejected,
        "score": "A",
    }
    if pass_rate is not None:
        figures["pass_rate"] = pass_rate
    elif checked:
        figures["pass_rate"] = accepted / checked
    return figures


def report(sampled: int, accepted: int, rejected: int, *, pass_rate: float | None = None) -> AcceptanceReport:
    figures = stats(sampled, accepted, rejected, pass_rate=pass_rate)
    return AcceptanceReport.model_validate({"checking_stats": figures}, context=RESPONSE_CONTEXT)
