"""ModelArtsHook's team labeling task operations (hooks/team_tasks.py): create or adopt by name, delete once.

Only the network edge is mocked (team_task_helpers.FakeService); the operator on top is tested in
test_operators_team_tasks.py and against the emulator in tests/integration/test_team_tasks_operator.py.
The numbered tests follow issue 15: every reply the pages allow, and an adoption that cannot pick the
wrong task.
"""

from __future__ import annotations

import httpx
import pytest
from team_task_helpers import FAST_RETRY, FakeService, error

from airflow_provider_modelarts.errors import ModelArtsNotFoundError
from airflow_provider_modelarts.hooks.modelarts import ModelArtsHook
from airflow_provider_modelarts.team_tasks import (
    AmbiguousTeamTaskError,
    TeamTaskNotListedError,
    TeamTaskNotStartedError,
)


def hook() -> ModelArtsHook:
    return ModelArtsHook(retry=FAST_RETRY)


def test_a_task_of_that_name_is_adopted_not_created_again(service: FakeService) -> None:
    first = hook().create_team_task("ds-1", "labeling-a")
    again = hook().create_team_task("ds-1", "labeling-a")
    assert (first["created"], again["created"]) == (True, False)
    assert again["workforce_task_id"] == first["workforce_task_id"]
    assert service.creates.call_count == 1 and len(service.tasks) == 1


def test_a_lost_create_answer_lists_again_and_adopts_what_was_created(service: FakeService) -> None:
    service.lose_next_create_answer = True
    result = hook().create_team_task("ds-1", "labeling-b")
    assert service.creates.call_count == 1  # the create itself is never re-sent blindly
    assert list(service.tasks) == [result["workforce_task_id"]]
    assert result["status"] == 1 and result["started"] is True


def test_already_exists_from_the_service_is_settled_by_the_next_list(service: FakeService) -> None:
    """4620 ("already exists") after a race: the next list finds the task, which is adopted."""
    original = service.creates.side_effect

    def create_then_refuse(request: httpx.Request) -> httpx.Response:
        original(request)  # stored, as another attempt's create was
        return error(400, "ModelArts.4620", "exists")

    service.creates.side_effect = create_then_refuse
    result = hook().create_team_task("ds-1", "labeling-c", start=False)
    assert len(service.tasks) == 1 and result["workforce_task_id"] in service.tasks
    assert result["status"] == 6 and result["started"] is False


def test_creation_throttled_with_4395_is_tried_again_and_makes_one_task(service: FakeService) -> None:
    """429 ModelArts.4395 "Frequent dataset or labeling task creation in a unit time" (error table)."""
    original = service.creates.side_effect
    refusals = iter([error(429, "ModelArts.4395", "Too many dataset requests")])
    service.creates.side_effect = lambda request: next(refusals, None) or original(request)
    result = hook().create_team_task("ds-1", "labeling-throttled")
    assert service.creates.call_count == 2 and list(service.tasks) == [result["workforce_task_id"]]
    assert result["created"] is True and result["status"] == 1


# ------------------------------------------------------------------- 1. a create reply without task_id


@pytest.mark.parametrize(
    "body",
    [
        b"{}",
        b"",
        b"  ",
        b'{"task_id": null}',
        b'{"task_id": ""}',
        b'{"task_id": 7}',
        b'{"task_id": ["task-1"]}',
        b"[]",
        b"OK",
        b'{"result": {"id": "x"}}',
    ],
    ids=["empty", "no-body", "blank", "null", "empty-id", "number", "list", "array", "text", "other-shape"],
)
def test_1_a_create_reply_without_task_id_adopts_the_created_task_by_name(
    service: FakeService, body: bytes
) -> None:
    service.create_body = body
    result = hook().create_team_task("ds-1", "labeling-no-id")
    assert service.creates.call_count == 1 and len(service.tasks) == 1
    assert result["workforce_task_id"] == "task-1" and result["created"] is True
    assert result["started"] is True and result["status"] == 1
    asked = {call.request.url.path.rsplit("/", 1)[1] for call in service.details.calls}
    assert asked == {"task-1"}  # never ".../workforce-tasks/None"


def test_1_a_list_lagging_behind_the_create_is_read_again_without_creating_again(
    service: FakeService,
) -> None:
    service.create_body = b"{}"
    service.lagging_lists = 2  # the list right after the create, and the next, do not show it yet
    result = hook().create_team_task("ds-1", "labeling-lag")
    assert service.creates.call_count == 1 and result["workforce_task_id"] == "task-1"


def test_1_a_created_task_the_list_never_shows_fails_without_a_second_create(service: FakeService) -> None:
    service.create_body = b"{}"
    service.lagging_lists = 100
    with pytest.raises(TeamTaskNotListedError, match="labeling-hidden"):
        hook().create_team_task("ds-1", "labeling-hidden")
    assert service.creates.call_count == 1 and len(service.tasks) == 1


# --------------------------------------------------------------- 2. list pages shorter than their limit


