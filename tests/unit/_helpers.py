"""A fake of the team labeling task API at the network edge (respx), shared by the hook and operator tests.

Besides the happy path it makes the replies the pages allow and the default emulator does not: list pages
shorter than ``limit`` (``page_cap``; the list page's ``limit`` is a "Maximum number of records"), no
``count``, a create reply without ``task_id`` (``create_body``; Table 6 marks nothing mandatory), a task
that stays STARTING (``status_after_start``), and missing resources at 400 as the error table files them.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import respx

AK = "TEAMTASKTESTAK0000001"
SK = "team-task-test-secret-key-41d07c"  # unique per module for the session's secret scan
PROJECT = "5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b"
ENDPOINT = "https://modelarts.team-task-test.example.com"
TASKS_URL = f"{ENDPOINT}/v2/{PROJECT}/datasets/ds-1/workforce-tasks"


def error(status: int, code: str | None, message: str = "refused") -> httpx.Response:
    if code is None:
        return httpx.Response(status, text="<html>Not Found</html>")
    return httpx.Response(status, json={"error_code": code, "error_msg": message})


class FakeService:
    """Just enough of the team task API: list (by page), create (optionally losing its answer), details,
    start, delete."""

    def __init__(self, router: respx.MockRouter) -> None:
        self.router = router
        self.tasks: dict[str, dict[str, Any]] = {}
        self.lose_next_create_answer = False
        #: The raw 200 body of every create reply (``None``: the page's ``{"task_id": ...}``).
        self.create_body: bytes | None = None
        #: At most this many tasks per list page whatever ``limit`` asks; ``offset`` counts such pages.
        self.page_cap: int | None = None
        self.send_count = True
        #: Lists that do not show tasks created by the fake yet (a list that lags behind the create).
        self.lagging_lists = 0
        self.status_after_start: Any = 1
        #: HTTP status of "does not exist" answers (the error table files them under 400).
        self.missing_status = 400
        self.creates = router.post(TASKS_URL).mock(side_effect=self._create)
        self.lists = router.get(TASKS_URL).mock(side_effect=self._list)
        self.details = router.get(url__regex=rf"{TASKS_URL}/[^/?]+(\?.*)?$").mock(side_effect=self._get)
        self.starts = router.post(url__regex=rf"{TASKS_URL}/[^/?]+$").mock(side_effect=self._start)
        self.deletes = router.delete(url__regex=rf"{TASKS_URL}/[^/?]+$").mock(side_effect=self._delete)
        self._created: set[str] = set()

    def add(self, task_id: str, task_name: str, status: int = 1, **fields: Any) -> None:
        self.tasks[task_id] = {"task_id": task_id, "task_name": task_name, "status": status, **fields}

    def _create(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        task_id = f"task-{len(self.tasks) + 1}"
        self.add(task_id, body.get("task_name"), 6, create_time=len(self.tasks))
        self._created.add(task_id)
        if self.lose_next_create_answer:
            self.lose_next_create_answer = False
            raise httpx.ReadError("connection reset after the service stored the task", request=request)
        if self.create_body is not None:
            return httpx.Response(200, content=self.create_body)
        return httpx.Response(200, json={"task_id": task_id})

    def _list(self, request: httpx.Request) -> httpx.Response:
        tasks = list(self.tasks.values())
        if self.lagging_lists:
            self.lagging_lists -= 1
            tasks = [task for task in tasks if task["task_id"] not in self._created]
        size = int(request.url.params.get("limit", 1000))
        if self.page_cap is not None:
            size = min(size, self.page_cap)
        start = int(request.url.params.get("offset", 0)) * size
        reply: dict[str, Any] = {"tasks": tasks[start : start + size]}
        if self.send_count:
            reply["count"] = len(tasks)
        return httpx.Response(200, json=reply)

    def _task_id(self, request: httpx.Request) -> str:
        return request.url.path.rsplit("/", 1)[1]

    def _missing(self) -> httpx.Response:
        return error(self.missing_status, "ModelArts.4619", "Workforce task does not exist")

    def _get(self, request: httpx.Request) -> httpx.Response:
        task = self.tasks.get(self._task_id(request))
        return self._missing() if task is None else httpx.Response(200, json=task)

    def _start(self, request: httpx.Request) -> httpx.Response:
        task = self.tasks.get(self._task_id(request))
        if task is None:
            return self._missing()
        task["status"] = self.status_after_start
        return httpx.Response(200, json={})

    def _delete(self, request: httpx.Request) -> httpx.Response:
        if self.tasks.pop(self._task_id(request), None) is None:
            return self._missing()
        return httpx.Response(204)
