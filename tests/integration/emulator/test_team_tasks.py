"""The team labeling task life cycle over HTTP: create, list, start, update, delete; accepted is final.

Pages: ``related/creating_a_team_labeling_task.rst``,
``querying_the_team_labeling_task_list_of_a_dataset.rst``, ``starting_a_team_labeling_task.rst``,
``updating_a_team_labeling_task.rst``,
``deleting_a_team_labeling_task.rst``; states from the list page and the user guide's team-labeling chapter.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from airflow_provider_modelarts.auth import AkSkAuth
from airflow_provider_modelarts.client import ModelArtsClient
from airflow_provider_modelarts.errors import ModelArtsAPIError, ModelArtsNotFoundError
from airflow_provider_modelarts.models import AcceptanceAction, TaskStatus
from integration.emulator._helpers import image
from modelarts_emulator import DEFAULT_ACCESS_KEY, DEFAULT_PROJECT_ID, DEFAULT_SECRET_KEY
from modelarts_emulator.seed import DEFAULT_DATASET_ID as DS
from modelarts_emulator.testing import EmulatorServer

TEAM = {"workforces": [{"workforce_id": "wf-emulator"}]}


def _sid(name: str) -> str:
    return hashlib.md5(f"{DS}/{name}".encode()).hexdigest()


def _status(client: ModelArtsClient, task_id: str) -> int:
    return int(client.get_workforce_task(DS, task_id).status)  # type: ignore[arg-type]


def _create(client: ModelArtsClient, name: str, **fields: Any) -> str:
    task_id = client.create_workforce_task(
        DS, {"task_name": name, "workforces_config": TEAM, **fields}
    ).task_id
    assert task_id is not None
    return task_id


def _raw(emulator: EmulatorServer, method: str, path: str, body: Any = None) -> httpx.Response:
    """A signed request that skips the client's own checks, to see what the emulator itself answers."""
    return httpx.request(
        method,
        f"{emulator.base_url}/v2/{DEFAULT_PROJECT_ID}/datasets/{path}",
        json=body,
        auth=AkSkAuth(DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, project_id=DEFAULT_PROJECT_ID),
    )


def test_create_then_start_assigns_the_unlabeled_samples_and_runs(paused_emulator: EmulatorServer) -> None:
    with paused_emulator.client() as client:
        assert client.add_samples(DS, [image("day-1.jpg"), image("day-2.jpg")]).success is True
        task_id = _create(client, "labeling-day")
        assert len(task_id) == 19  # the shape of the service's ids ("6phXEto29utpaMwbQkg")

        created = client.get_workforce_task(DS, task_id, sample_stats=True)
        assert (created.status, created.task_name) == (TaskStatus.CREATED, "labeling-day")
        assert created.sample_stats is not None and created.sample_stats.total_sample_count == 0
        with pytest.raises(ModelArtsAPIError) as not_running:  # nothing to label before the start
            client.update_workforce_task_samples(
                DS, task_id, [{"sample_id": _sid("day-1.jpg"), "labels": []}]
            )
        # No row of the error table says "not started yet": the generic "Parameter error." (README).
        assert (not_running.value.status, not_running.value.error_code) == (400, "ModelArts.0104")

        client.start_workforce_task(DS, task_id)
        assert (
            _status(client, task_id) == TaskStatus.STARTING
        )  # "files to be labeled are still being allocated"
        paused_emulator.admin.advance(steps=1)
        assert _status(client, task_id) == TaskStatus.RUNNING

        # "all unlabeled samples are assigned to annotators": the seeded six and the two new ones.
        assigned = list(client.iter_workforce_task_samples(DS, task_id))
        assert len(assigned) == 8 and {_sid("day-1.jpg"), _sid("day-2.jpg")} <= {
            s.sample_id for s in assigned
        }
        assert {s.worker_id for s in assigned} == {"worker-ann"}  # the team's one labeler
        labels = [{"sample_id": _sid("day-1.jpg"), "labels": [{"name": "cat", "type": 0}]}]
        assert client.update_workforce_task_samples(DS, task_id, labels).success is True

        with pytest.raises(ModelArtsAPIError) as again:  # only a created or rejected task can be started
            client.start_workforce_task(DS, task_id)
        assert (again.value.status, again.value.error_code) == (400, "ModelArts.4621")


