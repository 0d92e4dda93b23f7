"""Bulk operators: client CPU per sample against a bare client, and wall time against the latency bound.

Usage: ``python bench/bench_throughput.py [--samples 20000] [--latency-ms 50] [--repeat 5] [--profile]
[--no-naive]``

Set-up: the emulator CLI runs in its own process pinned to one core, this process on the other
(``bench/_common.py``). The operators run exactly as a task would (``execute`` with the connection from
``AIRFLOW_CONN_MODELARTS_DEFAULT``, default ``batch_size=100``, their per-batch log lines written to
/dev/null), with the concurrency pinned to the bare client's: ``max_concurrency=4`` and, where the operator
has it, ``adaptive_concurrency=False``. Samples look like a pre-labeled image upload: a unique name,
``sample_type`` 0, 100 base64 characters of ``data`` and one classification label with a score; the label
updates set two labels per existing sample. The emulator is reset between runs.

The *bare client* is the least a client can do for the same job: an ``httpx.AsyncClient`` with 4 workers
posting the batch bodies serialised before the clock starts, signed with the same ``AkSkAuth``.

1. **Client CPU per sample vs the bare client** (no injected latency, against the emulator): CPU time of
   this process (``time.process_time()`` around ``execute``, so every thread of this process and nothing of
   the emulator's) per sample, ours / bare -- target at most 1.3. Runs alternate ours / bare ``--repeat``
   times; the ratio compares the median runs. The wall-clock ratio of the same runs (fastest of each) is a
   context row: without latency both sides mostly wait for the emulator's one core.
2. **Wall time vs the latency bound** (``--latency-ms`` on every request): the bound is the time the
   requests alone must take, ``batches x latency / concurrency``; the figure is the operator's whole
   ``execute`` time (validation pass included) over it. Against ``bench/canned_server.py`` (a canned-answer
   server in its own process on the emulator's core, no checks, well under a millisecond per request) --
   target at most 1.1, with the bare client's figure next to it; against the emulator as context (it adds its
   own handling per request on one core), with the naive way (one request at a time in a plain
   ``httpx.Client`` loop, ``--no-naive`` skips it). A context row gives the operator's time with its default
   (adaptive) concurrency against the canned server.

``--profile`` prints a cProfile of one operator run without latency (also printed when the CPU target is
missed): where the client time goes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import functools
import gc
import inspect
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
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import CannedServer, Emulator, Row, airflow_env, check, emit, pin_self

DATASET = "ds-images"
BATCH = 100  # the operators' default batch size (and the bare / naive loops use the same batches)
CONCURRENCY = 4  # the operators' default max_concurrency
CANNED_BOUND_TARGET = 1.1  # time / latency bound against the canned-answer server
CPU_TARGET = 1.3  # client CPU per sample, ours / bare pre-serialised client
LABEL = {"add": "AddSamplesOperator", "update": "UpdateLabelsOperator"}
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


def make_operator(kind: str, samples: list[dict[str, Any]], *, pinned: bool) -> Any:
    """The operator for ``kind``; ``pinned``: exactly :data:`CONCURRENCY` requests in flight, as the bare
    client sends (``adaptive_concurrency=False`` where the operator has it), else the operator's defaults."""
    from airflow_provider_modelarts.operators.labels import UpdateLabelsOperator
    from airflow_provider_modelarts.operators.samples import AddSamplesOperator

    cls: Any = AddSamplesOperator if kind == "add" else UpdateLabelsOperator
    kwargs: dict[str, Any] = {}
    if pinned:
        kwargs["max_concurrency"] = CONCURRENCY
        if any(
            "adaptive_concurrency" in inspect.signature(c.__init__).parameters
            for c in cls.__mro__
            if "__init__" in vars(c)
        ):
            kwargs["adaptive_concurrency"] = False
    return cls(task_id=f"bench_{kind}", dataset_id=DATASET, samples=samples, **kwargs)


def check_complete(result: dict[str, Any], count: int) -> None:
    """Every sample counted as done (added / updated / already present), none failed."""
    done = result.get("added", result.get("updated", 0)) + result.get("already_present", 0)
    if result["failed"] or done != count:
        raise RuntimeError(f"operator run incomplete: {result}")


@functools.cache
def plain_adapters() -> dict[str, Any]:
    """The least validation a client can do: plain pydantic models of the benchmark's two sample shapes.

    Types and unknown keys only (``extra="forbid"``), none of the pages' value rules, no context switches,
    no wrap validators: what any client that checks its input with pydantic pays at the least.
    """
    from pydantic import BaseModel, ConfigDict, TypeAdapter

    class PlainLabel(BaseModel):
        model_config = ConfigDict(extra="forbid")
        name: str | None = None
        type: int | None = None
        score: float | None = None
        annotated_by: str | None = None

    class PlainSample(BaseModel):
        model_config = ConfigDict(extra="forbid")
        name: str | None = None
        sample_type: int | None = None
        data: str | None = None
        labels: list[PlainLabel] | None = None

    class PlainLabels(BaseModel):
        model_config = ConfigDict(extra="forbid")
        sample_id: str | None = None
        labels: list[PlainLabel] | None = None

    return {"add": TypeAdapter(PlainSample), "update": TypeAdapter(PlainLabels)}


