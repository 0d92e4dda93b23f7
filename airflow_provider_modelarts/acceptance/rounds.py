"""Starting an acceptance round and applying its action, each safe to retry; imports no Airflow.

``ModelArtsHook.start_acceptance`` / ``apply_acceptance_action`` call these with their client. Both turn a
refusal that an earlier try explains into that try's result: a retry after a lost answer must not fail on
what the first attempt already did.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_modelarts.acceptance.decision import (
    AcceptanceStart,
    AppliedAction,
    action_already_applied,
    parse_action,
)
from airflow_provider_modelarts.acceptance.figures import (
    current_checking_task_id,
    field_of,
    read_status,
    status_name,
)
from airflow_provider_modelarts.errors import (
    TASK_IS_CHECKING,
    ModelArtsAPIError,
    ModelArtsError,
    ModelArtsNotFoundError,
    ModelArtsValidationError,
)

if TYPE_CHECKING:
    from airflow_provider_modelarts.client import ModelArtsClient

__all__ = ["apply_once", "start_or_adopt"]


def start_or_adopt(
    client: ModelArtsClient,
    dataset_id: str,
    workforce_task_id: str,
    *,
    sampling_rate: float | None,
    sampling_num: int | None,
    log: Any,  # a logging.Logger or a hook's / task's structlog logger
) -> AcceptanceStart:
    """Start an acceptance round, or adopt the one already running.

    Only one round runs at a time (``ModelArts.4623``). After an Airflow retry the running round is usually
    ours (the first try started it, then died before returning), so it is adopted, not failed.
    """
    try:
        reply = client.start_acceptance(
            dataset_id, workforce_task_id, sampling_rate=sampling_rate, sampling_num=sampling_num
        )
    except ModelArtsAPIError as exc:
        if exc.error_code != TASK_IS_CHECKING:
            raise
        running = current_checking_task_id(client.get_workforce_task(dataset_id, workforce_task_id))
        if not running:
            raise
        log.warning(
            "Team labeling task %s is already being checked (%s); continuing with its running acceptance "
            "round %s, most likely started by an earlier try of this task.",
            workforce_task_id,
            TASK_IS_CHECKING,
            running,
        )
        return AcceptanceStart(running, already_started=True)
    # A reply without the id (unexpected shape) still started the round: the task details name it.
    started = field_of(reply, "task_id") or current_checking_task_id(
        client.get_workforce_task(dataset_id, workforce_task_id)
    )
    if not started:
        raise ModelArtsError(
            f"ModelArts started the acceptance of team labeling task {workforce_task_id}, but neither "
            "the reply nor the task details name the round's id."
        )
    return AcceptanceStart(str(started), already_started=False)


def apply_once(
    client: ModelArtsClient,
    dataset_id: str,
    workforce_task_id: str,
    action: Any,
    *,
    overwrite_last_result: bool | None,
    locale: str,
    log: Any,  # a logging.Logger or a hook's / task's structlog logger
) -> AppliedAction:
    """Update the acceptance status once.

    The service refuses an action on a round that is already closed (filed as "no acceptance in progress"
    or "task is checking" while it synchronizes). If the task is exactly where the action leads, an earlier
    try applied it and its reply was lost: that counts as applied, not failed.
    """
    action = parse_action(action)
    try:
        reply = client.update_acceptance_status(
            dataset_id,
            workforce_task_id,
            action,
            overwrite_last_result=overwrite_last_result,
            locale=locale,
        )
    except (ModelArtsValidationError, ModelArtsNotFoundError):
        status = read_status(client.get_workforce_task(dataset_id, workforce_task_id))
        if not action_already_applied(action, status):
            raise
        log.warning(
            "ModelArts refused %s, but team labeling task %s is already %s: treating the action as applied "
            "by an earlier try.",
            action.name,
            workforce_task_id,
            status_name(status),
        )
        return AppliedAction(action, sample_count=0, already_applied=True)
    return AppliedAction.from_reply(action, reply)
