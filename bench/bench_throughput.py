"""Bulk throughput against the latency bound, and overhead against a bare HTTP client.

Usage: ``python bench/bench_throughput.py [--samples 20000] [--latency-ms 50] [--repeat 5]``

Set-up: the emulator CLI runs in its own process pinned to one core, this process on the other
(``bench/_common.py``). The operators run exactly as a task would (``execute`` with the connection from
``AIRFLOW_CONN_MODELARTS_DEFAULT``, default ``batch_size=100`` and ``max_concurrency=4``, their per-batch log
lines written to /dev/null). Samples look like a pre-labeled image upload: a unique name, ``sample_type``
0, 100 base64 characters of ``data`` and one classification label with a score; the label updates set two
labels per existing sample. The emulator is reset between runs.

1. **Throughput vs the latency bound** (emulator adds ``--latency-ms`` to every request): the bound is the
   time the requests alone must take, ``batches x latency / concurrency``; the figure is the operator's
   whole ``execute`` time (validation pass included) divided by it -- target at most 1.25. For context, the
   naive way: the same batches posted one request at a time with a plain ``httpx.Client`` loop (json.dumps
   per batch, AK/SK signing), and naive / ours; and a bare pre-serialised client with the same latency and
   concurrency (what the emulator, which adds its own handling time per request on one core, allows at best).
2. **Overhead vs a bare client** (no injected latency): the operator's ``execute`` time against an
   ``httpx.AsyncClient`` that posts the *pre-serialised* batch bodies with the same concurrency and the same
   signing -- target ours / bare at most 1.3. Runs alternate ours / bare ``--repeat`` times and the ratio
   compares the fastest run of each (the least disturbed by other processes on a shared machine; the
   medians are printed too).

Only one core serves the emulator, so without latency both sides are mostly waiting for it; the overhead
ratio is therefore about client CPU that delays requests, not raw client speed. ``--profile`` prints a
cProfile of one operator run without latency (where the client time goes).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import io
import json
import logging
import math
import os
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Emulator, Row, airflow_env, check, emit, pin_self

DATASET = "ds-images"
BATCH = 100  # the operators' default batch size (and the bare / naive loops use the same batches)
CONCURRENCY = 4  # the operators' default max_concurrency
BOUND_TARGET = 1.25
OVERHEAD_TARGET = 1.3
DATA = "aGVsbG8gbW9kZWxhcnRzIGJlbmNobWFyayBzYW1wbGUgZGF0YSAxMjM0NTY3ODkwYWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXo="


def add_samples(count: int, tag: str) -> list[dict[str, Any]]:
    return [
        {
            "name": f"{tag}-{i:06d}.jpg",
            "sample_type": 0,
            "data": DATA,
            "labels": [{"name": "cat" if i % 2 else "dog", "type": 0, "score": 0.87}],
        }
        for i in range(count)
    ]


def label_updates(sample_ids: list[str]) -> list[dict[str, Any]]:
    return [
        {
            "sample_id": sample_id,
            "labels": [
                {"name": "cat", "type": 0, "score": 0.91, "annotated_by": "auto"},
                {"name": "indoor", "type": 0, "score": 0.66, "annotated_by": "auto"},
            ],
        }
        for sample_id in sample_ids
    ]


def batches(items: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    return [items[i : i + BATCH] for i in range(0, len(items), BATCH)]


@contextlib.contextmanager
def quiet_stdout() -> Iterator[None]:
    """Send fd 1 to /dev/null: the operators' per-batch log lines cost what writing them costs, unseen."""
    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


