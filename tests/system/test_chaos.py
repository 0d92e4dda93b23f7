"""The chaos tier: components of the production-shaped deployment (``production_deployment.py``) killed
mid-work while the example pipeline runs, one run per case, each driven only through Airflow's REST API and
the emulator's admin API (``chaos_tools.py``).

Every case asserts the run succeeded and that it did everything exactly once, from the emulator's request
counts and dataset: the dataset gained exactly the batch's samples (each name once), one create request
made one team task, with one acceptance round, started and decided once (``chaos_tools.exactly_once``).
Each records its time to recover, and restores the killed component (and waits until it is back) so the
next case has the full topology. The chaos table (case, outcome, exactly-once evidence, time to recover) is
added to the system report.

Cases, each killing at an observed moment (never after a sleep):

1. **A worker killed mid-wait of ``import_samples``** (1,000 images written to the store for the run's
   ``batch``): the emulator's clock is held, so the import stays QUEUING, and a latency rule holds the
   operator's first look at it (the details request, sent once create was answered and the task id stored in
   the task-state store) for 10 s. When that look has arrived, the whole worker machine (main, pool and task
   processes) is killed. The scheduler fails the try after ``task_instance_heartbeat_timeout``; the retry on
   the other worker adopts the stored import instead of creating one, defers, and the import completes: one
   create request (emulator ``/stats``), each of the 1,000 objects imported once.
2. **The triggerer holding the deferred sensor SIGKILLed** (the one the task instance's ``triggerer_job``
   names; its whole machine): the other takes the trigger over (time to take over recorded) while the
   emulator's reviewers wait, then the sensor fires there.
3. **A scheduler SIGKILLed mid-run**: the one that queued the running ``create_team_task`` (its log says so),
   while that task waits for the team task to start; the other schedules the rest. Then it is started again.
4. **Redis restarted mid-queue**: the workers stop consuming (Celery's remote control, every worker
   answering) while the sensor is deferred; when it resumes, its task instance is queued and its message
   waits in Redis; Redis restarts without persistence and the message is lost. The workers reconnect and
   consume again; the lowered ``task_queued_timeout`` requeues the task instance.
5. **A worker killed between team-task create and start**: a latency rule holds the one create request in
   the emulator; when it has arrived the task process is frozen, and once the create is applied the whole
   worker machine (main, pool and task processes) is killed. One create request; the retry adopts the task
   by its name and starts it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from chaos_tools import (
    DATASET,
    PIPELINE,
    Driver,
    World,
    add_rule,
    arrived,
    celery_control,
    counts,
    exactly_once,
    kill_machine,
    queued_messages,
    restart,
    seconds_since,
    state_of,
    task_process,
    trigger,
    workers_answer,
)
from production_deployment import SCHEDULERS, TRIGGERERS, WORKERS, ProductionDeployment
from system_api import runs, wait_parsed, xcom
from system_deployment import poll

DAILY_DROP = Path(__file__).resolve().parents[2] / "dags_examples" / "data" / "daily_drop"
DROP_IMAGES = sorted(path.name for path in DAILY_DROP.glob("*.png"))
LARGE_BATCH = 1000  # images the import of case 1 copies (the emulator: 100 a step)


@dataclass
class Chaos:
    deployment: ProductionDeployment
    api: httpx.Client
    rows: list[str] = field(default_factory=list)

    def record(self, case: str, evidence: str, recovered: float, what: str) -> None:
        self.rows.append(f"| {case} | success | {evidence} | {recovered:.0f} s ({what}) |")


@pytest.fixture(scope="module")
def chaos(production: ProductionDeployment, system_report: list[str]) -> Iterator[Chaos]:
    started = time.monotonic()
    with production.api() as api:
        wait_parsed(api, PIPELINE)
        _settle(production, api)
        state = Chaos(production, api)
        yield state
    header = "| case | outcome | exactly-once evidence | time to recover |\n|---|---|---|---|\n"
    system_report.append(
        f"### Chaos ({time.monotonic() - started:.0f} s)\n\n" + header + "\n".join(state.rows)
    )


def _settle(deployment: ProductionDeployment, api: httpx.Client) -> None:
    """Unpause the pipeline and let every run of it that is not a case's end first (unpausing adds the
    latest scheduled run when this module runs alone), so the emulator counts only the cases' runs."""
    api.patch(f"/dags/{PIPELINE}", json={"is_paused": False}).raise_for_status()
    poll(
        "the scheduler's latest scheduled run",
        lambda: True if any(r["run_type"] == "scheduled" for r in runs(api, PIPELINE).values()) else None,
        timeout=300,
    )
    for run_id, run in runs(api, PIPELINE).items():
        if run["state"] not in ("success", "failed"):
            Driver(deployment, api, run_id).finish()


