"""Peak memory of ExportLabelsOperator over 10,000 and 100,000 labeled samples: it must not grow with them.

Usage: ``python bench/bench_export_memory.py [--sizes 10000,100000]``

Measured as ``bench_memory.py`` measures the bulk operators: the emulator in a **separate process** (seeded
through its admin API with one dataset of N labeled samples, so the samples it holds are not counted), and
each size in a **fresh child process** that imports everything, takes its resident set size as the baseline,
resets the kernel's peak counter (``/proc/self/clear_refs``), runs ``ExportLabelsOperator`` (pages of 100,
the pages' maximum) into a JSON Lines file, and reads the peak (``VmHWM``; a 10 ms sampling thread backs it
up where the reset is not allowed).

What may grow: the client's sample walk remembers every sample id it yielded as an 8-byte digest (pages shift
when samples are added during a walk; a repeat is never written twice), 10-15 bytes per sample (25 while
merging), over the two passes it reads the list in (``client/_paging.py``). What must not: the samples
themselves (a page at a time), the manifest (written as it arrives). Targets: peak above the baseline under
50 MB at 100,000 samples, and growth per sample from 10,000 to 100,000 under 200 bytes (a manifest
line alone is ~250 bytes; a parsed sample several KB).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _common import ROOT, Emulator, Row, airflow_env, check, emit, measure_peak  # noqa: E402

TARGET_MB = 50.0
TARGET_BYTES_PER_SAMPLE = 200.0
DATASET = "ds-export-bench"


def seed(size: int) -> dict[str, Any]:
    samples = [
        {
            "name": f"export-{size}-{i:07d}.jpg",
            "sample_type": 0,
            "size": 2048,
            "labels": [
                {"name": "cat" if i % 2 else "dog", "type": 0, "property": {"@modelarts:hard": False}}
            ],
        }
        for i in range(size)
    ]
    dataset = {"dataset_id": DATASET, "dataset_name": "export bench", "dataset_type": 0, "samples": samples}
    return {"datasets": [dataset]}


def child(path: str) -> dict[str, Any]:
    """Runs in a fresh process: baseline after imports, then the export, then the peak."""
    import logging

    from airflow_provider_modelarts.operators.export import ExportLabelsOperator

    logging.disable(logging.INFO)
    op = ExportLabelsOperator(task_id="bench_export", dataset_id=DATASET, path=path)
    result, figures = measure_peak(lambda: op.execute(context={}))
    return {
        **figures,
        "samples": result["samples"],
        "bytes": result["bytes"],
    }


def run_child(path: Path) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child", str(path)],
        env=dict(os.environ),
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    if out.returncode != 0:
        print(out.stdout[-2000:], out.stderr[-4000:], sep="\n")
        raise SystemExit(f"the export child run for {path.name} failed")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        print(json.dumps(child(sys.argv[2])))
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="10000,100000")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    rows: list[Row] = []
    figures: dict[int, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-export-") as tmp:
        workdir = Path(tmp)
        airflow_env(workdir)
        with Emulator(workdir) as emulator:
            emulator.use_as_default_connection()
            print(f"emulator in a separate process (pid {emulator.pid}) at {emulator.base_url}")
            for size in sizes:
                emulator.admin("POST", "seed", json=seed(size))
                path = workdir / f"export-{size}.jsonl"
                fig = run_child(path)
                figures[size] = fig
                path.unlink()
                print(
                    f"{size:>7,} samples exported ({fig['bytes'] / 2**20:.1f} MB of JSON Lines) in "
                    f"{fig['seconds']:.1f} s: baseline {fig['baseline_mb']:.0f} MB, "
                    f"peak {fig['peak_mb']:.0f} MB, "
                    f"+{fig['above_baseline_mb']:.1f} MB above the baseline"
                )
                row = check(
                    "Export memory",
                    f"peak RSS above baseline, {size:,} samples",
                    fig["above_baseline_mb"],
                    TARGET_MB,
                    fmt=".1f",
                    unit=" MB",
                    op="<",
                    note=(
                        f"{fig['bytes'] / 2**20:.0f} MB written; "
                        f"baseline {fig['baseline_mb']:.0f} MB after imports"
                    ),
                )
                if fig["samples"] != size:
                    row.ok = False
                    row.note += f"; only {fig['samples']:,} of {size:,} samples exported"
                rows.append(row)
    if len(sizes) >= 2:
        small, large = sizes[0], sizes[-1]
        grown = (figures[large]["above_baseline_mb"] - figures[small]["above_baseline_mb"]) * 2**20
        per_sample = max(grown, 0.0) / (large - small)
        print(f"{small:,} -> {large:,} samples: {per_sample:.0f} bytes more per sample")
        rows.append(
            check(
                "Export memory",
                f"growth per sample, {small // 1000}k -> {large // 1000}k",
                per_sample,
                TARGET_BYTES_PER_SAMPLE,
                fmt=".0f",
                unit=" B",
                op="<",
                note="what grows: an 8-byte digest per id yielded (two passes); never samples or manifest",
            )
        )
    emit(rows)


if __name__ == "__main__":
    main()
