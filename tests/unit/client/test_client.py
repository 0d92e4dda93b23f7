"""client/_async/client.py / client/_sync/client.py: every API method builds the documented request and reads
the reply."""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import respx

from airflow_provider_modelarts.client import (
    AsyncModelArtsClient,
    ModelArtsClient,
    UnparsedReply,
)
from airflow_provider_modelarts.errors import IncompleteListError
from airflow_provider_modelarts.models import (
    AcceptanceAction,
    Sample,
    SampleLabels,
    SampleValidationError,
    TaskStatus,
)
from unit.client._helpers import (
    BASE,
    DETECTION_LABELS,
    DS,
    IMAGE_SAMPLE,
    PROJECT,
    TASK,
    FakeClock,
    make_async_client,
    paged,
    sent_json,
)


def test_add_samples_posts_documented_body(client_api: respx.MockRouter, client: ModelArtsClient) -> None:
    route = client_api.post(f"{DS}/data-annotations/samples").respond(
        200,
        json={
            "success": True,
            "results": [
                {"success": True, "name": "/test-obs/2.jpg", "info": "960585877c92d63911ba555ab3129d36"}
            ],
        },
    )
    result = client.add_samples("ds-1", [IMAGE_SAMPLE])
    request = route.calls.last.request
    assert request.method == "POST"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["X-Project-Id"] == PROJECT
    assert sent_json(route) == {"samples": [IMAGE_SAMPLE]}
    assert result.success is True
    assert result.results is not None
    assert result.results[0].info == "960585877c92d63911ba555ab3129d36"


def test_add_samples_accepts_models_and_options(
    client_api: respx.MockRouter, client: ModelArtsClient
) -> None:
    route = client_api.post(f"{DS}/data-annotations/samples").respond(200, json={"success": True})
    sample = Sample.model_validate({"name": "t.txt", "data": "aGVsbG8=", "sample_type": 1})
    client.add_samples(
        "ds-1",
        [sample, {"name": "u.txt", "data": "d29ybGQ="}],
        final_annotation=True,
        label_format={"label_type": "0", "text_label_separator": ","},
    )
    assert sent_json(route) == {
        "samples": [
            {"name": "t.txt", "data": "aGVsbG8=", "sample_type": 1},
            {"name": "u.txt", "data": "d29ybGQ="},
        ],
        "final_annotation": True,
        "label_format": {"label_type": "0", "text_label_separator": ","},
    }


def test_invalid_samples_fail_before_any_request(
    client_api: respx.MockRouter, client: ModelArtsClient
) -> None:
    route = client_api.post(f"{DS}/data-annotations/samples").respond(200, json={"success": True})
    bad_labels = {
        "sample_id": "s2",
        "labels": [{"name": "cat", "score": 1.5}],
    }
    with pytest.raises(SampleValidationError) as info:
        client.update_samples("ds-1", [DETECTION_LABELS, bad_labels, {"sample_id": "s3", "bogus_key": 1}])
    problems = info.value.problems
    assert {p.index for p in problems} == {1, 2}
    assert any("score" in p.field for p in problems)
    assert not route.called
    assert not client_api.calls


def test_empty_sample_list_is_sent_as_the_pages_allow(
    client_api: respx.MockRouter, client: ModelArtsClient
) -> None:
    # The add and update pages mark ``samples`` "Mandatory: No": an empty list is not refused (issue 10).
    add = client_api.post(f"{DS}/data-annotations/samples").respond(200, json={"success": True})
    update = client_api.put(f"{DS}/data-annotations/samples").respond(200, json={"success": True})
    assert client.add_samples("ds-1", []).success is True
    client.update_samples("ds-1", [])
    assert sent_json(add) == {"samples": []}
    assert sent_json(update) == {"samples": []}


