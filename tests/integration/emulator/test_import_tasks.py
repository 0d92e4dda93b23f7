"""The emulator's import tasks over HTTP, reading a real S3-compatible store (moto's server mode).

Pages: ``related/creating_an_import_task.rst``, ``querying_the_dataset_import_task_list.rst``,
``querying_details_about_a_dataset_import_task.rst``; error codes from ``modelarts_error_codes.tsv``. The
clock is stopped: tasks move only when a test advances the steps.
"""

from __future__ import annotations

import hashlib
from typing import Any

import httpx
import pytest

from airflow_provider_modelarts.auth import AkSkAuth
from airflow_provider_modelarts.client import ModelArtsClient
from airflow_provider_modelarts.errors import ModelArtsAPIError, ModelArtsNotFoundError
from integration.emulator._import_helpers import BUCKET, put_day, put_manifest
from modelarts_emulator import DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY
from modelarts_emulator.obs_server import S3Server
from modelarts_emulator.process import EmulatorProcess
from modelarts_emulator.seed import DEFAULT_DATASET_ID as DS
from modelarts_emulator.testing import EmulatorServer


@pytest.fixture
def world(paused_emulator: EmulatorServer, obs_store: S3Server) -> EmulatorServer:
    return paused_emulator


@pytest.fixture
def client(world: EmulatorServer) -> ModelArtsClient:
    return world.client()


def run_to_end(world: EmulatorServer, client: ModelArtsClient, task_id: str, steps: int = 20) -> Any:
    for _ in range(steps):
        task = client.get_import_task(DS, task_id)
        if task.status in ("COMPLETED", "FAILED"):
            return task
        world.admin.advance(steps=1)
    raise AssertionError(f"import {task_id} still {task.status}")


def names(world: EmulatorServer) -> set[str]:
    return {sample["sample_name"] for sample in world.admin.samples(DS)}


def test_a_directory_import_goes_through_its_states_and_adds_labeled_samples(
    world: EmulatorServer, client: ModelArtsClient, obs_store: S3Server
) -> None:
    path = put_day(obs_store, cats=3, dogs=2)
    before = names(world)
    task_id = client.create_import_task(DS, {"import_path": path, "import_type": "dir"}).task_id
    assert task_id and task_id.startswith(f"{DS}_")
    seen = []
    for _ in range(6):
        seen.append(client.get_import_task(DS, task_id).status)
        world.admin.advance(steps=1)
    assert seen[:4] == ["QUEUING", "QUEUING", "STARTING", "STARTING"] and "COMPLETED" in seen
    task = client.get_import_task(DS, task_id)
    assert (task.total_sample_count, task.imported_sample_count, task.annotated_sample_count) == (5, 5, 5)
    assert task.import_type == 0 and task.import_path == path and task.total_file_count == 5
    added = names(world) - before
    assert added == {f"{task_id}/{label}/{label}_{i:03}.jpg" for label, n in (("cat", 3), ("dog", 2))
                     for i in range(n)}  # fmt: skip
    samples = {s["sample_name"]: s for s in world.admin.samples(DS)}
    assert [label["name"] for label in samples[f"{task_id}/cat/cat_000.jpg"]["labels"]] == ["cat"]
    listed = list(client.iter_import_tasks(DS))
    assert [t.task_id for t in listed] == [task_id] and listed[0].status == "COMPLETED"
    # The admin view lists the dataset's imports too (what the chaos tier reads at the moment it kills).
    (dataset,) = [d for d in world.admin.call("GET", "datasets") if d["dataset_id"] == DS]
    assert dataset["import_tasks"] == {task_id: {"status": "COMPLETED", "import_path": path}}


def test_a_manifest_import_takes_its_lines_labels_and_leaves_them_unconfirmed(
    world: EmulatorServer, client: ModelArtsClient, obs_store: S3Server
) -> None:
    put_day(obs_store, cats=2, dogs=0)
    path = put_manifest(obs_store, "manifests/V1.manifest", [
        {"source": f"s3://{BUCKET}/day1/cat/cat_000.jpg", "annotation": [{"name": "cat"}]},
        {"source": f"obs://{BUCKET}/day1/cat/cat_001.jpg"},
        "not json",
    ])  # fmt: skip
    body = {"import_path": path, "import_type": "manifest", "final_annotation": False}
    task = run_to_end(world, client, str(client.create_import_task(DS, body).task_id))
    assert (task.status, task.import_type, task.total_sample_count, task.imported_sample_count) == (
        "COMPLETED", 1, 3, 2)  # fmt: skip
    assert (task.unconfirmed_sample_count, task.annotated_sample_count) == (1, 0)


