"""List walks over HTTP against an emulator whose lists change while they are read (issue 25 items 1, 7, 8).

The emulator's ``list_churn.py`` settings (``POST /_emulator/config``) add and delete items after each list
page it serves, make the count low, high or absent, and ignore ``offset``; ``client/_paging.py`` must yield
every item listed throughout a walk, once, or raise ``IncompleteListError`` (never a silent short result).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import httpx
import pytest

from airflow_provider_modelarts import team_tasks
from airflow_provider_modelarts.auth import AkSkAuth
from airflow_provider_modelarts.client import RetryPolicy
from airflow_provider_modelarts.errors import IncompleteListError
from airflow_provider_modelarts.export import export_labels
from modelarts_emulator import DEFAULT_ACCESS_KEY, DEFAULT_PROJECT_ID, DEFAULT_SECRET_KEY
from modelarts_emulator.testing import EmulatorServer

DS = "ds-walks"
ONCE = RetryPolicy(max_attempts=1, backoff_base=0.0, backoff_max=0.0, deadline=30.0)


def seed(emulator: EmulatorServer, samples: int = 0, tasks: int = 0) -> None:
    """A dataset of ``samples`` labeled samples and ``tasks`` accepted team tasks (``daily-0`` ...)."""
    label = [{"name": "cat", "type": 0}]
    dataset: dict[str, Any] = {
        "dataset_id": DS,
        "dataset_name": "walks",
        "dataset_type": 0,
        "samples": [{"name": f"s{i:04d}.jpg", "sample_type": 0, "labels": label} for i in range(samples)],
        "workforce_tasks": [
            {"task_id": f"task-{i:04d}", "task_name": f"daily-{i}", "status": 3, "samples": []}
            for i in range(tasks)
        ],
    }
    emulator.admin.seed({"datasets": [dataset]})


def manifest_ids(path: Path) -> list[str]:
    return [json.loads(line)["sample_id"] for line in path.read_text(encoding="utf-8").splitlines()]


def labeled_ids(emulator: EmulatorServer) -> set[str]:
    return {s["sample_id"] for s in emulator.admin.samples(DS) if s.get("labels")}


def test_issue_25_item_1_export_while_samples_are_added_writes_all_of_them(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    """300 labeled samples, 100 added while the export reads (25 after each of its first four pages)."""
    seed(emulator, samples=300)
    before = labeled_ids(emulator)
    emulator.admin.configure(list_churn_insert=25, list_churn_pages=4)
    target = tmp_path / "labels.jsonl"
    with emulator.client() as client:
        result = export_labels(client, DS, target)
    written = manifest_ids(target)
    assert len(written) == len(set(written)) == result.samples == 400
    assert set(written) == labeled_ids(emulator) and before < set(written)


def test_export_while_samples_are_deleted_and_added_writes_every_sample_listed_throughout(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    """One sample already read is deleted and one added after each page: the count does not move, yet a
    sample slides onto a page already read. The walk reads again until two passes agree."""
    seed(emulator, samples=250)
    before = labeled_ids(emulator)
    emulator.admin.configure(list_churn_insert=1, list_churn_remove=1, list_churn_pages=5)
    target = tmp_path / "labels.jsonl"
    with emulator.client() as client:
        export_labels(client, DS, target)
    written = manifest_ids(target)
    after = labeled_ids(emulator)
    assert len(written) == len(set(written))
    assert before & after <= set(written)  # every sample listed throughout
    assert after <= set(written)  # the list was quiet at the end: the last two passes read all of it


def test_an_export_of_a_list_that_never_stops_changing_fails_and_writes_nothing(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    seed(emulator, samples=30)
    emulator.admin.configure(list_churn_insert=1, list_churn_remove=1, list_churn_pages=10_000)
    target = tmp_path / "labels.jsonl"
    with emulator.client() as client, pytest.raises(IncompleteListError) as raised:
        export_labels(client, DS, target, page_size=10)
    assert raised.value.is_transient and raised.value.passes == 4
    assert "the list changed during each of 4 passes" in str(raised.value)
    assert not target.exists()


def test_an_export_of_a_list_that_grows_as_fast_as_it_is_read_fails_after_a_bounded_number_of_requests(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    """A page of samples (10) added after every list page, for far more pages than the walk may read: each
    pass stops at the cap fixed by what it knew when it began (client/_paging.py), not chasing the list."""
    seed(emulator, samples=30)
    emulator.admin.reset_stats()
    emulator.admin.configure(list_churn_insert=10, list_churn_pages=100_000)
    target = tmp_path / "labels.jsonl"
    with emulator.client() as client, pytest.raises(IncompleteListError) as raised:
        export_labels(client, DS, target, page_size=10)
    requests = emulator.admin.stats()["routes"]["list_samples"]["requests"]
    # sample_count 30, 110, 350, 1070 on each pass's first page: caps of 2x that / 10 + 2 pages
    assert requests == raised.value.pages == 8 + 24 + 72 + 216
    assert raised.value.is_transient and raised.value.passes == 4
    assert "the list grew faster than it could be read" in str(raised.value)
    assert list(tmp_path.iterdir()) == []  # nothing at the target, no temporary left beside it


def test_issue_25_item_7_adoption_with_a_low_count_and_a_full_first_page_adopts_the_task(
    emulator: EmulatorServer,
) -> None:
    """120 daily tasks: the list's first page (100, the walk's page size) is full and its count says 100.
    The walk stopped there, the task of day 110 was not found, and a create answered ModelArts.4620."""
    seed(emulator, tasks=120)
    emulator.admin.configure(list_count_error=-20)
    with emulator.client() as client:
        result = team_tasks.create_or_adopt(
            client,
            DS,
            "daily-110",
            start=False,
            wait_started=0,
            options={},
            repeat=ONCE,
            log=logging.getLogger("walks-world"),
        )
        assert (result["workforce_task_id"], result["created"]) == ("task-0110", False)
        assert sum(1 for task in client.iter_workforce_tasks(DS) if task.task_name == "daily-110") == 1


def test_adoption_reads_the_task_list_while_other_tasks_are_created(emulator: EmulatorServer) -> None:
    seed(emulator, tasks=7)
    emulator.admin.configure(task_page_cap=2, list_churn_insert=1, list_churn_pages=3)
    with emulator.client() as client:
        task = team_tasks.team_task_named(client, DS, "daily-0")  # the oldest: on the first page read
        assert task is not None and task.task_id == "task-0000"
        names = [task.task_name for task in client.iter_workforce_tasks(DS)]
    assert len(names) == len(set(names)) == 10  # 7 and the 3 created while the first walk read


@pytest.mark.parametrize(
    ("settings", "reply"),
    [
        ({"list_count_error": 5}, {"count": 8}),
        ({"list_count_error": -5}, {"count": 0}),
        ({"list_count_omitted": True}, {}),
    ],
    ids=["high", "low", "omitted"],
)
def test_the_emulator_shapes_the_count_of_each_list(
    emulator: EmulatorServer, settings: dict[str, Any], reply: dict[str, int]
) -> None:
    seed(emulator, samples=3, tasks=3)
    emulator.admin.configure(**settings)
    auth = AkSkAuth(DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, project_id=DEFAULT_PROJECT_ID)
    base = f"{emulator.base_url}/v2/{DEFAULT_PROJECT_ID}/datasets/{DS}"
    tasks = httpx.get(f"{base}/workforce-tasks", auth=auth).json()
    samples = httpx.get(f"{base}/data-annotations/samples", auth=auth).json()
    assert {k: v for k, v in tasks.items() if k == "count"} == reply
    assert {k: v for k, v in samples.items() if k == "sample_count"} == {
        f"sample_{k}": v for k, v in reply.items()
    }


def test_a_server_that_ignores_offset_fails_the_walk_instead_of_a_short_result(
    emulator: EmulatorServer,
) -> None:
    seed(emulator, samples=5)
    emulator.admin.configure(list_ignore_offset=True)
    with emulator.client() as client:
        walk = client.iter_samples(DS, page_size=2)
        assert len([next(walk), next(walk)]) == 2
        with pytest.raises(IncompleteListError, match="counts reported: 5, 4 pages read in 2 passes"):
            next(walk)


def test_churn_settings_are_checked(emulator: EmulatorServer) -> None:
    with pytest.raises(RuntimeError, match="must not be negative"):
        emulator.admin.configure(list_churn_remove=-1)
    with pytest.raises(RuntimeError, match="must be a number"):
        emulator.admin.configure(list_churn_pages=True)