def test_list_shows_every_team_task_of_the_dataset_by_page(emulator: EmulatorServer) -> None:
    with emulator.client() as client:
        ids = [_create(client, f"batch-{day}") for day in range(3)]
        listed = client.list_workforce_tasks(DS)
        assert listed.count == 4 and listed.tasks is not None  # several team tasks per dataset are normal
        by_name = {task.task_name: task for task in listed.tasks}
        assert set(by_name) == {"label-pets", "batch-0", "batch-1", "batch-2"}
        assert [by_name[f"batch-{day}"].task_id for day in range(3)] == ids
        assert by_name["batch-0"].status == TaskStatus.CREATED
        assert by_name["label-pets"].status == TaskStatus.RUNNING

        # offset is a page number: the page of 2 after the first 2.
        second = client.list_workforce_tasks(DS, limit=2, offset=1)
        assert second.count == 4 and [t.task_id for t in second.tasks or []] == ids[1:]
        assert [t.task_id for t in client.iter_workforce_tasks(DS, page_size=3)][1:] == ids
    for query, bad in (("limit=0", "limit"), ("limit=1001", "limit"), ("offset=-1", "offset")):
        answer = _raw(emulator, "GET", f"{DS}/workforce-tasks?{query}")
        # The error table's generic "Parameter error." (4396's row is about import task parameters).
        assert (answer.status_code, answer.json()["error_code"]) == (400, "ModelArts.0104")
        assert bad in answer.json()["error_msg"]


def test_a_second_task_with_the_same_name_is_refused_with_4620(emulator: EmulatorServer) -> None:
    with emulator.client() as client:
        first = _create(client, "nightly")
        with pytest.raises(ModelArtsAPIError) as duplicate:
            _create(client, "nightly")
        assert (duplicate.value.status, duplicate.value.error_code) == (400, "ModelArts.4620")
        assert "nightly" in str(duplicate.value)
        assert [t.task_id for t in client.iter_workforce_tasks(DS) if t.task_name == "nightly"] == [first]

        other = _create(client, "weekly")
        with pytest.raises(ModelArtsAPIError) as renamed:
            client.update_workforce_task(DS, other, {"task_name": "nightly"})
        assert renamed.value.error_code == "ModelArts.4620"


def test_update_changes_name_description_and_team(emulator: EmulatorServer) -> None:
    with emulator.client() as client:
        task_id = _create(client, "to-rename")
        client.update_workforce_task(
            DS,
            task_id,
            {
                "task_name": "renamed_task-1",
                "description": "relabel the night shots",
                "workforces_config": {
                    "workforces": [{"workforce_id": "wf-emulator", "workers": [{"email": "bob@example.com"}]}]
                },
            },
        )
        task = client.get_workforce_task(DS, task_id)
        assert (task.task_name, task.description) == ("renamed_task-1", "relabel the night shots")
        config = task.workforces_config
        assert config is not None and config.workforces is not None
        assert [w.email for w in config.workforces[0].workers or []] == ["bob@example.com"]


@pytest.mark.parametrize(
    ("body", "code", "words"),
    [
        ({"repetition": 0}, "ModelArts.0104", "repetition"),  # "The minimum value is 1."
        ({"data_sync_type": 9}, "ModelArts.0104", "data_sync_type"),  # "Options: 0 ... 3"
        (
            {"workforces_config": {"workforces": [{"workforce_id": "wf-nobody"}]}},
            "ModelArts.4601",
            "wf-nobody",
        ),
        (
            {
                "workforces_config": {
                    "workforces": [{"workforce_id": "wf-emulator", "workers": [{"email": "x@y.z"}]}]
                }
            },
            "ModelArts.4604",
            "x@y.z",
        ),
    ],
)
def test_create_refuses_what_the_pages_refuse(
    emulator: EmulatorServer, body: dict[str, Any], code: str, words: str
) -> None:
    answer = _raw(emulator, "POST", f"{DS}/workforce-tasks", body)
    assert (answer.status_code, answer.json()["error_code"]) == (400, code)
    assert words in answer.json()["error_msg"]
    assert emulator.admin.call("GET", "datasets")[0]["workforce_tasks"] == {"task-1": 1}