def test_update_samples_puts_labels_with_aliases(
    client_api: respx.MockRouter, client: ModelArtsClient
) -> None:
    route = client_api.put(f"{DS}/data-annotations/samples").respond(200, json={"success": True})
    result = client.update_samples(
        "ds-1", [DETECTION_LABELS, SampleLabels(sample_id="b5fe", labels=[])], email="owner@example.com"
    )
    assert sent_json(route) == {
        "samples": [DETECTION_LABELS, {"sample_id": "b5fe", "labels": []}],
        "email": "owner@example.com",
    }
    assert result.success is True


def test_update_workforce_task_samples(client_api: respx.MockRouter, client: ModelArtsClient) -> None:
    route = client_api.put(f"{TASK}/data-annotations/samples").respond(
        200, json={"success": False, "results": [{"success": False, "error_code": "ModelArts.4420"}]}
    )
    payload = {**DETECTION_LABELS, "worker_id": "w-1"}
    result = client.update_workforce_task_samples("ds-1", "task-1", [payload])
    assert sent_json(route) == {"samples": [payload]}
    assert result.success is False
    assert result.results is not None
    assert result.results[0].error_code == "ModelArts.4420"


@pytest.mark.parametrize("action", [AcceptanceAction.PASS_ALL, 0, "pass_all", "PASS-ALL"])
def test_update_acceptance_status(client_api: respx.MockRouter, client: ModelArtsClient, action: Any) -> None:
    route = client_api.put(f"{TASK}/acceptance/status", params={"locale": "en-us"}).respond(200, json={})
    client.update_acceptance_status("ds-1", "task-1", action, overwrite_last_result=True)
    assert route.call_count == 1
    assert sent_json(route) == {"action": 0, "overwrite_last_result": True}
    assert dict(route.calls.last.request.url.params) == {"locale": "en-us"}


def test_update_acceptance_status_rejects_unknown_action(
    client_api: respx.MockRouter, client: ModelArtsClient
) -> None:
    with pytest.raises(ValueError, match="PASS_ALL"):
        client.update_acceptance_status("ds-1", "task-1", "approve")
    assert not client_api.calls


def test_start_acceptance(client_api: respx.MockRouter, client: ModelArtsClient) -> None:
    route = client_api.post(f"{TASK}/acceptance").respond(200, json={"task_id": "nv6BbozxCJmZcHAE9hV"})
    result = client.start_acceptance("ds-1", "task-1", sampling_rate=0.2)
    assert sent_json(route) == {"sampling_rate": 0.2}
    assert result.task_id == "nv6BbozxCJmZcHAE9hV"


def test_get_workforce_task(client_api: respx.MockRouter, client: ModelArtsClient) -> None:
    route = client_api.get(TASK).respond(
        200,
        json={
            "dataset_id": "ds-1",
            "task_id": "task-1",
            "status": 2,
            "checking_task_desc": {"checking_task_id": "chk-1", "action": 0, "overwrite_last_result": False},
            "sample_stats": {"total_sample_count": 317, "accepted_sample_count": 7},
        },
    )
    task = client.get_workforce_task("ds-1", "task-1", sample_stats=True)
    assert dict(route.calls.last.request.url.params) == {"sample_stats": "true"}
    assert task.status == TaskStatus.ACCEPTING
    assert task.checking_task_desc is not None
    assert task.checking_task_desc.checking_task_id == "chk-1"
    client.get_workforce_task("ds-1", "task-1")
    assert route.calls.last.request.url.query == b""


def test_get_acceptance_report(client_api: respx.MockRouter, client: ModelArtsClient) -> None:
    route = client_api.get(f"{TASK}/acceptance/report").respond(
        200,
        json={"total_stats": {"sampling_num": 3, "pass_rate": 0.5, "score": "E", "total_sample_count": 3}},
    )
    report = client.get_acceptance_report("ds-1", "task-1", checking_task_id="chk-1")
    assert dict(route.calls.last.request.url.params) == {"checking_task_id": "chk-1"}
    assert report.total_stats is not None
    assert report.total_stats.pass_rate == 0.5
    client.get_acceptance_report("ds-1", "task-1")
    assert "checking_task_id" not in route.calls.last.request.url.params