@pytest.mark.parametrize("send_count", [True, False], ids=["with-count", "without-count"])
def test_2_short_pages_do_not_hide_an_existing_task(service: FakeService, send_count: bool) -> None:
    for day in range(5):
        service.add(f"old-{day}", f"labeling-day-{day}", 3)
    service.page_cap, service.send_count = 2, send_count  # 2 per page although the hook asks for 100
    result = hook().create_team_task("ds-1", "labeling-day-4")
    assert result["workforce_task_id"] == "old-4" and result["created"] is False
    assert service.creates.call_count == 0
    offsets = [call.request.url.params["offset"] for call in service.lists.calls]
    # With count: pages 0-2 (5 of 5 seen). Without: until the empty page 3.
    assert offsets == (["0", "1", "2"] if send_count else ["0", "1", "2", "3"])


# ------------------------------------------------------------ 3. only "task does not exist" is "gone"


def test_3_delete_of_a_task_that_is_gone_counts_as_done(service: FakeService) -> None:
    service.add("task-x", "x")
    assert hook().delete_team_task("ds-1", "task-x") is True
    for status in (400, 404):  # the error table's 400, the pages' 404
        service.missing_status = status
        assert hook().delete_team_task("ds-1", "task-x") is False
    assert service.deletes.call_count == 3


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (400, "ModelArts.4352"),  # the dataset does not exist
        (404, "ModelArts.4352"),
        (400, "ModelArts.4601"),  # the workforce does not exist
        (404, "APIGW.0101"),  # the gateway: wrong endpoint or path
        (404, None),  # a proxy's 404 page
        (400, "ModelArts.4338"),  # "The dataset ID or labeling task ID does not exist": which one?
    ],
)
def test_3_delete_raises_every_other_not_found(service: FakeService, status: int, code: str | None) -> None:
    service.deletes.side_effect = None
    service.deletes.return_value = error(status, code)
    with pytest.raises(ModelArtsNotFoundError) as raised:
        hook().delete_team_task("ds-1", "task-x")
    assert (raised.value.status, raised.value.error_code) == (status, code)


# ---------------------------------------------------------------------- 4. two tasks with one name


@pytest.mark.parametrize(
    "others",
    [
        [("task-9", 1, {"create_time": 9}), ("task-3", 1, {"create_time": 3})],
        [("task-acc", 3, {"create_time": 1}), ("task-new", 6, {"create_time": 2})],  # ACCEPTED and CREATED
        [("task-a", 1, {}), ("task-b", 1, {})],  # no create_time at all
    ],
    ids=["oldest", "accepted-and-created", "no-create-time"],
)
def test_4_two_tasks_with_the_name_are_an_error_naming_both(
    service: FakeService, others: list[tuple[str, int, dict[str, int]]]
) -> None:
    for task_id, status, fields in others:
        service.add(task_id, "dup", status, **fields)
    with pytest.raises(AmbiguousTeamTaskError) as raised:
        hook().create_team_task("ds-1", "dup")
    message = str(raised.value)
    for task_id, status, _ in others:
        assert task_id in message and f"status {status}" in message
    assert raised.value.tasks == [(task_id, status) for task_id, status, _ in others]
    assert service.creates.call_count == 0 and service.starts.call_count == 0


def test_4_ambiguity_found_after_a_create_without_task_id_is_an_error_too(service: FakeService) -> None:
    original, lists = service.lists.side_effect, iter([httpx.Response(200, json={"count": 0, "tasks": []})])
    service.lists.side_effect = lambda request: next(lists, None) or original(request)
    service.add("task-other", "dup", 1)  # not in the first list; there after the create, with its twin
    service.create_body = b"{}"
    with pytest.raises(AmbiguousTeamTaskError, match="task-other"):
        hook().create_team_task("ds-1", "dup")
    assert service.creates.call_count == 1 and service.starts.call_count == 0


# -------------------------------------------------------------- 5. returns only once the task started


def test_5_a_task_still_starting_after_the_wait_is_an_error_not_a_result(service: FakeService) -> None:
    service.status_after_start = 0  # STARTING: "files to be labeled are still being allocated"
    with pytest.raises(TeamTaskNotStartedError, match="still in status 0 STARTING") as raised:
        hook().create_team_task("ds-1", "labeling-slow", wait_started=0)
    assert raised.value.is_transient  # an Airflow retry adopts the task and waits again
    service.tasks["task-1"]["status"] = 1  # allocation finished
    again = hook().create_team_task("ds-1", "labeling-slow", wait_started=0)
    assert (again["workforce_task_id"], again["status"], again["created"]) == ("task-1", 1, False)
    assert service.creates.call_count == 1 and service.starts.call_count == 1


@pytest.mark.parametrize("status", [None, 42], ids=["no-status", "undocumented-status"])
def test_5_a_status_that_proves_nothing_is_not_taken_for_started(
    service: FakeService, status: object
) -> None:
    service.status_after_start = status
    with pytest.raises(TeamTaskNotStartedError):
        hook().create_team_task("ds-1", "labeling-unknown", wait_started=0)


def test_5_without_start_the_task_is_returned_as_it_is(service: FakeService) -> None:
    result = hook().create_team_task("ds-1", "labeling-later", start=False, wait_started=0)
    assert (result["status"], result["started"]) == (6, False)
    assert service.details.call_count == 0  # a create's task is CREATED by definition (list page)
