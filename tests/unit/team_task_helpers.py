"""A fake of the team labeling task API at the network edge (respx), shared by the hook and operator tests."""

from __future__ import annotations

import json
from typing import Any

import httpx
import respx

from airflow_provider_modelarts.client import RetryPolicy

AK = "TEAMTASKTESTAK0000001"
SK = "team-task-test-secret-key-41d07c"  # unique per module for the session's secret scan
PROJECT = "5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b"
ENDPOINT = "https://modelarts.team-task-test.example.com"
TASKS_URL = f"{ENDPOINT}/v2/{PROJECT}/datasets/ds-1/workforce-tasks"
FAST_RETRY = RetryPolicy(max_attempts=3, backoff_base=0.0, backoff_max=0.0, deadline=30.0)


class FakeService:
    """Just enough of the team task API: a list, create (optionally losing its answer), details, start."""

    def __init__(self, router: respx.MockRouter) -> None:
        self.router = router
        self.tasks: dict[str, dict[str, Any]] = {}
        self.lose_next_create_answer = False
        self.creates = router.post(TASKS_URL).mock(side_effect=self._create)
        self.lists = router.get(TASKS_URL).mock(side_effect=self._list)
        self.details = router.get(url__regex=rf"{TASKS_URL}/[^/?]+(\?.*)?$").mock(side_effect=self._get)
        self.starts = router.post(url__regex=rf"{TASKS_URL}/[^/?]+$").mock(side_effect=self._start)

    def _create(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        task_id = f"task-{len(self.tasks) + 1}"
        self.tasks[task_id] = {
            "task_id": task_id,
            "task_name": body.get("task_name"),
            "status": 6,
            "create_time": len(self.tasks),
        }
        if self.lose_next_create_answer:
            self.lose_next_create_answer = False
            raise httpx.ReadError("connection reset after the service stored the task", request=request)
        return httpx.Response(200, json={"task_id": task_id})

    def _list(self, request: httpx.Request) -> httpx.Response:
        tasks = list(self.tasks.values())
        return httpx.Response(200, json={"count": len(tasks), "tasks": tasks})

    def _task_id(self, request: httpx.Request) -> str:
        return request.url.path.rsplit("/", 1)[1]

    def _get(self, request: httpx.Request) -> httpx.Response:
        task = self.tasks.get(self._task_id(request))
        if task is None:
            return httpx.Response(404, json={"error_code": "ModelArts.4352", "error_msg": "no such task"})
        return httpx.Response(200, json=task)

    def _start(self, request: httpx.Request) -> httpx.Response:
        self.tasks[self._task_id(request)]["status"] = 1
        return httpx.Response(200, json={})
