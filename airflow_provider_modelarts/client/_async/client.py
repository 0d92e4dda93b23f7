"""The ModelArts data-labeling client: every API method, written once.

``_async/client.py`` (what to send) and ``_async/core.py`` (how to send it) are the source of both clients:
``scripts/unasync.py`` writes ``_sync/client.py`` and ``_sync/core.py`` from them by replacing tokens, the way
httpcore does, and ``make lint`` fails when a generated file is out of date. Edit the async files, then run
``python scripts/unasync.py``.

Each method is ``build -> send -> parse``: requests are built and replies parsed by pure functions
(``_requests/``: labeling, team tasks, import tasks); sending, retries (:mod:`.retries`) and error mapping
(:mod:`.errors`) belong to the core. No Airflow import here, so the client is usable as a plain library and
in the emulator tests.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from enum import Enum
from typing import Any

from airflow_provider_modelarts.client._async.core import AsyncClientCore
from airflow_provider_modelarts.client._requests import import_tasks as imports
from airflow_provider_modelarts.client._requests import labeling as req
from airflow_provider_modelarts.client._requests import team_tasks as team
from airflow_provider_modelarts.client._requests.call import ApiCall
from airflow_provider_modelarts.models import (
    AcceptanceAction,
    AcceptanceReport,
    BatchResponse,
    CreateImportTaskRequest,
    CreateImportTaskResponse,
    CreateWorkforceSamplingTaskResponse,
    CreateWorkforceTaskRequest,
    CreateWorkforceTaskResponse,
    DescribeSampleResp,
    ImportTaskStatusResp,
    LabelFormat,
    ListImportTasksResponse,
    ListSamplesResponse,
    ListWorkforceTasksResponse,
    Sample,
    SampleLabels,
    StartWorkforceTaskRequest,
    UpdateAcceptanceStatusResponse,
    UpdateWorkforceTaskRequest,
    UploadSamplesResponse,
    WorkforceTask,
    WorkforceTaskChangeResponse,
)

__all__ = ["AsyncModelArtsClient"]


class AsyncModelArtsClient(AsyncClientCore):
    """Client of the ModelArts data-labeling API; use it as a context manager or close it when done.

    The async client works under asyncio and trio (it sleeps through anyio); the sync client is thread-safe
    for concurrent calls (httpx.Client is). Constructor keywords: ``project_id`` and ``region`` or
    ``endpoint``; ``auth`` (an ``httpx.Auth``), ``timeout``, ``verify``, ``retry`` (a :class:`RetryPolicy`),
    ``max_connections``, ``transport``, ``headers``; ``async_sleep``, ``clock`` and ``rng`` for tests.
    """

    # ---------------------------------------------------------------------------------- samples and labels

    async def add_samples(
        self,
        dataset_id: str,
        samples: Sequence[Sample | Mapping[str, Any]],
        *,
        final_annotation: bool | None = None,
        label_format: LabelFormat | Mapping[str, Any] | None = None,
    ) -> UploadSamplesResponse:
        """Add samples to a dataset (one POST; per-sample failures come back in ``results``, not as errors).

        Mappings are validated into :class:`Sample` first and every invalid sample is reported together
        (``SampleValidationError``) before anything is sent.
        """
        return await self._call(
            req.add_samples(
                self.project_id,
                dataset_id,
                samples,
                final_annotation=final_annotation,
                label_format=label_format,
            )
        )

    async def update_samples(
        self,
        dataset_id: str,
        samples: Sequence[SampleLabels | Mapping[str, Any]],
        *,
        email: str | None = None,
    ) -> BatchResponse:
        """Replace the labels of dataset samples; a sample with ``labels=[]`` loses all its labels."""
        return await self._call(req.update_samples(self.project_id, dataset_id, samples, email=email))

    async def update_workforce_task_samples(
        self,
        dataset_id: str,
        workforce_task_id: str,
        samples: Sequence[SampleLabels | Mapping[str, Any]],
        *,
        email: str | None = None,
    ) -> BatchResponse:
        """Replace labels of samples inside a team labeling task (as reviewer/owner ``email``, if given)."""
        return await self._call(
            req.update_workforce_task_samples(
                self.project_id, dataset_id, workforce_task_id, samples, email=email
            )
        )

    async def list_samples(
        self,
        dataset_id: str,
        *,
        sample_state: str | Enum | None = None,
        limit: int = 100,
        offset: int = 0,
        **filters: Any,
    ) -> ListSamplesResponse:
        """One page of a dataset's samples (``offset`` is the page number, see :meth:`iter_samples`)."""
        return await self._call(
            req.list_samples(
                self.project_id, dataset_id, sample_state=sample_state, limit=limit, offset=offset, **filters
            )
        )

    def iter_samples(
        self,
        dataset_id: str,
        *,
        sample_state: str | Enum | None = None,
        page_size: int = 100,
        on_incomplete: str = "raise",
        **filters: Any,
    ) -> AsyncIterator[DescribeSampleResp]:
        """Every sample matching the filters, each once, fetched page by page as the iterator is consumed.

        Walked in passes until two read the same pages (``client/_paging.py``), in ``order=asc`` (the page's
        stable order) unless ``order`` is given. A walk that cannot prove it saw every sample (the list kept
        changing, or its count says more) raises ``IncompleteListError`` after the last sample, or with
        ``on_incomplete="warn"`` logs a warning with the numbers. Arguments are checked now, not at the
        first ``next()``, so a typo fails where it is made.
        """
        filters.setdefault("order", "asc")
        return self._sample_walk(
            req.list_samples, (dataset_id,), page_size, sample_state, on_incomplete, filters
        )

    async def list_workforce_task_samples(
        self,
        dataset_id: str,
        workforce_task_id: str,
        *,
        sample_state: str | Enum | None = None,
        limit: int = 100,
        offset: int = 0,
        **filters: Any,
    ) -> ListSamplesResponse:
        """One page of a team labeling task's samples (``offset`` is the page number)."""
        return await self._call(
            req.list_workforce_task_samples(
                self.project_id,
                dataset_id,
                workforce_task_id,
                sample_state=sample_state,
                limit=limit,
                offset=offset,
                **filters,
            )
        )

    def iter_workforce_task_samples(
        self,
        dataset_id: str,
        workforce_task_id: str,
        *,
        sample_state: str | Enum | None = None,
        page_size: int = 100,
        on_incomplete: str = "raise",
        **filters: Any,
    ) -> AsyncIterator[DescribeSampleResp]:
        """Every sample of a team labeling task matching the filters, each once, fetched page by page;
        walked as :meth:`iter_samples` walks (its page documents the same ``limit`` and ``sample_count``)
        except for the order: this page documents no ``order`` parameter."""
        return self._sample_walk(
            req.list_workforce_task_samples,
            (dataset_id, workforce_task_id),
            page_size,
            sample_state,
            on_incomplete,
            filters,
        )

    def _sample_walk(
        self,
        builder: Callable[..., ApiCall[ListSamplesResponse]],
        ids: tuple[str, ...],
        page_size: int,
        sample_state: str | Enum | None,
        on_incomplete: str,
        filters: dict[str, Any],
    ) -> AsyncIterator[DescribeSampleResp]:
        """The walk of both sample lists (the dataset's and a team task's: the same page shape)."""
        build, pager = self._page_source(
            builder,
            ids,
            page_size,
            req.MAX_PAGE_SIZE,
            "sample_id",
            on_incomplete=on_incomplete,
            # "sample_count: Number of samples." -- the total, or maybe this page's size: see _paging.py.
            count_may_be_page_size=True,
            sample_state=sample_state,
            **filters,
        )
        return self._pages(build, pager, lambda page: (page.samples, page.sample_count))

    # --------------------------------------------------------------------------------------- acceptance

    async def update_acceptance_status(
        self,
        dataset_id: str,
        workforce_task_id: str,
        action: AcceptanceAction | int | str,
        *,
        overwrite_last_result: bool | None = None,
        locale: str = "en-us",
    ) -> UpdateAcceptanceStatusResponse:
        """Finish (or cancel) a team labeling task's acceptance; ``action`` may be a name like "pass_all"."""
        return await self._call(
            req.update_acceptance_status(
                self.project_id,
                dataset_id,
                workforce_task_id,
                action,
                overwrite_last_result=overwrite_last_result,
                locale=locale,
            )
        )

    async def start_acceptance(
        self,
        dataset_id: str,
        workforce_task_id: str,
        *,
        sampling_rate: float | None = None,
        sampling_num: int | None = None,
        **extra: Any,
    ) -> CreateWorkforceSamplingTaskResponse:
        """Start acceptance sampling of a team labeling task; returns the checking task id."""
        return await self._call(
            req.start_acceptance(
                self.project_id,
                dataset_id,
                workforce_task_id,
                sampling_rate=sampling_rate,
                sampling_num=sampling_num,
                **extra,
            )
        )

    async def get_acceptance_report(
        self, dataset_id: str, workforce_task_id: str, checking_task_id: str | None = None
    ) -> AcceptanceReport:
        """Acceptance statistics; without ``checking_task_id`` the service reports the current acceptance."""
        return await self._call(
            req.get_acceptance_report(self.project_id, dataset_id, workforce_task_id, checking_task_id)
        )

    # ------------------------------------------------------------------------------ team labeling tasks

    async def get_workforce_task(
        self,
        dataset_id: str,
        workforce_task_id: str,
        *,
        sample_stats: bool | None = None,
        label_stats: bool | None = None,
        workforce_stats: bool | None = None,
    ) -> WorkforceTask:
        """Team labeling task details; the ``*_stats`` flags ask the service to include those statistics."""
        return await self._call(
            req.get_workforce_task(
                self.project_id,
                dataset_id,
                workforce_task_id,
                sample_stats=sample_stats,
                label_stats=label_stats,
                workforce_stats=workforce_stats,
            )
        )

    async def create_workforce_task(
        self, dataset_id: str, body: CreateWorkforceTaskRequest | Mapping[str, Any]
    ) -> CreateWorkforceTaskResponse:
        """Create a team labeling task; the reply's ``task_id`` is the new task's id.

        Not idempotent, so sent once, never retried by the client: a re-sent POST whose first answer was lost
        could create a second task. After a failure, look the name up with :meth:`iter_workforce_tasks` before
        creating again (``ModelArtsHook.create_team_task`` does).
        """
        return await self._call(team.create_workforce_task(self.project_id, dataset_id, body))

    async def list_workforce_tasks(
        self, dataset_id: str, *, limit: int | None = None, offset: int | None = None, **filters: Any
    ) -> ListWorkforceTasksResponse:
        """One page of a dataset's team labeling tasks (``offset`` is a page number, ``count`` the total)."""
        return await self._call(
            team.list_workforce_tasks(self.project_id, dataset_id, limit=limit, offset=offset, **filters)
        )

    def iter_workforce_tasks(
        self, dataset_id: str, *, page_size: int = 100, on_incomplete: str = "raise", **filters: Any
    ) -> AsyncIterator[WorkforceTask]:
        """Every team labeling task of a dataset, each once, fetched page by page as it is consumed.

        Walked in passes until two read the same pages (``client/_paging.py``; the page documents no order
        parameter). A walk that cannot prove it saw every task raises ``IncompleteListError`` after the last
        one, or with ``on_incomplete="warn"`` logs a warning with the numbers.
        """
        build, pager = self._page_source(
            team.list_workforce_tasks,
            (dataset_id,),
            page_size,
            team.MAX_TASK_PAGE_SIZE,
            "task_id",
            on_incomplete=on_incomplete,
            **filters,
        )
        return self._pages(build, pager, lambda page: (page.tasks, page.count))

    async def start_workforce_task(
        self,
        dataset_id: str,
        workforce_task_id: str,
        body: StartWorkforceTaskRequest | Mapping[str, Any] | None = None,
    ) -> WorkforceTaskChangeResponse:
        """Start a created team labeling task, optionally (re)assigning teams and members; sent once, never
        retried by the client (look at the task's status after a failure)."""
        return await self._call(
            team.start_workforce_task(self.project_id, dataset_id, workforce_task_id, body)
        )

    async def update_workforce_task(
        self,
        dataset_id: str,
        workforce_task_id: str,
        body: UpdateWorkforceTaskRequest | Mapping[str, Any],
    ) -> WorkforceTaskChangeResponse:
        """Change a team labeling task's name, description or team assignment."""
        return await self._call(
            team.update_workforce_task(self.project_id, dataset_id, workforce_task_id, body)
        )

    async def delete_workforce_task(
        self, dataset_id: str, workforce_task_id: str
    ) -> WorkforceTaskChangeResponse:
        """Delete a team labeling task (the dataset's samples stay)."""
        return await self._call(team.delete_workforce_task(self.project_id, dataset_id, workforce_task_id))

    # -------------------------------------------------------------------------------------- import tasks

    async def create_import_task(
        self, dataset_id: str, body: CreateImportTaskRequest | Mapping[str, Any]
    ) -> CreateImportTaskResponse:
        """Create an import task (samples and labels from OBS); sent once, never retried by the client: after
        a failure, look for it with :meth:`iter_import_tasks` first (``ModelArtsHook.start_import`` does)."""
        return await self._call(imports.create_import_task(self.project_id, dataset_id, body))

    async def list_import_tasks(
        self, dataset_id: str, *, limit: int | None = None, offset: int | None = None
    ) -> ListImportTasksResponse:
        """One page of a dataset's import tasks (``offset`` is a page number, ``total_count`` the total)."""
        return await self._call(
            imports.list_import_tasks(self.project_id, dataset_id, limit=limit, offset=offset)
        )

    def iter_import_tasks(
        self, dataset_id: str, *, page_size: int = 100, on_incomplete: str = "raise"
    ) -> AsyncIterator[ImportTaskStatusResp]:
        """Every import task of a dataset, each once, fetched page by page; walked in passes until two read
        the same pages (``client/_paging.py``; the page documents no order or filter)."""
        build, pager = self._page_source(
            imports.list_import_tasks, (dataset_id,), page_size, imports.MAX_IMPORT_PAGE_SIZE, "task_id",
            on_incomplete=on_incomplete,
        )  # fmt: skip
        return self._pages(build, pager, lambda page: (page.import_tasks, page.total_count))

    async def get_import_task(self, dataset_id: str, task_id: str) -> ImportTaskStatusResp:
        """Details of an import task: status, counts, file progress, error."""
        return await self._call(imports.get_import_task(self.project_id, dataset_id, task_id))

    # ------------------------------------------------------------------------------------------ datasets

    async def list_datasets(self, *, limit: int = 1) -> dict[str, Any]:
        """The raw dataset list; with ``limit=1`` the cheapest authenticated call (for connection tests)."""
        return await self._call(req.list_datasets(self.project_id, limit=limit))
