"""Run every benchmark, print one table of figures next to their targets, and write ``bench/results.md``.

Usage: ``python bench/run.py [--only throughput,signing,...] [--quick] [--out bench/results.md]``
(``make bench`` runs it with the defaults; the whole run takes about 20 minutes on a 2-core machine, the
import rows ~7 of them).

Each benchmark runs in its own process (see ``bench/_common.py``) and hands its rows back as one JSON line;
a benchmark that fails becomes a failed row with its error, so one broken benchmark never hides the others.
The runner exits with status 0 even when a target is missed: the table is the result, and a missed target
is a finding to act on, not a crash. ``--strict`` makes a missed target exit 1 (for CI gates).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _common import ROOT, ROWS_PREFIX, Row  # noqa: E402


@dataclass(frozen=True)
class Bench:
    key: str
    script: str
    args: tuple[str, ...] = ()
    quick_args: tuple[str, ...] = ()
    optional: bool = False  # written by another engineer; skipped with a note when missing
    timeout: float = 0.0  # seconds before it is killed, when more than --timeout (a longer benchmark)


BENCHES = [
    Bench("throughput", "bench_throughput.py", quick_args=("--samples", "4000")),
    Bench("adaptive", "bench_adaptive.py", quick_args=("--samples", "8000")),
    Bench("memory", "bench_streaming_memory.py", quick_args=("--sizes", "2000,20000")),
    Bench("export", "bench_export_memory.py", quick_args=("--sizes", "2000,20000")),
    Bench("signing", "bench_signing.py", quick_args=("--requests", "500", "--rounds", "3")),
    Bench("parse", "bench_parse.py", quick_args=("--rounds", "2")),
    Bench(
        "deferral",
        "bench_deferral.py",
        quick_args=("--triggers", "200", "--poll-interval", "5", "--window", "10"),
    ),
    Bench("emulator", "bench_emulator.py", optional=True),
    Bench(
        "import",
        "bench_import.py",
        quick_args=("--sizes", "1000,10000", "--add-size", "10000"),
        timeout=600.0,
    ),
]


def run_bench(bench: Bench, quick: bool, timeout: float) -> tuple[list[Row], str, float]:
    """Run one benchmark process, echo its output live, return (rows, output, seconds)."""
    script = HERE / bench.script
    started = time.monotonic()
    if not script.exists():
        if bench.optional:
            return [], f"{bench.script} not present; skipped", 0.0
        row = Row(bench=bench.key, metric=f"{bench.script} is missing", value="-", ok=False)
        return [row], "", 0.0
    cmd = [sys.executable, str(script), *bench.args, *(bench.quick_args if quick else ())]
    print(f"\n=== {bench.key}: {' '.join(cmd[1:])}", flush=True)
    lines: list[str] = []
    rows: list[Row] = []
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT, env=_child_env()
    )
    assert proc.stdout is not None
    try:
        for line in proc.stdout:
            if line.startswith(ROWS_PREFIX):
                rows.extend(Row(**r) for r in json.loads(line[len(ROWS_PREFIX) :]))
                continue
            lines.append(line.rstrip("\n"))
            print("  " + line, end="", flush=True)
            if time.monotonic() - started > timeout:
                proc.kill()
                lines.append(f"killed after {timeout:.0f} s")
                break
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    seconds = time.monotonic() - started
    if proc.returncode != 0 or not rows:
        tail = " | ".join(line for line in lines[-3:] if line.strip())
        rows.append(
            Row(
                bench=bench.key,
                metric=f"{bench.script} failed (exit {proc.returncode})",
                value="-",
                ok=False,
                note=tail[-300:],
            )
        )
    return rows, "\n".join(lines), seconds


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("PYTHONUNBUFFERED", "1")
    env.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    return env


def _result(row: Row) -> str:
    return {True: "met", False: "**MISSED**", None: "context"}[row.ok]


def table(rows: list[Row]) -> str:
    head = ["Benchmark", "Measure", "Measured", "Target", "Measured / target", "Result"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        ratio = f"{r.ratio:.2f}" if r.ratio is not None else "-"
        cells = [r.bench, r.metric, r.value, r.target or "-", ratio, _result(r)]
        lines.append("| " + " | ".join(c.replace("|", "/") for c in cells) + " |")
    return "\n".join(lines)


def plain_table(rows: list[Row]) -> str:
    cols = [
        [r.bench for r in rows],
        [r.metric for r in rows],
        [r.value for r in rows],
        [r.target or "-" for r in rows],
        [f"{r.ratio:.2f}" if r.ratio is not None else "-" for r in rows],
        [_result(r).strip("*") for r in rows],
    ]
    head = ["benchmark", "measure", "measured", "target", "meas/target", "result"]
    widths = [
        max(len(h), *(len(c) for c in col)) if col else len(h) for h, col in zip(head, cols, strict=True)
    ]
    out = ["  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True))]
    out.append("  ".join("-" * w for w in widths))
    for i in range(len(rows)):
        out.append("  ".join(col[i].ljust(w) for col, w in zip(cols, widths, strict=True)))
    return "\n".join(out)


def machine() -> dict[str, Any]:
    model = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        load = "n/a"
    return {
        "cores": os.cpu_count() or 1,
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
        "load": load,
    }


_PROGRESS = re.compile(r"\bbatch [\d,]+/[\d,]+: ")


def clip_output(text: str, head: int = 150, tail: int = 100) -> str:
    """A benchmark's output for results.md, without the operators' per-batch progress lines and at most
    ``head + tail`` other lines (the run itself printed everything).

    The operators log one line per batch; a benchmark that leaves them on would bury its figures under
    thousands of progress lines.
    """
    lines = text.splitlines()
    kept = [line for line in lines if not _PROGRESS.search(line)]
    if len(kept) < len(lines):
        kept.append(f"[{len(lines) - len(kept):,} per-batch progress lines of the operators left out]")
    if len(kept) > head + tail:
        left_out = len(kept) - head - tail
        kept = [
            *kept[:head],
            f"[... {left_out:,} lines left out here; the run printed them ...]",
            *kept[-tail:],
        ]
    return "\n".join(kept)


def write_results(
    path: Path,
    rows: list[Row],
    outputs: dict[str, str],
    info: dict[str, Any],
    started: dt.datetime,
    seconds: float,
    args: list[str],
) -> None:
    notes = [f"- {r.bench} / {r.metric}: {r.note}" for r in rows if r.note]
    missed = [r for r in rows if r.ok is False]
    parts = [
        "# Benchmark results",
        "",
        f"Measured {started:%Y-%m-%d %H:%M} UTC with `make bench` (`python bench/run.py{' ' if args else ''}"
        f"{' '.join(args)}`) in {seconds / 60:.1f} min on {info['cores']} cores ({info['cpu']}), "
        f"Python {info['python']}, {info['system']}; load average at start {info['load']}.",
        "",
        table(rows),
        "",
        f"{sum(r.ok is True for r in rows)} targets met, {len(missed)} missed"
        + (": " + "; ".join(f"{r.bench} / {r.metric}" for r in missed) if missed else "")
        + ".",
        "",
        "## Notes",
        "",
        *(notes or ["- none"]),
        "",
        "## Benchmark output",
        "",
    ]
    for key, text in outputs.items():
        parts += [
            f"<details><summary>{key}</summary>",
            "",
            "```text",
            clip_output(text.strip()) or "(no output)",
            "```",
            "",
            "</details>",
            "",
        ]
    path.write_text("\n".join(parts))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--only", default="", help="comma-separated keys: " + ",".join(b.key for b in BENCHES)
    )
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for trying the runner out")
    parser.add_argument("--out", default=str(HERE / "results.md"))
    parser.add_argument(
        "--timeout", type=float, default=240.0, help="seconds per benchmark before it is killed"
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()

    only = {k.strip() for k in args.only.split(",") if k.strip()}
    unknown = only - {b.key for b in BENCHES}
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    started = dt.datetime.now(dt.UTC)
    t0 = time.monotonic()
    info = machine()
    print(f"{info['cores']} cores ({info['cpu']}), Python {info['python']}, load average {info['load']}")
    rows: list[Row] = []
    outputs: dict[str, str] = {}
    for bench in BENCHES:
        if only and bench.key not in only:
            continue
        bench_rows, output, seconds = run_bench(bench, args.quick, max(args.timeout, bench.timeout))
        rows.extend(bench_rows)
        outputs[f"{bench.key} ({bench.script}, {seconds:.0f} s)"] = output
    seconds = time.monotonic() - t0
    print("\n" + plain_table(rows))
    print(
        f"\n{sum(r.ok is True for r in rows)} met, {sum(r.ok is False for r in rows)} missed, "
        f"in {seconds:.0f} s"
    )
    forwarded = [a for a in sys.argv[1:]]
    write_results(Path(args.out), rows, outputs, info, started, seconds, forwarded)
    print(f"written to {os.path.relpath(args.out, ROOT)}")
    if args.strict and any(r.ok is False for r in rows):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
