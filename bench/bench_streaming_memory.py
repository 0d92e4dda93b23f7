"""Streaming memory, as rows for the runner: reuses ``bench/bench_memory.py`` (the operators' benchmark).

Usage: ``python bench/bench_streaming_memory.py [--sizes 10000,100000] [--sample-bytes 600]``

``bench_memory.py`` owns the measurement (emulator in a separate process, one fresh child process per
manifest size, baseline RSS after imports, peak from ``VmHWM``); this wrapper only runs its child mode for
each size and turns the figures into the two targets of issue 6:

* peak RSS above the baseline under 150 MB for each size;
* the 100,000-sample figure under 1.3 x the 10,000-sample figure (memory must not grow with the input).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_memory  # noqa: E402
from _common import Emulator, Row, airflow_env, check, emit  # noqa: E402

TARGET_MB = 150.0
GROWTH_LIMIT = 1.3


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--sample-bytes", type=int, default=600)
    parser.add_argument("--dataset-id", default="ds-images")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]

    rows: list[Row] = []
    figures: dict[int, dict] = {}
    with tempfile.TemporaryDirectory(prefix="bench-streaming-") as tmp:
        workdir = Path(tmp)
        airflow_env(workdir)
        with Emulator(workdir) as emulator:
            emulator.use_as_default_connection()
            print(f"emulator in a separate process (pid {emulator.pid}) at {emulator.base_url}")
            for size in sizes:
                manifest = workdir / f"manifest-{size}.jsonl"
                bench_memory.write_manifest(manifest, size, args.sample_bytes)
                fig = bench_memory.run_child(manifest, args.dataset_id, dict(os.environ))
                figures[size] = fig
                manifest.unlink()
                print(
                    f"{size:>7,} samples ({fig['batches']:,} batches, {fig['added']:,} added, "
                    f"{fig['failed']:,} failed) in {fig['seconds']:.1f} s: "
                    f"baseline {fig['baseline_mb']:.0f} MB, "
                    f"peak {fig['peak_mb']:.0f} MB, +{fig['above_baseline_mb']:.1f} MB above the baseline"
                )
                rows.append(
                    check(
                        "3. Streaming memory",
                        f"peak RSS above baseline, {size:,}-sample manifest",
                        fig["above_baseline_mb"],
                        TARGET_MB,
                        fmt=".1f",
                        unit=" MB",
                        op="<",
                        note=(
                            f"{size:,} samples: baseline {fig['baseline_mb']:.0f} MB after imports, "
                            f"peak {fig['peak_mb']:.0f} MB"
                            + ("" if fig.get("hwm_reset", True) else " (peak sampled every 10 ms)")
                        ),
                    )
                )
                if fig["failed"] or fig["added"] + fig["already_present"] != size:
                    rows[-1].ok = False
                    rows[-1].note += f"; only {fig['added']:,} of {size:,} samples added"
    if len(sizes) >= 2:
        small, large = sizes[0], sizes[-1]
        growth = figures[large]["above_baseline_mb"] / max(figures[small]["above_baseline_mb"], 0.1)
        print(f"{large:,} vs {small:,} samples: {growth:.2f} x the memory for {large // small} x the samples")
        rows.append(
            check(
                "3. Streaming memory",
                f"{large // 1000}k / {small // 1000}k peak above baseline",
                growth,
                GROWTH_LIMIT,
                fmt=".2f",
                unit=" x",
                op="<",
                note=f"{large // small} x the samples; flat memory means a ratio near 1",
            )
        )
    emit(rows)


if __name__ == "__main__":
    main()