class Runs:
    """The four ways of moving samples, against one emulator process."""

    def __init__(self, emulator: Emulator) -> None:
        from airflow_provider_modelarts.auth import AkSkAuth
        from airflow_provider_modelarts.emulator import (
            DEFAULT_ACCESS_KEY,
            DEFAULT_PROJECT_ID,
            DEFAULT_SECRET_KEY,
        )

        self.emulator = emulator
        self.project = DEFAULT_PROJECT_ID
        self.auth = AkSkAuth(DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, project_id=DEFAULT_PROJECT_ID)
        self.path = f"/v2/{DEFAULT_PROJECT_ID}/datasets/{DATASET}/data-annotations/samples"

    def reset(self, latency_ms: float) -> None:
        self.emulator.admin("POST", "reset", json={"seed": "initial"})
        self.set_latency(latency_ms)

    def set_latency(self, latency_ms: float) -> None:
        self.emulator.admin("DELETE", "faults")
        if latency_ms:
            self.emulator.admin("POST", "faults", json={"rules": [{"latency_ms": latency_ms}]})

    def sample_ids(self, prefix: str) -> list[str]:
        rows = self.emulator.admin("GET", f"datasets/{DATASET}/samples")["samples"]
        return [r["sample_id"] for r in rows if str(r.get("sample_name", "")).startswith(prefix)]

    # -- ours ----------------------------------------------------------------------------------------------
    def operator(
        self, kind: str, samples: list[dict[str, Any]], profiler: cProfile.Profile | None = None
    ) -> tuple[float, dict[str, Any]]:
        from airflow_provider_modelarts.operators.labels import UpdateLabelsOperator
        from airflow_provider_modelarts.operators.samples import AddSamplesOperator

        if kind == "add":
            op: Any = AddSamplesOperator(task_id="bench_add", dataset_id=DATASET, samples=samples)
        else:
            op = UpdateLabelsOperator(task_id="bench_update", dataset_id=DATASET, samples=samples)
        with quiet_stdout():
            if profiler is not None:
                profiler.enable()
            started = time.perf_counter()
            result = op.execute(context={})
            elapsed = time.perf_counter() - started
            if profiler is not None:
                profiler.disable()
        done = result.get("added", result.get("updated", 0)) + result.get("already_present", 0)
        if result["failed"] or done != len(samples):
            raise RuntimeError(f"operator run incomplete: {result}")
        return elapsed, result

    # -- bare: pre-serialised bodies, same concurrency -----------------------------------------------------
    def bare(self, kind: str, samples: list[dict[str, Any]]) -> float:
        import httpx

        bodies = [json.dumps({"samples": b}).encode() for b in batches(samples)]
        method = "POST" if kind == "add" else "PUT"

        async def run() -> None:
            limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
            async with httpx.AsyncClient(
                base_url=self.emulator.base_url, auth=self.auth, limits=limits, timeout=60
            ) as client:
                queue = iter(bodies)

                async def worker() -> None:
                    for body in queue:
                        response = await client.request(
                            method, self.path, content=body, headers={"Content-Type": "application/json"}
                        )
                        if response.status_code != 200 or response.json().get("success") is False:
                            raise RuntimeError(f"bare request failed: {response.status_code} {response.text}")

                await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))

        started = time.perf_counter()
        asyncio.run(run())
        return time.perf_counter() - started

    # -- naive: one request at a time, plain httpx loop ----------------------------------------------------
    def naive(self, kind: str, samples: list[dict[str, Any]]) -> float:
        import httpx

        method = "POST" if kind == "add" else "PUT"
        started = time.perf_counter()
        with httpx.Client(base_url=self.emulator.base_url, auth=self.auth, timeout=60) as client:
            for batch in batches(samples):
                response = client.request(method, self.path, json={"samples": batch})
                if response.status_code != 200 or response.json().get("success") is False:
                    raise RuntimeError(f"naive request failed: {response.status_code} {response.text}")
        return time.perf_counter() - started

    def prepare_updates(self, count: int, tag: str) -> list[dict[str, Any]]:
        """Add ``count`` samples (fast, bare) and return label updates for them."""
        self.bare("add", add_samples(count, tag))
        ids = self.sample_ids(tag + "-")
        if len(ids) != count:
            raise RuntimeError(f"expected {count} samples named {tag}-*, found {len(ids)}")
        return label_updates(ids)


def timed_pair(
    runs: Runs, kind: str, count: int, latency_ms: float, tag: str, way: str
) -> tuple[float, dict[str, Any] | None]:
    """Reset, prepare inputs (untimed), run one way; returns (seconds, operator result or None)."""
    runs.reset(0)
    samples = add_samples(count, tag) if kind == "add" else runs.prepare_updates(count, tag)
    runs.set_latency(latency_ms)
    if way == "ours":
        return runs.operator(kind, samples)
    if way == "bare":
        return runs.bare(kind, samples), None
    return runs.naive(kind, samples), None


