"""Both clients' import task calls against canned replies (respx at the network edge).

ListImportTasks (``querying_the_dataset_import_task_list.rst``): ``limit`` 1-100, ``offset`` the start page,
``total_count`` "Number of import tasks", no order stated. The walk must see every task whatever the page
size the service answers with; create is sent once even when its answer is lost.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
import respx

from airflow_provider_modelarts.errors import ModelArtsServerError, ModelArtsTransportError
from unit.client._helpers import BASE, DS, FakeClock, make_async_client, make_client

IMPORTS = f"{DS}/import-tasks"
IDS = [f"imp-{i}" for i in range(5)]


def pages(cap: int) -> Any:
    def handler(request: httpx.Request) -> httpx.Response:
        size = min(int(request.url.params["limit"]), cap)
        page = int(request.url.params["offset"])
        tasks = [
            {"task_id": i, "status": "COMPLETED", "import_type": 0}
            for i in IDS[page * size : (page + 1) * size]
        ]
        return httpx.Response(200, json={"total_count": len(IDS), "import_tasks": tasks})

    return handler


def test_the_sync_walk_sees_every_import_through_short_pages() -> None:
    with respx.mock(base_url=BASE) as api:
        route = api.get(IMPORTS).mock(side_effect=pages(2))
        with make_client(FakeClock()) as client:
            assert [t.task_id for t in client.iter_import_tasks("ds-1")] == IDS
    assert route.calls[0].request.url.params["limit"] == "100"
    assert route.call_count == 8  # 2 + 2 + 1 and the empty page, twice


def test_the_async_walk_and_details() -> None:
    async def scenario() -> tuple[list[str | None], Any]:
        async with make_async_client(FakeClock()) as client:
            walked = [t.task_id async for t in client.iter_import_tasks("ds-1", page_size=3)]
            return walked, await client.get_import_task("ds-1", "imp-1")

    with respx.mock(base_url=BASE) as api:
        api.get(IMPORTS).mock(side_effect=pages(100))
        api.get(f"{IMPORTS}/imp-1").mock(return_value=httpx.Response(200, json={"status": "RUNNING"}))
        walked, details = asyncio.run(scenario())
    assert walked == IDS and details.status == "RUNNING"


@pytest.mark.parametrize("lost", [httpx.Response(503), httpx.ReadTimeout("read timed out")])
def test_create_is_sent_once_even_when_its_answer_is_lost(lost: Any) -> None:
    with respx.mock(base_url=BASE) as api:
        route = api.post(IMPORTS).mock(side_effect=[lost, httpx.Response(200, json={"task_id": "x"})])
        with (
            make_client(FakeClock()) as client,
            pytest.raises((ModelArtsServerError, ModelArtsTransportError)),
        ):
            client.create_import_task("ds-1", {"import_path": "obs://b/p/"})
    assert route.call_count == 1


def test_a_page_of_the_list_sends_what_it_is_given() -> None:
    with respx.mock(base_url=BASE) as api:
        route = api.get(IMPORTS).mock(return_value=httpx.Response(200, json={"total_count": 0}))
        with make_client(FakeClock()) as client:
            page = client.list_import_tasks("ds-1", limit=5, offset=1)
    assert page.total_count == 0 and dict(route.calls[0].request.url.params) == {"limit": "5", "offset": "1"}
