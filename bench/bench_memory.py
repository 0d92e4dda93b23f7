"""Peak memory of AddSamplesOperator over large manifests (target: < 150 MB above the interpreter's baseline).

Usage: ``python bench/bench_memory.py [--sizes 10000,100000] [--sample-bytes 600]``

What is measured, and how:

* The emulator runs in a **separate process** (``python -m modelarts_emulator``, through
  ``EmulatorProcess``), so the samples it stores are not counted.
* Each size runs in a **fresh child process**: it imports Airflow and the provider, takes the resident set
  size as the baseline (the interpreter with everything loaded, before any sample is read), resets the
  kernel's peak-RSS counter (``/proc/self/clear_refs``), runs ``AddSamplesOperator(manifest=...)`` with the
  defaults (batch 100, 4 concurrent requests), and reads the peak (``VmHWM``). A sampling thread backs that up
  where the reset is not allowed.
* Samples look like a pre-labeled image manifest: a unique name, ``sample_type`` 0, ``sample-bytes`` random
  bytes base64-encoded as ``data``, one classification label with a score. The manifest is JSON Lines.

Prints one line per size with the figures and the ratio to the 150 MB target (ratio < 1.0 means within
target).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

TARGET_MB = 150.0
_ROOT = Path(__file__).resolve().parent.parent


def write_manifest(path: Path, count: int, sample_bytes: int) -> None:
    rng = random.Random(42)
    with open(path, "w") as fh:
        for i in range(count):
            sample = {
                "name": f"bench-{count}-{i:07d}.jpg",  # unique across sizes: no "already present"
                "sample_type": 0,
                "data": base64.b64encode(rng.randbytes(sample_bytes)).decode(),
                "labels": [{"name": "cat" if i % 2 else "dog", "type": 0, "score": 0.9}],
            }
            fh.write(json.dumps(sample) + "\n")


def child(manifest: str, dataset_id: str) -> dict[str, Any]:
    """Runs in a fresh process: baseline after imports, then the operator, then the peak."""
    import logging

    from _common import measure_peak

    from airflow_provider_modelarts.operators.samples import AddSamplesOperator

    logging.disable(logging.INFO)  # one line per batch is not what is measured here
    op = AddSamplesOperator(task_id="bench_add", dataset_id=dataset_id, manifest=manifest)
    result, figures = measure_peak(lambda: op.execute(context={}))
    return {
        **figures,
        "added": result["added"],
        "already_present": result["already_present"],
        "failed": result["failed"],
        "batches": result["batches"],
    }


def run_child(manifest: Path, dataset_id: str, env: dict[str, str]) -> dict:
    """Measure one manifest in a fresh interpreter (so each size starts from the same baseline)."""
    out = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child", str(manifest), dataset_id],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        cwd=_ROOT,
    )
    if out.returncode != 0:
        print(out.stdout[-2000:], out.stderr[-4000:], sep="\n")
        raise SystemExit(f"the bench_memory.py child run for {manifest.name} failed")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--sample-bytes", type=int, default=600)
    parser.add_argument("--dataset-id", default="ds-images")
    parser.add_argument("--child", nargs=2, metavar=("MANIFEST", "DATASET"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(*args.child)))
        return

    # Here, not at the top: the child runs this file too, and its baseline must not hold the emulator.
    from modelarts_emulator.process import EmulatorProcess

    sizes = [int(s) for s in args.sizes.split(",") if s]
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        workdir = Path(tmp)
        with EmulatorProcess(log_file=workdir / "emulator.log") as emulator:
            env = dict(os.environ)
            env["AIRFLOW_CONN_MODELARTS_DEFAULT"] = emulator.connection_json()
            env.setdefault("AIRFLOW_HOME", str(workdir / "airflow"))
            env.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
            print(f"emulator (separate process, pid {emulator.pid}) at {emulator.base_url}")
            for size in sizes:
                manifest = workdir / f"manifest-{size}.jsonl"
                write_manifest(manifest, size, args.sample_bytes)
                mb = manifest.stat().st_size / 1e6
                fig = run_child(manifest, args.dataset_id, env)
                ratio = fig["above_baseline_mb"] / TARGET_MB
                print(
                    f"{size:>7,} samples ({mb:,.0f} MB manifest, {fig['batches']:,} batches, "
                    f"{fig['added']:,} added / {fig['already_present']:,} already present / "
                    f"{fig['failed']:,} failed) in {fig['seconds']:.1f} s: "
                    f"baseline {fig['baseline_mb']:.0f} MB, "
                    f"peak {fig['peak_mb']:.0f} MB, +{fig['above_baseline_mb']:.1f} MB above baseline "
                    f"-> ratio {ratio:.2f} of the {TARGET_MB:.0f} MB target"
                    + ("" if fig["hwm_reset"] else " (peak sampled every 10 ms)")
                )


if __name__ == "__main__":
    main()
