"""AcceptanceOperator: start, finish or cancel a team labeling task's acceptance, or let quality decide.

Thin on purpose: it checks and renders its arguments, makes one ``ModelArtsHook`` call, logs the outcome and
returns a small XCom summary. The rules (start-or-adopt a round, apply an action once, pass or reject by pass
rate) live in the hook and in :mod:`airflow_provider_modelarts.acceptance`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.providers.common.compat.sdk import AirflowFailException

from airflow_provider_modelarts._text import quote
from airflow_provider_modelarts.acceptance import parse_action, parse_min_pass_rate
from airflow_provider_modelarts.links import ModelArtsTeamTaskLink, resolve_console_links
from airflow_provider_modelarts.operators.base import (
    LABELS_ACCEPTED_ALIAS,
    ModelArtsBaseOperator,
    modelarts_template_fields,
)

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_modelarts.hooks.modelarts import ModelArtsHook
    from airflow_provider_modelarts.models import AcceptanceAction

__all__ = ["AcceptanceOperator"]

#: The actions that accept labels (UpdateWorkforceSamplingTask, ``action``: 0 "Pass all samples", 4 "Pass
#: single-accepted samples and unaccepted samples", 5 "Pass only single-accepted samples"); 1 (reject all),
#: 2 (cancel) and 3 (view the conflicted samples) accept none.
_ACCEPTING_ACTIONS = frozenset({"PASS_ALL", "PASS_SINGLE_ACCEPTED_AND_UNACCEPTED", "PASS_SINGLE_ACCEPTED"})


class AcceptanceOperator(ModelArtsBaseOperator):
    """Drive the acceptance of a team labeling task. Exactly one of three modes:

    * ``action=...``: update the acceptance status
      (``PUT .../workforce-tasks/{workforce_task_id}/acceptance/status?locale=``). ``action`` is an
      :class:`~airflow_provider_modelarts.models.AcceptanceAction`, its int, or its name in any case:
      ``pass_all`` (0), ``reject_all`` (1), ``cancel`` (2), ``view_conflicts`` (3),
      ``pass_single_accepted_and_unaccepted`` (4), ``pass_single_accepted`` (5).
    * ``start_acceptance=True`` with ``sampling_rate`` (0-1] or ``sampling_num``: start an acceptance round
      (``POST .../acceptance``) and return its ``checking_task_id`` for ``AcceptanceSensor``.
    * ``min_pass_rate=0.95``: read the acceptance report of the current (or given ``checking_task_id``)
      round; pass all samples when its pass rate reaches the minimum, otherwise reject all. The decision and
      the figures are logged and returned.

    :param dataset_id: dataset of the team labeling task.
    :param workforce_task_id: the team labeling task.
    :param overwrite_last_result: with an action: whether the acceptance result overwrites labels changed
        during the acceptance (service default ``False``).
    :param locale: ``locale`` query parameter (default ``en-us``).
    :param checking_task_id: round to judge with ``min_pass_rate`` (default: the task's current round).
    :param require_all_checked: with ``min_pass_rate``: refuse to decide while sampled samples are still
        unchecked (default ``True``; wait with ``AcceptanceSensor(check_complete=True)`` first).
    :param project_id: project to use instead of the connection's.
    :param modelarts_conn_id: Airflow connection of type ``modelarts``.
    :param client_retry: client ``RetryPolicy`` for 429/5xx/network errors (attempts, backoff, deadline);
        default: the client's (6 attempts within 300 s).
    :param asset_alias: the ``AssetAlias`` the accepted labels are announced through (default
        ``modelarts-labels-accepted``; ``None``: no event; never declared with ``start_acceptance=True``).
        Only when labels were accepted (a passing ``min_pass_rate`` decision, or a pass action) is the team
        task's asset added to it, with ``extra``: ``dataset_id``, ``workforce_task_id``,
        ``checking_task_id``, ``decision``, ``pass_rate``, ``min_pass_rate``, the round's counts, ``action``
        and ``sample_count``. A rejection adds nothing, so DAGs scheduled on the alias do not run.

    Returns (XCom) a small dict: ``mode``, the ids, and per mode ``checking_task_id`` / ``already_started``;
    ``action`` / ``action_code`` / ``sample_count`` / ``samples_preview`` (first 10 sample ids) /
    ``already_applied``; plus ``decision``, ``passed``, ``pass_rate``, ``min_pass_rate`` and the counts for
    the pass-rate decision.

    Safe to retry: when an earlier try already started the round (``ModelArts.4623``) the running round's id
    is returned; when an earlier try already applied the action (the service then refuses it), the task's
    status is checked and the action counted as applied.
    """

    template_fields: Sequence[str] = modelarts_template_fields(
        "dataset_id",
        "workforce_task_id",
        "action",
        "checking_task_id",
        "sampling_rate",
        "sampling_num",
        "min_pass_rate",
        "locale",
    )
    template_fields_renderers: ClassVar[dict[str, str]] = {}
    operator_extra_links = (ModelArtsTeamTaskLink(),)
    ui_color = "#dff2e1"
    default_asset_alias = LABELS_ACCEPTED_ALIAS

    def __init__(
        self,
        *,
        dataset_id: str,
        workforce_task_id: str,
        action: AcceptanceAction | int | str | None = None,
        overwrite_last_result: bool | None = None,
        locale: str = "en-us",
        start_acceptance: bool = False,
        sampling_rate: float | str | None = None,
        sampling_num: int | str | None = None,
        min_pass_rate: float | str | None = None,
        checking_task_id: str | None = None,
        require_all_checked: bool = True,
        **kwargs: Any,
    ) -> None:
        arguments = {
            "action": action,
            "overwrite_last_result": overwrite_last_result,
            "locale": locale,
            "start_acceptance": start_acceptance,
            "sampling_rate": sampling_rate,
            "sampling_num": sampling_num,
            "min_pass_rate": min_pass_rate,
        }
        self.check_arguments({**arguments, **kwargs})
        if "asset_alias" not in kwargs:
            kwargs["asset_alias"] = self.default_alias(arguments)
        super().__init__(**kwargs)
        self.dataset_id = dataset_id
        self.workforce_task_id = workforce_task_id
        self.action = action
        self.overwrite_last_result = overwrite_last_result
        self.locale = locale
        self.start_acceptance = bool(start_acceptance)
        self.sampling_rate = sampling_rate
        self.sampling_num = sampling_num
        self.min_pass_rate = min_pass_rate
        self.checking_task_id = checking_task_id
        self.require_all_checked = require_all_checked
        self.console_links: dict[str, str] = {}

    @classmethod
    def check_arguments(cls, arguments: Mapping[str, Any]) -> None:
        """The base's checks and this operator's: one mode, sampling only to start, plain-typed flags.

        An argument absent from ``arguments`` (mapped by ``expand``) is unknown, so a rule that needs it
        waits for the mapped task's own ``__init__``; templates are checked once rendered, in ``execute``.
        """
        super().check_arguments(arguments)
        start = arguments.get("start_acceptance")
        modes = [
            name
            for name, given in (
                ("action", arguments.get("action") is not None),
                ("start_acceptance=True", bool(start)),
                ("min_pass_rate", arguments.get("min_pass_rate") is not None),
            )
            if given
        ]
        all_known = {"action", "start_acceptance", "min_pass_rate"}.issubset(arguments)
        if len(modes) > 1 or (not modes and all_known):
            raise ValueError(
                "AcceptanceOperator needs exactly one of action=, start_acceptance=True or min_pass_rate= "
                f"(given: {', '.join(modes) or 'none'})"
            )
        rate, num = arguments.get("sampling_rate"), arguments.get("sampling_num")
        if "start_acceptance" in arguments and not start and (rate is not None or num is not None):
            raise ValueError("sampling_rate / sampling_num only apply with start_acceptance=True")
        sampling_known = {"sampling_rate", "sampling_num"}.issubset(arguments)
        if start and sampling_known and rate is None and num is None:
            raise ValueError("start_acceptance=True needs sampling_rate (0-1] or sampling_num")
        if start and rate is not None and num is not None:
            raise ValueError("give sampling_rate or sampling_num, not both (the service takes one)")
        locale = arguments.get("locale", "en-us")
        if not isinstance(locale, str):
            raise ValueError(f"locale must be a language code such as 'en-us', got {quote(locale)}")
        min_pass_rate = arguments.get("min_pass_rate")
        if isinstance(min_pass_rate, (int, float)):  # templates are checked once rendered, in execute
            parse_min_pass_rate(min_pass_rate)
        overwrite = arguments.get("overwrite_last_result")
        if overwrite is not None and not isinstance(overwrite, bool):
            raise ValueError(f"overwrite_last_result must be True, False or None, got {quote(overwrite)}")

    @classmethod
    def default_alias(cls, arguments: Mapping[str, Any]) -> str | None:
        """Starting a round accepts nothing: no alias in the outlets then (mapped tasks included)."""
        return None if arguments.get("start_acceptance") else super().default_alias(arguments)

    def execute(self, context: Context) -> dict[str, Any]:
        if not self.dataset_id or not self.workforce_task_id:
            raise AirflowFailException("dataset_id and workforce_task_id must not be empty")
        hook = self.hook
        self.console_links = resolve_console_links(hook, self.dataset_id, self.workforce_task_id)
        ids = {"dataset_id": self.dataset_id, "workforce_task_id": self.workforce_task_id}
        try:
            if self.start_acceptance:
                return {"mode": "start_acceptance", **ids, **self._start(hook)}
            if self.min_pass_rate is not None:
                result = {"mode": "pass_rate_decision", **ids, **self._decide(hook)}
            else:
                result = {"mode": "action", **ids, **self._act(hook)}
            self._announce_accepted(context, hook.asset_uri(self.dataset_id, self.workforce_task_id), result)
            return result
        finally:
            hook.close()

    def _announce_accepted(self, context: Context, uri: str, result: dict[str, Any]) -> None:
        """Announce the team task's accepted labels; a rejection (cancel, view conflicts) announces none."""
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

    def _start(self, hook: ModelArtsHook) -> dict[str, Any]:
        rate = _number("sampling_rate", self.sampling_rate, float)
        num = _number("sampling_num", self.sampling_num, int)
        if rate is not None and not 0 < rate <= 1:
            raise AirflowFailException(f"sampling_rate must be in (0, 1], got {quote(rate)}")
        if num is not None and num < 1:
            raise AirflowFailException(f"sampling_num must be at least 1, got {quote(num)}")
        started = hook.start_acceptance(
            self.dataset_id, self.workforce_task_id, sampling_rate=rate, sampling_num=num
        )
        if not started.already_started:
            self.log.info(
                "Started acceptance round %s of team labeling task %s (sampling %s).",
                started.checking_task_id,
                self.workforce_task_id,
                f"rate {rate:g}" if rate is not None else f"{num} samples",
            )
        return {**started.summary(), "sampling_rate": rate, "sampling_num": num}

    def _act(self, hook: ModelArtsHook) -> dict[str, Any]:
        try:
            action = parse_action(self.action)
        except ValueError as exc:
            raise AirflowFailException(str(exc)) from None
        applied = hook.apply_acceptance_action(
            self.dataset_id,
            self.workforce_task_id,
            action,
            overwrite_last_result=self.overwrite_last_result,
            locale=self._locale(),
        )
        self.log.info(
            "Acceptance action %s (%s) on team labeling task %s: %s samples%s.",
            action.name,
            int(action),
            self.workforce_task_id,
            applied.sample_count,
            " (already applied by an earlier try)" if applied.already_applied else "",
        )
        return applied.summary()

    def _decide(self, hook: ModelArtsHook) -> dict[str, Any]:
        try:
            minimum = parse_min_pass_rate(self.min_pass_rate)
        except ValueError as exc:
            raise AirflowFailException(str(exc)) from None
        if minimum is None:
            raise AirflowFailException("min_pass_rate rendered to nothing; give a number between 0 and 1")
        decision, applied = hook.decide_acceptance(
            self.dataset_id,
            self.workforce_task_id,
            min_pass_rate=minimum,
            checking_task_id=self.checking_task_id or None,
            require_all_checked=self.require_all_checked,
            overwrite_last_result=self.overwrite_last_result,
            locale=self._locale(),
        )
        return {**decision.summary(), **applied.summary()}

    def _locale(self) -> str:
        if not isinstance(self.locale, str) or not self.locale.strip():
            raise AirflowFailException(
                f"locale must be a language code such as 'en-us', got {quote(self.locale)}"
            )
        return self.locale.strip()


def _number(name: str, value: Any, kind: type[int] | type[float]) -> Any:
    """Numbers may arrive as text from templates ("0.95", "{{ params.rate }}")."""
    if value is None or (isinstance(value, str) and value.strip() in ("", "None")):
        return None
    if isinstance(value, bool):
        raise AirflowFailException(f"{name} must be a number, got {quote(value)}")
    try:
        return float(value) if kind is float else int(str(value).strip())
    except (TypeError, ValueError, OverflowError):
        raise AirflowFailException(f"{name} must be a number, got {quote(value)}") from None
