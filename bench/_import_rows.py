"""The rows ``bench/bench_import.py`` reports, and the targets they are checked against.

``rows_of`` turns the worker's figures of the import runs (the smallest and the largest size) and of the add
samples run into the benchmark's rows; ``bench_import.py``'s docstring says what each figure is.
"""

from __future__ import annotations

from typing import Any

from _common import Row, check

BENCH = "Import from OBS"
#: Detail reads ``poll_cost`` sends after the measured run (taken off the run's ``/stats`` counts).
EXTRA_READS = 21
#: The 100k / 1k ratio of worker CPU and of peak memory: "constant, not per object".
FLAT_LIMIT = 1.5
#: Bytes the worker moves (read + written) per byte imported, at the largest size.
BYTES_LIMIT = 0.01
#: Worker CPU of add samples over that of the import, the same images at the largest size.
ADD_RATIO_LIMIT = 10.0
#: The importing worker's peak above its baseline.
PEAK_LIMIT_MB = 50.0


def rows_of(
    small: int, big: int, imports: dict[int, dict[str, Any]], add: dict[str, Any], add_size: int, args: Any
) -> list[Row]:
    lo, hi = imports[small], imports[big]
    imported_bytes = big * args.sample_bytes
    polls = f"{hi['polls']} / {lo['polls']} polls every {args.poll_interval:g} s"

    def flat(
        what: str, key: str, spec: str, unit: str, note: str, scale: float = 1.0, floor: float = 0.0
    ) -> Row:
        """A "constant, not per object" check: the big run's ``key`` over the small run's (the small one taken
        as at least ``floor``), at most :data:`FLAT_LIMIT`; the metric shows both figures times ``scale``."""
        figures = f"{hi[key] * scale:{spec}} / {lo[key] * scale:{spec}} {unit}"
        metric = f"import {big:,} / {small:,} objects: {what} ({figures})"
        ratio = hi[key] / (max(lo[key], floor) if floor else lo[key])
        return check(BENCH, metric, ratio, FLAT_LIMIT, fmt=".2f", unit=" x", note=note)

    rows = [
        Row(
            bench=BENCH,
            metric=f"import {big:,} objects: worker CPU ({hi['polls']} polls every {args.poll_interval:g} s "
            f"over {hi['seconds']:.0f} s) (context)",
            value=f"{hi['cpu_seconds']:.2f} s",
            note=f"{lo['cpu_seconds']:.2f} s for {small:,} objects ({lo['polls']} polls over "
            f"{lo['seconds']:.0f} s): {hi['cpu_seconds'] / lo['cpu_seconds']:.2f} x, the extra polls",
        ),
        check(
            BENCH,
            f"import {big:,} objects: worker peak RSS above baseline",
            hi["above_baseline_mb"],
            PEAK_LIMIT_MB,
            fmt=".1f",
            unit=" MB",
        ),
        flat(
            "worker CPU apart from its polls",
            "fixed_cpu_seconds",
            ".3f",
            "s",
            note="run CPU minus polls x the CPU of one poll (measured after the run, in the same worker)",
        ),
        flat(
            "CPU of one poll",
            "poll_cpu_seconds",
            ".2f",
            "ms",
            scale=1e3,
            note=f"mean of {EXTRA_READS - 1} detail reads of the finished import; {polls}",
        ),
        flat(
            "worker peak above baseline",
            "above_baseline_mb",
            ".1f",
            "MB",
            floor=1.0,
            note="the smaller figure is taken as at least 1 MB (below it a ratio is noise)",
        ),
        check(
            BENCH,
            f"import {big:,} objects: network bytes of the worker / bytes imported "
            f"({hi['network_bytes'] / 1e3:,.0f} KB / {imported_bytes / 1e6:,.0f} MB)",
            hi["network_bytes"] / imported_bytes * 100,
            BYTES_LIMIT * 100,
            fmt=".2f",
            unit=" %",
            note=f"sent + received, counted by relays: {hi['service_bytes']:,} B with the service, "
            f"{hi['store_bytes']:,} B with the store ({lo['network_bytes']:,} B for {small:,}); {polls}",
        ),
        Row(
            bench=BENCH,
            metric=f"before: add samples {add_size:,} (the same images, manifest in the store): worker CPU, "
            "peak above baseline, network (context)",
            value=f"{add['cpu_seconds']:.1f} s, +{add['above_baseline_mb']:.1f} MB, "
            f"{add['network_bytes'] / 1e6:,.0f} MB",
            note=f"{add['service_bytes'] / 1e6:,.0f} MB with the service, {add['store_bytes'] / 1e6:,.0f} MB "
            f"with the store, in {add['seconds']:.0f} s",
        ),
    ]
    if add_size == big:
        ratio = add["cpu_seconds"] / hi["cpu_seconds"]
        rows.append(
            Row(
                bench=BENCH,
                metric=f"add samples / import: worker CPU at {big:,} objects",
                value=f"{ratio:,.0f} x",
                target=f"≥ {ADD_RATIO_LIMIT:g} x",
                ratio=ADD_RATIO_LIMIT / ratio,
                ok=ratio >= ADD_RATIO_LIMIT,
            )
        )
    return rows
