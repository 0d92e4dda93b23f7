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

1. **A worker SIGKILLed mid-``add_samples`` of 1,000 images** (written to the store for the run's ``batch``;
   10 requests of 100, each held 3 s by a latency rule, so the few in flight are all the task has sent for a
   while): when the first request arrives, only the worker's main process is killed (``Component.kill``).
   Its pool processes, the task's supervisor among them, die with it (Celery gives them a parent-death
   SIGKILL); the task process (since Airflow 3.3 in a process group of its own) lives on: an orphan
   (asserted), its requests in flight applied. It is frozen (SIGSTOP) only once its supervisor is gone: a
   process frozen when its parent dies is sent SIGHUP by the kernel (its process group is orphaned with a
   stopped member) and dies. With no supervisor, nothing heartbeats: the scheduler fails the try after
   ``task_instance_heartbeat_timeout`` and the retry starts on the other worker. Only then is the orphan let
   go (SIGCONT), so it sends its remaining requests beside the retry whatever the machine's speed, until it
   finds its supervisor gone and exits. Samples are identified by name: nothing is added twice.
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

import contextlib
import json
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil
import pytest
from chaos_tools import (
    DATASET,
    PIPELINE,
    Driver,
    World,
    add_rule,
    alive,
    arrived,
    celery_control,
    counts,
    exactly_once,
    kill_machine,
    machine,
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
LARGE_BATCH = 1000  # images: 10 add_samples requests of the operator's default 100
BATCH_REQUESTS = LARGE_BATCH // 100


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


def _command(process: psutil.Process) -> str:
    """A process's command in a few words (``airflow celery worker``), without the interpreter's path."""
    words = [Path(arg).name for part in process.cmdline() for arg in part.split()]
    return " ".join((words[1:] if words and words[0].startswith("python") else words)[:3])


def test_worker_killed_mid_add_samples(chaos: Chaos) -> None:
    deployment, api, batch = chaos.deployment, chaos.api, "chaos-bulk"
    images = _write_large_batch(deployment, batch)
    before = World.read(deployment)
    rule = add_rule(deployment, route="add_samples", latency_ms=3000, count=2 * BATCH_REQUESTS)
    driver = Driver(deployment, api, trigger(api, batch))

    def first_sent(tis: dict[str, dict]) -> dict | None:
        ti = tis["add_samples"]
        return ti if ti["state"] == "running" and arrived(deployment, rule) >= 1 else None

    ti = driver.until("the first add_samples request arrived", first_sent)
    worker = deployment.component(ti["hostname"])
    orphan = task_process(worker, ti["id"])
    supervisor = orphan.parent()
    assert supervisor is not None
    processes = machine(worker)
    killed = time.monotonic()
    worker.kill(signal.SIGKILL)
    # What a SIGKILL of the worker's main process does to what it started (the module docstring).
    _gone, left = psutil.wait_procs([supervisor], timeout=60)  # its parent-death signal: delivered at once
    assert not left, "the supervisor outlived the worker's main process"
    assert alive(orphan), "the task process died with the worker"
    orphan.suspend()  # only now: frozen while its supervisor died, the kernel would hang it up (docstring)
    sent = arrived(deployment, rule)
    assert sent < BATCH_REQUESTS, f"all {sent} requests were sent before the task process was held"
    survivors = sorted(_command(p) for p in processes[1:] if alive(p) and p != orphan)
    retry = driver.until("the retry running", state_of("add_samples", "running", min_try=2))
    assert retry["hostname"] != worker.name
    assert alive(orphan), "the orphan was gone before the retry started"
    orphan.resume()
    driver.until("add_samples retried to success", state_of("add_samples", "success", min_try=2))
    recovered = seconds_since(killed)
    _gone, left = psutil.wait_procs([orphan], timeout=300)
    assert not left, "the orphaned task process never exited"
    for process in processes[1:]:  # what else outlived the main process (listed above) goes with it
        with contextlib.suppress(psutil.NoSuchProcess):
            process.kill()
    restart(deployment, worker)
    assert driver.finish() == "success", driver.summary()
    summary = xcom(api, PIPELINE, driver.run_id, "add_samples")
    assert summary["added"] + summary["already_present"] == LARGE_BATCH and not summary["failed"], summary
    evidence = exactly_once(deployment, before, batch, images)
    chaos.record(
        f"1. {worker.name} SIGKILLed mid-add_samples of {LARGE_BATCH} images ({sent} of {BATCH_REQUESTS} "
        "requests sent); its orphaned task process held until the retry ran, then let go",
        f"{evidence}; the retry found {summary['already_present']} already present; pool processes died "
        f"with the worker's main process, the task process lived on (also left: {', '.join(survivors)})",
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
    # The clock is held: create_team_task waits for its team task to start, and the run waits with it.
    driver = Driver(deployment, api, trigger(api, batch), hold=True)

    def creating(tis: dict[str, dict]) -> bool | None:
        created = counts(deployment).get("create_workforce_task", {}).get("applied", 0)
        started = tis["create_team_task"]["state"] == "running"
        return True if started and created > before.requests("create_workforce_task", "applied") else None

    driver.until("create_team_task running, its team task created", creating)
    victim = _queued_by(deployment, driver.run_id, "create_team_task")
    killed = time.monotonic()
    kill_machine(deployment.component(victim))
    driver.hold = False
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