def test_create_accepts_what_the_pages_allow(emulator: EmulatorServer) -> None:
    # Every parameter is optional; the create page sets no rule for the name (the update page does).
    for body in ({}, {"task_name": "naming rules are the update page's, not the create page's!"}):
        answer = _raw(emulator, "POST", f"{DS}/workforce-tasks", body)
        assert answer.status_code == 200 and len(answer.json()["task_id"]) == 19


def test_delete_then_the_task_is_gone_and_unknown_ids_are_not_found(emulator: EmulatorServer) -> None:
    with emulator.client() as client:
        task_id = _create(client, "short-lived")
        answer = _raw(emulator, "DELETE", f"{DS}/workforce-tasks/{task_id}")
        assert answer.status_code == 204 and answer.content == b""  # "204 No Content"
        assert task_id not in {t.task_id for t in client.iter_workforce_tasks(DS)}
        on_the_task: tuple[Callable[[], object], ...] = (
            lambda: client.get_workforce_task(DS, task_id),
            lambda: client.start_workforce_task(DS, task_id),
            lambda: client.update_workforce_task(DS, task_id, {"description": "x"}),
            lambda: client.delete_workforce_task(DS, task_id),
        )
        for call in on_the_task:
            with pytest.raises(ModelArtsNotFoundError) as gone:
                call()
            assert gone.value.error_code == "ModelArts.4619"
        calls: tuple[Callable[[], object], ...] = (
            lambda: client.list_workforce_tasks("ds-nowhere"),
            lambda: client.create_workforce_task("ds-nowhere", {"task_name": "x"}),
        )
        for call in calls:
            with pytest.raises(ModelArtsNotFoundError) as no_dataset:
                call()
            assert no_dataset.value.error_code == "ModelArts.4352"
    # The dataset keeps its samples: deleting a task loses only its unaccepted labeling details.
    assert len(emulator.admin.samples(DS)) == 6


def test_synchronize_data_decides_whether_new_samples_join_a_started_task(
    paused_emulator: EmulatorServer,
) -> None:
    paused_emulator.admin.configure(start_steps=0)  # started tasks run at once
    with paused_emulator.client() as client:
        syncing, fixed = _create(client, "syncing", synchronize_data=True), _create(client, "fixed")
        for task_id in (syncing, fixed):
            client.start_workforce_task(DS, task_id)
            assert _status(client, task_id) == TaskStatus.RUNNING
        client.add_samples(DS, [image("late.jpg")])
        assert _sid("late.jpg") in {s.sample_id for s in client.iter_workforce_task_samples(DS, syncing)}
        # The list page: synchronize_data "false: Do not synchronize the added data. (Default value)".
        assert _sid("late.jpg") not in {s.sample_id for s in client.iter_workforce_task_samples(DS, fixed)}


def test_an_accepted_task_is_final_and_the_next_batch_gets_a_new_task(
    paused_emulator: EmulatorServer,
) -> None:
    paused_emulator.admin.configure(start_steps=0, sampling_steps=0, sync_steps=0, reviewer_pace=100)
    with paused_emulator.client() as client:
        labels = [
            {"sample_id": _sid(f"{k}-{i}.jpg"), "labels": [{"name": k, "type": 0}]}
            for k in ("cat", "dog")
            for i in (1, 2, 3)
        ]
        client.start_acceptance(DS, "task-1", sampling_rate=1.0)
        paused_emulator.admin.advance(steps=1)
        client.update_acceptance_status(DS, "task-1", AcceptanceAction.PASS_ALL)
        assert _status(client, "task-1") == TaskStatus.ACCEPTED

        with pytest.raises(ModelArtsAPIError) as final:
            client.update_workforce_task_samples(DS, "task-1", labels[:1])
        # User guide: "Once the labeled data is accepted, team members cannot modify the labeling
        # information."
        assert (final.value.status, final.value.error_code) == (403, "ModelArts.4600")
        assert "accepted" in str(final.value) and "new team labeling task" in str(final.value)
        client.add_samples(DS, [image("next-day.jpg")])  # an accepted task takes in no new samples
        assert _sid("next-day.jpg") not in {
            s.sample_id for s in client.iter_workforce_task_samples(DS, "task-1")
        }

        # The next batch: a new task takes in what is not labeled yet (the accepted six are labeled now).
        next_task = _create(client, "next-day")
        client.start_workforce_task(DS, next_task)
        assigned = [s.sample_id for s in client.iter_workforce_task_samples(DS, next_task)]
        assert assigned == [_sid("next-day.jpg")]
        answer = client.update_workforce_task_samples(
            DS, next_task, [{"sample_id": _sid("next-day.jpg"), "labels": [{"name": "dog", "type": 0}]}]
        )
        assert answer.success is True


