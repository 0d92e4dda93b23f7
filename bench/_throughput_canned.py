"""The throughput benchmark's latency-bound rows against ``bench/canned_server.py``.

``bench/bench_throughput.py`` calls :func:`canned_runs`; its docstring describes the rows and their targets.

The canned-answer server runs in its own process on the server core, answers every batch with a fixed
success reply after the latency and checks nothing, so what the client needs above the bound is the client's.
At each pinned concurrency (:data:`PINNED_TARGETS`) the operator (``max_concurrency`` that many,
``adaptive_concurrency=False``) and the bare client with as many workers take turns ``repeat`` times on the
same samples (the server keeps no state); the rows compare the median runs.
"""

from __future__ import annotations

import gc
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _common import CannedServer, Row, check
from _throughput import CONCURRENCY, LABEL, Runs, add_samples, bare_client, fake_updates

#: Time against the canned server, ours / the bare client, both pinned to that many requests in flight.
PINNED_TARGETS = {CONCURRENCY: 1.1, 16: 1.2}


@dataclass(frozen=True)
class Pinned:
    """Ours and the bare client at one pinned concurrency: medians of alternating runs (seconds)."""

    concurrency: int
    ours: float
    ours_cpu: float
    send: float  # the operator's send phase
    bare: float
    bare_cpu: float
    server_ms: float  # the server's CPU per request during our runs
    ours_runs: list[float]
    bare_runs: list[float]


def pinned_runs(
    server: CannedServer,
    runs: Runs,
    kind: str,
    samples: list[dict[str, Any]],
    concurrency: int,
    repeat: int,
    n_batches: int,
) -> Pinned:
    """``repeat`` turns of ours then the bare client, both with ``concurrency`` requests in flight."""
    ours, ours_cpu, sends, bare, bare_cpu = [], [], [], [], []
    server_cpu = 0.0
    for _ in range(repeat):
        gc.collect()
        server_started = server.cpu_seconds()
        wall, cpu, result = runs.operator(kind, samples, pinned=concurrency)
        server_cpu += server.cpu_seconds() - server_started
        ours.append(wall)
        ours_cpu.append(cpu)
        sends.append(result["duration_seconds"])
        gc.collect()
        wall, cpu = bare_client(server.base_url, runs.auth, runs.path, kind, samples, concurrency=concurrency)
        bare.append(wall)
        bare_cpu.append(cpu)
    median = statistics.median
    return Pinned(
        concurrency=concurrency,
        ours=median(ours),
        ours_cpu=median(ours_cpu),
        send=median(sends),
        bare=median(bare),
        bare_cpu=median(bare_cpu),
        server_ms=server_cpu / (repeat * n_batches) * 1000,
        ours_runs=ours,
        bare_runs=bare,
    )


def ours_over_bare(kind: str, count: int, latency_ms: float, p: Pinned, repeat: int, n_batches: int) -> Row:
    """The target row at one pinned concurrency: time, ours / the bare client."""
    bound = n_batches * latency_ms / 1000 / p.concurrency
    target = PINNED_TARGETS[p.concurrency]
    print(
        f"{LABEL[kind]} vs canned-answer server ({p.server_ms:.2f} ms of its CPU per request), "
        f"{latency_ms:.0f} ms latency, concurrency {p.concurrency} pinned (median of {repeat}): ours "
        f"{p.ours:.2f} s (send phase {p.send:.2f} s, {p.ours_cpu:.2f} CPU s) = {p.ours / bound:.2f} x bound "
        f"{bound:.2f} s; bare client {p.bare:.2f} s = {p.bare / bound:.2f} x ({p.bare_cpu:.2f} CPU s); "
        f"ours / bare {p.ours / p.bare:.2f} x (target ≤ {target:.2f})"
    )
    return check(
        "1. Latency bound",
        f"{LABEL[kind]} {count // 1000}k, {latency_ms:.0f} ms, canned server: ours / bare, pinned "
        f"{p.concurrency}",
        p.ours / p.bare,
        target,
        fmt=".2f",
        unit=" x",
        note=(
            f"time of {LABEL[kind]} (max_concurrency={p.concurrency}, adaptive_concurrency=False) over "
            f"the bare client's ({p.concurrency} workers) against bench/canned_server.py (own process and "
            f"core, no checks), median of {repeat} alternating runs: {p.ours:.2f} s (send phase "
            f"{p.send:.2f} s, {p.ours_cpu:.2f} CPU s) vs {p.bare:.2f} s ({p.bare_cpu:.2f} CPU s); "
            f"{p.ours / bound:.2f} / {p.bare / bound:.2f} x the bound {bound:.2f} s at {p.concurrency}; "
            f"the server used {p.server_ms:.2f} ms CPU per request"
        ),
        extra={
            "concurrency": p.concurrency,
            "ours_seconds": p.ours_runs,
            "bare_seconds": p.bare_runs,
            "bound": bound,
            "send_seconds": p.send,
            "server_cpu_ms_per_request": p.server_ms,
        },
    )


