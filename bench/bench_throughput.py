"""Bulk operators: client CPU per sample against a minimal validating client, time against a bare client.

Usage: ``python bench/bench_throughput.py [--samples 20000] [--latency-ms 50] [--repeat 5] [--profile]
[--no-naive]``

Set-up: the emulator CLI runs in its own process pinned to one core, this process on the other
(``bench/_common.py``). The operators run exactly as a task would (``execute`` with the connection from
``AIRFLOW_CONN_MODELARTS_DEFAULT``, default ``batch_size=100``, their per-batch log lines written to
/dev/null), with the concurrency pinned to the bare client's: ``max_concurrency=4`` (16 for the rows at 16)
and, where the operator has it, ``adaptive_concurrency=False``. Samples look like a pre-labeled image
upload: a unique name, ``sample_type`` 0, 100 base64 characters of ``data`` and one classification label
with a score; the label updates set two labels per existing sample. The emulator is reset between runs.

The *bare client* is the least a client can do for the same job: an ``httpx.AsyncClient`` with 4 workers
(16 for the rows at 16) posting the batch bodies serialised before the clock starts, signed with the same
``AkSkAuth``.

The *minimal validating client* (the *floor*) is the least a client that checks its input can do: plain
pydantic models of the same two shapes (types and unknown keys only, none of the pages' rules) validate and
serialise each sample inside the timed run, then the bare client sends.

1. **Client CPU per sample vs the minimal validating client** (no injected latency, against the emulator):
   CPU time of this process (``time.process_time()`` around ``execute``, so every thread of this process
   and nothing of the emulator's) per sample, ours / floor -- target at most 1.25. Runs alternate ours /
   bare / floor ``--repeat`` times; the ratios compare the median runs. Context rows: ours / bare, floor /
   bare, and the wall-clock ratio ours / bare of the same runs (fastest of each): without latency both
   sides mostly wait for the emulator's one core.
2. **Wall time vs the bare client and the latency bound** (``--latency-ms`` on every request): the
   operator's whole ``execute`` time (validation pass included). Against ``bench/canned_server.py`` (a
   canned-answer server in its own process on the emulator's core, no checks, well under a millisecond per
   request; ``bench/_throughput_canned.py``), ours / the bare client with both pinned to 4 in flight --
   target at most 1.1 -- and both pinned to 16 -- target at most 1.2; ``--repeat`` alternating runs each,
   the ratio compares the median runs. Context rows: at 4, ours and the bare client over the bound, the
   time the requests alone must take (``batches x latency / concurrency``), and the operator's time with
   its default (adaptive) concurrency; against the emulator (it adds its own handling per request on one
   core), ours and the bare client over the bound, with the naive way (one request at a time in a plain
   ``httpx.Client`` loop, ``--no-naive`` skips it).

``--profile`` prints a cProfile of one operator run without latency (also printed when the CPU target is
missed): where the client time goes.

The workload and the ways of moving it are in ``bench/_throughput.py``, the rows against the canned-answer
server in ``bench/_throughput_canned.py``; this module takes the CPU and emulator rows and runs them all.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import io
import logging
import math
import pstats
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Emulator, Row, airflow_env, check, emit, pin_self
from _throughput import BATCH, CONCURRENCY, LABEL, Runs, add_samples, timed_pair
from _throughput_canned import canned_runs

FLOOR_TARGET = 1.25  # client CPU per sample, ours / minimal validating client (plain pydantic, then bare)


def profile_operator(runs: Runs, kind: str, count: int) -> str:
    """cProfile of one operator ``execute`` without latency: where the client's time goes.

    cProfile sees only the thread it was enabled in, and the operators send from an event loop that
    ``asgiref``'s ``async_to_sync`` runs in a thread of its own; for the profile (only) the sending runs in
    this thread under ``asyncio.run``, so the send phase shows up next to the validation pass. Two views: our
    own functions by cumulative time, then everything by own time.
    """
    import airflow_provider_modelarts.bulk.sending as sending

    def in_this_thread(fn: Any) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            return asyncio.run(fn(*args, **kwargs))

        return call

    runs.reset(0)
    samples = add_samples(count, "profile") if kind == "add" else runs.prepare_updates(count, "profile")
    profiler = cProfile.Profile()
    patch = (
        mock.patch.object(sending, "async_to_sync", in_this_thread)
        if hasattr(sending, "async_to_sync")
        else contextlib.nullcontext()
    )
    with patch:
        runs.operator(kind, samples, profiler)  # execute only: building the operator is not timed either
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(r"airflow_provider_modelarts", 25)
    stats.sort_stats("tottime").print_stats(25)
    return "\n".join(line for line in out.getvalue().splitlines() if line.strip())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--samples", type=int, default=20_000)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--no-naive", action="store_true", help="skip the naive loop (saves ~25 s)")
    args = parser.parse_args()

    count, latency = args.samples, args.latency_ms
    n_batches = math.ceil(count / BATCH)
    bound = n_batches * latency / 1000 / CONCURRENCY
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="bench-throughput-") as tmp:
        workdir = Path(tmp)
        airflow_env(workdir)
        with Emulator(workdir) as emulator:
            emulator.use_as_default_connection()
            pinning = pin_self()
            print(f"emulator pid {emulator.pid} at {emulator.base_url}; {pinning}")
            runs = Runs(emulator)
            logging.getLogger("airflow_provider_modelarts").setLevel(logging.INFO)
            # Warm-up: imports, connection lookup, first-call caches; not measured.
            timed_pair(runs, "add", 500, 0, "warm", "ours")
            timed_pair(runs, "add", 500, 0, "warmbare", "bare")

            # 1. Client CPU per sample vs the bare client (no latency, emulator), alternating runs.
            for kind in ("add", "update"):
                ours_w: list[float] = []
                bare_w: list[float] = []
                ours_c: list[float] = []
                bare_c: list[float] = []
                plain_c: list[float] = []
                for i in range(args.repeat):
                    wall, cpu, _ = timed_pair(runs, kind, count, 0, f"o{i}-{kind}", "ours")
                    ours_w.append(wall)
                    ours_c.append(cpu)
                    wall, cpu, _ = timed_pair(runs, kind, count, 0, f"b{i}-{kind}", "bare")
                    bare_w.append(wall)
                    bare_c.append(cpu)
                    _, cpu, _ = timed_pair(runs, kind, count, 0, f"p{i}-{kind}", "plain")
                    plain_c.append(cpu)
                plain_us = statistics.median(plain_c) / count * 1e6
                ours_us = statistics.median(ours_c) / count * 1e6
                bare_us = statistics.median(bare_c) / count * 1e6
                cpu_ratio = ours_us / bare_us
                wall_ratio = min(ours_w) / min(bare_w)
                print(
                    f"{LABEL[kind]} without latency, client CPU (median of {args.repeat}): ours "
                    f"{ours_us:.1f} us/sample vs bare {bare_us:.1f} us/sample = {cpu_ratio:.2f} x; "
                    f"CPU s ours {', '.join(f'{t:.2f}' for t in ours_c)}; bare "
                    f"{', '.join(f'{t:.2f}' for t in bare_c)}"
                )
                print(
                    f"{LABEL[kind]} without latency, wall: ours {min(ours_w):.2f} s vs bare "
                    f"{min(bare_w):.2f} s (fastest of {args.repeat}) = {wall_ratio:.2f} x; medians "
                    f"{statistics.median(ours_w):.2f} / {statistics.median(bare_w):.2f} s"
                )
                rows.append(
                    check(
                        "2. Client CPU vs bare client",
                        f"{LABEL[kind]} {count // 1000}k, CPU per sample: ours / minimal validating client "
                        "(floor)",
                        ours_us / plain_us,
                        FLOOR_TARGET,
                        fmt=".2f",
                        unit=" x",
                        note=(
                            f"{LABEL[kind]}: {ours_us:.1f} µs vs the floor's {plain_us:.1f} µs of this "
                            f"process's CPU per sample (time.process_time over execute, all threads; median "
                            f"of {args.repeat}; the emulator is another process); the floor: plain pydantic "
                            "models of the same shapes, then the bare client"
                        ),
                        extra={
                            "ours_cpu": ours_c,
                            "plain_cpu": plain_c,
                            "ours_us": ours_us,
                            "plain_us": plain_us,
                        },
                    )
                )
                rows.append(
                    Row(
                        bench="2. Client CPU vs bare client",
                        metric=f"{LABEL[kind]} {count // 1000}k, CPU per sample: ours / bare",
                        value=f"{cpu_ratio:.2f} x ({ours_us:.1f} / {bare_us:.1f} µs)",
                        note=(
                            f"context: {LABEL[kind]} against the bare pre-serialised client, which validates "
                            f"nothing; this process's CPU per sample, median of {args.repeat}"
                        ),
                        extra={
                            "ours_cpu": ours_c,
                            "bare_cpu": bare_c,
                            "ours_us": ours_us,
                            "bare_us": bare_us,
                        },
                    )
                )
                print(
                    f"{LABEL[kind]} minimal validating client (plain pydantic models, then the bare client): "
                    f"{plain_us:.1f} us/sample = {plain_us / bare_us:.2f} x bare; ours = "
                    f"{ours_us / plain_us:.2f} x it"
                )
                rows.append(
                    Row(
                        bench="2. Client CPU vs bare client",
                        metric=(
                            f"{LABEL[kind]} {count // 1000}k, CPU per sample: minimal validating client / "
                            "bare (the floor of any client that validates)"
                        ),
                        value=(
                            f"{plain_us / bare_us:.2f} x ({plain_us:.1f} µs); ours = "
                            f"{ours_us / plain_us:.2f} x it"
                        ),
                        note=(
                            "context: plain pydantic models of the same shapes (types and unknown keys, none "
                            "of the pages' rules) validate and serialise each sample, then the bare client "
                            f"sends; median of {args.repeat}"
                        ),
                        extra={"plain_cpu": plain_c, "plain_us": plain_us},
                    )
                )
                rows.append(
                    Row(
                        bench="2. Client CPU vs bare client",
                        metric=f"{LABEL[kind]} {count // 1000}k, no latency, wall: ours / bare (emulator)",
                        value=f"{wall_ratio:.2f} x ({min(ours_w):.2f} / {min(bare_w):.2f} s)",
                        note=(
                            f"context, fastest of {args.repeat} each; medians "
                            f"{statistics.median(ours_w):.2f} / {statistics.median(bare_w):.2f} s; mostly "
                            "waiting for the emulator's one core"
                        ),
                        extra={"ours": ours_w, "bare": bare_w},
                    )
                )

            # 2. Latency bound against the emulator (context: the emulator's own handling is in it).
            for kind in ("add", "update"):
                ours, _, result = timed_pair(runs, kind, count, latency, f"lat-{kind}", "ours")
                bare, _, _ = timed_pair(runs, kind, count, latency, f"barelat-{kind}", "bare")
                handling_ms = (bare / n_batches * CONCURRENCY - latency / 1000) * 1000
                send = result["duration_seconds"] if result else float("nan")
                naive_note = ""
                if not args.no_naive:
                    naive, _, _ = timed_pair(runs, kind, count, latency, f"naive-{kind}", "naive")
                    naive_note = f"; naive sequential loop {naive:.2f} s = {naive / ours:.1f} x slower"
                print(
                    f"{LABEL[kind]} vs emulator: {count:,} samples, {n_batches} batches, {latency:.0f} ms "
                    f"latency, concurrency {CONCURRENCY}: {ours:.2f} s (send phase {send:.2f} s) = "
                    f"{ours / bound:.2f} x bound {bound:.2f} s; bare client {bare:.2f} s = "
                    f"{bare / bound:.2f} x (~{handling_ms:.1f} ms emulator handling per request on top of "
                    f"the latency){naive_note}"
                )
                rows.append(
                    Row(
                        bench="1. Latency bound",
                        metric=f"{LABEL[kind]} {count // 1000}k, {latency:.0f} ms, emulator: time / bound",
                        value=f"{ours / bound:.2f} x (bare client {bare / bound:.2f} x)",
                        note=(
                            f"context: {ours:.2f} s (send phase {send:.2f} s), bare {bare:.2f} s; the "
                            f"emulator adds ~{handling_ms:.0f} ms of handling per request on its one core"
                        ),
                        extra={"seconds": ours, "bare_seconds": bare, "bound": bound},
                    )
                )
                if not args.no_naive:
                    rows.append(
                        Row(
                            bench="1. Latency bound",
                            metric=f"naive loop (1 request at a time), same {LABEL[kind]} job, emulator",
                            value=f"{naive:.2f} s = {naive / ours:.1f} x ours",
                            note=(
                                f"naive {LABEL[kind]} job: {n_batches} sequential requests; one request per "
                                f"sample would take at least {count * latency / 1000:,.0f} s"
                            ),
                        )
                    )

            # 3. Latency bound against a server that is not the bottleneck.
            rows[:0] = canned_runs(workdir, runs, count, latency, n_batches, args.repeat)
            emulator.use_as_default_connection()

            for kind in ("add", "update"):
                missed = any(
                    r.ok is False for r in rows if r.bench.startswith("2.") and LABEL[kind] in r.metric
                )
                if args.profile or missed:
                    print(f"cProfile of one {LABEL[kind]} execute without latency (this process):")
                    print(profile_operator(runs, kind, count))
    rows.sort(key=lambda r: r.bench[:2])  # stable: latency bound rows first, then CPU
    emit(rows)


if __name__ == "__main__":
    main()