@pytest.mark.parametrize("when", ["create", "task"])
@pytest.mark.parametrize(
    ("make_path", "code"),
    [
        (lambda store: "obs://no-such-bucket/day1/", "ModelArts.4311"),
        (lambda store: put_day(store) and f"obs://{BUCKET}/day9/", "ModelArts.4312"),
        (lambda store: put_day(store, "empty", cats=0, dogs=0, empty=2), "ModelArts.4340"),
        (
            lambda store: (
                put_day(store)
                and put_manifest(
                    store,
                    "m/missing.manifest",
                    [
                        {"source": f"s3://{BUCKET}/day1/cat/cat_000.jpg"},
                        {"source": f"s3://{BUCKET}/nope.jpg"},
                    ],
                )
            ),
            "ModelArts.4374",
        ),
        (lambda store: put_day(store) and f"obs://{BUCKET}/m/none.manifest", "ModelArts.4312"),
        (lambda store: "obs://raw-images//day1/", "ModelArts.4315"),
        (lambda store: "obs://raw-images/day 1/", "ModelArts.4313"),
        (lambda store: "https://raw-images/day1/", "ModelArts.4313"),
    ],
)
def test_what_the_store_says_is_an_obs_code_at_create_or_in_a_failed_task(
    world: EmulatorServer, client: ModelArtsClient, obs_store: S3Server, make_path: Any, code: str, when: str
) -> None:
    path = make_path(obs_store)
    world.admin.configure(import_path_errors=when)
    kind = "manifest" if path.endswith(".manifest") else "dir"
    if when == "create":
        with pytest.raises(ModelArtsAPIError) as refused:
            client.create_import_task(DS, {"import_path": path, "import_type": kind})
        assert refused.value.error_code == code and list(client.iter_import_tasks(DS)) == []
        return
    task_id = client.create_import_task(DS, {"import_path": path, "import_type": kind}).task_id
    task = run_to_end(world, client, str(task_id))
    assert (task.status, task.error_code) == ("FAILED", code) and task.error_msg


def test_a_file_too_large_is_4419(
    world: EmulatorServer, client: ModelArtsClient, obs_store: S3Server
) -> None:
    path = put_day(obs_store)
    world.admin.configure(import_max_file_bytes=9)
    with pytest.raises(ModelArtsAPIError) as refused:
        client.create_import_task(DS, {"import_path": path})
    assert (refused.value.error_code, refused.value.status) == ("ModelArts.4419", 403)


def test_an_object_that_can_no_longer_be_read_fails_the_import_with_4374(
    world: EmulatorServer, client: ModelArtsClient, obs_store: S3Server
) -> None:
    path = put_day(obs_store, cats=3, dogs=0)
    world.admin.configure(import_pace=1)
    task_id = str(client.create_import_task(DS, {"import_path": path}).task_id)  # listed at create
    obs_store.client().delete_object(Bucket=BUCKET, Key="day1/cat/cat_002.jpg")
    task = run_to_end(world, client, task_id)
    assert (task.status, task.error_code, task.imported_sample_count, task.total_sample_count) == (
        "FAILED", "ModelArts.4374", 2, 3)  # fmt: skip


def test_without_an_endpoint_every_import_is_an_obs_error(paused_emulator: EmulatorServer) -> None:
    with pytest.raises(ModelArtsAPIError) as refused:
        paused_emulator.client().create_import_task(DS, {"import_path": "obs://b/p/"})
    assert refused.value.error_code == "ModelArts.4314"


def test_one_import_runs_at_a_time(
    world: EmulatorServer, client: ModelArtsClient, obs_store: S3Server
) -> None:
    path = put_day(obs_store)
    client.create_import_task(DS, {"import_path": path})
    with pytest.raises(ModelArtsAPIError) as refused:
        client.create_import_task(DS, {"import_path": put_day(obs_store, "day2")})
    assert refused.value.error_code == "ModelArts.4356"


def test_a_bad_create_field_is_4396(world: EmulatorServer) -> None:
    # Sent raw: the client would refuse it before sending.
    url = f"{world.base_url}/v2/{world.project_id}/datasets/{DS}/import-tasks"
    for body in (
        {"import_path": 5},
        {"import_type": "dir"},
        {"import_path": "obs://b/p/", "import_type": "x"},
    ):
        answer = httpx.post(url, json=body, auth=world.auth())
        assert (answer.status_code, answer.json()["error_code"]) == (400, "ModelArts.4396")


