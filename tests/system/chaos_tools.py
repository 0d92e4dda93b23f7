"""What the chaos tier (``test_chaos.py``) shares: driving one pipeline run while a case waits for its moment,
finding and holding a machine's processes, the emulator's evidence of exactly-once, and the Celery workers'
consuming switched off and on.

**Moments, not sleeps.** A case kills something when an observed condition holds: a task instance's state
(REST), the emulator's request counts (``/_emulator/stats``) or how many requests of a route have *arrived*
(the ``fired`` count of a fault rule on that route: counted on arrival, before the request is applied). The
emulator's clock moves only when :class:`Driver` advances it, and a case may hold it (``Driver.hold``), so a
deferred sensor stays deferred for as long as the case needs.

**A killed machine's processes** (Airflow 3.3, Celery prefork): a worker's main process starts the pool
processes, each of which becomes the task's supervisor (``airflow supervisor: <ti id>``) and forks the task
process in a process group of its own. The pool processes carry a parent-death signal (SIGKILL, set by
Celery), so killing the main process alone kills them too, supervisors included; the task process is not
in the worker's group and outlives them all: an orphan that keeps sending its requests until it next talks
to its (dead) supervisor. :func:`kill_machine` kills the main process and every descendant, as a machine
losing power does.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import psutil
from production_deployment import Component, ProductionDeployment
from system_api import TERMINAL, get, task_instances
from system_deployment import poll

PIPELINE = "modelarts_labeling_pipeline"
DATASET = "ds-images"
QUEUE = "default"  # [operators] default_queue: the Celery queue every task goes to
# Bounds on a broken run only: a healthy case takes one to three minutes.
RUN_TIMEOUT = 900.0
BEFORE_DEFERRAL = {None, "none", "scheduled", "queued", "running", "up_for_retry", "up_for_reschedule"}
DEFERRED_STEPS = 25  # emulator steps per poll while the sensor is deferred (reviewers check 1 sample a step)


def states(api: httpx.Client, run_id: str) -> dict[str, dict[str, Any]]:
    return {ti["task_id"]: ti for ti in task_instances(api, PIPELINE, run_id)}


def trigger(api: httpx.Client, batch: str) -> str:
    """A run of the pipeline for ``batch`` (a REST trigger with no logical date); the DAG unpaused."""
    api.patch(f"/dags/{PIPELINE}", json={"is_paused": False}).raise_for_status()
    answer = api.post(f"/dags/{PIPELINE}/dagRuns", json={"logical_date": None, "conf": {"batch": batch}})
    assert answer.status_code == 200, answer.text
    return str(answer.json()["dag_run_id"])


@dataclass
class Driver:
    """Polls one run and moves the emulator's clock as the day-after-day test does: one step per poll,
    ``DEFERRED_STEPS`` while the sensor is deferred, none while the sensor has yet to take its first look
    (so it always defers), while ``hold`` is set, once the task ``hold_after`` names has succeeded (the run
    then waits where the next task needs the clock), or while the sensor is deferred and ``hold_deferred`` is
    set (its reviewers wait, so it stays deferred)."""

    deployment: ProductionDeployment
    api: httpx.Client
    run_id: str
    hold: bool = False
    hold_after: str | None = None
    hold_deferred: bool = False
    last: dict[str, dict[str, Any]] = field(default_factory=dict)

    def step(self) -> dict[str, dict[str, Any]]:
        self.last = tis = states(self.api, self.run_id)
        sensor = tis.get("wait_for_acceptance", {}).get("state")
        started = tis.get("start_acceptance", {}).get("state") == "success"
        done = self.hold_after is not None and tis.get(self.hold_after, {}).get("state") == "success"
        held = self.hold or done or (self.hold_deferred and sensor == "deferred")
        if not held and not (started and sensor in BEFORE_DEFERRAL):
            self.deployment.emulator.advance(steps=DEFERRED_STEPS if sensor == "deferred" else 1)
        return tis

    def run_state(self) -> str:
        return str(get(self.api, f"/dags/{PIPELINE}/dagRuns/{self.run_id}")["state"])

    def until(self, what: str, reached: Callable[[dict[str, dict[str, Any]]], Any]) -> Any:
        """Poll (and drive) until ``reached(task instances)`` is truthy; fail if the run ends first."""

        def probe() -> Any:
            found = reached(self.step())
            if found:
                return found
            assert self.run_state() not in TERMINAL, f"{what}: the run ended first: {self.summary()}"
            return None

        return poll(what, probe, timeout=RUN_TIMEOUT, interval=0.3)

    def finish(self) -> str:
        """Drive the run to its end; its final state."""
        return str(poll("the run ends", self._ended, timeout=RUN_TIMEOUT, interval=0.3))

    def _ended(self) -> str | None:
        self.step()
        state = self.run_state()
        return state if state in TERMINAL else None

    def summary(self) -> dict[str, tuple[Any, Any, Any]]:
        return {task: (ti["state"], ti["try_number"], ti["hostname"]) for task, ti in self.last.items()}


def state_of(task_id: str, *wanted: str, min_try: int = 1) -> Callable[[dict[str, dict[str, Any]]], Any]:
    def reached(tis: dict[str, dict[str, Any]]) -> Any:
        ti = tis.get(task_id, {})
        return ti if ti.get("state") in wanted and int(ti.get("try_number") or 0) >= min_try else None

    return reached


# --- the emulator's evidence ---------------------------------------------------------------------------


def arrived(deployment: ProductionDeployment, rule_id: int) -> int:
    """How many requests a fault rule matched so far (counted on arrival, before they are applied)."""
    rules = deployment.emulator.call("GET", "faults")["rules"]
    return int(next(rule["fired"] for rule in rules if rule["id"] == rule_id))


def add_rule(deployment: ProductionDeployment, **rule: Any) -> int:
    """Add one fault rule; its id (for :func:`arrived`)."""
    return int(deployment.emulator.faults(**rule)["rules"][-1]["id"])


def counts(deployment: ProductionDeployment) -> dict[str, dict[str, int]]:
    return dict(deployment.emulator.stats()["routes"])


@dataclass
class World:
    """The emulator's state that exactly-once is judged by: request counts, sample names, team tasks."""

    routes: dict[str, dict[str, int]]
    names: list[str]
    tasks: set[str]

    @classmethod
    def read(cls, deployment: ProductionDeployment) -> World:
        admin = deployment.emulator
        names = [sample["sample_name"] for sample in admin.samples(DATASET)]
        datasets = admin.call("GET", "datasets")
        tasks = next(set(d["workforce_tasks"]) for d in datasets if d["dataset_id"] == DATASET)
        return cls(counts(deployment), names, tasks)

    def requests(self, route: str, key: str = "requests") -> int:
        return int(self.routes.get(route, {}).get(key, 0))