def test_list_samples_query(client_api: respx.MockRouter, client: ModelArtsClient) -> None:
    route = client_api.get(f"{DS}/data-annotations/samples").respond(
        200, json={"sample_count": 1, "samples": [{"sample_id": "s1", "sample_status": "__ALL__"}]}
    )
    page = client.list_samples(
        "ds-1", sample_state="__ALL__", limit=50, offset=2, preview=True, label_name="cat"
    )
    assert dict(route.calls.last.request.url.params) == {
        "sample_state": "__ALL__",
        "limit": "50",
        "offset": "2",
        "preview": "true",
        "label_name": "cat",
    }
    assert page.sample_count == 1
    assert page.samples is not None
    assert page.samples[0].sample_id == "s1"


def test_list_samples_rejects_bad_paging_and_unknown_filters(
    client_api: respx.MockRouter, client: ModelArtsClient
) -> None:
    with pytest.raises(ValueError, match="limit"):
        client.list_samples("ds-1", limit=101)
    with pytest.raises(ValueError, match="offset"):
        client.list_samples("ds-1", offset=-1)
    with pytest.raises(TypeError, match="sampel_state"):
        client.list_samples("ds-1", sampel_state="__ALL__")
    with pytest.raises(TypeError, match="email"):  # documented for datasets, not for team tasks
        client.list_workforce_task_samples("ds-1", "task-1", email="x@example.com")
    with pytest.raises(ValueError, match="page_size"):
        client.iter_samples("ds-1", page_size=0)
    assert not client_api.calls


def test_iter_samples_walks_in_ascending_order_and_a_second_pass_confirms(
    client_api: respx.MockRouter, client: ModelArtsClient
) -> None:
    route = client_api.get(f"{DS}/data-annotations/samples").mock(side_effect=paged(5))
    ids = [s.sample_id for s in client.iter_samples("ds-1", sample_state="__ALL__", page_size=2)]
    assert ids == ["s0", "s1", "s2", "s3", "s4"]
    # 2 + 2 + 1, the empty page; then the same again: two passes that agree (client/_paging.py)
    assert [c.request.url.params["offset"] for c in route.calls] == ["0", "1", "2", "3"] * 2
    assert all(c.request.url.params["sample_state"] == "__ALL__" for c in route.calls)
    assert {c.request.url.params["order"] for c in route.calls} == {"asc"}  # the page's stable order


def test_iter_samples_keeps_the_callers_order_and_the_task_sample_list_sends_none(
    client_api: respx.MockRouter, client: ModelArtsClient
) -> None:
    route = client_api.get(f"{DS}/data-annotations/samples").mock(side_effect=paged(3))
    assert len(list(client.iter_samples("ds-1", order="desc"))) == 3
    assert {c.request.url.params["order"] for c in route.calls} == {"desc"}
    task_route = client_api.get(f"{TASK}/data-annotations/samples").mock(side_effect=paged(3))
    assert len(list(client.iter_workforce_task_samples("ds-1", "task-1"))) == 3
    assert all("order" not in c.request.url.params for c in task_route.calls)  # not documented there


def _growing_sample_list(initial: int, added: int, per_page: int) -> Any:
    """A dataset's sample list as the service orders it (``order``: asc or desc, desc the default) that gains
    ``per_page`` new samples after each page it serves until ``added`` were added."""
    ids = [f"s{i:04d}" for i in range(initial)]
    pending = [f"n{i:04d}" for i in range(added)]

    def handler(request: httpx.Request) -> httpx.Response:
        limit, offset = int(request.url.params["limit"]), int(request.url.params["offset"])
        listed = ids if request.url.params.get("order") == "asc" else ids[::-1]
        page = listed[offset * limit : (offset + 1) * limit]
        reply = {"sample_count": len(ids), "samples": [{"sample_id": i} for i in page]}
        ids.extend(pending[:per_page])
        del pending[:per_page]
        return httpx.Response(200, json=reply)

    return handler


