"""ModelArtsClient / AsyncModelArtsClient against respx (only the network edge is mocked)."""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import random
import ssl
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import certifi
import httpx
import pytest
import respx

from airflow_provider_modelarts.auth import AkSkAuth, IamTokenAuth
from airflow_provider_modelarts.client import (
    AsyncModelArtsClient,
    ModelArtsClient,
    RetryPolicy,
    resolve_endpoint,
)
from airflow_provider_modelarts.errors import (
    ModelArtsAuthError,
    ModelArtsConfigError,
    ModelArtsError,
    ModelArtsNotFoundError,
    ModelArtsServerError,
    ModelArtsThrottledError,
    ModelArtsTransportError,
    ModelArtsValidationError,
)
from airflow_provider_modelarts.models import (
    AcceptanceAction,
    Sample,
    SampleLabels,
    SampleValidationError,
    TaskStatus,
)

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


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        yield router


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


@pytest.fixture
def client(clock: FakeClock) -> Iterator[ModelArtsClient]:
    with make_client(clock) as c:
        yield c


def sent_json(route: respx.Route, index: int = -1) -> Any:
    return json.loads(route.calls[index].request.content)


# ------------------------------------------------------------------------------------------ endpoints


def test_resolve_endpoint() -> None:
    assert resolve_endpoint("cn-north-4", None) == "https://modelarts.cn-north-4.myhuaweicloud.com"
    assert resolve_endpoint("eu-de", None) == "https://modelarts.eu-de.otc.t-systems.com"
    assert resolve_endpoint("eu-nl", None) == "https://modelarts.eu-nl.otc.t-systems.com"
    assert resolve_endpoint("cn-north-4", "http://127.0.0.1:8080/") == "http://127.0.0.1:8080"
    assert resolve_endpoint(None, "modelarts.internal:8443") == "https://modelarts.internal:8443"
    with pytest.raises(ModelArtsConfigError, match="region or an endpoint"):
        resolve_endpoint(None, None)
    with pytest.raises(ModelArtsConfigError, match="region"):
        resolve_endpoint("evil.com/x?", None)
    with pytest.raises(ModelArtsConfigError, match="http"):
        resolve_endpoint(None, "ftp://host")


def test_client_requires_project_id() -> None:
    with pytest.raises(ModelArtsConfigError, match="project_id"):
        ModelArtsClient(project_id="", endpoint=BASE)


def test_repr_shows_project_and_endpoint_but_no_secrets() -> None:
    auth = AkSkAuth("AKEXAMPLE", SECRET_KEY, security_token="security-token-secret")
    with ModelArtsClient(project_id=PROJECT, region="cn-north-4", auth=auth) as c:
        text = repr(c)
    assert (
        text
        == "ModelArtsClient(project_id='proj-1', base_url='https://modelarts.cn-north-4.myhuaweicloud.com')"
    )
    iam = IamTokenAuth(IAM, "user", IAM_PASSWORD, "domain", project_id=PROJECT)
    async_client = AsyncModelArtsClient(project_id=PROJECT, endpoint=BASE, auth=iam)
    assert SECRET_KEY not in text and "security-token-secret" not in text
    assert IAM_PASSWORD not in repr(async_client)
    assert repr(async_client).startswith("AsyncModelArtsClient(project_id='proj-1'")
    asyncio.run(async_client.aclose())


# ------------------------------------------------------------------------------------- request shapes


