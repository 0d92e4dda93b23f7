"""AcceptanceTrigger with only the network edge mocked (respx): transient errors, token expiry, deadlines."""

from __future__ import annotations

import asyncio
import json
import re
import time
from typing import Any

import httpx
import pytest
import respx
from airflow.serialization.serialized_objects import BaseSerialization
from airflow.triggers.base import TriggerEvent
from stepped_trigger import SteppedTrigger

from airflow_provider_modelarts.triggers.acceptance import AcceptanceTrigger

ENDPOINT = "https://modelarts.unit.test"
SECRET_KEY = "unit-test-secret-key-0123456789"
PASSWORD = "unit-test-iam-password-0123"
TASK_URL = f"{ENDPOINT}/v2/p1/datasets/d1/workforce-tasks/t1"
REPORT_URL = f"{TASK_URL}/acceptance/report"


@pytest.fixture(autouse=True)
def _connections(monkeypatch: pytest.MonkeyPatch) -> None:
    aksk = {
        "conn_type": "modelarts",
        "login": "UNITTESTAK0000000001",
        "password": SECRET_KEY,
        "extra": {"endpoint": ENDPOINT, "project_id": "p1"},
    }
    iam = {
        "conn_type": "modelarts",
        "extra": {
            "auth_type": "password",
            "endpoint": ENDPOINT,
            "iam_endpoint": ENDPOINT,
            "project_id": "p1",
            "user_name": "labeler",
            "user_password": PASSWORD,
            "domain_name": "dom",
        },
    }
    monkeypatch.setenv("AIRFLOW_CONN_MODELARTS_UNIT", json.dumps(aksk))
    monkeypatch.setenv("AIRFLOW_CONN_MODELARTS_UNIT_IAM", json.dumps(iam))


def make_trigger(**overrides: Any) -> AcceptanceTrigger:
    kwargs: dict[str, Any] = {
        "dataset_id": "d1",
        "workforce_task_id": "t1",
        "criteria": {"target_statuses": [], "check_complete": True},
        "checking_task_id": "chk-1",
        "poll_interval": 0.01,
        "deadline": time.time() + 30,
        "modelarts_conn_id": "modelarts_unit",
    }
    kwargs.update(overrides)
    return AcceptanceTrigger(**kwargs)


def accepting(checked: int) -> dict[str, Any]:
    # The task details say little; the figures come from the report (see report()).
    del checked
    return {"task_id": "t1", "status": 2, "checking_task_desc": {"checking_task_id": "chk-1"}}


def report(checked: int, sampled: int = 4, rejected: int = 0) -> dict[str, Any]:
    return {
        "checking_stats": {
            "sampled_sample_count": sampled,
            "checked_sample_count": checked,
            "unchecked_sample_count": sampled - checked,
            "accepted_sample_count": checked - rejected,
            "rejected_sample_count": rejected,
            "pass_rate": (checked - rejected) / checked if checked else 0.0,
            "score": "A",
        }
    }