@pytest.mark.parametrize("order", [None, "desc", "asc"])
def test_issue_25_item_1_samples_added_during_the_walk_do_not_hide_the_others(
    client_api: respx.MockRouter, client: ModelArtsClient, order: str | None
) -> None:
    """300 labeled samples, 100 added while the export reads (25 after each of the first four pages): the
    walk used to read newest first and stop at the first page of repeats, writing 100."""
    route = client_api.get(f"{DS}/data-annotations/samples").mock(
        side_effect=_growing_sample_list(300, 100, 25)
    )
    filters = {} if order is None else {"order": order}
    ids = [s.sample_id for s in client.iter_samples("ds-1", sample_state="__ALL__", **filters)]
    assert len(ids) == len(set(ids)) == 400
    assert route.call_count <= 4 * 6  # at most MAX_PASSES passes of 5 pages and the margin


def test_iter_samples_against_a_server_that_ignores_offset_fails_instead_of_a_short_result(
    client_api: respx.MockRouter, client: ModelArtsClient
) -> None:
    route = client_api.get(f"{DS}/data-annotations/samples").respond(
        200, json={"sample_count": 5, "samples": [{"sample_id": "a"}, {"sample_id": "b"}]}
    )
    walk = client.iter_samples("ds-1", page_size=2)
    assert [next(walk).sample_id, next(walk).sample_id] == ["a", "b"]
    with pytest.raises(IncompleteListError, match="2 distinct items seen, counts reported: 5, 4 pages"):
        next(walk)
    assert route.call_count == 4  # a page of repeats ends each pass; the second reads the same


def test_items_without_ids_no_count_and_offset_ignored_end_the_walk(
    client_api: respx.MockRouter, client: ModelArtsClient
) -> None:
    """Issue 25 item 8: this walk never ended."""
    client_api.get(f"{DS}/workforce-tasks").respond(
        200, json={"tasks": [{"task_name": "a"}, {"task_name": "b"}]}
    )
    with pytest.raises(IncompleteListError, match="no empty page within 2 pages"):
        list(client.iter_workforce_tasks("ds-1", page_size=2))


def test_iter_samples_over_a_list_that_grows_as_fast_as_it_is_read_ends_after_a_bounded_number_of_requests(
    client_api: respx.MockRouter, client: ModelArtsClient, caplog: pytest.LogCaptureFixture
) -> None:
    """A page of new samples after every page served, forever: the walk used to follow it for ever (each
    pass's cap grew with what it read). Each pass's cap is now fixed by what it knew when it began."""
    for on_incomplete in ("raise", "warn"):
        listed = [f"s{i:05d}" for i in range(30)]

        def grows(request: httpx.Request, listed: list[str] = listed) -> httpx.Response:
            limit, offset = int(request.url.params["limit"]), int(request.url.params["offset"])
            page = listed[offset * limit : (offset + 1) * limit]
            reply = {"sample_count": len(listed), "samples": [{"sample_id": i} for i in page]}
            listed.extend(f"n{len(listed):05d}" for _ in range(limit))
            return httpx.Response(200, json=reply)

        route = client_api.get(f"{DS}/data-annotations/samples").mock(side_effect=grows)
        walk = client.iter_samples("ds-1", page_size=10, on_incomplete=on_incomplete)
        if on_incomplete == "raise":
            with pytest.raises(IncompleteListError, match="the list grew faster than it could be read") as e:
                list(walk)
            # counts 30, 110, 350, 1070 on each pass's first page: caps 2x / 10 + 2 pages
            assert (e.value.pages, e.value.passes, e.value.distinct) == (8 + 24 + 72 + 216, 4, 2160)
        else:
            with caplog.at_level(logging.WARNING, logger="airflow_provider_modelarts.client"):
                assert len(list(walk)) == 2160
            assert "the list grew faster than it could be read" in caplog.records[-1].getMessage()
        assert route.call_count == 320
        route.reset()