def test_add_samples_posts_documented_body(api: respx.MockRouter, client: ModelArtsClient) -> None:
    route = api.post(f"{DS}/data-annotations/samples").respond(
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


def test_add_samples_accepts_models_and_options(api: respx.MockRouter, client: ModelArtsClient) -> None:
    route = api.post(f"{DS}/data-annotations/samples").respond(200, json={"success": True})
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


def test_invalid_samples_fail_before_any_request(api: respx.MockRouter, client: ModelArtsClient) -> None:
    route = api.post(f"{DS}/data-annotations/samples").respond(200, json={"success": True})
    bad_labels = {
        "sample_id": "s2",
        "labels": [{"name": "cat", "score": 1.5}],
    }
    with pytest.raises(SampleValidationError) as info:
        client.update_samples("ds-1", [DETECTION_LABELS, bad_labels, {"sample_id": "s3", "bogus_key": 1}])
    problems = info.value.problems
    assert {p.index for p in problems} == {1, 2}
    assert any("score" in p.field for p in problems)
    with pytest.raises(ValueError, match="at least one"):
        client.add_samples("ds-1", [])
    assert not route.called
    assert not api.calls


def test_update_samples_puts_labels_with_aliases(api: respx.MockRouter, client: ModelArtsClient) -> None:
    route = api.put(f"{DS}/data-annotations/samples").respond(200, json={"success": True})
    result = client.update_samples(
        "ds-1", [DETECTION_LABELS, SampleLabels(sample_id="b5fe", labels=[])], email="owner@example.com"
    )
    assert sent_json(route) == {
        "samples": [DETECTION_LABELS, {"sample_id": "b5fe", "labels": []}],
        "email": "owner@example.com",
    }
    assert result.success is True


def test_update_workforce_task_samples(api: respx.MockRouter, client: ModelArtsClient) -> None:
    route = api.put(f"{TASK}/data-annotations/samples").respond(
        200, json={"success": False, "results": [{"success": False, "error_code": "ModelArts.4420"}]}
    )
    payload = {**DETECTION_LABELS, "worker_id": "w-1"}
    result = client.update_workforce_task_samples("ds-1", "task-1", [payload])
    assert sent_json(route) == {"samples": [payload]}
    assert result.success is False
    assert result.results is not None
    assert result.results[0].error_code == "ModelArts.4420"


@pytest.mark.parametrize("action", [AcceptanceAction.PASS_ALL, 0, "pass_all", "PASS-ALL"])
def test_update_acceptance_status(api: respx.MockRouter, client: ModelArtsClient, action: Any) -> None:
    route = api.put(f"{TASK}/acceptance/status", params={"locale": "en-us"}).respond(200, json={})
    client.update_acceptance_status("ds-1", "task-1", action, overwrite_last_result=True)
    assert route.call_count == 1
    assert sent_json(route) == {"action": 0, "overwrite_last_result": True}
    assert dict(route.calls.last.request.url.params) == {"locale": "en-us"}


def test_update_acceptance_status_rejects_unknown_action(
    api: respx.MockRouter, client: ModelArtsClient
) -> None:
    with pytest.raises(ValueError, match="PASS_ALL"):
        client.update_acceptance_status("ds-1", "task-1", "approve")
    assert not api.calls


def test_start_acceptance(api: respx.MockRouter, client: ModelArtsClient) -> None:
    route = api.post(f"{TASK}/acceptance").respond(200, json={"task_id": "nv6BbozxCJmZcHAE9hV"})
    result = client.start_acceptance("ds-1", "task-1", sampling_rate=0.2)
    assert sent_json(route) == {"sampling_rate": 0.2}
    assert result.task_id == "nv6BbozxCJmZcHAE9hV"


def test_get_workforce_task(api: respx.MockRouter, client: ModelArtsClient) -> None:
    route = api.get(TASK).respond(
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


def test_get_acceptance_report(api: respx.MockRouter, client: ModelArtsClient) -> None:
    route = api.get(f"{TASK}/acceptance/report").respond(
        200,
        json={"total_stats": {"sampling_num": 3, "pass_rate": 0.5, "score": "E", "total_sample_count": 3}},
    )
    report = client.get_acceptance_report("ds-1", "task-1", checking_task_id="chk-1")
    assert dict(route.calls.last.request.url.params) == {"checking_task_id": "chk-1"}
    assert report.total_stats is not None
    assert report.total_stats.pass_rate == 0.5
    client.get_acceptance_report("ds-1", "task-1")
    assert "checking_task_id" not in route.calls.last.request.url.params


def test_list_samples_query(api: respx.MockRouter, client: ModelArtsClient) -> None:
    route = api.get(f"{DS}/data-annotations/samples").respond(
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
    api: respx.MockRouter, client: ModelArtsClient
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
    assert not api.calls


def _paged(total: int) -> Any:
    ids = [f"s{i}" for i in range(total)]

    def handler(request: httpx.Request) -> httpx.Response:
        limit = int(request.url.params["limit"])
        page = int(request.url.params["offset"])
        chunk = ids[page * limit : (page + 1) * limit]
        return httpx.Response(200, json={"sample_count": total, "samples": [{"sample_id": i} for i in chunk]})

    return handler


def test_iter_samples_walks_pages_and_stops(api: respx.MockRouter, client: ModelArtsClient) -> None:
    route = api.get(f"{DS}/data-annotations/samples").mock(side_effect=_paged(5))
    ids = [s.sample_id for s in client.iter_samples("ds-1", sample_state="__ALL__", page_size=2)]
    assert ids == ["s0", "s1", "s2", "s3", "s4"]
    assert [c.request.url.params["offset"] for c in route.calls] == ["0", "1", "2"]
    assert all(c.request.url.params["sample_state"] == "__ALL__" for c in route.calls)


def test_iter_samples_exact_multiple_ends_on_empty_page(
    api: respx.MockRouter, client: ModelArtsClient
) -> None:
    route = api.get(f"{TASK}/data-annotations/samples").mock(side_effect=_paged(4))
    ids = [s.sample_id for s in client.iter_workforce_task_samples("ds-1", "task-1", page_size=2)]
    assert ids == ["s0", "s1", "s2", "s3"]
    assert route.call_count == 3


def test_iter_samples_terminates_when_server_ignores_offset(
    api: respx.MockRouter, client: ModelArtsClient
) -> None:
    api.get(f"{DS}/data-annotations/samples").respond(
        200, json={"sample_count": 2, "samples": [{"sample_id": "a"}, {"sample_id": "b"}]}
    )
    assert [s.sample_id for s in client.iter_samples("ds-1", page_size=2)] == ["a", "b"]


def test_list_datasets(api: respx.MockRouter, client: ModelArtsClient) -> None:
    route = api.get(f"/v2/{PROJECT}/datasets", params={"limit": "1"}).respond(
        200, json={"total_number": 1, "datasets": [{"dataset_id": "ds-1"}]}
    )
    assert client.list_datasets(limit=1)["total_number"] == 1
    assert route.called


def test_path_ids_are_percent_encoded(api: respx.MockRouter, client: ModelArtsClient) -> None:
    route = api.get(url__regex=r".*").respond(200, json={"task_id": "x", "status": 1})
    client.get_workforce_task("ds/1 ?#", "täsk")
    assert (
        route.calls.last.request.url.raw_path
        == b"/v2/proj-1/datasets/ds%2F1%20%3F%23/workforce-tasks/t%C3%A4sk"
    )
    for bad in ("", "..", "."):
        with pytest.raises(ValueError, match="dataset_id"):
            client.get_workforce_task(bad, "task-1")
    assert route.call_count == 1


def test_unparseable_success_body_raises_modelarts_error(
    api: respx.MockRouter, client: ModelArtsClient
) -> None:
    api.get(TASK).respond(200, text="<html>login page</html>")
    with pytest.raises(ModelArtsError, match="WorkforceTask"):
        client.get_workforce_task("ds-1", "task-1")


def test_send_raw_uses_retry_path(api: respx.MockRouter, client: ModelArtsClient, clock: FakeClock) -> None:
    route = api.post("/_emulator/reset").mock(side_effect=[httpx.Response(503), httpx.Response(204)])
    response = client.send_raw("post", "/_emulator/reset", json_body={"a": 1})
    assert response.status_code == 204
    assert route.call_count == 2
    assert route.calls[0].request.content == route.calls[1].request.content == b'{"a":1}'
    assert client.retry_count == 1


# ---------------------------------------------------------------------------------------------- retries


def test_429_honours_retry_after(api: respx.MockRouter, client: ModelArtsClient, clock: FakeClock) -> None:
    route = api.post(f"{DS}/data-annotations/samples").mock(
        side_effect=[
            httpx.Response(429, json={"error_code": "ModelArts.6101"}, headers={"Retry-After": "3"}),
            httpx.Response(200, json={"success": True}),
        ]
    )
    assert client.add_samples("ds-1", [IMAGE_SAMPLE]).success is True
    assert clock.sleeps == [3.0]
    assert client.retry_count == 1
    assert route.calls[0].request.content == route.calls[1].request.content


def test_5xx_retried_with_full_jitter_backoff(
    api: respx.MockRouter, client: ModelArtsClient, clock: FakeClock
) -> None:
    route = api.get(TASK).mock(
        side_effect=[
            httpx.Response(500),
            httpx.Response(502),
            httpx.Response(503),
            httpx.Response(200, json={}),
        ]
    )
    client.get_workforce_task("ds-1", "task-1")
    assert route.call_count == 4
    assert client.retry_count == 3
    assert len(clock.sleeps) == 3
    for retry, delay in enumerate(clock.sleeps, start=1):
        assert 0.0 <= delay <= min(4.0, 0.5 * 2 ** (retry - 1))
    assert len(set(clock.sleeps)) == 3  # jittered, not a fixed schedule


def test_backoff_without_jitter_doubles_up_to_cap(api: respx.MockRouter, clock: FakeClock) -> None:
    api.get(TASK).mock(side_effect=[httpx.Response(503)] * 5 + [httpx.Response(200, json={})])
    policy = RetryPolicy(max_attempts=6, backoff_base=1.0, backoff_max=5.0, deadline=100.0, jitter=False)
    with make_client(clock, retry=policy) as c:
        c.get_workforce_task("ds-1", "task-1")
    assert clock.sleeps == [1.0, 2.0, 4.0, 5.0, 5.0]


def test_transport_errors_are_retried(
    api: respx.MockRouter, client: ModelArtsClient, clock: FakeClock
) -> None:
    route = api.put(f"{DS}/data-annotations/samples").mock(
        side_effect=[httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), httpx.Response(200, json={})]
    )
    client.update_samples("ds-1", [DETECTION_LABELS])
    assert route.call_count == 3
    assert client.retry_count == 2
    assert route.calls[0].request.content == route.calls[2].request.content


def test_transport_errors_exhaust_attempts(
    api: respx.MockRouter, client: ModelArtsClient, clock: FakeClock
) -> None:
    route = api.get(TASK).mock(side_effect=httpx.ConnectError("connection refused"))
    with pytest.raises(ModelArtsTransportError) as info:
        client.get_workforce_task("ds-1", "task-1")
    assert route.call_count == 4
    assert info.value.attempts == 4
    assert isinstance(info.value.__cause__, httpx.ConnectError)
    assert "after 4 attempts" in str(info.value)


def test_server_errors_exhaust_attempts(
    api: respx.MockRouter, client: ModelArtsClient, clock: FakeClock
) -> None:
    route = api.get(TASK).respond(500, json={"error_code": "ModelArts.0010", "error_msg": "Internal error."})
    with pytest.raises(ModelArtsServerError, match=r"HTTP 500 ModelArts\.0010"):
        client.get_workforce_task("ds-1", "task-1")
    assert route.call_count == 4
    assert client.retry_count == 3


def test_stops_at_deadline_without_sleeping_past_it(api: respx.MockRouter, clock: FakeClock) -> None:
    route = api.get(TASK).respond(503, headers={"X-Request-Id": "rid-9"})
    policy = RetryPolicy(max_attempts=50, backoff_base=2.0, backoff_max=100.0, deadline=10.0, jitter=False)
    with make_client(clock, retry=policy) as c, pytest.raises(ModelArtsServerError) as info:
        c.get_workforce_task("ds-1", "task-1")
    assert clock.sleeps == [2.0, 4.0]  # the next delay (8s) would end after the 10s deadline
    assert sum(clock.sleeps) <= policy.deadline
    assert route.call_count == 3
    assert info.value.request_id == "rid-9"


def test_retry_after_beyond_deadline_raises_at_once(api: respx.MockRouter, clock: FakeClock) -> None:
    route = api.get(TASK).respond(429, headers={"Retry-After": "120"})
    with make_client(clock) as c, pytest.raises(ModelArtsThrottledError) as info:
        c.get_workforce_task("ds-1", "task-1")
    assert route.call_count == 1
    assert clock.sleeps == []
    assert info.value.retry_after == 120.0


def test_retry_shortens_timeout_to_remaining_deadline(api: respx.MockRouter, clock: FakeClock) -> None:
    route = api.get(TASK).mock(side_effect=[httpx.Response(503), httpx.Response(200, json={})])
    policy = RetryPolicy(max_attempts=3, backoff_base=4.0, deadline=10.0, jitter=False)
    with make_client(clock, retry=policy, timeout=30.0) as c:
        c.get_workforce_task("ds-1", "task-1")
    assert route.calls[0].request.extensions["timeout"]["read"] == 30.0
    assert route.calls[1].request.extensions["timeout"]["read"] == pytest.approx(6.0)


@pytest.mark.parametrize(
    ("status", "code", "cls"),
    [
        (400, "ModelArts.4422", ModelArtsValidationError),
        (401, "APIGW.0301", ModelArtsAuthError),
        (403, "ModelArts.0112", ModelArtsAuthError),
        (404, "ModelArts.4420", ModelArtsNotFoundError),
    ],
)
def test_client_errors_are_not_retried(
    api: respx.MockRouter,
    client: ModelArtsClient,
    clock: FakeClock,
    status: int,
    code: str,
    cls: type[Exception],
) -> None:
    route = api.put(f"{TASK}/acceptance/status").respond(
        status, json={"error_code": code, "error_msg": "nope"}, headers={"X-Request-Id": "req-42"}
    )
    with pytest.raises(cls) as info:
        client.update_acceptance_status("ds-1", "task-1", "pass_all")
    error = info.value
    assert route.call_count == 1
    assert clock.sleeps == []
    assert client.retry_count == 0
    assert (error.status, error.error_code, error.request_id) == (status, code, "req-42")  # type: ignore[attr-defined]
    assert str(error).startswith(f"PUT {TASK}/acceptance/status failed with HTTP {status} {code}")


def test_retry_warning_logs_without_headers_or_body(
    api: respx.MockRouter, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    api.post(f"{DS}/data-annotations/samples").mock(
        side_effect=[httpx.Response(503, json={"error_code": "ModelArts.4302"}), httpx.Response(200, json={})]
    )
    auth = AkSkAuth("AKEXAMPLE", SECRET_KEY, security_token="security-token-secret")
    caplog.set_level(logging.DEBUG)
    with make_client(clock, auth=auth) as c:
        c.add_samples("ds-1", [IMAGE_SAMPLE])
    warnings = [r for r in caplog.records if r.name == "airflow_provider_modelarts.client"]
    assert [r.levelno for r in warnings] == [logging.WARNING]
    message = warnings[0].getMessage()
    assert f"POST {DS}/data-annotations/samples" in message
    assert "attempt 2 of 4" in message
    assert "HTTP 503 ModelArts.4302" in message
    everything = caplog.text
    for secret in (SECRET_KEY, "security-token-secret", "Signature=", IMAGE_SAMPLE["data"]):
        assert secret not in everything


# ------------------------------------------------------------------------------------------ async client


def test_async_client_methods_and_retries(clock: FakeClock) -> None:
    async def scenario() -> None:
        with respx.mock(base_url=BASE, assert_all_called=False) as api:
            add = api.post(f"{DS}/data-annotations/samples").mock(
                side_effect=[
                    httpx.Response(429, headers={"Retry-After": "2"}),
                    httpx.ConnectError("refused"),
                    httpx.Response(200, json={"success": True}),
                ]
            )
            status = api.put(f"{TASK}/acceptance/status", params={"locale": "zh-cn"}).respond(200, json={})
            missing = api.get(f"{DS}/workforce-tasks/nope").respond(
                404, json={"error_code": "ModelArts.4352", "error_msg": "Task not found"}
            )
            async with make_async_client(clock) as c:
                result = await c.add_samples("ds-1", [IMAGE_SAMPLE])
                assert result.success is True
                assert add.call_count == 3
                assert clock.sleeps[0] == 2.0
                assert len(clock.sleeps) == 2
                assert c.retry_count == 2
                assert sent_json(add) == {"samples": [IMAGE_SAMPLE]}

                await c.update_acceptance_status("ds-1", "task-1", "reject_all", locale="zh-cn")
                assert sent_json(status) == {"action": 1}

                with pytest.raises(ModelArtsNotFoundError, match=r"ModelArts\.4352"):
                    await c.get_workforce_task("ds-1", "nope")
                assert missing.call_count == 1

    asyncio.run(scenario())


def test_async_iter_samples_and_deadline(clock: FakeClock) -> None:
    async def scenario() -> None:
        with respx.mock(base_url=BASE, assert_all_called=False) as api:
            api.get(f"{TASK}/data-annotations/samples").mock(side_effect=_paged(3))
            api.get(TASK).respond(502)
            policy = RetryPolicy(max_attempts=10, backoff_base=3.0, deadline=5.0, jitter=False)
            async with make_async_client(clock, retry=policy) as c:
                ids = [
                    s.sample_id async for s in c.iter_workforce_task_samples("ds-1", "task-1", page_size=2)
                ]
                assert ids == ["s0", "s1", "s2"]
                with pytest.raises(ModelArtsServerError):
                    await c.get_workforce_task("ds-1", "task-1")
                assert clock.sleeps == [3.0]

    asyncio.run(scenario())


# --------------------------------------------------------------------------------------- IAM token auth


def _iam_route(api: respx.MockRouter, tokens: list[str]) -> respx.Route:
    responses = [
        httpx.Response(
            201,
            headers={"X-Subject-Token": token},
            json={"token": {"expires_at": "2099-01-01T00:00:00.000000Z", "methods": ["password"]}},
        )
        for token in tokens
    ]
    return api.post(f"{IAM}/v3/auth/tokens").mock(side_effect=responses)


def test_iam_token_fetched_once_for_20_concurrent_async_requests(clock: FakeClock) -> None:
    async def scenario() -> None:
        with respx.mock(assert_all_called=False) as api:
            iam = _iam_route(api, ["token-A"])
            seen: list[str] = []

            async def handler(request: httpx.Request) -> httpx.Response:
                seen.append(request.headers["X-Auth-Token"])
                await asyncio.sleep(0)  # let the other requests interleave
                return httpx.Response(200, json={"task_id": "task-1", "status": 1})

            task_route = api.get(f"{BASE}{TASK}").mock(side_effect=handler)
            auth = IamTokenAuth(IAM, "labeler", IAM_PASSWORD, "domain", project_id=PROJECT)
            async with make_async_client(clock, auth=auth) as c:
                tasks = await asyncio.gather(*(c.get_workforce_task("ds-1", "task-1") for _ in range(20)))
            assert all(t.status == TaskStatus.RUNNING for t in tasks)
            assert iam.call_count == 1
            assert auth.token_fetches == 1
            assert task_route.call_count == 20
            assert set(seen) == {"token-A"}
            body = json.loads(iam.calls.last.request.content)
            assert body["auth"]["identity"]["password"]["user"]["name"] == "labeler"
            assert body["auth"]["scope"]["project"] == {"id": PROJECT}

    asyncio.run(scenario())


def test_iam_token_refreshed_once_after_401(clock: FakeClock) -> None:
    async def scenario() -> None:
        with respx.mock(assert_all_called=False) as api:
            iam = _iam_route(api, ["token-old", "token-new"])

            def handler(request: httpx.Request) -> httpx.Response:
                if request.headers["X-Auth-Token"] == "token-old":
                    return httpx.Response(401, json={"error_code": "ModelArts.4127", "error_msg": "expired"})
                return httpx.Response(200, json={"task_id": "task-1", "status": 3})

            task_route = api.get(f"{BASE}{TASK}").mock(side_effect=handler)
            auth = IamTokenAuth(IAM, "labeler", IAM_PASSWORD, "domain", project_id=PROJECT)
            async with make_async_client(clock, auth=auth) as c:
                first = await c.get_workforce_task("ds-1", "task-1")
                assert first.status == TaskStatus.ACCEPTED
                assert iam.call_count == 2
                assert task_route.call_count == 2
                # Later requests reuse the refreshed token: no more fetches.
                await asyncio.gather(*(c.get_workforce_task("ds-1", "task-1") for _ in range(5)))
            assert iam.call_count == 2
            assert auth.token_fetches == 2
            assert task_route.call_count == 7
            assert c.retry_count == 0  # the 401 was handled by the auth flow, not the retry loop

    asyncio.run(scenario())


def test_iam_persistent_401_surfaces_as_auth_error(clock: FakeClock) -> None:
    async def scenario() -> None:
        with respx.mock(assert_all_called=False) as api:
            iam = _iam_route(api, ["t1", "t2"])
            api.get(f"{BASE}{TASK}").respond(
                401, json={"error_code": "ModelArts.4201", "error_msg": "Invalid token."}
            )
            auth = IamTokenAuth(IAM, "labeler", IAM_PASSWORD, "domain", project_id=PROJECT)
            async with make_async_client(clock, auth=auth) as c:
                with pytest.raises(ModelArtsAuthError) as info:
                    await c.get_workforce_task("ds-1", "task-1")
            assert iam.call_count == 2
            assert "token expired or was revoked" in str(info.value)
            assert IAM_PASSWORD not in str(info.value)
            assert "t2" not in str(info.value)

    asyncio.run(scenario())


def test_retry_after_http_date(api: respx.MockRouter, client: ModelArtsClient, clock: FakeClock) -> None:
    when = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=30), usegmt=True)
    api.get(TASK).mock(
        side_effect=[httpx.Response(503, headers={"Retry-After": when}), httpx.Response(200, json={})]
    )
    client.get_workforce_task("ds-1", "task-1")
    assert len(clock.sleeps) == 1
    assert 25.0 <= clock.sleeps[0] <= 30.0


def test_invalid_label_format_fails_before_sending(api: respx.MockRouter, client: ModelArtsClient) -> None:
    with pytest.raises(ValueError, match="text_label_separator"):
        client.add_samples("ds-1", [IMAGE_SAMPLE], label_format={"text_label_separator": ",,"})
    with pytest.raises(ValueError, match="email"):
        client.update_samples("ds-1", [DETECTION_LABELS], email="not-an-address")
    assert not api.calls


def test_verify_accepts_ca_bundle_path_and_rejects_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ModelArtsConfigError, match="CA bundle"):
        ModelArtsClient(project_id=PROJECT, endpoint=BASE, verify=str(tmp_path / "missing.pem"))
    with ModelArtsClient(project_id=PROJECT, endpoint=BASE, verify=certifi.where()) as c:
        assert c.base_url == BASE


