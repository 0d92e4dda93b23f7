"""Deferral scale: 1,000 AcceptanceTriggers in one event loop polling the emulator.

Usage: ``python bench/bench_deferral.py [--triggers 1000] [--poll-interval 15] [--window 45] [--speed 2]
[--scenario all|cpu|timeliness]``

What a triggerer process pays to keep many acceptance waits alive. This process plays the triggerer: one
asyncio event loop runs ``AcceptanceTrigger.run()`` for every trigger, exactly as the triggerer does (each
trigger builds its hook and async client from ``AIRFLOW_CONN_MODELARTS_DEFAULT`` on its first poll). The
emulator runs in its own process on its own core, with the seeded team labeling task ``task-1`` in status
RUNNING, so no wait ever ends and every trigger keeps polling.

Figures:

* **memory per trigger**: resident set size once every trigger has polled at least once, minus the
  resident size before the triggers were created, divided by their number (hook, client, connection pool,
  keep-alive socket, asyncio task);
* **CPU seconds per minute**: this process's CPU time (user + system) over a ``--window``-second window
  after start-up, scaled to one minute. The window is shorter than real waits (hours) and the poll interval
  shorter than the default 60 s, so that a short run sees several polls per trigger; the per-poll CPU cost
  is reported too, and the CPU a minute costs at the default 60 s interval is derived from it
  (``triggers x per-poll cost``, a linear extrapolation);
* start-up: wall and CPU time until every trigger had polled once (client construction happens here).

Target (issue 17): under 1 CPU second per minute for 1,000 triggers at the default 60 s interval; the
other rows are reported for capacity planning (memory per trigger has no target).

**Timeliness at real latency** (issue 25, ``--scenario timeliness``): the same triggers wait on a team task
whose acceptance round is open (two requests a poll) while the emulator answers every request after 200 ms,
at a 60 s interval, with deadlines spread over the third interval. The run is ``--speed`` times faster than
that (default 2: a 30 s interval and 100 ms per answer, the same load per turn; the client's CPU per second
doubles), which the rows say. Figures: the worst lateness of a ``timeout`` event after its deadline (target:
at most one interval), and whether every wait polled on time: every poll after the first answered before
the wait's next poll would have been due (so each wait looks once per interval), with the share answered
within a tenth of the interval (what the turns are sized for, ``triggers/clients.py``) and the worst delay.
The first polls, all due at the same moment, are start-up and reported apart.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Emulator, Row, airflow_env, check, cpu_seconds, emit, pin_self, rss_kb
from bench_throughput import quiet_stdout

DEFAULT_POLL_INTERVAL = 60.0
TARGET_CPU_PER_MIN = 1.0  # CPU s per minute, 1,000 triggers at the default interval (issue 17)


def emulator_cpu(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime, stime


async def scenario(emulator: Emulator, count: int, poll_interval: float, window: float) -> dict[str, Any]:
    from airflow_provider_modelarts.acceptance import AcceptanceCriteria
    from airflow_provider_modelarts.triggers.acceptance import AcceptanceTrigger

    def task_polls() -> int:
        routes = emulator.admin("GET", "stats")["routes"]
        return int(routes.get("get_workforce_task", {}).get("requests", 0))

    criteria = AcceptanceCriteria().to_dict()  # wait for status ACCEPTED: never happens here
    gc.collect()
    base_kb = rss_kb()
    started_wall, started_cpu = time.perf_counter(), cpu_seconds()
    events: list[Any] = []

    async def consume(trigger: AcceptanceTrigger) -> None:
        async for event in trigger.run():
            events.append(event)
            return

    triggers = [
        AcceptanceTrigger(
            dataset_id="ds-images", workforce_task_id="task-1", criteria=criteria, poll_interval=poll_interval
        )
        for _ in range(count)
    ]
    tasks = [asyncio.create_task(consume(t)) for t in triggers]
    polls_before = 0
    while (polls := await asyncio.to_thread(task_polls)) < count:
        if time.perf_counter() - started_wall > 180:
            raise RuntimeError(f"only {polls} of {count} triggers polled within 180 s")
        if events:
            raise RuntimeError(f"a trigger ended early: {events[0].payload}")
        await asyncio.sleep(0.2)
    startup_wall = time.perf_counter() - started_wall
    startup_cpu = cpu_seconds() - started_cpu
    gc.collect()
    after_kb = rss_kb()

    polls_before = await asyncio.to_thread(task_polls)
    cpu_before, emu_before, wall_before = cpu_seconds(), emulator_cpu(emulator.pid), time.perf_counter()
    await asyncio.sleep(window)
    cpu_used = cpu_seconds() - cpu_before
    emu_used = emulator_cpu(emulator.pid) - emu_before
    elapsed = time.perf_counter() - wall_before
    polls = await asyncio.to_thread(task_polls) - polls_before
    peak_kb = rss_kb("VmHWM")
    for task in tasks:
        task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.gather(*tasks, return_exceptions=True)
    if events:
        raise RuntimeError(f"{len(events)} triggers ended during the window: {events[0].payload}")
    return {
        "base_mb": base_kb / 1024,
        "after_mb": after_kb / 1024,
        "peak_mb": peak_kb / 1024,
        "per_trigger_kb": (after_kb - base_kb) / count,
        "startup_wall": startup_wall,
        "startup_cpu": startup_cpu,
        "window": elapsed,
        "cpu": cpu_used,
        "emulator_cpu": emu_used,
        "polls": polls,
    }


async def bare_get_cpu_ms(emulator: Emulator, requests: int = 2000) -> float:
    """CPU per request of a bare AK/SK-signed httpx GET of the same task, 4 at a time on 4 connections: the
    floor a poll made with httpx cannot go below (context for the per-poll figure)."""
    import httpx

    from airflow_provider_modelarts.auth import AkSkAuth
    from modelarts_emulator import DEFAULT_ACCESS_KEY, DEFAULT_PROJECT_ID, DEFAULT_SECRET_KEY

    auth = AkSkAuth(DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, project_id=DEFAULT_PROJECT_ID)
    path = f"/v2/{DEFAULT_PROJECT_ID}/datasets/ds-images/workforce-tasks/task-1"
    limits = httpx.Limits(max_connections=4, max_keepalive_connections=4)
    async with httpx.AsyncClient(base_url=emulator.base_url, auth=auth, limits=limits) as client:
        turns = asyncio.Semaphore(4)

        async def one() -> None:
            async with turns:
                (await client.get(path)).json()

        await asyncio.gather(*(one() for _ in range(200)))  # warm-up: connections, first-call caches
        started = cpu_seconds()
        await asyncio.gather(*(one() for _ in range(requests)))
        return (cpu_seconds() - started) / requests * 1000


async def timeliness(count: int, interval: float) -> dict[str, Any]:
    """``count`` waits until their deadlines (the third to fifth interval); see the module docstring."""
    from airflow_provider_modelarts.acceptance import AcceptanceCriteria
    from airflow_provider_modelarts.triggers.acceptance import AcceptanceTrigger

    delays: list[float] = []  # due -> answered, polls after the first
    first: list[float] = []  # start -> answered, first polls
    late: list[float] = []

    class Measured(AcceptanceTrigger):
        due: float | None = None

        async def _sleep(self, seconds: float) -> None:
            await asyncio.sleep(seconds)
            self.due = self._now()

        async def _poll(self) -> Any:
            due = self.due
            result = await super()._poll()
            (first if due == self.started else delays).append(self._now() - (due or 0.0))
            return result

    from airflow_provider_modelarts.hooks.modelarts import ModelArtsHook

    # What a triggerer does once per process, outside the figures: import the hook, client and models.
    async with await ModelArtsHook.for_connection("modelarts_default").get_async_client() as client:
        await client.get_workforce_task("ds-images", "task-1")
    criteria = AcceptanceCriteria(target_statuses=(), check_complete=True).to_dict()
    start = time.time()
    triggers = []
    for i in range(count):
        trigger = Measured(
            dataset_id="ds-images",
            workforce_task_id="task-1",
            criteria=criteria,
            poll_interval=interval,
            deadline=start + interval * (2 + i / count),
        )
        trigger.started = trigger.due = start
        triggers.append(trigger)

    async def wait(trigger: Measured) -> str:
        async for event in trigger.run():
            late.append(trigger._now() - (trigger.deadline or 0.0))
            return str(event.payload["status"])
        return "none"

    statuses = await asyncio.gather(*(wait(t) for t in triggers))
    on_time = sum(delay < interval for delay in delays)
    return {
        "tenth": sum(delay <= interval / 10 for delay in delays),
        "statuses": sorted(set(statuses)),
        "worst_late": max(late),
        "polls": len(delays),
        "on_time": on_time,
        "worst_delay": max(delays, default=0.0),
        "first_worst": max(first, default=0.0),
    }


def timeliness_rows(workdir: Path, count: int, speed: float) -> list[Row]:
    interval, latency_ms = 60.0 / speed, 200.0 / speed
    with Emulator(workdir, "--latency-ms", str(latency_ms)) as emulator:
        emulator.use_as_default_connection()
        emulator.admin("POST", "config", json={"step_seconds": None})  # reviewers never move
        from airflow_provider_modelarts.client import ModelArtsClient
        from modelarts_emulator import DEFAULT_PROJECT_ID

        auth = emulator.connection()
        with ModelArtsClient(
            project_id=DEFAULT_PROJECT_ID, endpoint=emulator.base_url, auth=_aksk(auth)
        ) as client:  # an open acceptance round: every poll reads the task and its report
            client.start_acceptance("ds-images", "task-1", sampling_rate=1.0)
        emulator.admin("POST", "advance", json={"steps": 1})
        cpu_before, emu_before, wall_before = cpu_seconds(), emulator_cpu(emulator.pid), time.perf_counter()
        with quiet_stdout():
            fig = asyncio.run(timeliness(count, interval))
        wall = time.perf_counter() - wall_before
        cpu, emu = cpu_seconds() - cpu_before, emulator_cpu(emulator.pid) - emu_before
        print(f"{wall:.0f} s: this process {cpu / wall:.0%} of a core, the emulator {emu / wall:.0%}")
    if fig["statuses"] != ["timeout"]:
        raise RuntimeError(f"expected every wait to time out, got {fig['statuses']}")
    every = fig["on_time"] == fig["polls"]
    tenth = fig["tenth"] / max(fig["polls"], 1)
    print(
        f"{count:,} waits, {interval:g} s interval, {latency_ms:g} ms per answer: worst timeout "
        f"{fig['worst_late']:.2f} s after its deadline; {fig['on_time']:,} of {fig['polls']:,} polls "
        f"answered within the interval, {tenth:.0%} within a tenth of it (worst "
        f"{fig['worst_delay']:.2f} s); first polls (start-up) answered within {fig['first_worst']:.2f} s"
    )
    bench = "6. Deferral scale"
    label = (
        f"{count:,} waits at 200 ms per answer, 60 s interval "
        f"(run {speed:g}x faster: {interval:g} s, {latency_ms:g} ms)"
    )
    return [
        check(
            bench,
            f"{label}: worst timeout lateness, in intervals",
            fig["worst_late"] / interval,
            1.0,
            fmt=".3f",
            unit="",
            note=f"{fig['worst_late']:.2f} s after the deadline at a {interval:g} s interval",
        ),
        Row(
            bench,
            f"{label}: every wait polled on time (each poll answered within its interval)",
            "yes" if every else "no",
            target="yes",
            ok=every,
            note=f"{fig['on_time']:,} of {fig['polls']:,} polls after the first answered within the "
            f"interval, {tenth:.0%} within a tenth of it; worst {fig['worst_delay']:.2f} s after it was "
            f"due. First polls, all due at once: answered within {fig['first_worst']:.2f} s",
        ),
    ]


def _aksk(connection: dict[str, Any]) -> Any:
    from airflow_provider_modelarts.auth import AkSkAuth

    project = connection["extra"]["project_id"]
    return AkSkAuth(connection["login"], connection["password"], project_id=project)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--triggers", type=int, default=1000)
    parser.add_argument("--poll-interval", type=float, default=15.0)
    parser.add_argument("--window", type=float, default=45.0)
    parser.add_argument("--speed", type=float, default=2.0, help="timeliness: times faster than real")
    parser.add_argument("--scenario", choices=("all", "cpu", "timeliness"), default="all")
    args = parser.parse_args()
    if args.window < args.poll_interval:
        parser.error("--window must be at least one --poll-interval, or some triggers never poll in it")

    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="bench-deferral-") as tmp:
        workdir = Path(tmp)
        airflow_env(workdir)
        print(pin_self())
        logging.getLogger("airflow_provider_modelarts").setLevel(logging.INFO)
        if args.scenario in ("all", "cpu"):
            rows += cpu_rows(workdir, args)
        if args.scenario in ("all", "timeliness"):
            rows += timeliness_rows(workdir, args.triggers, args.speed)
    emit(rows)


def cpu_rows(workdir: Path, args: argparse.Namespace) -> list[Row]:
    """The CPU, memory and start-up rows (the module docstring's first figures)."""
    rows: list[Row] = []
    with Emulator(workdir) as emulator:
        emulator.use_as_default_connection()
        print(f"emulator pid {emulator.pid} at {emulator.base_url}")
        import airflow_provider_modelarts.triggers.acceptance  # noqa: F401 -- import cost outside the figures

        with quiet_stdout():  # one INFO line per poll per trigger: written, not shown
            fig = asyncio.run(scenario(emulator, args.triggers, args.poll_interval, args.window))
        bare_ms = asyncio.run(bare_get_cpu_ms(emulator))
    n = args.triggers
    per_min = fig["cpu"] / fig["window"] * 60
    per_poll_ms = fig["cpu"] / max(fig["polls"], 1) * 1000
    at_default = n * (60 / DEFAULT_POLL_INTERVAL) * per_poll_ms / 1000
    at_default_1000 = 1000 * (60 / DEFAULT_POLL_INTERVAL) * per_poll_ms / 1000
    emu_per_min = fig["emulator_cpu"] / fig["window"] * 60
    print(
        f"{n:,} triggers in one event loop, poll interval {args.poll_interval:.0f} s: start-up (every "
        f"trigger polled once) {fig['startup_wall']:.1f} s wall, {fig['startup_cpu']:.1f} s CPU; RSS "
        f"{fig['base_mb']:.0f} -> {fig['after_mb']:.0f} MB = {fig['per_trigger_kb']:.0f} KB per trigger "
        f"(peak {fig['peak_mb']:.0f} MB)"
    )
    print(
        f"window {fig['window']:.0f} s: {fig['polls']:,} polls, {fig['cpu']:.2f} s CPU = {per_min:.2f} CPU s "
        f"per minute ({per_min / 60:.1%} of a core), {per_poll_ms:.2f} ms CPU per poll; at the default "
        f"{DEFAULT_POLL_INTERVAL:.0f} s interval: ~{at_default:.2f} CPU s per minute. Emulator: "
        f"{emu_per_min:.1f} CPU s per minute"
    )
    print(
        f"a bare AK/SK-signed httpx GET of the same task: {bare_ms:.2f} ms CPU per request; a poll costs "
        f"{per_poll_ms / bare_ms:.2f} x that"
    )
    bench = "6. Deferral scale"
    rows += [
        Row(
            bench,
            f"CPU per minute, {n:,} triggers polling every {args.poll_interval:.0f} s",
            f"{per_min:.2f} CPU s/min ({per_min / 60:.1%} of a core)",
            note=f"measured over a {fig['window']:.0f} s window ({fig['polls']:,} polls), scaled to a minute",
        ),
        check(
            bench,
            "CPU per minute, 1,000 triggers at the default 60 s interval (derived)",
            at_default_1000,
            TARGET_CPU_PER_MIN,
            fmt=".2f",
            unit=" CPU s/min",
            op="<",
            note=f"{per_poll_ms:.2f} ms CPU per poll (measured with {n:,} triggers) x 1,000 polls per minute",
        ),
        Row(
            bench,
            "context: CPU of a bare AK/SK-signed httpx GET of the same task (the floor of a poll)",
            f"{bare_ms:.2f} ms per request; a poll = {per_poll_ms / bare_ms:.2f} x",
            note="4 at a time on 4 connections, like the shared trigger client; the poll adds tenacity, "
            "reply parsing and the evaluation",
        ),
        Row(
            bench,
            "memory per trigger",
            f"{fig['per_trigger_kb']:.0f} KB",
            note=f"RSS {fig['base_mb']:.0f} MB before, {fig['after_mb']:.0f} MB with {n:,} triggers polling",
        ),
        Row(
            bench,
            f"start-up of {n:,} triggers (first poll each)",
            f"{fig['startup_wall']:.1f} s wall, {fig['startup_cpu']:.1f} s CPU",
            note="each trigger reads its connection once; they share one async client per connection "
            "settings (triggers/clients.py)",
        ),
    ]
    return rows


if __name__ == "__main__":
    main()
