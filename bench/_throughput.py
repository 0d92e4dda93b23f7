"""The throughput benchmark's workload and the ways of moving it; ``bench/bench_throughput.py`` measures them.

The workload: pre-labeled image uploads (:func:`add_samples`) and two-label updates of existing samples
(:func:`label_updates`), in batches of :data:`BATCH`. The ways: the operator as a task runs it
(:func:`make_operator`, :meth:`Runs.operator`), the bare client posting pre-serialised signed bodies
(:func:`bare_client`), the minimal validating client (plain pydantic models, then the bare client:
:func:`plainly_validated_bodies`) and the naive loop (:meth:`Runs.naive`). :class:`Runs` drives them against
one emulator process; :func:`timed_pair` resets it, prepares a run's inputs untimed and times one way.
"""

from __future__ import annotations

import asyncio
import contextlib
import cProfile
import functools
import gc
import inspect
import json
import os
import sys
import time
from collections.abc import Iterator
from typing import Any

from _common import Emulator

DATASET = "ds-images"
BATCH = 100  # the operators' default batch size (and the bare / naive loops use the same batches)
CONCURRENCY = 4  # requests in flight where a row pins it (the bare client's workers, max_concurrency)
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


def make_operator(kind: str, samples: list[dict[str, Any]], *, pinned: int | None) -> Any:
    """The operator for ``kind``; ``pinned``: exactly that many requests in flight, as the bare client with
    as many workers sends (``max_concurrency=pinned`` and ``adaptive_concurrency=False`` where the operator
    has it); ``None``: the operator's defaults."""
    from airflow_provider_modelarts.operators.labels import UpdateLabelsOperator
    from airflow_provider_modelarts.operators.samples import AddSamplesOperator

    cls: Any = AddSamplesOperator if kind == "add" else UpdateLabelsOperator
    kwargs: dict[str, Any] = {}
    if pinned is not None:
        kwargs["max_concurrency"] = pinned
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
    concurrency: int = CONCURRENCY,
) -> tuple[float, float]:
    """Pre-serialised, signed batch bodies posted by an ``httpx.AsyncClient`` with ``concurrency`` workers
    (as many connections); (wall seconds, CPU seconds of this process). Serialising the bodies is not timed,
    unless ``validate``: then the timed run first validates and serialises every sample with plain pydantic
    models (:func:`plainly_validated_bodies`), the floor of any client that validates."""
    import httpx

    if not validate:
        bodies = [json.dumps({"samples": b}).encode() for b in batches(samples)]
    method = "POST" if kind == "add" else "PUT"

    async def run() -> None:
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        async with httpx.AsyncClient(base_url=base_url, auth=auth, limits=limits, timeout=60) as client:
            queue = iter(bodies)

            async def worker() -> None:
                for body in queue:
                    response = await client.request(
                        method, path, content=body, headers={"Content-Type": "application/json"}
                    )
                    if response.status_code != 200 or response.json().get("success") is False:
                        raise RuntimeError(f"bare request failed: {response.status_code} {response.text}")

            await asyncio.gather(*(worker() for _ in range(concurrency)))

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
        pinned: int | None = CONCURRENCY,
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


def fake_updates(count: int) -> list[dict[str, Any]]:
    """Label updates for ``count`` made-up sample ids (the canned-answer server knows no samples)."""
    return label_updates([f"{i:032x}" for i in range(count)])


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