# ------------------------------------------------------ issue 15: the other replies the pages allow


@pytest.mark.parametrize("status", [400, 404])
def test_missing_dataset_and_task_answer_the_configured_status(emulator: EmulatorServer, status: int) -> None:
    """The error table files 4352 / 4619 under 400 (the default); the pages' status tables list 404."""
    if status != 400:
        emulator.admin.configure(not_found_status=status)
    for method, path, code in (
        ("GET", "ds-nowhere/workforce-tasks", "ModelArts.4352"),
        ("POST", "ds-nowhere/workforce-tasks", "ModelArts.4352"),
        ("GET", f"{DS}/workforce-tasks/no-task", "ModelArts.4619"),
        ("POST", f"{DS}/workforce-tasks/no-task", "ModelArts.4619"),
        ("PUT", f"{DS}/workforce-tasks/no-task", "ModelArts.4619"),
        ("DELETE", f"{DS}/workforce-tasks/no-task", "ModelArts.4619"),
    ):
        answer = _raw(emulator, method, path, {} if method in ("POST", "PUT") else None)
        assert (answer.status_code, answer.json()["error_code"]) == (status, code), (method, path)
    with emulator.client() as client, pytest.raises(ModelArtsNotFoundError):  # either way: not found
        client.delete_workforce_task(DS, "no-task")


def test_task_details_carry_only_the_statistics_their_flags_ask_for(emulator: EmulatorServer) -> None:
    # The details page: sample_stats / workforce_stats / label_stats "false ... (Default value)" (the
    # emulator's default, task_stats_by_flag on).
    with emulator.client() as client:
        bare = client.get_workforce_task(DS, "task-1")
        assert (bare.sample_stats, bare.workforce_stats, bare.worker_stats, bare.label_stats) == (
            None,
            None,
            None,
            None,
        )
        full = client.get_workforce_task(
            DS, "task-1", sample_stats=True, workforce_stats=True, label_stats=True
        )
        assert full.sample_stats is not None and full.sample_stats.uncheck_sample_count == 6
        assert full.workforce_stats is not None and full.worker_stats and full.label_stats
        some = client.get_workforce_task(DS, "task-1", sample_stats=True)
        assert some.sample_stats is not None and some.workforce_stats is None
        # The list has no flags; its page's example shows the statistics.
        (listed,) = client.list_workforce_tasks(DS).tasks or []
        assert listed.sample_stats is not None
    answer = _raw(emulator, "GET", f"{DS}/workforce-tasks/task-1?sample_stats=maybe")
    assert (answer.status_code, answer.json()["error_code"]) == (400, "ModelArts.0104")


def test_without_task_stats_by_flag_details_always_carry_the_statistics(emulator: EmulatorServer) -> None:
    # The details page's example shows sample and personnel statistics with no flag in its request.
    emulator.admin.configure(task_stats_by_flag=False)
    with emulator.client() as client:
        bare = client.get_workforce_task(DS, "task-1")
        assert bare.sample_stats is not None and bare.sample_stats.uncheck_sample_count == 6
        assert bare.workforce_stats is not None and bare.worker_stats
        assert bare.label_stats is None  # label statistics still only when asked for


