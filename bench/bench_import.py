"""Import from OBS against add samples: what the importing worker pays for 1,000 and 100,000 images.

Usage: ``python bench/bench_import.py [--sizes 1000,100000] [--add-size 100000] [--poll-interval 5]
[--sample-bytes 600] [--pace 1000]``

Issue 28 (deliver 4): "Zero sample bytes through the worker ... worker CPU and peak memory of the importing
task, flat in the number of objects", shown before (``AddSamplesOperator``, the same images) and after
(``ImportFromObsOperator``) on the same machine.

The world, each part in its own process:

* **The store**: an S3-compatible server (moto's S3 backend, ``_common.S3Store``) on the client core. Bucket
  ``bench`` holds ``import-<N>/0000000.jpg ...``: N images of ``--sample-bytes`` unique random bytes
  (``_common.image_bytes``), filled inside the server (100,000 in ~3 s; 100,000 PUT requests would cost
  moto ~3 minutes of CPU). The emulator reads them through the S3 API only.
* **The service**: the emulator on its own core, started with ``--obs-endpoint`` (the store), its clock
  stopped (``step_seconds`` null) and its import tasks moved by this process (``POST /_emulator/advance``,
  one step at a time, as fast as the steps run): ``import_steps`` 0, ``import_pace`` objects read per step,
  ``import_path_errors: "task"`` (the folder is listed in a step, not inside the create request: 100,000
  keys take moto ~40 s to list). The emulator reads every object (a GET each, ~3 ms with moto), so the
  import of 100,000 takes a few minutes; its admin calls block its event loop while a step runs, so the
  worker's connection allows 120 s a request.
* **The worker**: a fresh interpreter per run (baseline after Airflow and the provider are imported, as
  ``bench_memory.py``). AFTER: ``ImportFromObsOperator(deferrable=False, poll_interval=--poll-interval)``
  polls in the worker until COMPLETED. BEFORE: ``AddSamplesOperator(manifest="s3://bench/add-<N>.jsonl",
  storage_conn_id=...)``: a JSON Lines manifest of the same images, base64-encoded, in the same store, read
  by the worker through Airflow's ``ObjectStoragePath``.

Figures of the worker process (``_common.measure_worker``): CPU seconds (user + system) of the whole
process, peak resident size above the baseline (kernel high-water mark, reset first), and the bytes it sent
and received over the network, counted by two relays in this process (``_common.ByteCounter``) that the
worker's connections to the emulator and to the store go through. The emulator's ``/stats`` gives the
requests it sent. The run checks that the import COMPLETED with all N imported and that the emulator's
dataset holds all N samples afterwards (the same for add samples).

What "flat" means here: the importing worker's cost is a fixed part (create, the first look, the outcome)
plus one detail read a poll, and the number of polls is the import's wall time over the poll interval, not
the number of objects; but the emulator's import of 100,000 objects takes minutes, so that run polls more
often than the 1,000 run. So the worker measures the CPU of one poll itself after its run (``poll_cost``:
the mean of 20 more detail reads of the finished import, 0.5 s apart, outside the figures) and the rows
compare, 100k against 1k: the CPU apart from the polls (run CPU - polls x one poll), the CPU of one poll,
the peak, all at most 1.5 x; the network bytes against the bytes imported (at most 1 %); the raw CPU with
the poll counts for context; and add samples' CPU at 100k against the import's (at least 10 x).

Measured (defaults) 2026-12-07 on 2 cores shared with another engineer's system tests: 6.6 min (396 s), of
which the 100k import 335 s: the emulator lists the 100,000 keys (~40 s: moto's listing is slow) and reads
each object from moto one GET at a time (~3 ms each); filling the store takes ~5 s, the manifest ~2 s, add
samples 14 s. The importing worker's own cost is 0.3 CPU s. ``--quick`` (1,000 and 10,000 objects): ~1 min.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from _common import ROOT, Emulator, emit, pin_self
from _import_rows import EXTRA_READS, rows_of
from _stores import ByteCounter, S3Store, image_bytes

BUCKET = "bench"
STORE_CONN = "bench_store"
#: The worker's connection to the emulator without the byte counter (``poll_cost``).
DIRECT_CONN = "modelarts_direct"
#: Seconds between the detail reads of ``poll_cost`` (back to back, a read measured 0.8 ms here, a poll of
#: the loop ~3 ms).
READ_GAP = 0.5


# ------------------------------------------------------------------------------------ the worker's side


def _preload() -> None:
    """Import the provider modules ``execute`` loads on first use (hook, client, auth, import and bulk
    logic) before the baseline, in both workers: the figures are then the task's own work, not Python
    compiling modules (a fixed cost that would make the small run's CPU look larger and the ratio flatter)."""
    import importlib

    for name in (
        "airflow_provider_modelarts.hooks.modelarts",
        "airflow_provider_modelarts.client",
        "airflow_provider_modelarts.auth",
        "airflow_provider_modelarts.import_tasks",
        "airflow_provider_modelarts.links",
        "airflow_provider_modelarts.retries",
        "airflow_provider_modelarts.bulk",
    ):
        importlib.import_module(name)


def child_import(dataset_id: str, import_path: str, poll_interval: str) -> dict[str, Any]:
    """A fresh worker: ``ImportFromObsOperator`` polling in this process until the import is over."""
    import logging

    from _common import measure_worker

    from airflow_provider_modelarts.operators.import_tasks import ImportFromObsOperator

    _preload()
    logging.disable(logging.INFO)
    op = ImportFromObsOperator(
        task_id="bench_import",
        dataset_id=dataset_id,
        import_path=import_path,
        import_folder="bench",
        deferrable=False,
        poll_interval=float(poll_interval),
        max_wait=3600,
    )
    result, figures = measure_worker(lambda: op.execute(context={}))
    figures["poll_cpu_seconds"] = poll_cost(dataset_id, result["import_task_id"])
    return {**figures, "result": result}


def poll_cost(dataset_id: str, task_id: str) -> float:
    """CPU seconds of one look at the finished import, as the poll loop takes it (``evaluate_import``),
    the mean of :data:`EXTRA_READS` after a first one, :data:`READ_GAP` apart (caches cool down between
    polls): measured after the run, so outside its figures, on
    the direct connection (the byte counter sees only the operator's requests; ``/stats`` counts these)."""
    from airflow_provider_modelarts.hooks.modelarts import ModelArtsHook
    from airflow_provider_modelarts.import_tasks import ImportCriteria

    hook, criteria = ModelArtsHook(DIRECT_CONN), ImportCriteria(allow_partial=True)
    try:
        hook.evaluate_import(dataset_id, task_id, criteria)  # the client and its connection
        spent = 0.0
        for _ in range(EXTRA_READS - 1):
            time.sleep(READ_GAP)  # as between polls: a read after a pause costs more than back to back
            started = time.process_time()
            hook.evaluate_import(dataset_id, task_id, criteria)
            spent += time.process_time() - started
        return spent / (EXTRA_READS - 1)
    finally:
        hook.close()


def child_add(dataset_id: str, manifest: str) -> dict[str, Any]:
    """A fresh worker: ``AddSamplesOperator`` streaming the manifest from the store."""
    import logging

    from _common import measure_worker

    from airflow_provider_modelarts.operators.samples import AddSamplesOperator

    _preload()
    logging.disable(logging.INFO)  # one line per batch is not what is measured here
    op = AddSamplesOperator(
        task_id="bench_add", dataset_id=dataset_id, manifest=manifest, storage_conn_id=STORE_CONN
    )
    result, figures = measure_worker(lambda: op.execute(context={}))
    keys = ("added", "already_present", "failed", "batches")
    return {**figures, "result": {key: result[key] for key in keys}}


def run_child(args: list[str], env: dict[str, str]) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    if out.returncode != 0:
        print(out.stdout[-2000:], out.stderr[-4000:], sep="\n")
        raise SystemExit(f"the worker run {args} failed")
    return json.loads(out.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------------------------ the bench's side


class Stepper:
    """Moves the emulator's import tasks one step at a time, as fast as the steps run, while a worker runs
    (the emulator's clock is stopped: its steps happen only here)."""

    def __init__(self, base_url: str) -> None:
        self._client = httpx.Client(base_url=base_url, timeout=600)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.steps = 0

    def _run(self) -> None:
        while not self._stop.is_set():
            reply = self._client.post("/_emulator/advance", json={"steps": 1})
            reply.raise_for_status()
            applied = int(reply.json()["steps_applied"])
            self.steps += applied
            if not applied:
                self._stop.wait(0.05)

    def __enter__(self) -> Stepper:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._client.close()


def dataset_samples(emulator: Emulator, dataset_id: str) -> int:
    for row in emulator.admin("GET", "datasets"):
        if row["dataset_id"] == dataset_id:
            return int(row["samples"])
    raise SystemExit(f"dataset {dataset_id} is not in the emulator")


def new_dataset(emulator: Emulator, dataset_id: str) -> None:
    emulator.admin(
        "POST",
        "seed",
        json={"datasets": [{"dataset_id": dataset_id, "dataset_name": dataset_id, "dataset_type": 0}]},
    )


def requests_by_route(emulator: Emulator) -> dict[str, int]:
    routes = emulator.admin("GET", "stats").get("routes", {})
    return {name: int(counts.get("requests", 0)) for name, counts in routes.items()}


def write_manifest(path: Path, prefix: str, count: int, size: int) -> None:
    """The same images as the store's ``prefix``, as ``AddSamplesOperator`` takes them (bench_memory.py)."""
    with open(path, "w") as fh:
        for i, (key, data) in enumerate(image_bytes(prefix, count, size)):
            sample = {
                "name": key.rpartition("/")[2],
                "sample_type": 0,
                "data": base64.b64encode(data).decode(),
                "labels": [{"name": "cat" if i % 2 else "dog", "type": 0, "score": 0.9}],
            }
            fh.write(json.dumps(sample) + "\n")


@dataclass
class World:
    """What the worker runs against: the emulator, the environment of the worker, the two byte counters
    (the worker reaches the service and the store through them)."""

    emulator: Emulator
    env: dict[str, str]
    service: ByteCounter
    store: ByteCounter

    def start_run(self, dataset_id: str) -> None:
        new_dataset(self.emulator, dataset_id)
        self.emulator.admin("DELETE", "stats")
        self.service.reset()
        self.store.reset()

    def network(self, fig: dict[str, Any]) -> None:
        fig["service_bytes"] = self.service.sent + self.service.received
        fig["store_bytes"] = self.store.sent + self.store.received
        fig["network_bytes"] = fig["service_bytes"] + fig["store_bytes"]
        fig["requests"] = requests_by_route(self.emulator)


def import_run(world: World, size: int, poll: float) -> dict[str, Any]:
    """One AFTER run: a new dataset, the worker importing ``import-<size>/``, the emulator stepped."""
    dataset_id = f"ds-import-{size}"
    world.start_run(dataset_id)
    with Stepper(world.emulator.base_url) as stepper:
        fig = run_child(
            ["--child-import", dataset_id, f"obs://{BUCKET}/import-{size}/", str(poll)], world.env
        )
    world.network(fig)
    fig["steps"] = stepper.steps
    imported, stored = fig["result"]["imported"], dataset_samples(world.emulator, dataset_id)
    if fig["result"]["status"] != "COMPLETED" or imported != size or stored != size:
        raise SystemExit(
            f"import of {size:,}: {fig['result']['status']}, {imported} imported, {stored} stored"
        )
    fig["requests"]["get_import_task"] -= EXTRA_READS
    fig["polls"] = fig["requests"]["get_import_task"]
    fig["fixed_cpu_seconds"] = fig["cpu_seconds"] - fig["polls"] * fig["poll_cpu_seconds"]
    print(
        f"import {size:>7,}: COMPLETED, {stored:,} samples in the dataset, {fig['steps']} emulator steps. "
        f"Worker: {fig['cpu_seconds']:.2f} CPU s in {fig['seconds']:.0f} s, peak "
        f"+{fig['above_baseline_mb']:.1f} MB above {fig['baseline_mb']:.0f} MB; {fig['polls']} detail reads "
        f"at {fig['poll_cpu_seconds'] * 1e3:.2f} ms CPU each (the rest: {fig['fixed_cpu_seconds']:.3f} s), "
        f"requests {fig['requests']}; network {fig['service_bytes']:,} B with the service, "
        f"{fig['store_bytes']:,} B with the store",
        flush=True,
    )
    return fig


def add_run(world: World, size: int) -> dict[str, Any]:
    """The BEFORE run: a new dataset, the worker adding the same images from the manifest in the store."""
    dataset_id = f"ds-add-{size}"
    world.start_run(dataset_id)
    fig = run_child(["--child-add", dataset_id, f"s3://{BUCKET}/add-{size}.jsonl"], world.env)
    world.network(fig)
    stored = dataset_samples(world.emulator, dataset_id)
    if fig["result"]["added"] != size or stored != size:
        raise SystemExit(f"add samples of {size:,}: {fig['result']}, {stored} stored")
    print(
        f"add samples {size:>7,}: {stored:,} samples in the dataset, {fig['result']['batches']:,} batches. "
        f"Worker: {fig['cpu_seconds']:.2f} CPU s in {fig['seconds']:.0f} s, peak "
        f"+{fig['above_baseline_mb']:.1f} MB above {fig['baseline_mb']:.0f} MB; network "
        f"{fig['service_bytes']:,} B with the service, {fig['store_bytes']:,} B with the store",
        flush=True,
    )
    return fig


def fill_store(store: S3Store, sizes: list[int], add_size: int, sample_bytes: int, workdir: Path) -> None:
    s3 = store.client()
    s3.create_bucket(Bucket=BUCKET)
    for size in sizes:
        seconds = store.fill(BUCKET, f"import-{size}/", size, sample_bytes)
        print(
            f"store: {size:,} images of {sample_bytes} B under s3://{BUCKET}/import-{size}/ "
            f"in {seconds:.1f} s"
        )
    started = time.monotonic()
    manifest = workdir / "add.jsonl"
    write_manifest(manifest, f"import-{add_size}/", add_size, sample_bytes)
    s3.upload_file(str(manifest), BUCKET, f"add-{add_size}.jsonl")
    print(
        f"store: s3://{BUCKET}/add-{add_size}.jsonl ({manifest.stat().st_size / 1e6:,.0f} MB: the same "
        f"images, base64) written in {time.monotonic() - started:.1f} s"
    )
    manifest.unlink()


def worker_env(
    workdir: Path, emulator: Emulator, service: ByteCounter, store: S3Store, relay: ByteCounter
) -> dict[str, str]:
    connection = emulator.connection()
    connection["extra"]["endpoint"] = service.url  # the same emulator, through the counter
    connection["extra"]["timeout"] = 120  # a detail read may wait for a step (module docstring)
    storage = store.connection()
    storage["extra"]["endpoint_url"] = relay.url
    env = dict(os.environ)
    env["AIRFLOW_CONN_MODELARTS_DEFAULT"] = json.dumps(connection)
    env[f"AIRFLOW_CONN_{DIRECT_CONN.upper()}"] = json.dumps(emulator.connection())
    env[f"AIRFLOW_CONN_{STORE_CONN.upper()}"] = json.dumps(storage)
    env.setdefault("AIRFLOW_HOME", str(workdir / "airflow"))
    env.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    return env


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1000,100000")
    parser.add_argument("--add-size", type=int, default=100_000)
    parser.add_argument("--poll-interval", type=float, default=2.0)
    parser.add_argument("--sample-bytes", type=int, default=600)
    parser.add_argument("--pace", type=int, default=1000, help="objects the emulator reads a step")
    parser.add_argument("--child-import", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--child-add", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_import:
        print(json.dumps(child_import(*args.child_import)))
        return
    if args.child_add:
        print(json.dumps(child_add(*args.child_add)))
        return

    sizes = sorted(int(s) for s in args.sizes.split(",") if s)
    print(pin_self())
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp, S3Store(Path(tmp)) as store:
        workdir = Path(tmp)
        fill_store(store, sizes, args.add_size, args.sample_bytes, workdir)
        with (
            Emulator(workdir, *store.emulator_args()) as emulator,
            ByteCounter(emulator.base_url) as service,
            ByteCounter(store.base_url) as relay,
        ):
            settings = {"step_seconds": None, "import_steps": 0, "import_pace": args.pace}
            emulator.admin("POST", "config", json={**settings, "import_path_errors": "task"})
            print(
                f"emulator pid {emulator.pid} at {emulator.base_url}; "
                f"store pid {store.pid} at {store.base_url}"
            )
            world = World(emulator, worker_env(workdir, emulator, service, store, relay), service, relay)
            imports = {size: import_run(world, size, args.poll_interval) for size in sizes}
            add = add_run(world, args.add_size)
    print(f"whole run: {time.monotonic() - started:.0f} s")
    emit(rows_of(sizes[0], sizes[-1], imports, add, args.add_size, args))


if __name__ == "__main__":
    main()