class FakeClockTrigger(AcceptanceTrigger):
    """The trigger with time moved by hand: sleeping advances the clock at once (starts at t = 1,000 s)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.now = 1_000.0
        self.slept: list[float] = []

    def _now(self) -> float:
        return self.now

    async def _sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


async def first_event(trigger: AcceptanceTrigger) -> TriggerEvent:
    events = [event async for event in trigger.run()]
    assert len(events) == 1, events
    return events[0]


@pytest.mark.parametrize("conn_id", ["modelarts_unit", "modelarts_unit_iam"])
def test_serialize_round_trip_holds_no_secret(conn_id: str) -> None:
    trigger = make_trigger(modelarts_conn_id=conn_id, project_id="p1")
    classpath, kwargs = trigger.serialize()
    assert classpath == "airflow_provider_modelarts.triggers.acceptance.AcceptanceTrigger"
    rebuilt = AcceptanceTrigger(**kwargs)
    assert rebuilt.serialize() == (classpath, kwargs)
    # What Airflow stores in the trigger table must encode, and carry only ids, criteria, timing, conn id.
    encoded = json.dumps(BaseSerialization.serialize(kwargs))
    for text in (repr(trigger.serialize()), repr(trigger), encoded):
        assert SECRET_KEY not in text
        assert PASSWORD not in text
        assert "UNITTESTAK" not in text
    assert set(kwargs) == {
        "dataset_id",
        "workforce_task_id",
        "criteria",
        "checking_task_id",
        "poll_interval",
        "deadline",
        "modelarts_conn_id",
        "project_id",
    }


@respx.mock
def test_transient_errors_do_not_end_the_wait() -> None:
    # More 503s in a row than the trigger's client retries (3 attempts), then a throttle, then progress.
    task_route = respx.get(TASK_URL).mock(
        side_effect=[httpx.Response(503)] * 4
        + [httpx.Response(429, headers={"Retry-After": "0"}, json={"error_code": "ModelArts.6101"})] * 3
        + [httpx.Response(200, json=accepting(2)), httpx.Response(200, json=accepting(4))]
    )
    respx.get(REPORT_URL).mock(
        side_effect=[httpx.Response(200, json=report(2)), httpx.Response(200, json=report(4))]
    )
    event = asyncio.run(first_event(make_trigger()))
    assert event.payload["status"] == "success"
    assert event.payload["figures"]["checked"] == 4
    assert task_route.call_count == 9


@respx.mock
def test_token_expiry_rebuilds_the_client_and_keeps_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow_provider_modelarts.hooks.modelarts import ModelArtsHook

    built: list[object] = []
    real_get_async_client = ModelArtsHook.get_async_client

    async def counting(self: ModelArtsHook, **kwargs: Any) -> Any:
        client = await real_get_async_client(self, **kwargs)
        built.append(client)
        return client

    monkeypatch.setattr(ModelArtsHook, "get_async_client", counting)
    expired = httpx.Response(401, json={"error_code": "ModelArts.4127", "error_msg": "Token expired."})
    respx.get(TASK_URL).mock(side_effect=[expired, httpx.Response(200, json=accepting(4))])
    respx.get(REPORT_URL).mock(return_value=httpx.Response(200, json=report(4)))
    trigger = make_trigger()
    event = asyncio.run(first_event(trigger))
    assert event.payload["status"] == "success"
    # A fresh client (fresh connection lookup, fresh token) after the expiry; both closed by the end.
    assert len(built) == 2
    assert trigger._client is None


@respx.mock
def test_permanent_error_ends_with_failure_event() -> None:
    respx.get(TASK_URL).mock(
        return_value=httpx.Response(
            404, json={"error_code": "ModelArts.4352", "error_msg": "Task not found."}
        )
    )
    event = asyncio.run(first_event(make_trigger()))
    assert event.payload["status"] == "failure"
    assert event.payload["api_error"] is True
    assert "ModelArts.4352" in event.payload["message"]
    assert SECRET_KEY not in json.dumps(event.payload)


@respx.mock
def test_failure_when_pass_rate_out_of_reach() -> None:
    respx.get(TASK_URL).mock(return_value=httpx.Response(200, json=accepting(2)))
    respx.get(REPORT_URL).mock(return_value=httpx.Response(200, json=report(2, rejected=2)))
    trigger = make_trigger(criteria={"target_statuses": [], "check_complete": True, "min_pass_rate": 0.75})
    event = asyncio.run(first_event(trigger))
    assert event.payload["status"] == "failure"
    assert "can no longer reach 75.00%" in event.payload["message"]
    assert event.payload["figures"]["rejected"] == 2


@respx.mock
def test_deadline_yields_timeout_with_last_state() -> None:
    respx.get(TASK_URL).mock(return_value=httpx.Response(200, json=accepting(1)))
    respx.get(REPORT_URL).mock(return_value=httpx.Response(200, json=report(1)))
    trigger = FakeClockTrigger(**{**make_trigger().serialize()[1], "poll_interval": 60, "deadline": 1_000.3})
    event = asyncio.run(first_event(trigger))
    # Woke up at the deadline instead of sleeping the whole 60 s poll interval.
    assert trigger.slept == [pytest.approx(0.3)]
    assert event.payload["status"] == "timeout"
    assert "1/4 sampled samples checked" in event.payload["message"]
    assert event.payload["figures"]["checked"] == 1


@respx.mock
def test_cancelled_run_closes_its_client() -> None:
    respx.get(TASK_URL).mock(return_value=httpx.Response(200, json=accepting(1)))
    respx.get(REPORT_URL).mock(return_value=httpx.Response(200, json=report(1)))
    trigger = make_trigger(poll_interval=30)

    async def scenario() -> tuple[bool, int]:
        runner = asyncio.ensure_future(first_event(trigger))
        for _ in range(200):
            await asyncio.sleep(0.01)
            if trigger._client is not None and respx.calls.call_count >= 2:
                break
        client = trigger._client
        assert client is not None
        closes: list[bool] = []
        real_aclose = client.aclose

        async def counting_aclose() -> None:
            closes.append(True)
            await real_aclose()

        client.aclose = counting_aclose  # type: ignore[method-assign]
        runner.cancel()
        with pytest.raises(asyncio.CancelledError):
            await runner
        await trigger.cleanup()  # idempotent after the run's own finally
        await trigger.on_kill()
        return trigger._client is None, len(closes)

    cleared, closes = asyncio.run(scenario())
    assert cleared
    assert closes == 1


@respx.mock
def test_a_working_day_of_unchanged_polls_logs_a_few_dozen_lines_not_one_per_poll(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # 8 hours at the default 60 s interval with the figures still (480 polls), then progress, then done.
    still = [httpx.Response(200, json=report(1))] * 480
    respx.get(TASK_URL).mock(return_value=httpx.Response(200, json=accepting(1)))
    reports = respx.get(REPORT_URL).mock(
        side_effect=[*still, httpx.Response(200, json=report(3)), httpx.Response(200, json=report(4))]
    )
    kwargs = make_trigger().serialize()[1]
    trigger = FakeClockTrigger(**{**kwargs, "poll_interval": 60.0, "deadline": None})
    capsys.readouterr()
    event = asyncio.run(first_event(trigger))
    # The triggerer's log lines (Airflow's structured logging writes them out, one per line).
    lines = [line for line in capsys.readouterr().out.splitlines() if "FakeClockTrigger" in line]
    assert event.payload["status"] == "success" and reports.call_count == 482
    waiting = [line for line in lines if "] Waiting for" in line]
    heartbeats = [line for line in lines if "] Still waiting, no change in" in line]
    assert len(waiting) == 2  # the first look, and the change to 3/4 checked; the end is the sensor's line
    assert "1/4 sampled samples checked" in waiting[0] and "3/4 sampled samples checked" in waiting[1]
    assert len(heartbeats) == 480 * 60 // 600 - 1  # one every ten minutes of no change
    assert "Still waiting, no change in 10 looks" in heartbeats[0]
    assert len(lines) == len(waiting) + len(heartbeats)


@respx.mock
def test_triggers_on_one_connection_share_one_client_and_nothing_is_set_up_per_poll(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from airflow_provider_modelarts.client import AsyncModelArtsClient
    from airflow_provider_modelarts.hooks.modelarts import ModelArtsHook

    hooks: list[str] = []
    clients: list[object] = []
    real_hook, real_init = ModelArtsHook.for_connection, AsyncModelArtsClient.__init__

    def counting_hook(conn_id: str, **kwargs: Any) -> Any:
        hooks.append(conn_id)
        return real_hook(conn_id, **kwargs)

    def counting_init(self: AsyncModelArtsClient, **kwargs: Any) -> None:
        clients.append(self)
        real_init(self, **kwargs)

    monkeypatch.setattr(ModelArtsHook, "for_connection", counting_hook)
    monkeypatch.setattr(AsyncModelArtsClient, "__init__", counting_init)
    # 50 triggers, each on its own team task, each polling three times (1/4, 2/4, then 4/4 checked).
    task_url = re.compile(rf"{re.escape(ENDPOINT)}/v2/p1/datasets/d1/workforce-tasks/(?P<task>t\d+)$")
    report_url = re.compile(
        rf"{re.escape(ENDPOINT)}/v2/p1/datasets/d1/workforce-tasks/(?P<task>t\d+)/acceptance/report"
    )
    polls: dict[str, int] = {}

    def details(request: httpx.Request, task: str) -> httpx.Response:
        return httpx.Response(200, json={**accepting(0), "task_id": task})

    def figures(request: httpx.Request, task: str) -> httpx.Response:
        polls[task] = polls.get(task, 0) + 1
        return httpx.Response(200, json=report([1, 2, 4][polls[task] - 1]))

    respx.get(task_url).mock(side_effect=details)
    respx.get(report_url).mock(side_effect=figures)
    everyone_polled = asyncio.Event()

    class TogetherTrigger(FakeClockTrigger):
        """Waits after its first poll until all 50 made theirs, so all of them hold the client at once."""

        async def _sleep(self, seconds: float) -> None:
            if len(polls) == 50:
                everyone_polled.set()
            await everyone_polled.wait()
            await super()._sleep(seconds)

    async def scenario() -> list[TriggerEvent]:
        triggers = [
            TogetherTrigger(**{**make_trigger().serialize()[1], "workforce_task_id": f"t{i}"})
            for i in range(50)
        ]
        return list(await asyncio.gather(*(first_event(t) for t in triggers)))

    events = asyncio.run(scenario())
    assert [e.payload["status"] for e in events] == ["success"] * 50
    assert sorted(polls.values()) == [3] * 50
    # One connection lookup per trigger start (never per poll: 150 polls) and one client for the settings.
    assert len(hooks) == 50 and len(clients) == 1


def test_shared_clients_close_a_client_when_its_last_user_lets_go_and_retire_stale_ones() -> None:
    from airflow_provider_modelarts.triggers.clients import SharedClients

    class Client:
        closed = 0

        async def aclose(self) -> None:
            self.closed += 1

    async def scenario() -> None:
        shared = SharedClients()

        async def build(turns: object) -> Client:
            return Client()

        first = await shared.acquire("conn", build, poll_interval=60)
        assert await shared.acquire("conn", build, poll_interval=60) is first and shared.users(first) == 2
        await shared.release(first, refused=True)  # its credentials were refused: nobody new gets it
        fresh = await shared.acquire("conn", build, poll_interval=60)
        assert fresh is not first and shared.built == 2
        assert first.closed == 0  # still used by the other trigger
        await shared.release(first)
        assert first.closed == 1
        await shared.release(fresh)
        assert fresh.closed == 1 and shared.users(fresh) == 0
        assert await shared.acquire("conn", build, poll_interval=60) is not fresh  # never a closed one

    asyncio.run(scenario())


# -- key rotation, slow connections, real latency (issue 25, items 5 and 6) --------------------------------

ACCESS_KEY = "UNITTESTAK0000000001"
ROTATED_SECRET = "unit-test-rotated-secret-9876543210"


def settings_for(conn_id: str, secret_key: str = SECRET_KEY) -> Any:
    from airflow_provider_modelarts.hooks.connection import ModelArtsConnectionSettings

    return ModelArtsConnectionSettings(
        conn_id=conn_id,
        auth_type="aksk",
        project_id="p1",
        region=None,
        endpoint=ENDPOINT,
        access_key=ACCESS_KEY,
        secret_key=secret_key,
    )


class FakeConnections:
    """The connection lookup of the hook, replaced: settings by connection id, changed by the test, each
    lookup counted, and ``gates`` holding up the lookups of a connection until set."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, **settings: Any) -> None:
        from airflow_provider_modelarts.hooks.modelarts import ModelArtsHook

        self.settings = settings
        self.lookups: list[str] = []
        self.gates: dict[str, asyncio.Event] = {}
        connections = self

        async def asettings(hook: ModelArtsHook) -> Any:
            if hook._settings is None:  # read once per hook, as the real lookup does
                connections.lookups.append(hook.modelarts_conn_id)
                if (gate := connections.gates.get(hook.modelarts_conn_id)) is not None:
                    await gate.wait()
                hook._settings = connections.settings[hook.modelarts_conn_id]
            return hook._settings

        monkeypatch.setattr(ModelArtsHook, "asettings", asettings)


