"""``ModelArtsHook``: every ModelArts operation a labeling DAG needs, in one class you can read top to bottom.

Each public method is a few lines that hand the hook's client to Airflow-free domain code, which owns the
operation's idempotency rule (as the amazon provider's ``SageMakerHook`` owns SageMaker's):

* bulk add / update: :mod:`airflow_provider_modelarts.bulk.operations` ("already there" counts as done);
* team labeling tasks: :mod:`airflow_provider_modelarts.team_tasks` (create or adopt by name);
* acceptance: :mod:`airflow_provider_modelarts.acceptance` (start or adopt a round, apply an action once,
  decide by pass rate, evaluate a wait);
* import tasks: :mod:`airflow_provider_modelarts.import_tasks` (start or adopt an import, evaluate it);
* export and asset URIs: :mod:`airflow_provider_modelarts.export`, :mod:`airflow_provider_modelarts.assets`.

The connection is read by :mod:`.connection`, and the hook's connection settings and clients (``__init__``,
:meth:`for_connection`, ``settings``, :meth:`get_conn`, :meth:`get_async_client`, ...) come from its base in
:mod:`._base`; whether anything is tried again is decided in
:mod:`~airflow_provider_modelarts.retries`. One way to a hook (operators, trigger, links):
:meth:`ModelArtsHook.for_connection`; to a client: :meth:`get_conn` (the shared sync client) for every sync
operation, :meth:`get_async_client` where sending is async (bulk runs, the trigger).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from airflow_provider_modelarts import acceptance, assets, export, import_tasks, team_tasks
from airflow_provider_modelarts.acceptance import rounds
from airflow_provider_modelarts.assets import endpoint_host
from airflow_provider_modelarts.bulk import operations, planning
from airflow_provider_modelarts.bulk.sources import Source
from airflow_provider_modelarts.client import RetryPolicy
from airflow_provider_modelarts.hooks._base import ModelArtsHookBase
from airflow_provider_modelarts.hooks.connection import (
    CONN_TYPE,
    console_url,
    scrub,
)
from airflow_provider_modelarts.retries import TEST_CONNECTION_RETRY

__all__ = ["ModelArtsHook"]


class ModelArtsHook(ModelArtsHookBase):
    """The ModelArts operations of a labeling DAG, on an Airflow connection of type ``modelarts``.

    The connection's login / password are the AK / SK (``auth_type`` ``aksk``, the default; add
    ``security_token`` in the extra for temporary credentials) or, with ``auth_type`` ``password``, an IAM
    user's name and password (``user_name`` / ``user_password`` extras take precedence). Other extras:
    ``project_id``, ``region``, ``endpoint``, ``iam_endpoint``, ``domain_name``, ``verify``, ``timeout``.

    ``client_class`` / ``async_client_class`` are the client types built: a subclass (or a test) can swap
    them, for example to add a transport, without touching how the connection is read.

    :param modelarts_conn_id: the connection to use.
    :param project_id: use this project instead of the connection's ``project_id``.
    :param retry: retry policy of the clients this hook builds (the client's default if not given); also
        bounds how often a list-then-act step of :meth:`create_team_task` is repeated.
    """

    conn_name_attr = "modelarts_conn_id"
    default_conn_name = "modelarts_default"
    conn_type = CONN_TYPE
    hook_name = "Huawei Cloud ModelArts"

    # -- bulk: add samples, update labels ----------------------------------------------------------------

    def add_samples(
        self,
        dataset_id: str,
        source: Source | Sequence[Any],
        *,
        final_annotation: bool | None = None,
        label_format: Any = None,
        options: planning.BulkOptions | None = None,
        **settings: Any,
    ) -> dict[str, Any]:
        """Add samples in concurrent batches after validating all of them; returns the run's summary.

        ``options``: how the run sends (:class:`~airflow_provider_modelarts.bulk.planning.BulkOptions`,
        default its defaults); ``settings``: its fields by name (``batch_size=50``), replacing those. Safe to
        repeat: a sample the service reports as already there (``ModelArts.4422``, e.g. added by a request
        whose answer was lost, or by an earlier try of the task) counts as ``already_present``. Some
        deployments reject a whole batch with 4422 when one of its samples exists; nothing of it was applied,
        so its samples are re-sent one at a time to sort them out. Raises :class:`RunRefused` (nothing sent)
        for invalid input with ``on_invalid="fail"``; rejected samples are counted in the summary.
        """
        return operations.add_samples(
            source,
            dataset_id=dataset_id,
            final_annotation=final_annotation,
            label_format=label_format,
            open_client=self.get_async_client,
            target=self._target(dataset_id),
            log=self.log,
            options=(options or planning.BulkOptions()).replace(**settings),
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
        options: planning.BulkOptions | None = None,
        **settings: Any,
    ) -> dict[str, Any]:
        """Replace the labels of existing samples (of the dataset, or of a team labeling task) in batches.

        ``options`` / ``settings`` as for :meth:`add_samples`. Safe to repeat: an update sets labels to the
        given value. A ``sample_id`` may appear once per run (two updates of one sample in concurrent
        batches would race). A sample sent without labels makes ModelArts delete all of its labels, so such
        samples refuse the run unless ``allow_label_deletion``.
        """
        return operations.update_labels(
            source,
            dataset_id=dataset_id,
            workforce_task_id=workforce_task_id,
            worker_email=worker_email,
            worker_id=worker_id,
            allow_label_deletion=allow_label_deletion,
            open_client=self.get_async_client,
            target=self._target(dataset_id),
            log=self.log,
            options=(options or planning.BulkOptions()).replace(**settings),
        )

    def _target(self, dataset_id: str) -> Callable[[], str]:
        return lambda: f"dataset {dataset_id} (project {self.project_id})"  # for the log, once input passed

    # -- team labeling tasks -------------------------------------------------------------------------------

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

        Safe to retry (an Airflow retry, a cleared task, a lost answer): the name is the key. Each attempt
        reads the dataset's whole team task list (``client/_paging.py``) and adopts the task of that name;
        nothing is guessed (errors of :mod:`airflow_provider_modelarts.team_tasks`): two of that name raise
        ``AmbiguousTeamTaskError``, one listed without a usable ``task_id`` ``UnadoptableTeamTaskError``
        (neither heals by waiting). Create and start are sent once each. A create refused with "already
        exists" (``4620``) lists again and adopts the task, or raises ``TeamTaskNameTakenError`` (transient)
        if the list still lacks it; that error, a lost answer, throttling (``4395``) or "cannot be started"
        (``4621``) repeats the list-then-act step under the hook's retry policy. A create answered without
        a ``task_id`` is found by its name, never sent again. With ``start``, a CREATED (6) task is started
        and the call returns once it is RUNNING (1) or later; after ``wait_started`` seconds
        ``TeamTaskNotStartedError`` is raised (a retry adopts the task and waits again). ``options``: other
        fields of the create request (``workforces_config``, ``synchronize_data``, ...). Returns
        ``workforce_task_id``, ``task_name``, ``created`` / ``started`` (this call sent them), ``status``.
        """
        return team_tasks.create_or_adopt(
            self.get_conn(),
            dataset_id,
            task_name,
            start=start,
            wait_started=wait_started,
            options=options,
            repeat=self.retry or RetryPolicy(),
            log=self.log,
        )

    def delete_team_task(self, dataset_id: str, workforce_task_id: str) -> bool:
        """Delete a team labeling task; ``False`` when it was already gone (so a retried delete succeeds).

        Only ``ModelArts.4619`` ("Workforce task does not exist", error table; at 400 as the table files it
        or 404 as the pages list) counts as gone. Every other not-found is raised: a missing dataset
        (``ModelArts.4352``), team (``ModelArts.4601``) or URL (the gateway's ``APIGW.0101``) says nothing
        about the task.
        """
        return team_tasks.delete(self.get_conn(), dataset_id, workforce_task_id)

    # -- acceptance ----------------------------------------------------------------------------------------

    def start_acceptance(
        self,
        dataset_id: str,
        workforce_task_id: str,
        *,
        sampling_rate: float | None = None,
        sampling_num: int | None = None,
    ) -> acceptance.AcceptanceStart:
        """Start an acceptance round, or adopt the one already running (``ModelArts.4623``): safe to retry."""
        return rounds.start_or_adopt(
            self.get_conn(),
            dataset_id,
            workforce_task_id,
            sampling_rate=sampling_rate,
            sampling_num=sampling_num,
            log=self.log,
        )

    def apply_acceptance_action(
        self,
        dataset_id: str,
        workforce_task_id: str,
        action: Any,
        *,
        overwrite_last_result: bool | None = None,
        locale: str = "en-us",
    ) -> acceptance.AppliedAction:
        """Update the acceptance status once; refused because an earlier try applied it counts as applied."""
        return rounds.apply_once(
            self.get_conn(),
            dataset_id,
            workforce_task_id,
            action,
            overwrite_last_result=overwrite_last_result,
            locale=locale,
            log=self.log,
        )

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

    # -- import tasks --------------------------------------------------------------------------------------

    def start_import(
        self,
        dataset_id: str,
        import_path: str,
        *,
        import_type: Any = None,
        known_task_id: str | None = None,
        claim_since: int | None = None,
        on_claim: Callable[[dict[str, Any]], None] | None = None,
        **options: Any,
    ) -> import_tasks.ImportStart:
        """The import of ``import_path`` this run owns: adopted, or created once (``import_tasks.adoption``:
        the claim, the bounded search, ``AmbiguousImportTaskError`` rather than a guess). ``import_type``:
        ``dir`` / ``manifest`` (``None``: from the ``.manifest`` suffix); ``options``: other create fields."""
        return import_tasks.start_or_adopt(
            self.get_conn(),
            dataset_id,
            import_path,
            import_type=import_tasks.infer_import_type(import_path, import_type),
            options=options,
            known_task_id=known_task_id,
            claim_since=claim_since,
            on_claim=on_claim,
            now_ms=lambda: int(time.time() * 1000),
            repeat=self.retry or RetryPolicy(),
            log=self.log,
        )

    def evaluate_import(
        self, dataset_id: str, task_id: str, criteria: import_tasks.ImportCriteria
    ) -> import_tasks.ImportEvaluation:
        """One look at an import task for a wait (the trigger reads the same way, async)."""
        task = import_tasks.read_task(self.get_conn(), dataset_id, task_id)
        return import_tasks.evaluate(task, criteria, dataset_id=dataset_id)

    # -- assets and export -----------------------------------------------------------------------------

    def asset_uri(self, dataset_id: str, workforce_task_id: str | None = None) -> str:
        """The ``modelarts://`` Asset URI of a dataset (or team task) at this connection's endpoint."""
        return assets.asset_uri(endpoint_host(self.endpoint), self.project_id, dataset_id, workforce_task_id)

    def export_labels(self, dataset_id: str, target: Any, **options: Any) -> export.ExportResult:
        """A dataset's labeled samples (``workforce_task_id=``: a team task's accepted ones) into a JSON
        Lines manifest at ``target``, page by page; a retry replaces it whole.

        Options and targets: :func:`airflow_provider_modelarts.export.export_labels`.
        """
        return export.export_labels(self.get_conn(), dataset_id, target, **options)

    # -- UI helpers ----------------------------------------------------------------------------------------

    def console_url(self, dataset_id: str, workforce_task_id: str | None = None) -> str:
        """Link to the dataset (and team task) in the ``console_url`` extra's console, else the region's."""
        return console_url(self.settings, dataset_id, workforce_task_id)

    def test_connection(self) -> tuple[bool, str]:
        """Check credentials and project with one cheap read (list one dataset); never raises.

        The message never contains a secret: API errors are built from status and error code only, and any
        other text is scrubbed of the connection's secret values.
        """
        secrets: list[str] = []
        try:
            settings = self.settings
            secrets = list(settings.secrets())
            with self.get_client(retry=TEST_CONNECTION_RETRY) as client:
                client.list_datasets(limit=1)
        except Exception as exc:
            return False, scrub(str(exc) or type(exc).__name__, secrets)
        return (
            True,
            f"Connection to ModelArts project {settings.project_id} at {settings.base_url} succeeded.",
        )
