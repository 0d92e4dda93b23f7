"""Shared pieces of the client unit tests: a fake clock and clients wired to it (fixtures: ``conftest.py``).

Only the network edge is mocked (respx); time only moves when a client sleeps, so retry tests are instant
and exact.
"""

from __future__ import annotations

import json
import random
import ssl
from typing import Any

import certifi
import httpx
import respx

from airflow_provider_modelarts.client import AsyncModelArtsClient, ModelArtsClient, RetryPolicy

BASE = "https://modelarts.test.example.com"
IAM = "https://iam.test.example.com"
PROJECT = "proj-1"
DS = f"/v2/{PROJECT}/datasets/ds-1"
TASK = f"{DS}/workforce-tasks/task-1"
SECRET_KEY = "SK-very-secret-value-0123456789"
IAM_PASSWORD = "iam-password-do-not-log"
# Loading the CA bundle costs ~0.1 s per client; one shared context keeps the suite fast.
TLS = ssl.create_default_context(cafile=certifi.where())

IMAGE_SAMPLE = {"name": "2.jpg", "data": "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBD"}
DETECTION_LABELS = {
    "sample_id": "8b583c44bf249f8ba43ea42c92920221",
    "labels": [
        {
            "name": "cat",
            "type": 1,
            "property": {"@modelarts:shape": "bndbox", "@modelarts:feature": [[0, 10], [50, 95]]},
        }
    ],
}


class FakeClock:
    """Time that only moves when the client sleeps, so retry tests are instant and exact."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    async def async_sleep(self, seconds: float) -> None:
        self.sleep(seconds)


def make_client(clock: FakeClock, **kwargs: Any) -> ModelArtsClient:
    kwargs.setdefault("retry", RetryPolicy(max_attempts=4, backoff_base=0.5, backoff_max=4.0, deadline=60.0))
    return ModelArtsClient(
        project_id=PROJECT,
        endpoint=BASE,
        sleep=clock.sleep,
        clock=clock,
        rng=random.Random(7),
        verify=TLS,
        **kwargs,
    )


def make_async_client(clock: FakeClock, **kwargs: Any) -> AsyncModelArtsClient:
    kwargs.setdefault("retry", RetryPolicy(max_attempts=4, backoff_base=0.5, backoff_max=4.0, deadline=60.0))
    return AsyncModelArtsClient(
        project_id=PROJECT,
        endpoint=BASE,
        async_sleep=clock.async_sleep,
        clock=clock,
        rng=random.Random(7),
        verify=TLS,
        **kwargs,
    )


def sent_json(route: respx.Route, index: int = -1) -> Any:
    return json.loads(route.calls[index].request.content)


def paged(total: int) -> Any:
    ids = [f"s{i}" for i in range(total)]

    def handler(request: httpx.Request) -> httpx.Response:
        limit = int(request.url.params["limit"])
        page = int(request.url.params["offset"])
        chunk = ids[page * limit : (page + 1) * limit]
        return httpx.Response(200, json={"sample_count": total, "samples": [{"sample_id": i} for i in chunk]})

    return handler