def exactly_once(deployment: ProductionDeployment, before: World, batch: str, images: list[str]) -> str:
    """Assert the run did each thing once: one import (one create request, no sample through the worker)
    brought exactly the batch's samples into the dataset (each name once, nothing else), one create request
    made one team task, which had one acceptance round, started once and decided once. Returns the evidence
    as a table cell."""
    after = World.read(deployment)
    new_names = sorted(set(after.names) - set(before.names))
    # The emulator names an imported sample <import_folder>/<key>; the example imports into daily-drops.
    assert new_names == sorted(f"daily-drops/landing/{batch}/{image}" for image in images), (
        len(new_names),
        new_names[:5],
    )
    assert len(after.names) - len(before.names) == len(images), "a sample was added twice"
    assert len(set(after.names)) == len(after.names), "two samples share a name"

    def delta(route: str, key: str = "applied") -> int:
        return after.requests(route, key) - before.requests(route, key)

    imports = delta("create_import_task", "requests")
    assert imports == 1 and delta("add_samples", "requests") == 0, (imports, delta("add_samples", "requests"))
    creates = delta("create_workforce_task", "requests")
    new_tasks = after.tasks - before.tasks
    assert creates == 1 and len(new_tasks) == 1, (creates, new_tasks)
    (task_id,) = new_tasks
    rounds = deployment.emulator.task(DATASET, task_id)["rounds"]
    assert len(rounds) == 1 and delta("start_acceptance") == 1, rounds
    assert delta("update_acceptance_status") == 1
    return (
        f"+{len(images)} samples, {len(new_names)} distinct names, 1 import create request "
        f"({delta('get_import_task', 'requests')} looks at it); 1 team task create request, 1 team task, "
        f"{delta('start_workforce_task')} start, 1 acceptance round, 1 decision"
    )