def bound_rows(kind: str, count: int, latency_ms: float, p: Pinned, repeat: int, n_batches: int) -> list[Row]:
    """Context at :data:`CONCURRENCY` pinned: ours and the bare client against the latency bound."""
    bound = n_batches * latency_ms / 1000 / p.concurrency
    return [
        Row(
            bench="1. Latency bound",
            metric=f"{LABEL[kind]} {count // 1000}k, {latency_ms:.0f} ms, canned server: time / bound",
            value=f"{p.ours / bound:.2f} x",
            note=(
                f"context (the target is ours / bare above): {LABEL[kind]} against bench/canned_server.py: "
                f"{p.ours:.2f} s for {n_batches} batches (send phase {p.send:.2f} s), bound {n_batches} x "
                f"{latency_ms / 1000:.2f} s / {p.concurrency} = {bound:.2f} s; bare {p.bare:.2f} s; median "
                f"of {repeat}"
            ),
            extra={
                "seconds": p.ours,
                "bound": bound,
                "send_seconds": p.send,
                "bare_seconds": p.bare,
                "server_cpu_ms_per_request": p.server_ms,
            },
        ),
        Row(
            bench="1. Latency bound",
            metric=f"bare pre-serialised client, {LABEL[kind]} job, canned server: time / bound",
            value=f"{p.bare / bound:.2f} x ({p.bare:.2f} s)",
            note=(
                f"context: the least any client needs against the same server "
                f"({p.bare_cpu:.2f} CPU s; ours {p.ours_cpu:.2f} CPU s)"
            ),
        ),
    ]


def canned_runs(
    workdir: Path, runs: Runs, count: int, latency_ms: float, n_batches: int, repeat: int
) -> list[Row]:
    """The rows against the canned-answer server (its own process, its own core): ours vs bare, pinned at
    each concurrency of :data:`PINNED_TARGETS`, and ours with its default concurrency."""
    rows: list[Row] = []
    bound = n_batches * latency_ms / 1000 / CONCURRENCY
    with CannedServer(workdir, latency_ms) as server:
        server.use_as_default_connection()
        print(f"canned-answer server pid {server.pid} at {server.base_url}")
        runs.operator("add", add_samples(200, "warm-canned"))  # the new connection's first call: not timed
        for kind in ("add", "update"):
            samples = add_samples(count, f"canned-{kind}") if kind == "add" else fake_updates(count)
            for concurrency in PINNED_TARGETS:
                pinned = pinned_runs(server, runs, kind, samples, concurrency, repeat, n_batches)
                rows.append(ours_over_bare(kind, count, latency_ms, pinned, repeat, n_batches))
                if concurrency == CONCURRENCY:
                    rows += bound_rows(kind, count, latency_ms, pinned, repeat, n_batches)
            gc.collect()
            adaptive, _, adaptive_result = runs.operator(kind, samples, pinned=None)
            peak = adaptive_result.get("peak_concurrency", "?")
            print(
                f"{LABEL[kind]} vs canned-answer server, operator defaults: {adaptive:.2f} s, up to "
                f"{peak} in flight"
            )
            rows.append(
                Row(
                    bench="1. Latency bound",
                    metric=f"{LABEL[kind]} with its default concurrency, canned server",
                    value=(
                        f"{adaptive:.2f} s, up to {peak} in flight = {adaptive / bound:.2f} x the bound at "
                        f"{CONCURRENCY}"
                    ),
                    note="context: the figures above pin the concurrency to the bare client's",
                )
            )
    return rows
