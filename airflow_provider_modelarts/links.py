"""Operator extra links: task-instance buttons opening the dataset / team task in the ModelArts console.

In Airflow 3 the worker evaluates ``get_link`` once the task finishes and stores the URL in XCom; the UI then
reads it from there. The operators resolve the URLs while they run (the console comes from the connection:
its ``console_url`` extra, else the public console of its ``region``, via :meth:`ModelArtsHook.console_url`;
the emulator's connection names the emulator's own console) and keep them in ``operator.console_links``, so
building the link needs no second connection lookup. When the task failed before that point, the link is built
from the rendered ids and the connection; if even that fails, the link is empty rather than wrong.

Register in provider info (``extra-links``):
``airflow_provider_modelarts.links.ModelArtsDatasetLink`` and
``airflow_provider_modelarts.links.ModelArtsTeamTaskLink``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperatorLink

if TYPE_CHECKING:
    from airflow.sdk import BaseOperator
    from airflow.sdk.types import TaskInstanceKey

__all__ = ["ModelArtsDatasetLink", "ModelArtsTeamTaskLink", "resolve_console_links"]

log = logging.getLogger(__name__)


def resolve_console_links(hook: Any, dataset_id: str, workforce_task_id: str | None = None) -> dict[str, str]:
    """The console URLs an operator keeps in ``console_links`` while it runs (console from the connection).

    A link is a convenience: if the connection cannot tell the region, the task goes on without links.
    """
    try:
        links = {"dataset": hook.console_url(dataset_id)}
        if workforce_task_id:
            links["workforce_task"] = hook.console_url(dataset_id, workforce_task_id)
    except Exception:
        log.debug("Could not build the ModelArts console links", exc_info=True)
        return {}
    return links


def _console_link(operator: Any, kind: str) -> str:
    links = getattr(operator, "console_links", None)
    if isinstance(links, dict) and links.get(kind):
        return str(links[kind])
    dataset_id = getattr(operator, "dataset_id", None)
    task_id = getattr(operator, "workforce_task_id", None) if kind == "workforce_task" else None
    if not isinstance(dataset_id, str) or not dataset_id or "{{" in dataset_id:
        return ""
    if kind == "workforce_task" and (not isinstance(task_id, str) or not task_id or "{{" in task_id):
        return ""
    try:
        from airflow_provider_modelarts.hooks.modelarts import ModelArtsHook

        hook = ModelArtsHook.for_connection(
            getattr(operator, "modelarts_conn_id", "modelarts_default"),
            project_id=getattr(operator, "project_id", None),
        )
        return hook.console_url(dataset_id, task_id)
    except Exception:
        log.debug("No ModelArts console link for %s", getattr(operator, "task_id", operator), exc_info=True)
        return ""


class ModelArtsDatasetLink(BaseOperatorLink):
    """ "ModelArts Dataset": the page of the operator's ``dataset_id`` in the connection's console."""

    name = "ModelArts Dataset"

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        return _console_link(operator, "dataset")


class ModelArtsTeamTaskLink(BaseOperatorLink):
    """ "ModelArts Team Task": the team labeling task (``workforce_task_id``) of the operator's dataset."""

    name = "ModelArts Team Task"

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        return _console_link(operator, "workforce_task")