def _capped_pages(ids: list[str], cap: int, count: Callable[[list[str]], int | None]) -> Any:
    """A sample list whose pages hold at most ``cap`` samples whatever ``limit`` asks ("Maximum number of
    records returned on each page"); ``offset`` counts pages of that size, ``count(page)`` is the reply's
    ``sample_count`` (omitted when None)."""

    def handler(request: httpx.Request) -> httpx.Response:
        size = min(int(request.url.params["limit"]), cap)
        start = int(request.url.params["offset"]) * size
        page = ids[start : start + size]
        body: dict[str, Any] = {"samples": [{"sample_id": i} for i in page]}
        if count(page) is not None:
            body["sample_count"] = count(page)
        return httpx.Response(200, json=body)

    return handler


@pytest.mark.parametrize("lister", ["dataset", "task"])
def test_iter_samples_goes_on_after_short_pages_to_the_empty_page(
    client_api: respx.MockRouter, client: ModelArtsClient, lister: str
) -> None:
    # Both sample list pages: limit is the "Maximum number of records returned on each page".
    ids = [f"s{i}" for i in range(7)]
    path = f"{DS if lister == 'dataset' else TASK}/data-annotations/samples"
    route = client_api.get(path).mock(side_effect=_capped_pages(ids, 3, lambda page: len(ids)))
    walk = (
        client.iter_samples("ds-1", page_size=100)
        if lister == "dataset"
        else client.iter_workforce_task_samples("ds-1", "task-1", page_size=100)
    )
    assert [s.sample_id for s in walk] == ids
    # pages of 3, 3, 1 and the empty page: a short page ends nothing, even once sample_count was seen
    assert [c.request.url.params["offset"] for c in route.calls] == ["0", "1", "2", "3"] * 2
    assert {c.request.url.params["limit"] for c in route.calls} == {"100"}


@pytest.mark.parametrize(
    "count", [len, lambda page: None, lambda page: 2], ids=["per-page", "missing", "low"]
)
def test_iter_samples_reads_every_sample_whatever_sample_count_says_below_the_total(
    client_api: respx.MockRouter, client: ModelArtsClient, count: Callable[[list[str]], int | None]
) -> None:
    """The page calls sample_count the "Number of samples.": the total, or this page's size? Either way,
    and without one, no sample is lost."""
    ids = [f"s{i}" for i in range(5)]
    route = client_api.get(f"{DS}/data-annotations/samples").mock(side_effect=_capped_pages(ids, 2, count))
    assert [s.sample_id for s in client.iter_samples("ds-1", page_size=100)] == ids
    assert route.call_count == 8  # 2, 2, 1, empty; twice


def test_iter_samples_with_a_sample_count_above_the_list_fails_or_warns(
    client_api: respx.MockRouter, client: ModelArtsClient, caplog: pytest.LogCaptureFixture
) -> None:
    ids = [f"s{i}" for i in range(3)]
    route = client_api.get(f"{DS}/data-annotations/samples").mock(
        side_effect=_capped_pages(ids, 2, lambda page: 9)
    )
    walk = client.iter_samples("ds-1", page_size=100)
    assert [next(walk).sample_id for _ in ids] == ids  # every sample first, then the verdict
    with pytest.raises(IncompleteListError, match="fewer than the count 9") as raised:
        next(walk)
    assert raised.value.is_transient and route.call_count == 6  # 2, 1, empty; twice
    assert "/v2/proj-1/datasets/ds-1/data-annotations/samples" in str(raised.value)
    with caplog.at_level(logging.WARNING, logger="airflow_provider_modelarts.client"):
        assert len(list(client.iter_samples("ds-1", page_size=100, on_incomplete="warn"))) == 3
    assert [r.getMessage() for r in caplog.records] == [str(raised.value)]


