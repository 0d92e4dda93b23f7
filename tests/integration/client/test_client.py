"""The core client runs every call against the emulator: over real HTTP in both auth modes, and in process."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable

import httpx
import pytest

from airflow_provider_modelarts.auth import AkSkAuth, IamTokenAuth
from airflow_provider_modelarts.client import AsyncModelArtsClient, ModelArtsClient
from airflow_provider_modelarts.errors import ModelArtsNotFoundError
from airflow_provider_modelarts.models import AcceptanceAction, TaskStatus
from integration.emulator._helpers import image
from modelarts_emulator import (
    DEFAULT_ACCESS_KEY,
    DEFAULT_DOMAIN,
    DEFAULT_IAM_PASSWORD,
    DEFAULT_IAM_USER,
    DEFAULT_PROJECT_ID,
    DEFAULT_SECRET_KEY,
    EmulatorConfig,
    EmulatorState,
    create_app,
    default_seed,
    lifecycle,
)
from modelarts_emulator.testing import EmulatorServer


def _every_call(client: ModelArtsClient, emulator: EmulatorServer) -> None:
    """One pass through every client method, asserting what each one changed on the emulator."""
    assert client.list_datasets(limit=1)["total_number"] == 3

    added = client.add_samples("ds-images", [image("new-1.jpg"), image("new-2.jpg"), image("cat-1.jpg")])
    assert [r.success for r in added.results or []] == [True, True, False]
    assert added.success is False
    assert added.results is not None and added.results[2].error_code == "ModelArts.4422"
    new_id = hashlib.md5(b"ds-images/new-1.jpg").hexdigest()
    assert added.results[0].info == new_id

    updated = client.update_samples(
        "ds-images", [{"sample_id": new_id, "labels": [{"name": "cat", "type": 0}]}]
    )
    assert updated.success is True
    page = client.list_samples("ds-images", sample_state="__ALL__", limit=10)
    assert [s.sample_id for s in page.samples or []] == [new_id]
    assert sum(1 for _ in client.iter_samples("ds-images", page_size=3)) == 8

    new_2 = hashlib.md5(b"ds-images/new-2.jpg").hexdigest()
    labeled = client.update_workforce_task_samples(
        "ds-images",
        "task-1",
        [{"sample_id": new_2, "labels": [{"name": "dog", "type": 0}], "worker_id": "worker-ann"}],
    )
    assert labeled.success is True
    task_page = client.list_workforce_task_samples(
        "ds-images", "task-1", sample_state="__UNCHECK__", limit=100
    )
    assert task_page.sample_count == 7  # six seeded + new-2; new-1 joined the task unlabeled
    assert sum(1 for _ in client.iter_workforce_task_samples("ds-images", "task-1", page_size=2)) == 8

    started = client.start_acceptance("ds-images", "task-1", sampling_rate=1.0)
    assert started.task_id
    emulator.admin.advance(steps=10)
    task = client.get_workforce_task("ds-images", "task-1")
    assert task.status == TaskStatus.ACCEPTING
    report = client.get_acceptance_report("ds-images", "task-1", started.task_id)
    assert report.checking_stats is not None and report.checking_stats.checked_sample_count == 7

    answer = client.update_acceptance_status("ds-images", "task-1", AcceptanceAction.PASS_ALL)
    assert answer.sample_count == 7
    emulator.admin.advance(steps=1)
    assert client.get_workforce_task("ds-images", "task-1").status == TaskStatus.ACCEPTED
    raw = client.send_raw("GET", f"/v2/{DEFAULT_PROJECT_ID}/datasets", params={"limit": 2})
    assert raw.json()["total_number"] == 3


@pytest.mark.parametrize("auth", ["aksk", "password"])
def test_every_client_call_over_real_http(paused_emulator: EmulatorServer, auth: str) -> None:
    with paused_emulator.client(auth) as client:
        _every_call(client, paused_emulator)
    routes = paused_emulator.admin.stats()["routes"]
    for name in (
        "list_datasets",
        "add_samples",
        "update_samples",
        "list_samples",
        "update_workforce_task_samples",
        "list_workforce_task_samples",
        "start_acceptance",
        "get_workforce_task",
        "get_acceptance_report",
        "update_acceptance_status",
    ):
        assert routes[name]["applied"] >= 1, name
    assert paused_emulator.admin.stats()["refused"] == 0
    assert ("iam_token" in routes) == (auth == "password")


def _dataset_calls(client: ModelArtsClient, dataset: str) -> dict[str, Callable[[], object]]:
    """Every call that names a dataset and no team labeling task."""
    return {
        "list_samples": lambda: client.list_samples(dataset),
        "add_samples": lambda: client.add_samples(dataset, [image("x.jpg")]),
        "update_samples": lambda: client.update_samples(dataset, [{"sample_id": "0" * 32, "labels": []}]),
        "list_workforce_tasks": lambda: client.list_workforce_tasks(dataset),
        "create_workforce_task": lambda: client.create_workforce_task(dataset, {}),
    }


def _task_calls(client: ModelArtsClient, dataset: str, task: str) -> dict[str, Callable[[], object]]:
    """Every call that names a dataset and a team labeling task."""
    labels = [{"sample_id": "0" * 32, "labels": []}]
    return {
        "list_workforce_task_samples": lambda: client.list_workforce_task_samples(dataset, task),
        "update_workforce_task_samples": lambda: client.update_workforce_task_samples(dataset, task, labels),
        "start_acceptance": lambda: client.start_acceptance(dataset, task, sampling_rate=0.5),
        "update_acceptance_status": lambda: client.update_acceptance_status(dataset, task, "pass_all"),
        "get_acceptance_report": lambda: client.get_acceptance_report(dataset, task),
        "get_workforce_task": lambda: client.get_workforce_task(dataset, task),
        "start_workforce_task": lambda: client.start_workforce_task(dataset, task),
        "update_workforce_task": lambda: client.update_workforce_task(dataset, task, {"description": "x"}),
        "delete_workforce_task": lambda: client.delete_workforce_task(dataset, task),
    }


@pytest.mark.parametrize("not_found_status", [None, 404])
def test_every_call_answers_a_missing_dataset_task_or_round_at_the_configured_status(
    emulator: EmulatorServer, not_found_status: int | None
) -> None:
    """The error table files 4352 / 4619 / 4612 under HTTP 400 (the default); the pages' status tables list
    404 Not Found (``not_found_status=404``). The client reads both as not found."""
    if not_found_status is not None:
        emulator.admin.configure(not_found_status=not_found_status)
    status = not_found_status or 400
    with emulator.client() as client:
        cases = [
            *((name, call, "ModelArts.4352") for name, call in _dataset_calls(client, "ds-nowhere").items()),
            *(
                (name, call, "ModelArts.4352")
                for name, call in _task_calls(client, "ds-nowhere", "task-1").items()
            ),
            *(
                (name, call, "ModelArts.4619")
                for name, call in _task_calls(client, "ds-images", "no-task").items()
            ),
            (
                "get_acceptance_report",
                lambda: client.get_acceptance_report("ds-images", "task-1", "no-round"),
                "ModelArts.4612",  # "Task not found": an unknown acceptance round
            ),
        ]
        for name, call, code in cases:
            with pytest.raises(ModelArtsNotFoundError) as missing:
                call()
            assert (missing.value.status, missing.value.error_code) == (status, code), name


@pytest.mark.parametrize("auth", ["aksk", "password"])
def test_async_client_in_process_through_asgi_transport(auth: str) -> None:
    state = EmulatorState(EmulatorConfig(step_seconds=None), seed=default_seed())
    state.reset()
    app = create_app(state)

    async def scenario() -> None:
        if auth == "aksk":
            credentials: httpx.Auth = AkSkAuth(
                DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, project_id=DEFAULT_PROJECT_ID
            )
        else:
            credentials = IamTokenAuth(
                "http://emulator",
                DEFAULT_IAM_USER,
                DEFAULT_IAM_PASSWORD,
                DEFAULT_DOMAIN,
                project_id=DEFAULT_PROJECT_ID,
            )
        async with AsyncModelArtsClient(
            project_id=DEFAULT_PROJECT_ID,
            endpoint="http://emulator",
            auth=credentials,
            transport=httpx.ASGITransport(app=app),
        ) as client:
            assert (await client.list_datasets(limit=1))["total_number"] == 3
            added = await client.add_samples("ds-images", [image("async-1.jpg")])
            assert added.success is True
            sample_id = hashlib.md5(b"ds-images/async-1.jpg").hexdigest()
            assert (await client.update_samples("ds-images", [{"sample_id": sample_id}])).success is True
            listed = await client.list_samples("ds-images", sample_state="__NONE__")
            assert sample_id in {s.sample_id for s in listed.samples or []}
            assert [s.sample_id async for s in client.iter_samples("ds-images", page_size=4)].count(
                sample_id
            ) == 1
            await client.update_workforce_task_samples(
                "ds-images", "task-1", [{"sample_id": sample_id, "labels": [{"name": "cat"}]}]
            )
            in_task = await client.list_workforce_task_samples(
                "ds-images", "task-1", sample_state="__UNCHECK__"
            )
            assert in_task.sample_count == 7
            assert len([s async for s in client.iter_workforce_task_samples("ds-images", "task-1")]) == 7
            started = await client.start_acceptance("ds-images", "task-1", sampling_num=3)
            assert (await client.get_workforce_task("ds-images", "task-1")).status == TaskStatus.SAMPLING
            lifecycle.step(state, 5)
            report = await client.get_acceptance_report("ds-images", "task-1", started.task_id)
            assert report.checking_stats is not None and report.checking_stats.sampled_sample_count == 3
            answer = await client.update_acceptance_status("ds-images", "task-1", "reject_all")
            assert answer.sample_count == 0
            lifecycle.step(state, 1)
            assert (await client.get_workforce_task("ds-images", "task-1")).status == TaskStatus.REJECTED

    asyncio.run(scenario())
    assert state.stats.snapshot()["refused"] == 0