def plainly_validated_bodies(kind: str, samples: list[dict[str, Any]]) -> list[bytes]:
    """Batch bodies of the minimal validating client: each sample validated and serialised on its own."""
    adapter = plain_adapters()[kind]
    return [
        b'{"samples":['
        + b",".join(adapter.dump_json(adapter.validate_python(raw), exclude_none=True) for raw in batch)
        + b"]}"
        for batch in batches(samples)
    ]


def bare_client(
    base_url: str,
    auth: Any,
    path: str,
    kind: str,
    samples: list[dict[str, Any]],
    *,
    validate: bool = False,
) -> tuple[float, float]:
    """Pre-serialised, signed batch bodies posted by an ``httpx.AsyncClient`` with :data:`CONCURRENCY`
    workers; (wall seconds, CPU seconds of this process). Serialising the bodies is not timed, unless
    ``validate``: then the timed run first validates and serialises every sample with plain pydantic models
    (:func:`plainly_validated_bodies`), the floor of any client that validates."""
    import httpx

    if not validate:
        bodies = [json.dumps({"samples": b}).encode() for b in batches(samples)]
    method = "POST" if kind == "add" else "PUT"

    async def run() -> None:
        limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
        async with httpx.AsyncClient(base_url=base_url, auth=auth, limits=limits, timeout=60) as client:
            queue = iter(bodies)

            async def worker() -> None:
                for body in queue:
                    response = await client.request(
                        method, path, content=body, headers={"Content-Type": "application/json"}
                    )
                    if response.status_code != 200 or response.json().get("success") is False:
                        raise RuntimeError(f"bare request failed: {response.status_code} {response.text}")

            await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))

    started, cpu_started = time.perf_counter(), time.process_time()
    if validate:
        bodies = plainly_validated_bodies(kind, samples)
    asyncio.run(run())
    return time.perf_counter() - started, time.process_time() - cpu_started


class Runs:
    """The four ways of moving samples, against one emulator process."""

    def __init__(self, emulator: Emulator) -> None:
        from airflow_provider_modelarts.auth import AkSkAuth
        from modelarts_emulator import (
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
        self,
        kind: str,
        samples: list[dict[str, Any]],
        profiler: cProfile.Profile | None = None,
        *,
        pinned: bool = True,
    ) -> tuple[float, float, dict[str, Any]]:
        """One ``execute``: (wall seconds, CPU seconds of this process, the operator's summary)."""
        op = make_operator(kind, samples, pinned=pinned)
        with quiet_stdout():
            if profiler is not None:
                profiler.enable()
            started, cpu_started = time.perf_counter(), time.process_time()
            result = op.execute(context={})
            elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
            if profiler is not None:
                profiler.disable()
        check_complete(result, len(samples))
        return elapsed, cpu, result

    # -- bare: pre-serialised bodies, same concurrency -----------------------------------------------------
    def bare(
        self, kind: str, samples: list[dict[str, Any]], *, validate: bool = False
    ) -> tuple[float, float]:
        """(wall seconds, CPU seconds) of the bare client moving ``samples`` to the emulator."""
        return bare_client(self.emulator.base_url, self.auth, self.path, kind, samples, validate=validate)

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
        self.bare("add", add_samples(count, tag))  # (wall, CPU) not needed
        ids = self.sample_ids(tag + "-")
        if len(ids) != count:
            raise RuntimeError(f"expected {count} samples named {tag}-*, found {len(ids)}")
        return label_updates(ids)


def timed_pair(
    runs: Runs, kind: str, count: int, latency_ms: float, tag: str, way: str
) -> tuple[float, float, dict[str, Any] | None]:
    """Reset, prepare inputs (untimed), run one way: (seconds, CPU seconds, operator result or None)."""
    runs.reset(0)
    samples = add_samples(count, tag) if kind == "add" else runs.prepare_updates(count, tag)
    runs.set_latency(latency_ms)
    gc.collect()  # garbage left by the previous run is collected here, not inside the next timed one
    if way == "ours":
        return runs.operator(kind, samples)
    if way == "bare":
        return (*runs.bare(kind, samples), None)
    if way == "plain":
        return (*runs.bare(kind, samples, validate=True), None)
    started = time.process_time()
    return runs.naive(kind, samples), time.process_time() - started, None


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


def fake_updates(count: int) -> list[dict[str, Any]]:
    """Label updates for ``count`` made-up sample ids (the canned-answer server knows no samples)."""
    return label_updates([f"{i:032x}" for i in range(count)])


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
                        f"{LABEL[kind]} {count // 1000}k, CPU per sample: ours / bare",
                        cpu_ratio,
                        CPU_TARGET,
                        fmt=".2f",
                        unit=" x",
                        note=(
                            f"{LABEL[kind]}: {ours_us:.1f} µs vs bare {bare_us:.1f} µs of this process's CPU "
                            f"per sample (time.process_time over execute, all threads; median of "
                            f"{args.repeat}; the emulator is another process)"
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
            rows[:0] = canned_runs(workdir, runs, count, latency, bound, n_batches)
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
