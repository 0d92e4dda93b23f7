"""Acceptance operations of ``ModelArtsHook``: start or adopt a round, apply an action once, decide, evaluate.

What the figures mean and how a wait or a pass-rate decision comes out is decided by the Airflow-free
:mod:`airflow_provider_modelarts.acceptance`; this class owns the calls and their retry safety.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_modelarts import acceptance
from airflow_provider_modelarts.errors import (
    ModelArtsAPIError,
    ModelArtsError,
    ModelArtsNotFoundError,
    ModelArtsValidationError,
)
from airflow_provider_modelarts.hooks.base import ModelArtsBaseHook

__all__ = ["ModelArtsAcceptanceOperations"]


class ModelArtsAcceptanceOperations(ModelArtsBaseHook):
    """``start_acceptance``, ``apply_acceptance_action``, ``decide_acceptance``, ``evaluate_acceptance``."""

    def start_acceptance(
        self,
        dataset_id: str,
        workforce_task_id: str,
        *,
        sampling_rate: float | None = None,
        sampling_num: int | None = None,
    ) -> acceptance.AcceptanceStart:
        """Start an acceptance round, or adopt the one already running: safe to retry.

        Only one round runs at a time (``ModelArts.4623``). After an Airflow retry the running round is
        usually ours (the first try started it, then died before returning), so it is adopted, not failed.
        """
        client = self.get_conn()
        try:
            reply = client.start_acceptance(
                dataset_id, workforce_task_id, sampling_rate=sampling_rate, sampling_num=sampling_num
            )
        except ModelArtsAPIError as exc:
            if exc.error_code != acceptance.TASK_IS_CHECKING:
                raise
            task = client.get_workforce_task(dataset_id, workforce_task_id)
            running = acceptance.current_checking_task_id(task)
            if not running:
                raise
            self.log.warning(
                "Team labeling task %s is already being checked (%s); continuing with its running acceptance "
                "round %s, most likely started by an earlier try of this task.",
                workforce_task_id,
                acceptance.TASK_IS_CHECKING,
                running,
            )
            return acceptance.AcceptanceStart(running, already_started=True)
        # A reply without the id (unexpected shape) still started the round: the task details name it.
        started = acceptance.field_of(reply, "task_id") or acceptance.current_checking_task_id(
            client.get_workforce_task(dataset_id, workforce_task_id)
        )
        if not started:
            raise ModelArtsError(
                f"ModelArts started the acceptance of team labeling task {workforce_task_id}, but neither "
                "the reply nor the task details name the round's id."
            )
        return acceptance.AcceptanceStart(str(started), already_started=False)

    def apply_acceptance_action(
        self,
        dataset_id: str,
        workforce_task_id: str,
        action: Any,
        *,
        overwrite_last_result: bool | None = None,
        locale: str = "en-us",
    ) -> acceptance.AppliedAction:
        """Update the acceptance status once: safe to retry.

        The service refuses an action on a round that is already closed (filed as "no acceptance in
        progress" or "task is checking" while it synchronizes). If the task is exactly where the action leads,
        an earlier try applied it and its reply was lost: that counts as applied, not failed.
        """
        action = acceptance.parse_action(action)
        client = self.get_conn()
        try:
            reply = client.update_acceptance_status(
                dataset_id,
                workforce_task_id,
                action,
                overwrite_last_result=overwrite_last_result,
                locale=locale,
            )
        except (ModelArtsValidationError, ModelArtsNotFoundError):
            status = acceptance.read_status(client.get_workforce_task(dataset_id, workforce_task_id))
            if not acceptance.action_already_applied(action, status):
                raise
            self.log.warning(
                "ModelArts refused %s, but team labeling task %s is already %s: treating the action as "
                "applied by an earlier try.",
                action.name,
                workforce_task_id,
                acceptance.status_name(status),
            )
            return acceptance.AppliedAction(action, sample_count=0, already_applied=True)
        return acceptance.AppliedAction.from_reply(action, reply)

    def decide_acceptance(
        self,
        dataset_id: str,
        workforce_task_id: str,
        *,
        min_pass_rate: float,
        checking_task_id: str | None = None,
        require_all_checked: bool = True,
        overwrite_last_result: bool | None = None,
        locale: str = "en-us",
    ) -> tuple[acceptance.PassRateDecision, acceptance.AppliedAction]:
        """Pass all or reject all by the round's pass rate, applied once (a retry decides the same again).

        Raises :class:`~airflow_provider_modelarts.acceptance.AcceptanceNotDecidableError` while there is no
        round, nothing checked, or (with ``require_all_checked``) sampled samples still unchecked.
        """
        snapshot = acceptance.read_snapshot(self.get_conn(), dataset_id, workforce_task_id, checking_task_id)
        decision = acceptance.decide_by_pass_rate(
            snapshot, min_pass_rate, require_all_checked=require_all_checked
        )
        self.log.info("%s", decision.describe())
        applied = self.apply_acceptance_action(
            dataset_id,
            workforce_task_id,
            decision.action,
            overwrite_last_result=overwrite_last_result,
            locale=locale,
        )
        return decision, applied

    def evaluate_acceptance(
        self,
        dataset_id: str,
        workforce_task_id: str,
        criteria: acceptance.AcceptanceCriteria,
        checking_task_id: str | None = None,
    ) -> acceptance.AcceptanceEvaluation:
        """One look at the task for a wait (the sensor's poke); the trigger reads the same way, async."""
        snapshot = acceptance.read_snapshot(self.get_conn(), dataset_id, workforce_task_id, checking_task_id)
        return acceptance.evaluate_snapshot(snapshot, criteria)