def _write_large_batch(deployment: ProductionDeployment, batch: str) -> list[str]:
    """The shipped drop plus generated images, LARGE_BATCH in all, with a prediction each, in the store."""
    assert deployment.store is not None
    client = deployment.store.client()
    predictions = json.loads((DAILY_DROP / "predictions.json").read_text())
    for path in DAILY_DROP.iterdir():
        client.put_object(Bucket="data", Key=f"landing/{batch}/{path.name}", Body=path.read_bytes())
    for index in range(LARGE_BATCH - len(DROP_IMAGES)):
        name = f"img_{index:04d}.png"
        client.put_object(Bucket="data", Key=f"landing/{batch}/{name}", Body=_png(index))
        predictions["predictions"][name] = {"label": ("cat", "dog")[index % 2], "score": 0.9}
    body = json.dumps(predictions).encode()
    client.put_object(Bucket="data", Key=f"landing/{batch}/predictions.json", Body=body)
    return sorted(predictions["predictions"])


def _png(index: int) -> bytes:
    """A 1x1 RGB PNG whose colour is ``index``: every generated image differs."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    pixel = b"\0" + index.to_bytes(3, "big")
    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    body = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(pixel)) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body


def _imports(deployment: ProductionDeployment) -> dict[str, dict]:
    """The dataset's import tasks in the emulator (admin API): id -> status and path."""
    datasets = deployment.emulator.call("GET", "datasets")
    return dict(next(d["import_tasks"] for d in datasets if d["dataset_id"] == DATASET))


def test_worker_killed_mid_import_wait(chaos: Chaos) -> None:
    deployment, api, batch = chaos.deployment, chaos.api, "chaos-import"
    images = _write_large_batch(deployment, batch)
    before, before_imports = World.read(deployment), _imports(deployment)
    rule = add_rule(deployment, route="get_import_task", latency_ms=10_000, count=1)
    driver = Driver(deployment, api, trigger(api, batch), hold=True)  # the import stays QUEUING

    def first_look_sent(tis: dict[str, dict]) -> dict | None:
        ti = tis["import_samples"]
        return ti if ti["state"] == "running" and arrived(deployment, rule) >= 1 else None

    ti = driver.until("the import's first look arrived", first_look_sent)
    worker = deployment.component(ti["hostname"])
    (import_id,) = set(_imports(deployment)) - set(before_imports)
    assert _imports(deployment)[import_id]["status"] == "QUEUING"
    killed = time.monotonic()
    kill_machine(worker)
    driver.hold = False
    retry = driver.until("import_samples retried", state_of("import_samples", "success", min_try=2))
    recovered = seconds_since(killed)
    assert retry["hostname"] != worker.name
    restart(deployment, worker)
    assert driver.finish() == "success", driver.summary()
    result = xcom(api, PIPELINE, driver.run_id, "import_samples")
    assert result["adopted"] is True and result["import_task_id"] == import_id, result
    assert result["imported"] == result["total"] == LARGE_BATCH, result
    evidence = exactly_once(deployment, before, batch, images)
    chaos.record(
        f"1. {worker.name} killed (main, pool and task processes) mid-wait of import_samples "
        f"({LARGE_BATCH} images, the import QUEUING, the operator's first look held)",
        f"{evidence}; the retry adopted import {import_id}",
        recovered,
        "kill to the retry's success",
    )


def test_triggerer_killed_holding_the_sensor(chaos: Chaos) -> None:
    deployment, api, batch = chaos.deployment, chaos.api, "chaos-triggerer"
    before = World.read(deployment)
    driver = Driver(deployment, api, trigger(api, batch), hold_deferred=True)

    def held_by(tis: dict[str, dict]) -> str | None:
        ti = tis["wait_for_acceptance"]
        return (ti.get("triggerer_job") or {}).get("hostname") if ti["state"] == "deferred" else None

    holder = driver.until("the sensor deferred on a triggerer", held_by)
    assert holder in TRIGGERERS
    component = deployment.component(holder)
    killed = time.monotonic()
    kill_machine(component)
    other = driver.until(
        "another triggerer runs the trigger", lambda tis: held_by(tis) if held_by(tis) != holder else None
    )
    taken_over = seconds_since(killed)
    assert other in TRIGGERERS and other != holder
    driver.hold_deferred = False
    assert driver.finish() == "success", driver.summary()
    restart(deployment, component)
    evidence = exactly_once(deployment, before, batch, DROP_IMAGES)
    chaos.record(
        f"2. {holder} (holding the deferred sensor) SIGKILLed",
        f"{evidence}; {other} took the trigger over and fired it",
        taken_over,
        f"kill to {other} running the trigger",
    )


def _queued_by(deployment: ProductionDeployment, run_id: str, task_id: str) -> str:
    """The scheduler that queued a task instance: the one whose log set its Celery task id."""
    line = f"Setting external_executor_id for <TaskInstance: {PIPELINE}.{task_id} {run_id} "
    found = [name for name in SCHEDULERS if line in deployment.component(name).output()]
    assert len(found) == 1, (task_id, found)
    return found[0]


