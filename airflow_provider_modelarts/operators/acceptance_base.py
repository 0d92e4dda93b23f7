"""``AcceptanceBaseOperator``: what the acceptance operators (:mod:`.acceptance`) share.

The team labeling task (``dataset_id``, ``workforce_task_id``), its console link, the hook closed after the
operator's one call, the XCom summary's frame (``mode`` and the ids), the checks of ``locale`` and
``overwrite_last_result``, and the asset event when labels were accepted. Subclass it for another call on a
team labeling task's acceptance; its public home is this module.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.providers.common.compat.sdk import AirflowFailException

from airflow_provider_modelarts._text import quote
from airflow_provider_modelarts.links import ModelArtsTeamTaskLink, resolve_console_links
from airflow_provider_modelarts.operators.base import ModelArtsBaseOperator, modelarts_template_fields

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_modelarts.hooks.modelarts import ModelArtsHook

__all__ = ["AcceptanceBaseOperator"]

#: The actions that accept labels (UpdateWorkforceSamplingTask, ``action``: 0 "Pass all samples", 4 "Pass
#: single-accepted samples and unaccepted samples", 5 "Pass only single-accepted samples"); 1 (reject all),
#: 2 (cancel) and 3 (view the conflicted samples) accept none.
_ACCEPTING_ACTIONS = frozenset({"PASS_ALL", "PASS_SINGLE_ACCEPTED_AND_UNACCEPTED", "PASS_SINGLE_ACCEPTED"})


class AcceptanceBaseOperator(ModelArtsBaseOperator):
    """What the acceptance operators share: the team labeling task, its console link, one hook call.

    :param dataset_id: dataset of the team labeling task (templated).
    :param workforce_task_id: the team labeling task (templated).

    Plus ``modelarts_conn_id``, ``project_id``, ``client_retry`` and ``asset_alias`` of
    :class:`~airflow_provider_modelarts.operators.base.ModelArtsBaseOperator`. The XCom value is a small dict:
    ``mode`` (:attr:`mode`), ``dataset_id``, ``workforce_task_id`` and what the subclass's :meth:`call` adds.
    ``overwrite_last_result`` and ``locale``, taken by the operators that apply an action, are checked here.
    """

    template_fields: Sequence[str] = modelarts_template_fields("dataset_id", "workforce_task_id")
    template_fields_renderers: ClassVar[dict[str, str]] = {}
    operator_extra_links = (ModelArtsTeamTaskLink(),)
    ui_color = "#dff2e1"
    #: The XCom summary's ``mode`` (the name of the mode of ``AcceptanceOperator`` this operator was).
    mode: ClassVar[str] = ""

    def __init__(self, *, dataset_id: str, workforce_task_id: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.dataset_id = dataset_id
        self.workforce_task_id = workforce_task_id
        self.console_links: dict[str, str] = {}

    @classmethod
    def check_arguments(cls, arguments: Mapping[str, Any]) -> None:
        """The base's checks, and ``locale`` / ``overwrite_last_result`` when present (plain values)."""
        super().check_arguments(arguments)
        locale = arguments.get("locale", "en-us")
        if not isinstance(locale, str):
            raise ValueError(f"locale must be a language code such as 'en-us', got {quote(locale)}")
        overwrite = arguments.get("overwrite_last_result")
        if overwrite is not None and not isinstance(overwrite, bool):
            raise ValueError(f"overwrite_last_result must be True, False or None, got {quote(overwrite)}")

    def execute(self, context: Context) -> dict[str, Any]:
        if not self.dataset_id or not self.workforce_task_id:
            raise AirflowFailException("dataset_id and workforce_task_id must not be empty")
        hook = self.hook
        self.console_links = resolve_console_links(hook, self.dataset_id, self.workforce_task_id)
        ids = {"dataset_id": self.dataset_id, "workforce_task_id": self.workforce_task_id}
        try:
            return {"mode": self.mode, **ids, **self.call(context, hook)}
        finally:
            hook.close()

    def call(self, context: Context, hook: ModelArtsHook) -> dict[str, Any]:
        """Make the operator's one hook call; returns what it adds to the XCom summary."""
        raise NotImplementedError

    def announce_accepted(self, context: Context, hook: ModelArtsHook, result: dict[str, Any]) -> None:
        """Announce the team task's accepted labels (lineage: read, and written when accepted); a rejection
        (reject, cancel, view conflicts) announces none, so DAGs scheduled on the alias do not run."""
        uri = hook.asset_uri(self.dataset_id, self.workforce_task_id)
        accepted = result["action"] in _ACCEPTING_ACTIONS and result.get("passed", True)
        self.record_lineage([uri], [uri] if accepted else [])
        if not accepted:
            self.log.info("No labels accepted (%s): no asset event.", result["action"])
            return
        names = ("checking_task_id", "decision", "pass_rate", "min_pass_rate", "sampled", "checked")
        figures = {name: result[name] for name in (*names, "accepted", "rejected") if name in result}
        counts = {"action": result["action"], "sample_count": result["sample_count"]}
        ids = {"dataset_id": self.dataset_id, "workforce_task_id": self.workforce_task_id}
        self.announce(context, uri, {**ids, **figures, **counts})

    def _locale(self, locale: Any) -> str:
        if not isinstance(locale, str) or not locale.strip():
            raise AirflowFailException(f"locale must be a language code such as 'en-us', got {quote(locale)}")
        return locale.strip()