def test_unknown_create_body_keys_are_accepted_and_ignored(emulator: EmulatorServer) -> None:
    """The create page lists the body fields but states no refusal of others; the emulator validates no more
    strictly than a page states, so a misspelt key is ignored, as a lenient service would (README). The
    client refuses it before sending (its own input check, with a "did you mean" hint)."""
    answer = _raw(emulator, "POST", f"{DS}/workforce-tasks", {"task_nmae": "typo", "workforces_config": TEAM})
    assert answer.status_code == 200
    task_id = answer.json()["task_id"]
    with emulator.client() as client:
        task = client.get_workforce_task(DS, task_id)
        assert task.task_name != "typo" and task.task_name.startswith("task-")  # the default name
        assert "task_nmae" not in _raw(emulator, "GET", f"{DS}/workforce-tasks/{task_id}").json()  # not kept
        with pytest.raises(ValueError, match="task_name"):
            client.create_workforce_task(DS, {"task_nmae": "typo"})


def test_short_list_pages_still_count_every_task(emulator: EmulatorServer) -> None:
    emulator.admin.configure(task_page_cap=2)  # "Maximum number of records returned on each page"
    with emulator.client() as client:
        ids = ["task-1", *(_create(client, f"batch-{day}") for day in range(4))]
        first = client.list_workforce_tasks(DS, limit=100)
        assert first.count == 5 and [t.task_id for t in first.tasks or []] == ids[:2]
        assert [t.task_id for t in client.iter_workforce_tasks(DS, page_size=100)] == ids
    # 1 + (pages of 2, 2, 1 and the empty page) twice: a second pass proves the walk (client/_paging.py)
    assert emulator.admin.stats()["routes"]["list_workforce_tasks"]["requests"] == 9


@pytest.mark.parametrize(("reply", "status", "body"), [("empty", 200, b"{}"), ("no_content", 204, b"")])
def test_a_create_reply_without_task_id_still_creates_the_task(
    emulator: EmulatorServer, reply: str, status: int, body: bytes
) -> None:
    emulator.admin.configure(create_task_reply=reply)  # Table 6 marks nothing mandatory
    answer = _raw(
        emulator, "POST", f"{DS}/workforce-tasks", {"task_name": "quiet", "workforces_config": TEAM}
    )
    assert (answer.status_code, answer.content) == (status, body)
    with emulator.client() as client:
        assert [t.status for t in client.iter_workforce_tasks(DS) if t.task_name == "quiet"] == [6]


def test_task_creation_can_be_throttled_with_4395(emulator: EmulatorServer) -> None:
    emulator.admin.configure(throttle_task_creates=2)
    for _ in range(2):
        answer = _raw(emulator, "POST", f"{DS}/workforce-tasks", {"task_name": "busy"})
        # "Frequent dataset or labeling task creation in a unit time." (error table, HTTP 429)
        assert (answer.status_code, answer.json()["error_code"]) == (429, "ModelArts.4395")
    assert emulator.admin.call("GET", "config")["throttle_task_creates"] == 0
    assert _raw(emulator, "POST", f"{DS}/workforce-tasks", {"task_name": "busy"}).status_code == 200
    assert emulator.admin.call("GET", "datasets")[0]["workforce_tasks"].keys() - {"task-1"}


def test_update_accepts_letters_of_any_script(emulator: EmulatorServer) -> None:
    # Update page: "only letters, digits, underscores (_), and hyphens (-) are allowed" (no alphabet named).
    with emulator.client() as client:
        task_id = _create(client, "ascii")
        client.update_workforce_task(DS, task_id, {"task_name": "标注-täsk_1"})
        assert client.get_workforce_task(DS, task_id).task_name == "标注-täsk_1"
    answer = _raw(emulator, "PUT", f"{DS}/workforce-tasks/{task_id}", {"task_name": "a b"})
    assert (answer.status_code, answer.json()["error_code"]) == (400, "ModelArts.0104")


@pytest.mark.parametrize(
    "setting",
    [
        {"not_found_status": 410},
        {"task_page_cap": 0},
        {"create_task_reply": "bogus"},
        {"throttle_task_creates": -1},
        {"task_stats_by_flag": 1},
        {"sample_page_cap": 0},
        {"sample_page_cap": "4"},
    ],
)
def test_bad_team_task_settings_are_refused(emulator: EmulatorServer, setting: dict[str, Any]) -> None:
    answer = httpx.post(f"{emulator.base_url}/_emulator/config", json=setting)
    assert answer.status_code == 400 and next(iter(setting)) in answer.json()["error_msg"]
