"""CreateTeamTaskOperator: give a pipeline run its own team labeling task, safely across retries.

An accepted team labeling task is final (the user guide: "Once the labeled data is accepted, team members
cannot modify the labeling information"; the emulator refuses new labels in it with HTTP 403
``ModelArts.4600``, the error table's "The worker action is forbidden"), so a pipeline that labels a new
batch every day needs a new task every day. The task's name, derived from the run
(the example pipeline uses its logical day, or ``dag_run.run_after`` for a run without a logical date), is
what makes the operator safe to retry: :meth:`ModelArtsHook.create_team_task` adopts an existing task of
that name instead of creating a second one, including after an answer that got lost on the way back.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.providers.common.compat.sdk import AirflowFailException

from airflow_provider_modelarts.links import (
    ModelArtsDatasetLink,
    ModelArtsTeamTaskLink,
    resolve_console_links,
)
from airflow_provider_modelarts.operators.base import ModelArtsBaseOperator, modelarts_template_fields

if TYPE_CHECKING:
    from airflow.sdk import Context

__all__ = ["CreateTeamTaskOperator"]


class CreateTeamTaskOperator(ModelArtsBaseOperator):
    """Create (or adopt, by name) a team labeling task on a dataset and start it.

    ``POST .../datasets/{dataset_id}/workforce-tasks`` then ``POST .../workforce-tasks/{id}`` (start), as the
    pages ``creating_a_team_labeling_task`` and ``starting_a_team_labeling_task`` describe. After a create,
    the service assigns the dataset's unlabeled samples to the new task.

    :param dataset_id: the dataset.
    :param task_name: the task's name, unique per batch. Derive it from the run (templated), so a retry or a
        cleared run finds and adopts the task it created. The create page states no rule for the name, so
        none is checked here (the service judges it). If the dataset has two tasks of this name the
        operator fails without retrying, naming both: it never guesses which one is the run's.
    :param workforces_config: the teams (and members) who label, as the create page's ``workforces_config``,
        e.g. ``{"workforces": [{"workforce_id": "..."}]}``; default: the service's (team administrator).
    :param synchronize_data: whether samples added to the dataset later join this task (default ``False``:
        a batch's task keeps the batch it was created for).
    :param create_options: other fields of the create request (``sample_conditions``, ``repetition``,
        ``auto_sync_dataset``, ``data_sync_type``, ``synchronize_auto_labeling_data``).
    :param start: start the task when it is still CREATED (default ``True``); the operator then returns only
        once it has left STARTING (RUNNING or later), so the next task can label in it.
    :param wait_started: seconds to wait for the task to leave STARTING (default 300); a task still
        STARTING after that fails the try (an Airflow retry adopts it and waits again).
    :param modelarts_conn_id, project_id, client_retry: see :class:`ModelArtsBaseOperator`; ``client_retry``
        also bounds how often a lost answer repeats the list-then-create step.

    Returns (XCom) ``workforce_task_id``, ``task_name``, ``created``, ``started``, ``status`` and
    ``dataset_id``; pull ``['workforce_task_id']`` into the label and acceptance operators.
    """

    template_fields: Sequence[str] = modelarts_template_fields(
        "dataset_id", "task_name", "workforces_config", "create_options"
    )
    template_fields_renderers: ClassVar[dict[str, str]] = {
        "workforces_config": "json",
        "create_options": "json",
    }
    operator_extra_links = (ModelArtsDatasetLink(), ModelArtsTeamTaskLink())
    ui_color = "#e3ecfa"

    def __init__(
        self,
        *,
        dataset_id: str,
        task_name: str,
        workforces_config: dict[str, Any] | None = None,
        synchronize_data: bool = False,
        create_options: dict[str, Any] | None = None,
        start: bool = True,
        wait_started: float = 300.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.dataset_id = dataset_id
        self.task_name = task_name
        self.workforces_config = workforces_config
        self.synchronize_data = synchronize_data
        self.create_options = create_options
        self.start = start
        self.wait_started = wait_started
        # Filled while running; read by the extra links (see links.py).
        self.workforce_task_id: str | None = None
        self.console_links: dict[str, str] = {}

    def execute(self, context: Context) -> dict[str, Any]:
        if not self.dataset_id or not self.task_name:
            raise AirflowFailException("dataset_id and task_name must not be empty")
        options: dict[str, Any] = dict(self.create_options or {})
        options["synchronize_data"] = self.synchronize_data
        if self.workforces_config:
            options["workforces_config"] = self.workforces_config
        from airflow_provider_modelarts.team_tasks import AmbiguousTeamTaskError

        hook = self.hook
        try:
            result = hook.create_team_task(
                self.dataset_id, self.task_name, start=self.start, wait_started=self.wait_started, **options
            )
        except AmbiguousTeamTaskError as exc:  # a retry meets the same two tasks: only a person can choose
            raise AirflowFailException(str(exc)) from exc
        self.workforce_task_id = result["workforce_task_id"]
        self.console_links = resolve_console_links(hook, self.dataset_id, self.workforce_task_id)
        # Lineage: the team task takes in the dataset's unlabeled samples.
        self.record_lineage(
            [hook.asset_uri(self.dataset_id)], [hook.asset_uri(self.dataset_id, self.workforce_task_id)]
        )
        return {"dataset_id": self.dataset_id, **result}
