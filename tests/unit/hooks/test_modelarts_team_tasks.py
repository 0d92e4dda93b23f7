"""ModelArtsHook's team labeling task operations (hooks/modelarts.py, team_tasks.py): create or adopt by name,
delete once.

Only the network edge is mocked (``FakeService`` of tests/unit/_helpers.py, the ``service`` fixture); the
operator on top is tested in tests/unit/operators/test_team_tasks.py and against the emulator in
tests/integration/operators/test_team_tasks.py.
The numbered tests follow issue 15: every reply the pages allow, and an adoption that cannot pick the
wrong task.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from retry_policies import NO_WAIT_RETRY

from airflow_provider_modelarts.client import RetryPolicy
from airflow_provider_modelarts.errors import ModelArtsNotFoundError, ModelArtsValidationError
from airflow_provider_modelarts.hooks.modelarts import ModelArtsHook
from airflow_provider_modelarts.team_tasks import (
    AmbiguousTeamTaskError,
    TeamTaskNameTakenError,
    TeamTaskNotListedError,
    TeamTaskNotStartedError,
    UnadoptableTeamTaskError,
)
from unit._helpers import FakeService, error


def hook() -> ModelArtsHook:
    return ModelArtsHook(retry=NO_WAIT_RETRY)


def test_a_task_of_that_name_is_adopted_not_created_again(service: FakeService) -> None:
    first = hook().create_team_task("ds-1", "labeling-a")
    assert service.lists.call_count == 2  # one walk of the empty list (two passes of one empty page)
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
    assert service.lists.call_count == 2 + 4  # a walk before the create (empty), one after it (the task)
    assert result["workforce_task_id"] == "task-1" and result["created"] is True
    assert result["started"] is True and result["status"] == 1
    asked = {call.request.url.path.rsplit("/", 1)[1] for call in service.details.calls}
    assert asked == {"task-1"}  # never ".../workforce-tasks/None"


def test_1_a_list_lagging_behind_the_create_is_read_again_without_creating_again(
    service: FakeService,
) -> None:
    service.create_body = b"{}"
    service.lagging_lists = 4  # the walks before and right after the create (2 requests each) miss it
    result = hook().create_team_task("ds-1", "labeling-lag")
    assert service.creates.call_count == 1 and result["workforce_task_id"] == "task-1"


ONCE = RetryPolicy(max_attempts=1, backoff_base=0.0, backoff_max=0.0, deadline=30.0)


def test_1_the_list_after_a_create_without_task_id_is_read_in_the_same_attempt(service: FakeService) -> None:
    service.create_body = b"{}"
    result = ModelArtsHook(retry=ONCE).create_team_task("ds-1", "labeling-at-once", start=False)
    assert (result["workforce_task_id"], result["created"]) == ("task-1", True)
    service.create_body, service.lagging_lists = b"{}", 100
    with pytest.raises(TeamTaskNotListedError) as raised:
        ModelArtsHook(retry=ONCE).create_team_task("ds-1", "labeling-unseen", start=False)
    assert (raised.value.dataset_id, raised.value.task_name) == ("ds-1", "labeling-unseen")


def test_1_a_created_task_the_list_never_shows_fails_without_a_second_create(service: FakeService) -> None:
    service.create_body = b"{}"
    service.lagging_lists = 100
    with pytest.raises(TeamTaskNotListedError, match="labeling-hidden") as raised:
        hook().create_team_task("ds-1", "labeling-hidden")
    assert (raised.value.dataset_id, raised.value.task_name) == ("ds-1", "labeling-hidden")
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
    # Pages of 2, 2, 1 and the empty page 3, count or not; a second pass confirms (client/_paging.py).
    assert offsets == ["0", "1", "2", "3"] * 2


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
    assert (raised.value.dataset_id, raised.value.task_name) == ("ds-1", "dup")
    assert service.creates.call_count == 0 and service.starts.call_count == 0


def test_4_ambiguity_found_after_a_create_without_task_id_is_an_error_too(service: FakeService) -> None:
    # The first walk (two passes of one empty page) shows no task of the name.
    empty = [httpx.Response(200, json={"count": 0, "tasks": []}) for _ in range(2)]
    original, lists = service.lists.side_effect, iter(empty)
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
    assert (raised.value.dataset_id, raised.value.workforce_task_id) == ("ds-1", "task-1")
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


# ------------------------------------------------------ issue 25 items 7 and 8: lists the walk must not trust


def rewrite_lists(service: FakeService, change: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
    """The fake's list replies, changed by ``change`` (a count the service gets wrong, odd items, ...)."""
    original = service.lists.side_effect

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=change(original(request).json()))

    service.lists.side_effect = handler


def refuse_taken_names(service: FakeService) -> None:
    """Creates answer ModelArts.4620 for a name the dataset already has (names unique per dataset)."""
    original = service.creates.side_effect

    def create(request: httpx.Request) -> httpx.Response:
        name = json.loads(request.content)["task_name"]
        if any(task["task_name"] == name for task in service.tasks.values()):
            return error(400, "ModelArts.4620", "The workforce task already exists")
        return original(request)

    service.creates.side_effect = create


