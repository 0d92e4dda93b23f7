"""``ModelArtsHook``: the ModelArts operations a labeling DAG needs, with their idempotency rules.

The connection's settings and secrets are read by :mod:`airflow_provider_modelarts.hooks.connection`; this
hook turns them into clients and owns the operations operators call (one hook call per operator), so that
rules such as "a retried add that finds its samples already present counts them as done" live in one place,
as the amazon provider's ``SageMakerHook`` does for SageMaker.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.sdk import BaseHook

from airflow_provider_modelarts import acceptance
from airflow_provider_modelarts.bulk.checks import (
    DuplicateKeys,
    LabelDeletionGuard,
    RequiredKey,
    UnnamedSamples,
)
from airflow_provider_modelarts.bulk.planning import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_MAX_BATCH_BYTES,
    DEFAULT_MAX_CONCURRENCY,
    Batch,
)
from airflow_provider_modelarts.bulk.sending import BulkOperation
from airflow_provider_modelarts.bulk.sources import ListSource, Source
from airflow_provider_modelarts.bulk.tally import ItemResult, Outcome, results_from_response
from airflow_provider_modelarts.bulk.validation import Validator, fill_default, parse_option
from airflow_provider_modelarts.client import AsyncModelArtsClient, ModelArtsClient, RetryPolicy
from airflow_provider_modelarts.errors import (
    ModelArtsAPIError,
    ModelArtsError,
    ModelArtsNotFoundError,
    ModelArtsValidationError,
)
from airflow_provider_modelarts.hooks.connection import (
    CONN_TYPE,
    ModelArtsConnectionSettings,
    aget_connection_and_extras,
    amask_secrets,
    build_auth,
    connection_secrets,
    console_url,
    mask_from_any_context,
    mask_secrets,
    scrub,
)
from airflow_provider_modelarts.models import LabelFormat, Sample, SampleLabels

__all__ = ["ModelArtsConnectionSettings", "ModelArtsHook", "build_auth"]

# test_connection() backs a button in the UI: answer within seconds, not after the task retry policy.
_TEST_CONNECTION_RETRY = RetryPolicy(max_attempts=2, backoff_base=0.5, backoff_max=2.0, deadline=20.0)

#: ModelArts' answer for a sample whose name is already in the dataset. After a retried request or a task
#: retry it means "added by the earlier attempt", so it is counted as ``already_present``, not as a failure.
SAMPLE_EXISTS = "ModelArts.4422"
_ALREADY_PRESENT = frozenset({SAMPLE_EXISTS})


class ModelArtsHook(BaseHook):
    """Builds ModelArts clients from an Airflow connection of type ``modelarts``.

    The connection's login / password are the AK / SK (``auth_type`` ``aksk``, the default; add
    ``security_token`` in the extra for temporary credentials) or, with ``auth_type`` ``password``, an IAM
    user's name and password (``user_name`` / ``user_password`` extras take precedence). Other extras:
    ``project_id``, ``region``, ``endpoint``, ``iam_endpoint``, ``domain_name``, ``verify``, ``timeout``.

    :param modelarts_conn_id: the connection to use.
    :param project_id: use this project instead of the connection's ``project_id``.
    :param retry: retry policy of the clients this hook builds (the client's default if not given).
    """

    conn_name_attr = "modelarts_conn_id"
    default_conn_name = "modelarts_default"
    conn_type = CONN_TYPE
    hook_name = "Huawei Cloud ModelArts"

    def __init__(
        self,
        modelarts_conn_id: str = default_conn_name,
        *,
        project_id: str | None = None,
        retry: RetryPolicy | None = None,
        logger_name: str | None = None,
    ) -> None:
        super().__init__(logger_name=logger_name)
        self.modelarts_conn_id = modelarts_conn_id
        self._project_id_override = project_id
        self.retry = retry
        self._settings: ModelArtsConnectionSettings | None = None
        self._client: ModelArtsClient | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(modelarts_conn_id={self.modelarts_conn_id!r})"

    # -- connection ----------------------------------------------------------------------------------------

    @property
    def settings(self) -> ModelArtsConnectionSettings:
        """The connection's settings, read once per hook; secrets are masked before anything else happens."""
        if self._settings is None:
            conn = self.get_connection(self.modelarts_conn_id)
            extras = conn.extra_dejson
            mask_secrets(connection_secrets(conn, extras))
            self._settings = ModelArtsConnectionSettings.from_connection(
                conn, extras, project_id=self._project_id_override
            )
        return self._settings

    async def asettings(self) -> ModelArtsConnectionSettings:
        """Async :attr:`settings` for triggers: connection lookup and masking never block the event loop."""
        if self._settings is None:
            conn, extras = await aget_connection_and_extras(self, self.modelarts_conn_id)
            await amask_secrets(connection_secrets(conn, extras))
            self._settings = ModelArtsConnectionSettings.from_connection(
                conn, extras, project_id=self._project_id_override
            )
        return self._settings

    @property
    def project_id(self) -> str:
        return self.settings.project_id

    @property
    def region(self) -> str | None:
        return self.settings.region

    @property
    def endpoint(self) -> str:
        """The ModelArts endpoint requests go to (explicit override, else derived from the region)."""
        return self.settings.base_url

    # -- clients -------------------------------------------------------------------------------------------

    def get_conn(self) -> ModelArtsClient:
        """The hook's shared client (created on first use; pooled connections are reused across calls)."""
        if self._client is None:
            self._client = self.get_client()
        return self._client

    def get_client(self, *, retry: RetryPolicy | None = None) -> ModelArtsClient:
        """A new client; the caller owns it and should close it (``with hook.get_client() as client:``)."""
        settings = self.settings
        return ModelArtsClient(**self._client_kwargs(settings, retry))

    async def get_async_client(self, *, retry: RetryPolicy | None = None) -> AsyncModelArtsClient:
        """A new async client for triggers; ``async with await hook.get_async_client() as client:``.

        A coroutine because the connection lookup itself must not block the triggerer's event loop.
        """
        settings = await self.asettings()
        return AsyncModelArtsClient(**self._client_kwargs(settings, retry))

    def close(self) -> None:
        """Close the shared client from :meth:`get_conn`, if any."""
        if self._client is not None:
            self._client.close()
            self._client = None

    def _client_kwargs(
        self, settings: ModelArtsConnectionSettings, retry: RetryPolicy | None
    ) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "project_id": settings.project_id,
            "region": settings.region,
            "endpoint": settings.endpoint,
            "auth": build_auth(settings, on_token=mask_from_any_context),
            "timeout": settings.timeout,
            "verify": settings.verify,
        }
        if retry or self.retry:
            kwargs["retry"] = retry or self.retry
        return kwargs

    # -- UI helpers ------------------------------------------------------------------------------------------

    def console_url(self, dataset_id: str, workforce_task_id: str | None = None) -> str:
        """Link to the dataset (and team labeling task) in the console of the connection's region."""
        return console_url(self.settings.region, dataset_id, workforce_task_id)

    def test_connection(self) -> tuple[bool, str]:
        """Check credentials and project with one cheap read (list one dataset); never raises.

        The message never contains a secret: API errors are built from status and error code only, and any
        other text is scrubbed of the connection's secret values.
        """
        secrets: list[str] = []
        try:
            settings = self.settings
            secrets = list(settings.secrets())
            with ModelArtsClient(**self._client_kwargs(settings, _TEST_CONNECTION_RETRY)) as client:
                client.list_datasets(limit=1)
        except Exception as exc:
            return False, scrub(str(exc) or type(exc).__name__, secrets)
        return (
            True,
            f"Connection to ModelArts project {settings.project_id} at {settings.base_url} succeeded.",
        )

    # -- bulk operations (add samples, update labels) -----------------------------------------------------

    def add_samples(
        self,
        dataset_id: str,
        source: Source | Sequence[Any],
        *,
        final_annotation: bool | None = None,
        label_format: Any = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        max_batch_bytes: int = DEFAULT_MAX_BATCH_BYTES,
        on_invalid: str = "fail",
    ) -> dict[str, Any]:
        """Add samples in concurrent batches after validating all of them; returns the run's summary.

        Safe to repeat: a sample the service reports as already there (``ModelArts.4422``, e.g. added by a
        request whose answer was lost, or by an earlier try of the task) counts as ``already_present``. Some
        deployments reject a whole batch with 4422 when one of its samples exists; nothing of it was applied,
        so its samples are re-sent one at a time to sort them out. Raises :class:`RunRefused` (nothing sent)
        for invalid input with ``on_invalid="fail"``; rejected samples are counted in the summary.
        """
        label_format = parse_option(LabelFormat, label_format, "label_format")

        async def send(client: AsyncModelArtsClient, batch: Batch[Any]) -> list[ItemResult]:
            try:
                response = await client.add_samples(
                    dataset_id, batch.items, final_annotation=final_annotation, label_format=label_format
                )
            except ModelArtsValidationError as exc:
                if exc.error_code != SAMPLE_EXISTS:
                    raise
                if len(batch) == 1:
                    return [ItemResult(Outcome.ALREADY_PRESENT, exc.error_code, exc.error_msg)]
                return [result for single in batch.singles() for result in await send(client, single)]
            return results_from_response(response, batch.refs, already_present_codes=_ALREADY_PRESENT)

        validator = Validator(Sample, "name", [DuplicateKeys("name"), UnnamedSamples()])
        return self._run_bulk(
            source,
            validator,
            send,
            done_key="added",
            verb="Adding",
            dataset_id=dataset_id,
            batch_size=batch_size,
            max_concurrency=max_concurrency,
            max_batch_bytes=max_batch_bytes,
            on_invalid=on_invalid,
        )

    def update_labels(
        self,
        dataset_id: str,
        source: Source | Sequence[Any],
        *,
        workforce_task_id: str | None = None,
        worker_email: str | None = None,
        worker_id: str | None = None,
        allow_label_deletion: bool = False,
        batch_size: int = DEFAULT_BATCH_SIZE,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        max_batch_bytes: int = DEFAULT_MAX_BATCH_BYTES,
        on_invalid: str = "fail",
    ) -> dict[str, Any]:
        """Replace the labels of existing samples (of the dataset, or of a team labeling task) in batches.

        Safe to repeat: an update sets labels to the given value. A ``sample_id`` may appear once per run (two
        updates of one sample in concurrent batches would race). A sample sent without labels makes ModelArts
        delete all of its labels, so such samples refuse the run unless ``allow_label_deletion``.
        """
        email = worker_email or None

        async def send(client: AsyncModelArtsClient, batch: Batch[Any]) -> list[ItemResult]:
            if workforce_task_id:
                response = await client.update_workforce_task_samples(
                    dataset_id, workforce_task_id, batch.items, email=email
                )
            else:
                response = await client.update_samples(dataset_id, batch.items, email=email)
            return results_from_response(response, batch.refs)

        checks = [
            RequiredKey("sample_id", "it names the sample whose labels are replaced"),
            DuplicateKeys("sample_id"),
            LabelDeletionGuard(allow=allow_label_deletion),
        ]
        validator = Validator(SampleLabels, "sample_id", checks, prepare=fill_default("worker_id", worker_id))
        return self._run_bulk(
            source,
            validator,
            send,
            done_key="updated",
            verb="Updating labels of",
            dataset_id=dataset_id,
            ids={"workforce_task_id": workforce_task_id},
            batch_size=batch_size,
            max_concurrency=max_concurrency,
            max_batch_bytes=max_batch_bytes,
            on_invalid=on_invalid,
        )

    def _run_bulk(
        self, source: Source | Sequence[Any], validator: Validator, send: Any, **kwargs: Any
    ) -> Any:
        """Run one :class:`BulkOperation` (``kwargs``: its fields and ``ids``, the summary's first keys)."""
        ids = {"dataset_id": kwargs.pop("dataset_id"), **kwargs.pop("ids", {})}

        def target() -> str:  # reads the connection: outside the event loop, after validation passed
            return f"dataset {ids['dataset_id']} (project {self.project_id})"

        operation = BulkOperation(
            validator, send, self.get_async_client, target=target, log=self.log, **kwargs
        )
        return operation.run(source if isinstance(source, Source) else ListSource(source), **ids)

    # -- team labeling task operations (create or adopt by name, start, delete) ------------------------------

    def create_team_task(
        self,
        dataset_id: str,
        task_name: str,
        *,
        start: bool = True,
        wait_started: float = 300.0,
        **options: Any,
    ) -> dict[str, Any]:
        """The dataset's team labeling task named ``task_name``: adopted if it exists, else created; started.

        The name is the key that makes this safe to retry (an Airflow retry, a cleared task, a lost answer):
        each attempt lists the dataset's team tasks first and adopts the one of that name. Create and start
        are sent once each, without the client's retries (a blind re-send after a lost answer could make a
        second task); a lost answer (network, 5xx, throttling) or the service's "already exists"
        (``ModelArts.4620``) / "cannot be started" (``ModelArts.4621``) repeats the list-then-act step under
        the hook's retry policy instead. With ``start``, a CREATED (6) task is started and the call returns
        once it has left STARTING (0), so labels can be written into it at once.

        :param options: other fields of the create request (``workforces_config``, ``synchronize_data``,
            ``sample_conditions``, ...), validated by the models.
        :return: a summary for XCom: ``workforce_task_id``, ``task_name``, ``created`` / ``started`` (this
            call sent the create / start) and ``status``.
        """
        import tenacity

        from airflow_provider_modelarts.models import TaskStatus  # keeps the hook module light to import

        sent_create = sent_start = False
        with self.get_client() as client, self.get_client(retry=RetryPolicy(max_attempts=1)) as once:
            for attempt in self._repeat_step_retrying():
                with attempt:
                    task = self._team_task_named(client, dataset_id, task_name)
                    if task is None:
                        sent_create = True
                        reply = once.create_workforce_task(dataset_id, {**options, "task_name": task_name})
                        task = client.get_workforce_task(dataset_id, str(reply.task_id))
                    task_id, status = str(task.task_id), task.status
                    if start and status == TaskStatus.CREATED:
                        sent_start = True
                        once.start_workforce_task(dataset_id, task_id)
            if start:
                status = tenacity.Retrying(
                    stop=tenacity.stop_after_delay(wait_started),
                    wait=tenacity.wait_exponential(multiplier=0.2, max=5.0),
                    retry=tenacity.retry_if_result(
                        lambda now: now in (TaskStatus.CREATED, TaskStatus.STARTING)
                    ),
                    retry_error_callback=lambda state: state.outcome.result() if state.outcome else None,
                )(lambda: client.get_workforce_task(dataset_id, task_id).status)
        how = "created" if sent_create else "adopted (it already existed)"
        self.log.info(
            "Team labeling task %s (%s) on %s: %s, status %s", task_name, task_id, dataset_id, how, status
        )
        return {
            "workforce_task_id": task_id,
            "task_name": task_name,
            "created": sent_create,
            "started": sent_start,
            "status": int(status) if status is not None else None,
        }

    def delete_team_task(self, dataset_id: str, workforce_task_id: str) -> bool:
        """Delete a team labeling task; ``False`` when it was already gone (so a retried delete succeeds)."""
        from airflow_provider_modelarts.errors import ModelArtsNotFoundError

        with self.get_client() as client:
            try:
                client.delete_workforce_task(dataset_id, workforce_task_id)
            except ModelArtsNotFoundError:
                return False
        return True

    @staticmethod
    def _team_task_named(client: ModelArtsClient, dataset_id: str, task_name: str) -> Any:
        """The dataset's team task of that name (the oldest, should a race ever have made two), or None."""
        named = [task for task in client.iter_workforce_tasks(dataset_id) if task.task_name == task_name]
        return min(named, key=lambda task: task.create_time or 0, default=None)

    def _repeat_step_retrying(self) -> Any:
        """Repeat a list-then-act step after a lost answer, or when the service says it was already done."""
        import tenacity

        from airflow_provider_modelarts.errors import (
            ModelArtsAPIError,
            ModelArtsServerError,
            ModelArtsThrottledError,
            ModelArtsTransportError,
        )

        def worth_repeating(exc: BaseException) -> bool:
            if isinstance(exc, (ModelArtsTransportError, ModelArtsServerError, ModelArtsThrottledError)):
                return True
            # "The workforce task already exists" / "Failed to start the team labeling task": a lost answer's
            # call may have done it; the next list shows what is there.
            return isinstance(exc, ModelArtsAPIError) and exc.error_code in (
                "ModelArts.4620",
                "ModelArts.4621",
            )

        policy = self.retry or RetryPolicy()
        return tenacity.Retrying(
            stop=tenacity.stop_after_attempt(policy.max_attempts)
            | tenacity.stop_after_delay(policy.deadline),
            wait=tenacity.wait_random_exponential(multiplier=policy.backoff_base, max=policy.backoff_max),
            retry=tenacity.retry_if_exception(worth_repeating),
            reraise=True,
        )

    # -- acceptance operations (start or adopt a round, apply an action once, read figures) ------------------

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