def signed_with(secrets: dict[str, str], request: httpx.Request) -> bool:
    """Whether ``request`` carries a valid AK/SK signature under the secrets the service holds now."""
    from modelarts_emulator.signature import verify_signature

    raw = request.url.raw_path.decode()
    path, _, query = raw.partition("?")
    return verify_signature(
        request.method, path, query, dict(request.headers), request.content, secrets.get
    ).ok


@respx.mock
def test_a_rotated_key_reaches_new_waits_at_once_and_old_waits_after_one_refusal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    connections = FakeConnections(monkeypatch, modelarts_unit=settings_for("modelarts_unit"))
    service = {ACCESS_KEY: SECRET_KEY}  # what the service accepts
    checked = {"count": 1}
    refusals: list[str] = []
    refused = httpx.Response(
        401, json={"error_code": "APIGW.0301", "error_msg": "Incorrect IAM authentication"}
    )

    def answer(body: dict[str, Any]) -> Any:
        def respond(request: httpx.Request) -> httpx.Response:
            if not signed_with(service, request):
                refusals.append(request.url.path)
                return refused
            return httpx.Response(200, json=body() if callable(body) else body)

        return respond

    respx.get(TASK_URL).mock(side_effect=answer(accepting(0)))
    respx.get(REPORT_URL).mock(side_effect=answer(lambda: report(checked["count"])))  # type: ignore[arg-type]

    async def scenario() -> tuple[TriggerEvent, TriggerEvent, int]:
        from airflow_provider_modelarts.triggers.clients import shared_clients

        old = SteppedTrigger(**make_trigger().serialize()[1])
        old_run = asyncio.ensure_future(first_event(old))
        await old.asleep.wait()  # polled with the first key: 1/4 checked
        first_client = old._client
        # The key is rotated: the service takes only the new secret, and the connection holds it.
        service[ACCESS_KEY] = ROTATED_SECRET
        connections.settings["modelarts_unit"] = settings_for("modelarts_unit", ROTATED_SECRET)
        checked["count"] = 4
        new = SteppedTrigger(**make_trigger().serialize()[1])
        new_event = await first_event(new)  # deferred after the change: the new key at once
        assert refusals == [] and shared_clients().users(first_client) == 1  # the old wait still holds it
        old.wake.set()  # the old wait polls with the old key once, is refused, then uses the new one
        old_event = await old_run
        assert old._client is None and shared_clients().turns(first_client) is None  # closed, let go
        return old_event, new_event, shared_clients().built

    old_event, new_event, built = asyncio.run(scenario())
    assert new_event.payload["status"] == "success" and old_event.payload["status"] == "success"
    assert refusals == ["/v2/p1/datasets/d1/workforce-tasks/t1"]
    # The first key's client, the new wait's (closed when it ended), the old wait's of the new key.
    assert built == 3
    # A lookup per trigger start, and one after the refusal; none per poll.
    assert connections.lookups == ["modelarts_unit"] * 3