# --- processes ---------------------------------------------------------------------------------------------


def machine(component: Component) -> list[psutil.Process]:
    """The component's main process and every descendant (a machine's processes)."""
    assert component.process is not None, f"{component.name} is not running"
    main = psutil.Process(component.process.pid)
    return [main, *main.children(recursive=True)]


def task_process(component: Component, ti_id: str) -> psutil.Process:
    """The worker's task process running task instance ``ti_id``: a grandchild of the worker's main process
    (main -> pool process / supervisor -> task process) whose own or parent's command line names the TI."""
    assert component.process is not None
    main = psutil.Process(component.process.pid)
    found = []
    for child in main.children():
        with contextlib.suppress(psutil.NoSuchProcess):
            for grandchild in child.children():
                names = " ".join(child.cmdline()) + " " + " ".join(grandchild.cmdline())
                if ti_id in names:
                    found.append(grandchild)
    assert len(found) == 1, f"task process of {ti_id} on {component.name}: {found}"
    return found[0]


def kill_machine(component: Component) -> list[psutil.Process]:
    """SIGKILL the component's main process and every descendant, whatever their process group; wait for
    them to be gone. Returns the processes killed."""
    processes = machine(component)
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.send_signal(signal.SIGKILL)
    _gone, left = psutil.wait_procs(processes, timeout=60)
    assert not left, left
    with contextlib.suppress(subprocess.TimeoutExpired):
        assert component.process is not None
        component.process.wait(timeout=60)
    return processes


def restart(deployment: ProductionDeployment, component: Component) -> None:
    """Start a killed component again and wait until it is back: a worker's " ready." in the output it
    writes from now on; a scheduler or triggerer as an alive job (the dead one's job no longer counted)."""
    offset = component.log.stat().st_size if component.log.exists() else 0
    component.start()
    kind = component.args[0]
    if kind == "celery":
        poll(f"{component.name} ready", lambda: _ready_since(component, offset), timeout=RUN_TIMEOUT)
        return
    job_type = {"scheduler": "SchedulerJob", "triggerer": "TriggererJob"}[kind]
    names = sorted(name for name, c in deployment.components.items() if c.args[0] == kind)
    poll(
        f"both {kind}s alive",
        lambda: True if deployment.alive_jobs(job_type) == names else None,
        timeout=RUN_TIMEOUT,
    )


def _ready_since(component: Component, offset: int) -> bool | None:
    assert component.process is not None and component.process.poll() is None, component.output()[-2000:]
    with component.log.open("rb") as log:
        log.seek(offset)
        return True if b" ready." in log.read() else None


# --- the Celery workers' consuming ------------------------------------------------------------------------


@contextlib.contextmanager
def celery_control(deployment: ProductionDeployment) -> Iterator[Any]:
    """Celery's remote control over the deployment's broker (a client of its own, as ``celery control``)."""
    from celery import Celery

    assert deployment.redis is not None
    app = Celery("chaos", broker=deployment.redis.url, set_as_current=False)
    try:
        yield app.control
    finally:
        app.close()


def workers_answer(deployment: ProductionDeployment, control: Any, command: str, workers: int) -> None:
    """Send ``command`` (``cancel_consumer`` / ``add_consumer``) for the queue to every worker; every one of
    them must answer (they may still be reconnecting to a restarted broker: asked again until all do)."""

    def answered() -> bool | None:
        with contextlib.suppress(Exception):
            if len(control.ping(timeout=2, limit=workers) or []) == workers:
                replies = getattr(control, command)(QUEUE, reply=True, timeout=5, limit=workers) or []
                return True if len(replies) == workers else None
        return None

    poll(f"every worker answers {command}", answered, timeout=RUN_TIMEOUT)


def queued_messages(deployment: ProductionDeployment) -> int:
    """Messages waiting in the queue's Redis list (kombu keeps a queue as a list of its name)."""
    assert deployment.redis is not None and shutil.which("redis-cli")
    out = subprocess.run(
        ["redis-cli", "-p", str(deployment.redis.port), "llen", QUEUE],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ},
    ).stdout.strip()
    return int(out or 0)


def seconds_since(start: float) -> float:
    return time.monotonic() - start
