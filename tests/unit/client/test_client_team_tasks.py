"""Both clients' team labeling task list walk against canned replies (respx at the network edge).

ListWorkforceTasks (``querying_the_team_labeling_task_list_of_a_dataset.rst``): ``limit`` is the "Maximum
number of records returned on each page", ``count`` the "Total number of team labeling tasks". A service may
answer fewer than ``limit`` before the end; the walk must still see every task (issue 15, point 2).
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
import respx

from airflow_provider_modelarts.errors import IncompleteListError
from unit.client._helpers import BASE, DS, FakeClock, make_async_client, make_client

TASKS = f"{DS}/workforce-tasks"
IDS = [f"t{i}" for i in range(7)]


def short_pages(cap: int, *, count: bool = True) -> Any:
    """At most ``cap`` tasks per page whatever ``limit`` says; ``offset`` counts pages of that size."""

    def handler(request: httpx.Request) -> httpx.Response:
        size = min(int(request.url.params["limit"]), cap)
        page = int(request.url.params["offset"])
        reply: dict[str, Any] = {"tasks": [{"task_id": i} for i in IDS[page * size : (page + 1) * size]]}
        if count:
            reply["count"] = len(IDS)
        return httpx.Response(200, json=reply)

    return handler


# Each pass reads to the empty page and a second pass confirms the first (client/_paging.py, issue 25).
@pytest.mark.parametrize(("cap", "count", "pages"), [(3, True, 8), (3, False, 8), (100, True, 4)])
def test_sync_walk_sees_every_task_through_short_pages(cap: int, count: bool, pages: int) -> None:
    with respx.mock(base_url=BASE) as api:
        route = api.get(TASKS).mock(side_effect=short_pages(cap, count=count))
        with make_client(FakeClock()) as client:
            assert [t.task_id for t in client.iter_workforce_tasks("ds-1", page_size=10)] == IDS
    assert route.call_count == pages
    assert route.calls[0].request.url.params["limit"] == "10"


def test_async_walk_sees_every_task_through_short_pages() -> None:
    async def scenario() -> list[str | None]:
        async with make_async_client(FakeClock()) as client:
            return [t.task_id async for t in client.iter_workforce_tasks("ds-1", page_size=10)]

    with respx.mock(base_url=BASE) as api:
        route = api.get(TASKS).mock(side_effect=short_pages(2))
        assert asyncio.run(scenario()) == IDS
    assert route.call_count == 10  # 2 + 2 + 2 + 1 and the empty page, twice


def test_a_count_larger_than_the_list_ends_at_the_empty_page_and_says_the_list_may_be_short() -> None:
    replies = [{"count": 50, "tasks": [{"task_id": "a"}]}, {"count": 50, "tasks": []}] * 2
    with respx.mock(base_url=BASE) as api:
        route = api.get(TASKS).mock(side_effect=lambda request: httpx.Response(200, json=replies.pop(0)))
        with make_client(FakeClock()) as client:
            walk = client.iter_workforce_tasks("ds-1")
            assert next(walk).task_id == "a"
            with pytest.raises(IncompleteListError, match="1 distinct items seen, counts reported: 50"):
                next(walk)
    assert route.call_count == 4