def test_an_import_folder_imports_the_same_file_once(
    world: EmulatorServer, client: ModelArtsClient, obs_store: S3Server
) -> None:
    path = put_day(obs_store, cats=2, dogs=0)
    for _ in range(2):
        task_id = str(client.create_import_task(DS, {"import_path": path, "import_folder": "daily"}).task_id)
        task = run_to_end(world, client, task_id)
        assert (task.imported_sample_count, task.annotated_sample_count) == (2, 2)  # labeled, the 2nd too
    daily = {name for name in names(world) if name.startswith("daily/")}
    assert daily == {"daily/cat/cat_000.jpg", "daily/cat/cat_001.jpg"}
    sample_id = hashlib.md5(f"{DS}/daily/cat/cat_000.jpg".encode()).hexdigest()
    assert sample_id in {s["sample_id"] for s in world.admin.samples(DS)}
    for _ in range(2):  # without a folder, each import adds the files again
        run_to_end(world, client, str(client.create_import_task(DS, {"import_path": path}).task_id))
    assert len([n for n in names(world) if n.endswith("cat/cat_000.jpg")]) == 3


def test_the_list_can_lag_reverse_and_cap_its_pages(
    world: EmulatorServer, client: ModelArtsClient, obs_store: S3Server
) -> None:
    path = put_day(obs_store, cats=1, dogs=0)
    done = []
    for _ in range(3):
        task_id = str(client.create_import_task(DS, {"import_path": path}).task_id)
        done.append(run_to_end(world, client, task_id).task_id)
    world.admin.configure(import_list_order="desc", import_page_cap=1, import_list_lag=2)
    page = client.list_import_tasks(DS, limit=100)
    assert (page.total_count, [t.task_id for t in page.import_tasks or []]) == (3, [done[2]])
    assert [t.task_id for t in client.iter_import_tasks(DS)] == done[::-1]
    late = str(client.create_import_task(DS, {"import_path": path}).task_id)
    assert late not in {t.task_id for t in client.iter_import_tasks(DS)}
    world.admin.advance(steps=2)
    assert late in {t.task_id for t in client.iter_import_tasks(DS)}


@pytest.mark.parametrize("status", [400, 404])
def test_an_unknown_or_deleted_task_is_4612_at_the_configured_status(
    world: EmulatorServer, client: ModelArtsClient, obs_store: S3Server, status: int
) -> None:
    world.admin.configure(not_found_status=status)
    task_id = str(client.create_import_task(DS, {"import_path": put_day(obs_store)}).task_id)
    world.admin.call("DELETE", f"datasets/{DS}/import-tasks/{task_id}")
    with pytest.raises(ModelArtsNotFoundError) as gone:
        client.get_import_task(DS, task_id)
    assert (gone.value.status, gone.value.error_code) == (status, "ModelArts.4612")


def test_the_import_fail_setting_fails_an_import_after_some_samples(
    world: EmulatorServer, client: ModelArtsClient, obs_store: S3Server
) -> None:
    path = put_day(obs_store, cats=3, dogs=2)
    world.admin.configure(import_fail={"path": path, "error_code": "ModelArts.4921", "after_samples": 2})
    task = run_to_end(world, client, str(client.create_import_task(DS, {"import_path": path}).task_id))
    assert (task.status, task.error_code, task.imported_sample_count) == ("FAILED", "ModelArts.4921", 2)


@pytest.mark.parametrize(("reply", "empty"), [("empty", True), ("no_content", True), ("task_id", False)])
def test_the_create_reply_can_lack_the_task_id(
    world: EmulatorServer, client: ModelArtsClient, obs_store: S3Server, reply: str, empty: bool
) -> None:
    world.admin.configure(create_import_reply=reply)
    answer = client.create_import_task(DS, {"import_path": put_day(obs_store)})
    assert (answer.task_id is None) is empty
    assert len(list(client.iter_import_tasks(DS))) == 1


def test_the_cli_reads_the_store_it_is_given(s3_server: S3Server) -> None:
    """The emulator as its own process (``--obs-endpoint``), as the system tier and ``make demo`` start it."""
    s3_server.reset()
    path = put_day(s3_server, cats=1, dogs=1)
    with EmulatorProcess("--step-seconds", "0", obs_endpoint=s3_server.endpoint) as process:
        settings = process.admin.configure()
        assert settings["obs_endpoint"] == s3_server.endpoint and "obs_secret_key" not in settings
        auth = AkSkAuth(DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, project_id=settings["project_id"])
        with ModelArtsClient(
            project_id=settings["project_id"], endpoint=process.base_url, auth=auth
        ) as client:
            task_id = str(client.create_import_task(DS, {"import_path": path}).task_id)
            process.admin.advance(steps=10)
            task = client.get_import_task(DS, task_id)
    assert (task.status, task.imported_sample_count) == ("COMPLETED", 2)