def test_async_iter_samples_walks_short_pages_and_raises_at_the_end_too(clock: FakeClock) -> None:
    ids = [f"s{i}" for i in range(5)]

    async def scenario(count: int) -> list[str]:
        with respx.mock(base_url=BASE) as router:
            router.get(f"{TASK}/data-annotations/samples").mock(
                side_effect=_capped_pages(ids, 2, lambda page: count)
            )
            async with make_async_client(clock) as c:
                return [s.sample_id async for s in c.iter_workforce_task_samples("ds-1", "task-1")]

    assert asyncio.run(scenario(len(ids))) == ids
    with pytest.raises(IncompleteListError, match="5 distinct items seen"):
        asyncio.run(scenario(6))


def test_list_datasets(client_api: respx.MockRouter, client: ModelArtsClient) -> None:
    route = client_api.get(f"/v2/{PROJECT}/datasets", params={"limit": "1"}).respond(
        200, json={"total_number": 1, "datasets": [{"dataset_id": "ds-1"}]}
    )
    assert client.list_datasets(limit=1)["total_number"] == 1
    assert route.called


def test_path_ids_are_percent_encoded(client_api: respx.MockRouter, client: ModelArtsClient) -> None:
    route = client_api.get(url__regex=r".*").respond(200, json={"task_id": "x", "status": 1})
    client.get_workforce_task("ds/1 ?#", "täsk")
    assert (
        route.calls.last.request.url.raw_path
        == b"/v2/proj-1/datasets/ds%2F1%20%3F%23/workforce-tasks/t%C3%A4sk"
    )
    for bad in ("", "..", "."):
        with pytest.raises(ValueError, match="dataset_id"):
            client.get_workforce_task(bad, "task-1")
    assert route.call_count == 1


def test_invalid_label_format_fails_before_sending(
    client_api: respx.MockRouter, client: ModelArtsClient
) -> None:
    with pytest.raises(ValueError, match="text_label_separator"):
        client.add_samples("ds-1", [IMAGE_SAMPLE], label_format={"text_label_separator": ",,"})
    with pytest.raises(TypeError, match="email"):
        client.update_samples("ds-1", [DETECTION_LABELS], email=["owner@example.com"])  # type: ignore[arg-type]
    assert not client_api.calls


def test_email_format_is_left_to_the_service(client_api: respx.MockRouter, client: ModelArtsClient) -> None:
    # The pages type ``email`` as a String and state no format (issue 10: no rule without a source).
    route = client_api.put(f"{DS}/data-annotations/samples").respond(200, json={"success": True})
    client.update_samples("ds-1", [DETECTION_LABELS], email="team-lead")
    assert sent_json(route)["email"] == "team-lead"


def test_async_iter_checks_arguments_eagerly(clock: FakeClock) -> None:
    async def scenario() -> None:
        async with make_async_client(clock) as c:
            with pytest.raises(TypeError, match="bogus"):
                c.iter_samples("ds-1", bogus=1)
            with pytest.raises(ValueError, match="page_size"):
                c.iter_workforce_task_samples("ds-1", "task-1", page_size=101)
            with pytest.raises(ValueError, match="on_incomplete"):
                c.iter_workforce_tasks("ds-1", on_incomplete="skip")

    asyncio.run(scenario())


def test_sync_and_async_clients_expose_the_same_api() -> None:
    def public(cls: type) -> set[str]:  # inherited from the core too
        return {name for name in dir(cls) if not name.startswith("_")}

    sync_only = {"close"}
    async_only = {"aclose"}
    assert public(ModelArtsClient) - sync_only == public(AsyncModelArtsClient) - async_only
    assert {"add_samples", "create_workforce_task", "iter_workforce_tasks", "send_raw"} <= public(
        ModelArtsClient
    )
    for name in public(ModelArtsClient) - sync_only:
        sync_params = inspect.signature(getattr(ModelArtsClient, name)).parameters
        async_params = inspect.signature(getattr(AsyncModelArtsClient, name)).parameters
        assert list(sync_params) == list(async_params), name
    # The constructors differ only in how they sleep (a plain function vs. an awaitable one).
    sync_init = list(inspect.signature(ModelArtsClient).parameters)
    async_init = list(inspect.signature(AsyncModelArtsClient).parameters)
    assert [n if n != "sleep" else "async_sleep" for n in sync_init] == async_init
    assert {"project_id", "region", "endpoint", "auth", "timeout", "verify", "retry", "transport"} <= set(
        sync_init
    )