def test_async_iter_checks_arguments_eagerly(clock: FakeClock) -> None:
    async def scenario() -> None:
        async with make_async_client(clock) as c:
            with pytest.raises(TypeError, match="bogus"):
                c.iter_samples("ds-1", bogus=1)
            with pytest.raises(ValueError, match="page_size"):
                c.iter_workforce_task_samples("ds-1", "task-1", page_size=101)

    asyncio.run(scenario())


def test_sync_and_async_clients_expose_the_same_api() -> None:
    def public(cls: type) -> set[str]:
        return {name for name in vars(cls) if not name.startswith("_")}

    sync_only = {"close"}
    async_only = {"aclose"}
    assert public(ModelArtsClient) - sync_only == public(AsyncModelArtsClient) - async_only
    for name in public(ModelArtsClient) - sync_only:
        sync_params = inspect.signature(getattr(ModelArtsClient, name)).parameters
        async_params = inspect.signature(getattr(AsyncModelArtsClient, name)).parameters
        assert list(sync_params) == list(async_params), name


def test_tls_context_is_built_once_and_shared_between_clients(monkeypatch: pytest.MonkeyPatch) -> None:
    """Loading the CA bundle costs ~45 ms; a triggerer builds a client per trigger: it must not repeat."""
    import airflow_provider_modelarts.client as client_module

    calls: list[object] = []
    real = httpx.create_ssl_context

    def counting(*args: object, **kwargs: object) -> object:
        calls.append(args)
        return real()

    monkeypatch.setattr(client_module.httpx, "create_ssl_context", counting)
    client_module._shared_ssl_context.cache_clear()
    try:
        clients = [ModelArtsClient(project_id="p", region="cn-north-4") for _ in range(3)]
        clients += [AsyncModelArtsClient(project_id="p", region="cn-north-4") for _ in range(3)]
        assert len(calls) == 1
        for c in clients[:3]:
            c.close()
    finally:
        client_module._shared_ssl_context.cache_clear()
