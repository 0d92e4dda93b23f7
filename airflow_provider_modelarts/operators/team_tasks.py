"""CreateTeamTaskOperator: give a pipeline run its own team labeling task, safely across retries.

An accepted team labeling task is final (the user guide: "Once the labeled data is accepted, team members
cannot modify the labeling information"; the emulator refuses new labels in it with HTTP 403
``ModelArts.4600``, the error table's "The worker action is forbidden"), so a pipeline that labels a new
batch every day needs a new task every day. The task's name, derived from the run
(the example pipeline uses its logical day, or ``dag_run.run_after`` for a run without a logical date), is
what makes the operator safe to retry: :meth:`ModelArtsHook.create_team_task` adopts an existing task of
that name instead of creating a second one, including after an answer that got lost on the way back.

``create_options`` carries the create request's other fields; a key that one of the operator's own arguments
sets (:data:`SET_BY_ARGUMENTS`) is refused, naming the key and the argument to use: when the DAG is parsed
for a dict given there (``partial`` included), and once rendered for a templated value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.providers.common.compat.sdk import AirflowFailException

from airflow_provider_modelarts._text import quote
from airflow_provider_modelarts.links import (
    ModelArtsDatasetLink,
    ModelArtsTeamTaskLink,
    resolve_console_links,
)
from airflow_provider_modelarts.operators.base import ModelArtsBaseOperator, modelarts_template_fields

if TYPE_CHECKING:
    from airflow.sdk import Context

__all__ = ["SET_BY_ARGUMENTS", "CreateTeamTaskOperator", "create_options_problem"]

#: The keys ``create_options`` must not hold, each with why: the request fields the operator fills from its
#: own arguments, and the parameters of ``ModelArtsHook.create_team_task`` besides its ``**options`` (a
#: second value for one of those would be a ``TypeError`` at run time).
SET_BY_ARGUMENTS: Mapping[str, str] = {
    **{
        name: f"the operator's {name}= argument sets it; give it there"
        for name in (
            "dataset_id",
            "task_name",
            "workforces_config",
            "synchronize_data",
            "start",
            "wait_started",
        )
    },
    "self": "it is not a field of the create request",
}


def create_options_problem(create_options: Any) -> str | None:
    """Why ``create_options`` (as given, or as rendered) cannot be sent; ``None`` when it can.

    It must be ``None`` or a mapping whose keys are strings and none of :data:`SET_BY_ARGUMENTS`. The values
    are the create page's to judge (the client validates the request).
    """
    if create_options is None:
        return None
    if not isinstance(create_options, Mapping):
        return f"create_options must be a dict of create request fields, got {quote(create_options)}"
    for key in create_options:
        if not isinstance(key, str):
            return f"create_options keys must be create request field names, got {quote(key)}"
        if key in SET_BY_ARGUMENTS:
            return f"create_options must not hold {key!r}: {SET_BY_ARGUMENTS[key]}"
    return None


class CreateTeamTaskOperator(ModelArtsBaseOperator):
    """Create (or adopt, by name) a team labeling task on a dataset and start it.

    ``POST .../datasets/{dataset_id}/workforce-tasks`` then ``POST .../workforce-tasks/{id}`` (start), as the
    pages ``creating_a_team_labeling_task`` and ``starting_a_team_labeling_task`` describe. After a create,
    the service assigns the dataset's unlabeled samples to the new task.

    :param dataset_id: the dataset.
    :param task_name: the task's name, unique per batch. Derive it from the run (templated), so a retry or a
        cleared run finds and adopts the task it created. The create page states no rule for the name, so
        none is checked here (the service judges it). If the dataset has two tasks of this name, or lists
        one without a ``task_id``, the operator fails without retrying (a retry would meet the same list),
        naming them: it never guesses which one is the run's, nor creates one beside them.
    :param workforces_config: the teams (and members) who label, as the create page's ``workforces_config``,
        e.g. ``{"workforces": [{"workforce_id": "..."}]}``; default: the service's (team administrator).
    :param synchronize_data: whether samples added to the dataset later join this task (default ``False``:
        a batch's task keeps the batch it was created for).
    :param create_options: other fields of the create request (``sample_conditions``, ``repetition``,
        ``auto_sync_dataset``, ``data_sync_type``, ``synchronize_auto_labeling_data``), templated. A key
        that an argument of this operator sets (``task_name``, ``start``, ...: :data:`SET_BY_ARGUMENTS`) is
        refused: a ``ValueError`` when the DAG is parsed, or, for a templated value, an
        ``AirflowFailException`` naming the key once rendered.
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
        self.check_arguments({**kwargs, "create_options": create_options})
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

    @classmethod
    def check_arguments(cls, arguments: Mapping[str, Any]) -> None:
        """The base's checks, and ``create_options`` unless it is still a template (or an XCom reference)."""
        super().check_arguments(arguments)
        options = arguments.get("create_options")
        if options is None or isinstance(options, (Mapping, list, tuple, int, float)):
            problem = create_options_problem(options)
            if problem:
                raise ValueError(problem)

    def execute(self, context: Context) -> dict[str, Any]:
        if not self.dataset_id or not self.task_name:
            raise AirflowFailException("dataset_id and task_name must not be empty")
        problem = create_options_problem(self.create_options)  # rendered now: templates are checked here
        if problem:
            raise AirflowFailException(problem)
        options: dict[str, Any] = dict(self.create_options or {})
        options["synchronize_data"] = self.synchronize_data
        if self.workforces_config:
            options["workforces_config"] = self.workforces_config
        from airflow_provider_modelarts.team_tasks import AmbiguousTeamTaskError, UnadoptableTeamTaskError

        hook = self.hook
        try:
            result = hook.create_team_task(
                self.dataset_id, self.task_name, start=self.start, wait_started=self.wait_started, **options
            )
        except (AmbiguousTeamTaskError, UnadoptableTeamTaskError) as exc:
            # Not transient: a retry lists the same tasks again; only a person can rename or delete them.
            raise AirflowFailException(str(exc)) from exc
        self.workforce_task_id = result["workforce_task_id"]
        self.console_links = resolve_console_links(hook, self.dataset_id, self.workforce_task_id)
        # Lineage: the team task takes in the dataset's unlabeled samples.
        self.record_lineage(
            [hook.asset_uri(self.dataset_id)], [hook.asset_uri(self.dataset_id, self.workforce_task_id)]
        )
        return {"dataset_id": self.dataset_id, **result}