# ------------------------------------------------------------------------------ team labeling task life cycle

# The request example of creating_a_team_labeling_task.rst, verbatim.
CREATE_EXAMPLE = {
    "task_name": "task-eb17",
    "synchronize_data": False,
    "synchronize_auto_labeling_data": False,
    "workforces_config": {
        "workforces": [
            {
                "workforce_id": "feSUo5NUIUnQAQNNTiS",
                "workers": [{"email": "xxx@xxx.com"}, {"email": "xxx@xxx.com"}, {"email": "xxx@xxx.com"}],
            }
        ]
    },
    "auto_sync_dataset": False,
}
TASKS = f"{DS}/workforce-tasks"


def test_create_workforce_task_posts_the_body_and_returns_the_task_id(
    client_api: respx.MockRouter, client: ModelArtsClient
) -> None:
    route = client_api.post(TASKS).respond(200, json={"task_id": "6phXEto29utpaMwbQkg"})
    reply = client.create_workforce_task("ds-1", CREATE_EXAMPLE)
    assert reply.task_id == "6phXEto29utpaMwbQkg"
    assert not isinstance(reply, UnparsedReply)
    assert route.calls.last.request.headers["Content-Type"] == "application/json"
    assert sent_json(route) == CREATE_EXAMPLE


def test_create_workforce_task_checks_the_body_before_sending(
    client_api: respx.MockRouter, client: ModelArtsClient
) -> None:
    with pytest.raises(ValueError, match="did you mean 'task_name'"):
        client.create_workforce_task("ds-1", {"task_nmae": "x"})
    with pytest.raises(ValueError, match="repetition"):
        client.create_workforce_task("ds-1", {"repetition": 0})
    with pytest.raises(TypeError, match="body"):
        client.create_workforce_task("ds-1", ["task_name"])  # type: ignore[arg-type]
    assert not client_api.calls


def test_list_workforce_tasks_pages_by_page_number(
    client_api: respx.MockRouter, client: ModelArtsClient
) -> None:
    route = client_api.get(TASKS).respond(
        200,
        json={"count": 2, "tasks": [{"task_id": "a", "task_name": "t-a", "status": 1, "new_key": 1}]},
    )
    page = client.list_workforce_tasks("ds-1", limit=1, offset=1)
    assert dict(route.calls.last.request.url.params) == {"limit": "1", "offset": "1"}
    assert page.count == 2
    assert page.tasks is not None
    assert (page.tasks[0].task_id, page.tasks[0].status) == ("a", TaskStatus.RUNNING)
    client.list_workforce_tasks("ds-1")  # the page's defaults are left to the service
    assert route.calls.last.request.url.query == b""
    for bad in ({"limit": 0}, {"limit": 1001}, {"offset": -1}):
        with pytest.raises(ValueError):
            client.list_workforce_tasks("ds-1", **bad)
    assert route.call_count == 2


def _task_pages(total: int) -> Any:
    def handler(request: httpx.Request) -> httpx.Response:
        limit, page = int(request.url.params["limit"]), int(request.url.params["offset"])
        ids = [f"t{i}" for i in range(total)][page * limit : (page + 1) * limit]
        return httpx.Response(200, json={"count": total, "tasks": [{"task_id": i} for i in ids]})

    return handler


def test_iter_workforce_tasks_walks_every_page(client_api: respx.MockRouter, client: ModelArtsClient) -> None:
    route = client_api.get(TASKS).mock(side_effect=_task_pages(5))
    assert [t.task_id for t in client.iter_workforce_tasks("ds-1", page_size=2)] == [
        "t0",
        "t1",
        "t2",
        "t3",
        "t4",
    ]
    # to the empty page, twice (client/_paging.py); the list page documents no order parameter
    assert [c.request.url.params["offset"] for c in route.calls] == ["0", "1", "2", "3"] * 2
    assert all("order" not in c.request.url.params for c in route.calls)
    with pytest.raises(ValueError, match="page_size"):
        client.iter_workforce_tasks("ds-1", page_size=1001)


