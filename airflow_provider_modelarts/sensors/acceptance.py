"""Wait for a ModelArts team labeling acceptance without guessing how long the reviewers need.

Acceptance is human work: it ends when people have checked the sampled samples and the owner has decided.
The sensor supports the three ways Airflow can wait: ``mode="poke"`` (holds a worker slot; fine for minutes),
``mode="reschedule"`` (frees the slot between pokes) and ``deferrable=True`` (no slot at all; the triggerer
polls). All three use the same evaluation, :func:`airflow_provider_modelarts.acceptance.evaluate`: the sensor
through ``ModelArtsHook.evaluate_acceptance``, the trigger with its async client.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import (
    AirflowFailException,
    AirflowSensorTimeout,
    AirflowSkipException,
    conf,
)
from airflow.sdk import BaseSensorOperator, PokeReturnValue

from airflow_provider_modelarts.acceptance import (
    AcceptanceCriteria,
    AcceptanceEvaluation,
    AcceptanceState,
    ProgressLog,
)
from airflow_provider_modelarts.errors import ModelArtsError
from airflow_provider_modelarts.models import TaskStatus
from airflow_provider_modelarts.operators.base import (
    ModelArtsBaseOperator,
    modelarts_template_fields,
    read_trigger_event,
)

if TYPE_CHECKING:
    from airflow.sdk import Context

__all__ = ["AcceptanceSensor"]

# Figures returned to XCom: a handful of numbers, never sample lists.
_FIGURE_KEYS = ("status", "status_name", "checking_task_id", "pass_rate", "sampled", "checked", "accepted",
                "rejected", "score")  # fmt: skip


class AcceptanceSensor(ModelArtsBaseOperator, BaseSensorOperator):
    """Wait until a team labeling task's acceptance reaches the given criteria.

    Every enabled condition must hold: the task status is one of ``target_statuses`` (default: accepted;
    ``None`` for no status condition), every sampled sample has been checked (``check_complete=True``), and
    the round's pass rate reaches ``min_pass_rate``. The wait fails, with a message saying why, when the task
    is rejected, when enough samples are rejected that ``min_pass_rate`` is out of reach, or when the awaited
    round (``checking_task_id``) is cancelled. ``soft_fail=True`` turns those failures and timeouts into a
    skip.

    Returns (XCom) ``{"status", "status_name", "checking_task_id", "pass_rate", "sampled", "checked",
    "accepted", "rejected", "score"}``.

    :param dataset_id: Dataset of the team labeling task (templated).
    :param workforce_task_id: Team labeling task (templated).
    :param checking_task_id: Acceptance round to wait for, e.g. the XCom of
        ``StartAcceptanceOperator`` (templated). Default: the task's current round.
    :param target_statuses: Statuses that count as done (names, ints or :class:`TaskStatus`).
    :param check_complete: Also wait until every sampled sample has been checked.
    :param min_pass_rate: Required pass rate in [0, 1] (templated).
    :param modelarts_conn_id: Airflow connection id.
    :param project_id: Project override; defaults to the connection's project (templated).
    :param client_retry: client ``RetryPolicy`` of the poke/reschedule polls (default: the client's). The
        trigger keeps its own short in-call retries: its poll loop is the long-term retry.
    :param deferrable: Wait in the triggerer. Default from ``[operators] default_deferrable``.
    :param poke_interval: Seconds between polls in every mode (also the trigger's interval).
    """

    template_fields: Sequence[str] = modelarts_template_fields(
        "dataset_id", "workforce_task_id", "checking_task_id", "min_pass_rate"
    )
    ui_color = "#c7e9f1"

    def __init__(
        self,
        *,
        dataset_id: str,
        workforce_task_id: str,
        checking_task_id: str | None = None,
        target_statuses: Iterable[TaskStatus | int | str] | TaskStatus | int | str | None = (
            TaskStatus.ACCEPTED,
        ),
        check_complete: bool = False,
        min_pass_rate: float | str | None = None,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.dataset_id = dataset_id
        self.workforce_task_id = workforce_task_id
        self.checking_task_id = checking_task_id
        self.target_statuses = target_statuses
        self.check_complete = check_complete
        self.min_pass_rate = min_pass_rate
        self.deferrable = deferrable
        # Poke mode logs a change at once and otherwise a heartbeat every few minutes, not every poke.
        self._progress = ProgressLog()
        # Fail at DAG parse time on criteria that can never work, unless a template will fill them in.
        if not (isinstance(min_pass_rate, str) and "{{" in min_pass_rate):
            self._criteria()

    def _criteria(self) -> AcceptanceCriteria:
        return AcceptanceCriteria.build(
            target_statuses=self.target_statuses,
            check_complete=self.check_complete,
            min_pass_rate=self.min_pass_rate,
        )

    def _checking_task_id(self) -> str | None:
        # An XCom template that rendered to nothing (or "None") means "the task's current round".
        value = self.checking_task_id
        if value is None or str(value).strip() in ("", "None"):
            return None
        return str(value)

    def _evaluate(self) -> AcceptanceEvaluation | None:
        """One poll; ``None`` when a transient API error means 'not known yet, poll again'."""
        try:
            return self.hook.evaluate_acceptance(
                self.dataset_id, self.workforce_task_id, self._criteria(), self._checking_task_id()
            )
        except ModelArtsError as exc:
            # The retry rules load on the first error, not with the module: DAG files import this one on
            # every parse (bench/bench_parse.py).
            from airflow_provider_modelarts.retries import poll_again

            if not poll_again(exc):
                raise
            self.log.warning("Transient error while polling acceptance; will poll again: %s", exc)
            return None

    def poke(self, context: Context) -> PokeReturnValue:
        evaluation = self._evaluate()
        if evaluation is None:
            return PokeReturnValue(is_done=False)
        if evaluation.state is AcceptanceState.FAILURE:
            self.log.error("%s", evaluation.message)
            # AirflowFailException: a rejection will not turn into an acceptance by retrying the sensor.
            # The base class turns it into a skip when soft_fail is set.
            raise AirflowFailException(evaluation.message)
        if evaluation.state is AcceptanceState.SUCCESS:
            self.log.info("%s", evaluation.message)
            return PokeReturnValue(is_done=True, xcom_value=_xcom(evaluation.figures))
        line = self._progress.line(evaluation, time.monotonic())
        if line is not None:
            self.log.info("%s", line)
        return PokeReturnValue(is_done=False)

    def execute(self, context: Context) -> Any:
        try:
            if not self.deferrable:
                return super().execute(context)
            return self._execute_deferrable(context)
        finally:
            if "hook" in self.__dict__:  # release pooled connections of a client this try created
                self.hook.close()

    def _skip_instead(self) -> bool:
        return bool(self.soft_fail or getattr(self, "never_fail", False))

    def _execute_deferrable(self, context: Context) -> Any:
        # One synchronous look first: an acceptance that is already decided needs no trip to the triggerer.
        try:
            first = self.poke(context)
        except AirflowFailException as exc:
            if self._skip_instead():
                raise AirflowSkipException(f"soft_fail: {exc}") from exc
            raise
        if first.is_done:
            self.log.info("Success criteria met. Exiting.")
            return first.xcom_value
        # Imported here: the trigger module pulls in airflow.triggers.base (~11 ms), a cost every DAG parse
        # would pay although only the deferring task (and the triggerer) needs it.
        from airflow_provider_modelarts.triggers.acceptance import AcceptanceTrigger

        # Said here, in the task's own section of the log: Airflow's lines about deferring come later, in a
        # collapsed group.
        self.log.info(
            "Deferring: the triggerer now waits for %s on team labeling task %s (a look every %.0f s, "
            "at most %.0f s). No worker slot is held meanwhile; the log speaks again on a change.",
            self._criteria().describe(),
            self.workforce_task_id,
            self.poke_interval,
            self.timeout,
        )
        self.defer(
            trigger=AcceptanceTrigger(
                dataset_id=self.dataset_id,
                workforce_task_id=self.workforce_task_id,
                criteria=self._criteria().to_dict(),
                checking_task_id=self._checking_task_id(),
                poll_interval=self.poke_interval,
                deadline=time.time() + self.timeout,
                modelarts_conn_id=self.modelarts_conn_id,
                project_id=self.project_id or None,
            ),
            method_name="execute_complete",
            # Backstop only: the trigger's own deadline fires first and says what it last saw.
            timeout=timedelta(seconds=self.timeout + max(60.0, self.poke_interval)),
        )

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> dict[str, Any]:
        """Resume after the trigger fired: return the figures on success, raise a clear error otherwise."""
        status, message, figures = read_trigger_event(
            self, event, what="acceptance wait", skip_instead=self._skip_instead()
        )
        if status == "success":
            return _xcom(figures)
        if status == "timeout":
            raise AirflowSensorTimeout(message)
        raise AirflowFailException(message)


def _xcom(figures: dict[str, Any]) -> dict[str, Any]:
    return {key: figures.get(key) for key in _FIGURE_KEYS}
