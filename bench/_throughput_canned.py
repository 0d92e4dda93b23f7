"""The throughput benchmark's latency-bound rows against ``bench/canned_server.py``.

``bench/bench_throughput.py`` calls :func:`canned_runs`; its docstring describes the rows and their targets.

The canned-answer server runs in its own process on the server core, answers every batch with a fixed
success reply after the latency and checks nothing, so what the client needs above the bound is the client's.
"""

from __future__ import annotations

import gc
from pathlib import Path

from _common import CannedServer, Row, check
from _throughput import CONCURRENCY, LABEL, Runs, add_samples, bare_client, fake_updates

CANNED_BOUND_TARGET = 1.1  # time / latency bound against the canned-answer server


def canned_runs(
    workdir: Path, runs: Runs, count: int, latency_ms: float, bound: float, n_batches: int
) -> list[Row]:
    """Latency bound against the canned-answer server (its own process, its own core): ours vs bare."""
    rows: list[Row] = []
    with CannedServer(workdir, latency_ms) as server:
        server.use_as_default_connection()
        print(f"canned-answer server pid {server.pid} at {server.base_url}")
        runs.operator("add", add_samples(200, "warm-canned"))  # the new connection's first call: not timed
        for kind in ("add", "update"):
            samples = add_samples(count, f"canned-{kind}") if kind == "add" else fake_updates(count)
            gc.collect()
            server_started = server.cpu_seconds()
            ours, ours_cpu, result = runs.operator(kind, samples)
            server_ms = (server.cpu_seconds() - server_started) / n_batches * 1000
            gc.collect()
            bare, bare_cpu = bare_client(server.base_url, runs.auth, runs.path, kind, samples)
            gc.collect()
            adaptive, _, adaptive_result = runs.operator(kind, samples, pinned=False)
            send = result["duration_seconds"]
            print(
                f"{LABEL[kind]} vs canned-answer server ({server_ms:.2f} ms of its CPU per request), "
                f"{latency_ms:.0f} ms latency, concurrency "
                f"{CONCURRENCY} pinned: {ours:.2f} s (send phase {send:.2f} s, {ours_cpu:.2f} CPU s) = "
                f"{ours / bound:.2f} x bound {bound:.2f} s; bare client {bare:.2f} s = {bare / bound:.2f} x "
                f"({bare_cpu:.2f} CPU s); operator defaults: {adaptive:.2f} s, up to "
                f"{adaptive_result.get('peak_concurrency', '?')} in flight"
            )
            rows.append(
                check(
                    "1. Latency bound",
                    f"{LABEL[kind]} {count // 1000}k, {latency_ms:.0f} ms, canned server: time / bound",
                    ours / bound,
                    CANNED_BOUND_TARGET,
                    fmt=".2f",
                    unit=" x",
                    note=(
                        f"{LABEL[kind]} against bench/canned_server.py (own process and core, no checks): "
                        f"{ours:.2f} s for {n_batches} batches (send phase {send:.2f} s), bound {n_batches} "
                        f"x {latency_ms / 1000:.2f} s / {CONCURRENCY} = {bound:.2f} s; bare {bare:.2f} s; "
                        f"the server used {server_ms:.2f} ms CPU per request"
                    ),
                    extra={
                        "seconds": ours,
                        "bound": bound,
                        "send_seconds": send,
                        "bare_seconds": bare,
                        "server_cpu_ms_per_request": server_ms,
                    },
                )
            )
            rows.append(
                Row(
                    bench="1. Latency bound",
                    metric=f"bare pre-serialised client, {LABEL[kind]} job, canned server: time / bound",
                    value=f"{bare / bound:.2f} x ({bare:.2f} s)",
                    note=(
                        f"context: the least any client needs against the same server "
                        f"({bare_cpu:.2f} CPU s; ours {ours_cpu:.2f} CPU s)"
                    ),
                )
            )
            rows.append(
                Row(
                    bench="1. Latency bound",
                    metric=f"{LABEL[kind]} with its default concurrency, canned server",
                    value=(
                        f"{adaptive:.2f} s, up to {adaptive_result.get('peak_concurrency', '?')} in flight "
                        f"= {adaptive / bound:.2f} x the bound at {CONCURRENCY}"
                    ),
                    note="context: the figure above pins the concurrency to the bare client's",
                )
            )
    return rows