def test_start_update_and_delete_workforce_task(
    client_api: respx.MockRouter, client: ModelArtsClient
) -> None:
    start = client_api.post(f"{TASKS}/task-1").respond(200, json={})
    update = client_api.put(f"{TASKS}/task-1").respond(200, json={})
    delete = client_api.delete(f"{TASKS}/task-1").respond(204)
    client.start_workforce_task("ds-1", "task-1")
    assert sent_json(start) == {}
    assignment = {
        "workforces_config": {"workforces": [{"workforce_id": "w1", "workers": [{"email": "a@b.c"}]}]}
    }
    client.start_workforce_task("ds-1", "task-1", assignment)
    assert sent_json(start) == assignment
    client.update_workforce_task(
        "ds-1", "task-1", {"task_name": "daily_2026-12-01", "description": "batch 7"}
    )
    assert sent_json(update) == {"task_name": "daily_2026-12-01", "description": "batch 7"}
    reply = client.delete_workforce_task("ds-1", "task-1")
    assert delete.calls.last.request.content == b""
    assert reply.model_dump() == {}


def test_update_workforce_task_applies_the_pages_rules(
    client_api: respx.MockRouter, client: ModelArtsClient
) -> None:
    # update page: task_name "1 to 64 characters and only letters, digits, underscores (_), and hyphens (-)"
    with pytest.raises(ValueError, match="task_name"):
        client.update_workforce_task("ds-1", "task-1", {"task_name": "daily run"})
    # "description ... does not support the following special characters: ^!<>=&"'"
    with pytest.raises(ValueError, match="description"):
        client.update_workforce_task("ds-1", "task-1", {"description": "<b>"})
    assert not client_api.calls


def test_a_write_reply_that_does_not_parse_is_returned_as_applied(
    client_api: respx.MockRouter, client: ModelArtsClient, caplog: pytest.LogCaptureFixture
) -> None:
    client_api.post(TASKS).respond(
        200, json=[{"task_id": "t-1"}]
    )  # an array where the page documents an object
    client_api.put(f"{TASK}/acceptance/status").respond(200, text="<html>accepted</html>")
    reply = client.create_workforce_task("ds-1", {"task_name": "t"})
    assert isinstance(reply, UnparsedReply)
    assert reply.task_id is None
    assert reply.raw == [{"task_id": "t-1"}]
    assert reply.parse_problems
    status = client.update_acceptance_status("ds-1", "task-1", "pass_all")
    assert isinstance(status, UnparsedReply)
    assert status.raw == "<html>accepted</html>"
    warnings = [r.getMessage() for r in caplog.records if r.name == "airflow_provider_modelarts.client"]
    assert len(warnings) == 2
    assert all("was applied" in w and "accepted</html>" not in w for w in warnings)


def test_async_team_task_life_cycle(clock: FakeClock) -> None:
    async def scenario() -> None:
        with respx.mock(base_url=BASE, assert_all_called=False) as client_api:
            client_api.post(TASKS).respond(200, json={"task_id": "new-1"})
            client_api.get(TASKS).mock(side_effect=_task_pages(3))
            start = client_api.post(f"{TASKS}/new-1").respond(200, json={})
            delete = client_api.delete(f"{TASKS}/new-1").respond(204)
            async with make_async_client(clock) as c:
                created = await c.create_workforce_task("ds-1", {"task_name": "daily"})
                assert created.task_id == "new-1"
                assert [t.task_id async for t in c.iter_workforce_tasks("ds-1", page_size=2)] == [
                    "t0",
                    "t1",
                    "t2",
                ]
                await c.start_workforce_task("ds-1", "new-1")
                await c.delete_workforce_task("ds-1", "new-1")
            assert start.called and delete.called

    asyncio.run(scenario())