@respx.mock
def test_a_refusal_with_unchanged_settings_ends_the_wait_after_one_fresh_look(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    connections = FakeConnections(monkeypatch, modelarts_unit=settings_for("modelarts_unit"))
    route = respx.get(TASK_URL).mock(
        return_value=httpx.Response(403, json={"error_code": "ModelArts.0203", "error_msg": "Forbidden"})
    )

    async def scenario() -> tuple[TriggerEvent, int]:
        from airflow_provider_modelarts.triggers.clients import shared_clients

        event = await first_event(make_trigger())
        return event, shared_clients().built

    event, built = asyncio.run(scenario())
    assert event.payload["status"] == "failure" and "ModelArts.0203" in event.payload["message"]
    # The refused client was retired and the connection read again; the same settings are not retried.
    assert route.call_count == 1 and built == 2 and connections.lookups == ["modelarts_unit"] * 2


@respx.mock
def test_a_slow_connection_lookup_does_not_hold_up_the_triggers_of_another_connection(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    connections = FakeConnections(
        monkeypatch,
        modelarts_slow=settings_for("modelarts_slow"),
        modelarts_unit=settings_for("modelarts_unit"),
    )
    connections.gates["modelarts_slow"] = asyncio.Event()
    respx.get(TASK_URL).mock(return_value=httpx.Response(200, json=accepting(4)))
    respx.get(REPORT_URL).mock(return_value=httpx.Response(200, json=report(4)))

    async def scenario() -> tuple[TriggerEvent, TriggerEvent]:
        slow = asyncio.ensure_future(first_event(make_trigger(modelarts_conn_id="modelarts_slow")))
        await asyncio.sleep(0)
        fast = asyncio.ensure_future(first_event(make_trigger()))
        for _ in range(200):  # event-loop turns, not time: the other connection's wait ends meanwhile
            await asyncio.sleep(0)
            if fast.done():
                break
        assert fast.done() and not slow.done()
        connections.gates["modelarts_slow"].set()
        return await slow, await fast

    slow_event, fast_event = asyncio.run(scenario())
    assert slow_event.payload["status"] == fast_event.payload["status"] == "success"


def test_waits_at_200_ms_per_answer_poll_on_time_and_time_out_at_their_deadline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """250 waits on one connection at a 15 s interval: the load of 1,000 waits at 60 s (16.7 polls a
    second), at 200 ms per answer, in virtual time. Every poll's first request goes out within a tenth of
    the interval after the poll was due, and every timeout fires at its deadline."""
    from airflow_provider_modelarts.triggers.clients import ROUND_SHARE
    from unit.triggers.test_clients import run_virtual

    waits, interval, latency = 250, 15.0, 0.2
    FakeConnections(monkeypatch, modelarts_unit=settings_for("modelarts_unit"))
    late: list[float] = []
    fired: list[float] = []
    by_task: dict[str, VirtualTrigger] = {}

    class VirtualTrigger(AcceptanceTrigger):
        due = 0.0

        def _now(self) -> float:
            return asyncio.get_running_loop().time()

        async def _sleep(self, seconds: float) -> None:
            await asyncio.sleep(seconds)
            self.due = self._now()

    async def details(request: httpx.Request, task: str) -> httpx.Response:
        late.append(asyncio.get_running_loop().time() - by_task[task].due)
        await asyncio.sleep(latency)
        return httpx.Response(200, json={**accepting(0), "task_id": task})

    async def figures(request: httpx.Request, task: str) -> httpx.Response:
        await asyncio.sleep(latency)
        return httpx.Response(200, json=report(1))

    base = f"{re.escape(ENDPOINT)}/v2/p1/datasets/d1/workforce-tasks/(?P<task>t\\d+)"

    async def scenario() -> list[TriggerEvent]:
        async def one(trigger: VirtualTrigger) -> TriggerEvent:
            event = await first_event(trigger)
            fired.append(trigger._now() - (trigger.deadline or 0))
            return event

        triggers = []
        for i in range(waits):
            kwargs = make_trigger(workforce_task_id=f"t{i}").serialize()[1]
            deadline = interval * (1 + 2 * i / waits)  # spread over the second and third interval
            triggers.append(VirtualTrigger(**{**kwargs, "poll_interval": interval, "deadline": deadline}))
            by_task[f"t{i}"] = triggers[-1]
        return list(await asyncio.gather(*(one(t) for t in triggers)))

    with respx.mock:
        respx.get(re.compile(base + "$")).mock(side_effect=details)
        respx.get(re.compile(base + "/acceptance/report")).mock(side_effect=figures)
        events = run_virtual(scenario())
    assert [e.payload["status"] for e in events] == ["timeout"] * waits
    assert "1/4 sampled samples checked" in events[-1].payload["message"]
    assert len(late) >= 2 * waits  # every wait polled at least twice
    assert max(late) <= ROUND_SHARE * interval
    assert max(fired) <= 1e-6  # at the deadline, not behind other triggers' polls (target: one interval)
