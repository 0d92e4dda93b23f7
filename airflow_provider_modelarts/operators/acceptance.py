"""AcceptanceOperator: start, finish or cancel a team labeling task's acceptance, or let quality decide."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.sdk import BaseOperator

from airflow_provider_modelarts._compat import AirflowException, AirflowFailException
from airflow_provider_modelarts.links import ModelArtsTeamTaskLink
from airflow_provider_modelarts.operators._batching import brief

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_modelarts.client import ModelArtsClient, RetryPolicy
    from airflow_provider_modelarts.hooks.modelarts import ModelArtsHook
    from airflow_provider_modelarts.models import AcceptanceAction

__all__ = ["AcceptanceOperator"]

#: "Workforce task is checking": only one acceptance round at a time.
TASK_IS_CHECKING = "ModelArts.4623"

#: How many sample ids of the action's reply go into the return value.
SAMPLES_PREVIEW = 10

# A service-computed pass rate of 0.95 may arrive as 0.9499999999; that must still pass a 0.95 minimum.
_RATE_EPSILON = 1e-9


class AcceptanceOperator(BaseOperator):
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

    Returns (XCom) a small dict: ``mode``, the ids, and per mode ``checking_task_id`` / ``already_started``;
    ``action`` / ``action_code`` / ``sample_count`` / ``samples_preview`` (first 10 sample ids) /
    ``already_applied``; plus ``decision``, ``passed``, ``pass_rate``, ``min_pass_rate`` and the counts for
    the pass-rate decision.

    Safe to retry: when an earlier try already started the round (``ModelArts.4623``) the running round's id
    is returned; when an earlier try already applied the action (the service then refuses it), the task's
    status is checked and the action counted as applied.
    """

    template_fields: Sequence[str] = (
        "dataset_id",
        "project_id",
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
        project_id: str | None = None,
        modelarts_conn_id: str = "modelarts_default",
        client_retry: RetryPolicy | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        modes = [
            name
            for name, given in (
                ("action", action is not None),
                ("start_acceptance=True", bool(start_acceptance)),
                ("min_pass_rate", min_pass_rate is not None),
            )
            if given
        ]
        if len(modes) != 1:
            raise ValueError(
                "AcceptanceOperator needs exactly one of action=, start_acceptance=True or min_pass_rate= "
                f"(given: {', '.join(modes) or 'none'})"
            )
        if not start_acceptance and (sampling_rate is not None or sampling_num is not None):
            raise ValueError("sampling_rate / sampling_num only apply with start_acceptance=True")
        if start_acceptance and sampling_rate is None and sampling_num is None:
            raise ValueError("start_acceptance=True needs sampling_rate (0-1] or sampling_num")
        if start_acceptance and sampling_rate is not None and sampling_num is not None:
            raise ValueError("give sampling_rate or sampling_num, not both (the service takes one)")
        if not isinstance(locale, str):
            raise ValueError(f"locale must be a language code such as 'en-us', got {brief(locale)}")
        if isinstance(min_pass_rate, (int, float)) and not (
            not isinstance(min_pass_rate, bool) and 0 <= min_pass_rate <= 1
        ):
            raise ValueError(
                f"min_pass_rate must be a fraction between 0 and 1 (0.95 for 95%), got {brief(min_pass_rate)}"
            )
        if overwrite_last_result is not None and not isinstance(overwrite_last_result, bool):
            raise ValueError(
                f"overwrite_last_result must be True, False or None, got {brief(overwrite_last_result)}"
            )
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
        self.project_id = project_id
        self.modelarts_conn_id = modelarts_conn_id
        self.client_retry = client_retry
        self.console_links: dict[str, str] = {}

    # -- Airflow -------------------------------------------------------------------------------------------
    def _hook(self) -> ModelArtsHook:
        from airflow_provider_modelarts.hooks.modelarts import ModelArtsHook

        return ModelArtsHook(self.modelarts_conn_id, project_id=self.project_id, retry=self.client_retry)

    def execute(self, context: Context) -> dict[str, Any]:
        if not self.dataset_id or not self.workforce_task_id:
            raise AirflowFailException("dataset_id and workforce_task_id must not be empty")
        hook = self._hook()
        try:
            self.console_links = {
                "dataset": hook.console_url(self.dataset_id),
                "workforce_task": hook.console_url(self.dataset_id, self.workforce_task_id),
            }
        except Exception:
            self.log.debug("Could not build the ModelArts console links", exc_info=True)
        with hook.get_client() as client:
            if self.start_acceptance:
                return self._start(client)
            if self.min_pass_rate is not None:
                return self._decide(client)
            return self._act(client, self._parse_action(self.action))

    def _locale(self) -> str:
        locale = self.locale
        if not isinstance(locale, str) or not locale.strip():
            raise AirflowFailException(f"locale must be a language code such as 'en-us', got {brief(locale)}")
        return locale.strip()

    def _ids(self) -> dict[str, Any]:
        return {"dataset_id": self.dataset_id, "workforce_task_id": self.workforce_task_id}

    # -- start acceptance ----------------------------------------------------------------------------------
    def _start(self, client: ModelArtsClient) -> dict[str, Any]:
        from airflow_provider_modelarts._acceptance_state import current_checking_task_id
        from airflow_provider_modelarts.errors import ModelArtsAPIError

        rate = _as_number("sampling_rate", self.sampling_rate, float)
        num = _as_number("sampling_num", self.sampling_num, int)
        if rate is not None and not 0 < rate <= 1:
            raise AirflowFailException(f"sampling_rate must be in (0, 1], got {brief(rate)}")
        if num is not None and num < 1:
            raise AirflowFailException(f"sampling_num must be at least 1, got {brief(num)}")
        already = False
        try:
            response = client.start_acceptance(
                self.dataset_id, self.workforce_task_id, sampling_rate=rate, sampling_num=num
            )
            checking_task_id = response.task_id
        except ModelArtsAPIError as exc:
            if exc.error_code != TASK_IS_CHECKING:
                raise
            # Only one round at a time. After an Airflow retry that round is usually ours (the first try
            # started it, then died before returning): adopt it instead of failing.
            checking_task_id = current_checking_task_id(
                client.get_workforce_task(self.dataset_id, self.workforce_task_id)
            )
            if not checking_task_id:
                raise
            already = True
            self.log.warning(
                "Team labeling task %s is already being checked (%s); continuing with its running acceptance "
                "round %s, most likely started by an earlier try of this task.",
                self.workforce_task_id,
                TASK_IS_CHECKING,
                checking_task_id,
            )
        if not checking_task_id:
            raise AirflowException("ModelArts started the acceptance but returned no task_id")
        if not already:
            self.log.info(
                "Started acceptance round %s of team labeling task %s (sampling %s).",
                checking_task_id,
                self.workforce_task_id,
                f"rate {rate:g}" if rate is not None else f"{num} samples",
            )
        return {
            "mode": "start_acceptance",
            **self._ids(),
            "checking_task_id": checking_task_id,
            "already_started": already,
            "sampling_rate": rate,
            "sampling_num": num,
        }

    # -- explicit action -----------------------------------------------------------------------------------
    @staticmethod
    def _parse_action(value: Any) -> AcceptanceAction:
        from airflow_provider_modelarts.models import AcceptanceAction

        try:
            return AcceptanceAction.parse(value)
        except ValueError:
            choices = ", ".join(f"{a.name.lower()} ({int(a)})" for a in AcceptanceAction)
            raise AirflowFailException(
                f"action {brief(value)} is not an acceptance action; use one of {choices} "
                "(names in any case, '-' or '_')"
            ) from None

    def _act(self, client: ModelArtsClient, action: AcceptanceAction) -> dict[str, Any]:
        result = {"mode": "action", **self._ids(), **self._apply(client, action)}
        self.log.info(
            "Acceptance action %s (%s) on team labeling task %s: %s samples%s.",
            action.name,
            int(action),
            self.workforce_task_id,
            result["sample_count"],
            " (already applied by an earlier try)" if result["already_applied"] else "",
        )
        return result

    def _apply(self, client: ModelArtsClient, action: AcceptanceAction) -> dict[str, Any]:
        from airflow_provider_modelarts.errors import ModelArtsNotFoundError, ModelArtsValidationError
        from airflow_provider_modelarts.models import AcceptanceAction, TaskStatus

        already = False
        samples: list[Any] = []
        count: int | None = None
        try:
            response = client.update_acceptance_status(
                self.dataset_id,
                self.workforce_task_id,
                action,
                overwrite_last_result=self.overwrite_last_result,
                locale=self._locale(),
            )
            samples = list(response.samples or [])
            count = response.sample_count
        except (ModelArtsValidationError, ModelArtsNotFoundError):
            # The service refuses an action on a round that is already closed ("no acceptance in progress",
            # filed as a not-found code, or "task is checking" while it synchronizes). If the task is exactly
            # where this action leads, an earlier try applied it (its reply was lost): done, not failed.
            settled = {
                AcceptanceAction.PASS_ALL: {TaskStatus.ACCEPTED, TaskStatus.SYNCHRONIZING},
                AcceptanceAction.REJECT_ALL: {TaskStatus.REJECTED, TaskStatus.SYNCHRONIZING},
                AcceptanceAction.CANCEL: {TaskStatus.RUNNING},
            }.get(action)
            if not settled:
                raise
            status = client.get_workforce_task(self.dataset_id, self.workforce_task_id).status
            if status not in settled:
                raise
            already = True
            self.log.warning(
                "ModelArts refused %s, but team labeling task %s is already %s: treating the action as "
                "applied by an earlier try.",
                action.name,
                self.workforce_task_id,
                getattr(status, "name", status),
            )
        ids = [_sample_label(s) for s in samples[:SAMPLES_PREVIEW]]
        if count is None:
            count = len(samples)
        return {
            "action": action.name,
            "action_code": int(action),
            "sample_count": count,
            "samples_preview": ids,
            "samples_truncated": max(0, len(samples) - len(ids)),
            "already_applied": already,
        }

    # -- decision by pass rate -----------------------------------------------------------------------------
    def _decide(self, client: ModelArtsClient) -> dict[str, Any]:
        from airflow_provider_modelarts._acceptance_state import CheckStats, current_checking_task_id
        from airflow_provider_modelarts.models import AcceptanceAction

        minimum = _as_number("min_pass_rate", self.min_pass_rate, float)
        if minimum is None or math.isnan(minimum) or not 0 <= minimum <= 1:
            raise AirflowFailException(
                "min_pass_rate must be a fraction between 0 and 1 (0.95 for 95%), "
                f"got {brief(self.min_pass_rate)}"
            )
        task = client.get_workforce_task(self.dataset_id, self.workforce_task_id)
        round_id = self.checking_task_id or current_checking_task_id(task)
        if not round_id:
            raise AirflowException(
                f"Team labeling task {self.workforce_task_id} has no acceptance round to judge; start one "
                "with AcceptanceOperator(start_acceptance=True) and wait for it with AcceptanceSensor."
            )
        report = client.get_acceptance_report(self.dataset_id, self.workforce_task_id, round_id)
        stats = None
        desc = getattr(task, "checking_task_desc", None)
        for candidate in (
            getattr(report, "checking_stats", None),
            getattr(report, "total_stats", None),
            getattr(desc, "checking_stats", None),
        ):
            stats = CheckStats.from_model(candidate)
            if stats is not None:
                break
        if stats is None or stats.rate is None or not stats.checked:
            raise AirflowException(
                f"The acceptance report of round {round_id} has no checked samples yet, so there is no pass "
                "rate to decide on; wait with AcceptanceSensor(check_complete=True) first."
            )
        if self.require_all_checked and not stats.complete:
            raise AirflowException(
                f"Acceptance round {round_id} is not finished: {stats.checked} of {stats.sampled} sampled "
                "samples checked. Wait with AcceptanceSensor(check_complete=True), or pass "
                "require_all_checked=False to decide on the samples checked so far."
            )
        passed = stats.rate + _RATE_EPSILON >= minimum
        action = AcceptanceAction.PASS_ALL if passed else AcceptanceAction.REJECT_ALL
        self.log.info(
            "Acceptance round %s of team labeling task %s: %s of %s checked samples accepted, %s rejected "
            "(%s sampled); pass rate %.2f%% %s minimum %.2f%% -> %s.",
            round_id,
            self.workforce_task_id,
            stats.accepted,
            stats.checked,
            stats.rejected,
            stats.sampled,
            stats.rate * 100,
            ">=" if passed else "<",
            minimum * 100,
            action.name,
        )
        applied = self._apply(client, action)
        return {
            "mode": "pass_rate_decision",
            **self._ids(),
            "checking_task_id": round_id,
            "decision": action.name.lower(),
            "passed": passed,
            "pass_rate": stats.rate,
            "min_pass_rate": minimum,
            "sampled": stats.sampled,
            "checked": stats.checked,
            "accepted": stats.accepted,
            "rejected": stats.rejected,
            "score": stats.score,
            **applied,
        }


def _as_number(name: str, value: Any, kind: type[int] | type[float]) -> Any:
    """Numbers may arrive as text from templates ("0.95", "{{ params.rate }}")."""
    if value is None or (isinstance(value, str) and value.strip() in ("", "None")):
        return None
    if isinstance(value, bool):
        raise AirflowFailException(f"{name} must be a number, got {brief(value)}")
    try:
        number = float(value) if kind is float else int(str(value).strip())
    except (TypeError, ValueError):
        raise AirflowFailException(f"{name} must be a number, got {brief(value)}") from None
    return number


def _sample_label(sample: Any) -> str | None:
    return getattr(sample, "sample_id", None) or getattr(sample, "sample_name", None)