def profile_operator(runs: Runs, kind: str, count: int) -> str:
    """cProfile of one operator ``execute`` without latency: where the client's time goes.

    Two views: our own functions by cumulative time (validation pass vs sending), then everything by own time.
    """
    runs.reset(0)
    samples = add_samples(count, "profile") if kind == "add" else runs.prepare_updates(count, "profile")
    profiler = cProfile.Profile()
    runs.operator(kind, samples, profiler)  # execute only: building the operator is not timed either
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(r"airflow_provider_modelarts", 12)
    stats.sort_stats("tottime").print_stats(15)
    return "\n".join(line for line in out.getvalue().splitlines() if line.strip())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--samples", type=int, default=20_000)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--profile", action="store_true")
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

            label = {"add": "AddSamplesOperator", "update": "UpdateLabelsOperator"}
            # 1. latency bound
            for kind in ("add", "update"):
                ours, result = timed_pair(runs, kind, count, latency, f"lat-{kind}", "ours")
                naive, _ = timed_pair(runs, kind, count, latency, f"naive-{kind}", "naive")
                bare, _ = timed_pair(runs, kind, count, latency, f"barelat-{kind}", "bare")
                handling_ms = (bare / n_batches * CONCURRENCY - latency / 1000) * 1000
                print(
                    f"  bare pre-serialised client, same job and latency: {bare:.2f} s = {bare / bound:.2f}x "
                    f"bound (~{handling_ms:.1f} ms emulator handling per request on top of the latency)"
                )
                ratio = ours / bound
                send = result["duration_seconds"] if result else float("nan")
                print(
                    f"{label[kind]}: {count:,} samples, {n_batches} batches, {latency:.0f} ms latency, "
                    f"concurrency {CONCURRENCY}: {ours:.2f} s (send phase {send:.2f} s) vs bound "
                    f"{bound:.2f} s = {ratio:.2f} x bound; naive sequential loop {naive:.2f} s = "
                    f"{naive / ours:.1f} x slower"
                )
                rows.append(
                    check(
                        "1. Bulk throughput",
                        f"{label[kind]} {count // 1000}k samples, {latency:.0f} ms latency: time / bound",
                        ratio,
                        BOUND_TARGET,
                        fmt=".2f",
                        unit=" x",
                        note=(
                            f"{label[kind]}: {ours:.2f} s for {n_batches} batches (send phase {send:.2f} s), "
                            f"bound {n_batches} x {latency / 1000:.2f} s / {CONCURRENCY} = {bound:.2f} s"
                        ),
                        extra={"seconds": ours, "bound": bound, "send_seconds": send},
                    )
                )
                rows.append(
                    Row(
                        bench="1. Bulk throughput",
                        metric="bare pre-serialised httpx client, same job and latency: time / bound",
                        value=f"{bare / bound:.2f} x ({bare:.2f} s)",
                        note=(
                            f"bare client, {label[kind]} job, {latency:.0f} ms latency: best the emulator "
                            f"allows (one core, ~{handling_ms:.0f} ms of handling per request on top of the "
                            "latency)"
                        ),
                    )
                )
                rows.append(
                    Row(
                        bench="1. Bulk throughput",
                        metric=f"naive loop (1 request at a time) for the same {label[kind]} job",
                        value=f"{naive:.2f} s = {naive / ours:.1f} x ours",
                        note=(
                            f"naive {label[kind]} job: {n_batches} sequential requests; one request per "
                            f"sample would take at least {count * latency / 1000:,.0f} s"
                        ),
                    )
                )
            # 2. overhead vs bare (no latency), alternating, fastest of each
            for kind in ("add", "update"):
                ours_t: list[float] = []
                bare_t: list[float] = []
                for i in range(args.repeat):
                    ours_t.append(timed_pair(runs, kind, count, 0, f"o{i}-{kind}", "ours")[0])
                    bare_t.append(timed_pair(runs, kind, count, 0, f"b{i}-{kind}", "bare")[0])
                ours_b, bare_b = min(ours_t), min(bare_t)
                ours_m, bare_m = statistics.median(ours_t), statistics.median(bare_t)
                ratio = ours_b / bare_b
                print(
                    f"{label[kind]} without latency: ours {ours_b:.2f} s vs bare pre-serialised httpx "
                    f"{bare_b:.2f} s (fastest of {args.repeat}) = {ratio:.2f} x; medians {ours_m:.2f} / "
                    f"{bare_m:.2f} s = {ours_m / bare_m:.2f} x; all runs: ours "
                    f"{', '.join(f'{t:.2f}' for t in ours_t)}; bare {', '.join(f'{t:.2f}' for t in bare_t)}"
                )
                rows.append(
                    check(
                        "2. Overhead vs bare client",
                        f"{label[kind]} {count // 1000}k samples, no latency: ours / bare",
                        ratio,
                        OVERHEAD_TARGET,
                        fmt=".2f",
                        unit=" x",
                        note=(
                            f"{label[kind]}: ours {ours_b:.2f} s, bare {bare_b:.2f} s (fastest of "
                            f"{args.repeat}; medians {ours_m:.2f} / {bare_m:.2f} s = {ours_m / bare_m:.2f} x)"
                        ),
                        extra={"ours": ours_t, "bare": bare_t},
                    )
                )
            for kind in ("add", "update"):
                missed = any(
                    r.ok is False for r in rows if r.bench.startswith("2.") and label[kind] in r.metric
                )
                if args.profile or missed:
                    print(f"cProfile of one {label[kind]} execute without latency (this process):")
                    print(profile_operator(runs, kind, count))
    emit(rows)


if __name__ == "__main__":
    main()