@pytest.mark.parametrize("unique_names", [False, True], ids=["names-may-repeat", "names-unique"])
def test_7_a_low_count_with_a_full_first_page_still_finds_the_task(
    service: FakeService, unique_names: bool
) -> None:
    """About 100 days into a daily pipeline the list needs a second page; a count of 100 (low) with a full
    first page of 100 used to end the walk there: a second task was created, or 4620 failed the run."""
    for day in range(120):
        service.add(f"old-{day}", f"labeling-day-{day}", 3)
    rewrite_lists(service, lambda reply: {**reply, "count": 100})
    if unique_names:
        refuse_taken_names(service)
    result = hook().create_team_task("ds-1", "labeling-day-110")
    assert (result["workforce_task_id"], result["created"]) == ("old-110", False)
    assert service.creates.call_count == 0 and len(service.tasks) == 120


@pytest.mark.parametrize("listed", [{}, {"status": 42}], ids=["no-status", "undocumented-status"])
def test_8_a_listed_task_whose_status_proves_nothing_is_started_if_its_details_say_created(
    service: FakeService, listed: dict[str, Any]
) -> None:
    service.add("task-7", "labeling-quiet", 6)  # CREATED in its details
    rewrite_lists(
        service, lambda reply: {**reply, "tasks": [_without_status(t, listed) for t in reply["tasks"]]}
    )
    result = hook().create_team_task("ds-1", "labeling-quiet", wait_started=0)
    assert (result["workforce_task_id"], result["started"], result["status"]) == ("task-7", True, 1)
    assert service.starts.call_count == 1 and service.creates.call_count == 0
    # Details of a task already running: no second start.
    again = hook().create_team_task("ds-1", "labeling-quiet", wait_started=0)
    assert (again["started"], service.starts.call_count) == (False, 1)


def test_8_without_start_a_listed_task_without_a_status_is_returned_as_listed(service: FakeService) -> None:
    service.add("task-7", "labeling-later", 6)
    rewrite_lists(service, lambda reply: {**reply, "tasks": [_without_status(t, {}) for t in reply["tasks"]]})
    result = hook().create_team_task("ds-1", "labeling-later", start=False)
    assert (result["workforce_task_id"], result["status"], result["started"]) == ("task-7", None, False)
    assert service.details.call_count == 0  # nothing to decide without a start


def _without_status(task: dict[str, Any], listed: dict[str, Any]) -> dict[str, Any]:
    return {**{key: value for key, value in task.items() if key != "status"}, **listed}


def test_8_items_that_are_not_task_objects_are_skipped_not_an_attribute_error(service: FakeService) -> None:
    service.add("task-3", "labeling-odd", 1)
    odd = [7, "labeling-odd", None]  # at the head of the list: on its first page
    rewrite_lists(
        service, lambda reply: {**reply, "tasks": [*odd, *reply["tasks"]] if reply["tasks"] else []}
    )
    result = hook().create_team_task("ds-1", "labeling-odd")
    assert (result["workforce_task_id"], result["created"]) == ("task-3", False)
    assert service.creates.call_count == 0


@pytest.mark.parametrize("task_id", [None, "", 17], ids=["missing", "empty", "number"])
def test_8_a_task_of_the_name_without_a_task_id_is_never_adopted(service: FakeService, task_id: Any) -> None:
    service.add("task-x", "labeling-anon", 6)
    rewrite_lists(
        service, lambda reply: {**reply, "tasks": [{**t, "task_id": task_id} for t in reply["tasks"]]}
    )
    with pytest.raises(UnadoptableTeamTaskError, match="labeling-anon") as raised:
        hook().create_team_task("ds-1", "labeling-anon")
    assert raised.value.task_id == task_id and not raised.value.is_transient
    assert (raised.value.dataset_id, raised.value.task_name) == ("ds-1", "labeling-anon")
    assert service.creates.call_count == 0 and service.starts.call_count == 0
    assert service.details.call_count == 0  # never ".../workforce-tasks/None"


def test_4620_lists_again_and_adopts_the_task_in_the_same_attempt(service: FakeService) -> None:
    """A create refused with 4620 because another run created the task meanwhile: even with no attempt
    left to repeat the step, the second look at the list adopts it."""
    original = service.creates.side_effect

    def created_by_another_run(request: httpx.Request) -> httpx.Response:
        original(request)
        return error(400, "ModelArts.4620", "The workforce task already exists")

    service.creates.side_effect = created_by_another_run
    result = ModelArtsHook(retry=ONCE).create_team_task("ds-1", "labeling-race", start=False)
    assert (result["workforce_task_id"], result["created"]) == ("task-1", False)
    assert service.creates.call_count == 1


def test_4620_for_a_name_the_list_does_not_show_is_a_clear_error(service: FakeService) -> None:
    service.creates.side_effect = lambda request: error(
        400, "ModelArts.4620", "The workforce task already exists"
    )
    service.add("task-2", "labeling-other", 1)
    rewrite_lists(
        service, lambda reply: {**reply, "tasks": ["garbled", 7, *reply["tasks"]] if reply["tasks"] else []}
    )
    with pytest.raises(TeamTaskNameTakenError, match=r"\(2 listed items were not task objects\)") as raised:
        hook().create_team_task("ds-1", "labeling-elsewhere")
    assert raised.value.is_transient  # the list may show it on the next look
    assert (raised.value.dataset_id, raised.value.task_name) == ("ds-1", "labeling-elsewhere")
    assert isinstance(raised.value.__cause__, ModelArtsValidationError)
    assert service.creates.call_count == NO_WAIT_RETRY.max_attempts  # each attempt looked again first