def test_scheduler_killed_mid_run(chaos: Chaos) -> None:
    deployment, api, batch = chaos.deployment, chaos.api, "chaos-scheduler"
    before = World.read(deployment)
    # The clock moves until the import is done, then it is held: create_team_task waits for its team task to
    # start, and the run waits with it.
    driver = Driver(deployment, api, trigger(api, batch), hold_after="import_samples")

    def creating(tis: dict[str, dict]) -> bool | None:
        created = counts(deployment).get("create_workforce_task", {}).get("applied", 0)
        started = tis["create_team_task"]["state"] == "running"
        return True if started and created > before.requests("create_workforce_task", "applied") else None

    driver.until("create_team_task running, its team task created", creating)
    victim = _queued_by(deployment, driver.run_id, "create_team_task")
    killed = time.monotonic()
    kill_machine(deployment.component(victim))
    driver.hold_after = None
    driver.until("the next task running", state_of("check_batch", "running", "success"))
    recovered = seconds_since(killed)
    survivor = _queued_by(deployment, driver.run_id, "check_batch")
    assert survivor != victim
    assert driver.finish() == "success", driver.summary()
    restart(deployment, deployment.component(victim))
    evidence = exactly_once(deployment, before, batch, DROP_IMAGES)
    chaos.record(
        f"3. {victim} (it queued the running create_team_task) SIGKILLed mid-run",
        f"{evidence}; {survivor} queued the rest",
        recovered,
        f"kill to the next task running, queued by {survivor}",
    )


def test_redis_restarted_mid_queue(chaos: Chaos) -> None:
    deployment, api, batch = chaos.deployment, chaos.api, "chaos-redis"
    assert deployment.redis is not None
    before = World.read(deployment)
    driver = Driver(deployment, api, trigger(api, batch), hold_deferred=True)
    driver.until("the sensor deferred", state_of("wait_for_acceptance", "deferred"))
    with celery_control(deployment) as control:
        workers_answer(deployment, control, "cancel_consumer", len(WORKERS))
    driver.hold_deferred = False

    def waiting_in_redis(tis: dict[str, dict]) -> bool | None:
        queued = tis["wait_for_acceptance"]["state"] == "queued"
        return True if queued and queued_messages(deployment) >= 1 else None

    driver.until("the resumed sensor's message waiting in Redis", waiting_in_redis)
    restarted = time.monotonic()
    deployment.redis.restart()
    assert queued_messages(deployment) == 0  # nothing persisted: the message is lost
    with celery_control(deployment) as control:
        workers_answer(deployment, control, "add_consumer", len(WORKERS))
    driver.until("the sensor requeued and running", state_of("wait_for_acceptance", "running", "success"))
    recovered = seconds_since(restarted)
    assert driver.finish() == "success", driver.summary()
    sensor = driver.last["wait_for_acceptance"]
    assert sensor["try_number"] == 1, sensor  # requeued, not retried
    evidence = exactly_once(deployment, before, batch, DROP_IMAGES)
    chaos.record(
        "4. Redis restarted while the resumed sensor's message was queued (workers not consuming)",
        f"{evidence}; the lost task instance requeued by task_queued_timeout, try 1 throughout",
        recovered,
        "restart to the requeued task running",
    )


def test_worker_killed_between_create_and_start(chaos: Chaos) -> None:
    deployment, api, batch = chaos.deployment, chaos.api, "chaos-create"
    before = World.read(deployment)
    rule = add_rule(deployment, route="create_workforce_task", latency_ms=10_000, count=1)
    driver = Driver(deployment, api, trigger(api, batch))

    def create_sent(tis: dict[str, dict]) -> dict | None:
        ti = tis["create_team_task"]
        return ti if ti["state"] == "running" and arrived(deployment, rule) >= 1 else None

    ti = driver.until("the create request arrived", create_sent)
    worker = deployment.component(ti["hostname"])
    task_process(worker, ti["id"]).suspend()

    def created() -> bool | None:
        applied = counts(deployment).get("create_workforce_task", {}).get("applied", 0)
        return True if applied > before.requests("create_workforce_task", "applied") else None

    poll("the create applied", created, timeout=300)
    starts = counts(deployment).get("start_workforce_task", {}).get("requests", 0)
    assert starts == before.requests("start_workforce_task"), "the start was sent before the kill"
    killed = time.monotonic()
    kill_machine(worker)
    retry = driver.until("create_team_task retried", state_of("create_team_task", "success", min_try=2))
    recovered = seconds_since(killed)
    assert retry["hostname"] != worker.name
    restart(deployment, worker)
    assert driver.finish() == "success", driver.summary()
    result = xcom(api, PIPELINE, driver.run_id, "create_team_task")
    assert (result["created"], result["started"]) == (False, True), result
    evidence = exactly_once(deployment, before, batch, DROP_IMAGES)
    task = deployment.emulator.task(DATASET, result["workforce_task_id"])
    chaos.record(
        f"5. {worker.name} killed (main, pool and task processes) after the create was applied, before start",
        f"{evidence}; the retry adopted {result['task_name']} (status {task['status']}) and started it",
        recovered,
        "kill to create_team_task's retry succeeding",
    )
