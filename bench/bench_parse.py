"""DAG parse cost: import time the provider modules a DAG uses add to a DAG file (target: under 50 ms).

Usage: ``python bench/bench_parse.py [--rounds 7] [--profile]``

The scheduler's DAG processor re-imports every DAG file every ``min_file_process_interval`` (30 s by
default), so whatever a DAG file's imports cost is paid constantly. What is measured, with ``python -X
importtime`` in a fresh interpreter per round:

* Baseline: ``from airflow.sdk import DAG, BaseOperator, BaseSensorOperator`` -- what any DAG file that
  uses an operator and a sensor has loaded before it imports a provider (``airflow.sdk`` resolves those
  names lazily, so they are imported explicitly to keep their cost out of ours).
* Then a marker, then the provider modules (every operator module, the sensor, ``assets``; by group, then
  all together, the headline figure). Their cost is the sum of the *cumulative* times of the
  top-level import entries after the marker, i.e. everything those imports pulled in that the baseline had
  not loaded already (our modules, pydantic model building, ``airflow.triggers.base``, ...).

All the modules together are measured in ``--rounds`` fresh interpreters, each group in half as many; the
figure is the minimum (import time is wall time, and on a shared machine the minimum is the least disturbed
run), with the median for context.

Bytecode: the headline figures are taken with compiled bytecode in place, as a DAG processor has it (an
installed package is compiled by the installer or on its first import). The interpreters get a
``PYTHONPYCACHEPREFIX`` of their own in a temporary directory, with ``PYTHONDONTWRITEBYTECODE`` removed, and
one unmeasured import of everything fills it first; an environment that sets ``PYTHONDONTWRITEBYTECODE``
(this project's sandbox does) would otherwise time the compiling of every module on every run. A context row
gives that other figure: all modules compiled from source, with an empty cache that is never written.
``--profile`` prints the 25 most expensive modules of one run (self time), to see where the time goes.

The other parse the operators pay for is per sample: strict validation of every sample before the first
request (``parse_samples``, ``CHUNK`` to a call, each sample's request JSON included). Two context rows give
its cost per plain sample (an add-samples sample and a label update, the shapes the throughput benchmark
sends), with ``parse_sample`` one sample at a time next to it, the minimum of ``--rounds`` timed passes over
:data:`VALIDATION_SAMPLES` fresh dicts each, in a fresh interpreter.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, Row, check, emit

TARGET_MS = 50.0
BASELINE = "from airflow.sdk import DAG, BaseOperator, BaseSensorOperator"
MARK = "--bench-parse-mark--"
# Every provider module a DAG file imports: the operators, the sensor, and the asset helpers (for DAGs
# scheduled on a ModelArts asset). Modules that do not exist in this checkout are left out (and said so).
CANDIDATES: dict[str, list[str]] = {
    "operators": [
        "airflow_provider_modelarts.operators.samples",
        "airflow_provider_modelarts.operators.labels",
        "airflow_provider_modelarts.operators.acceptance",
        "airflow_provider_modelarts.operators.team_tasks",
        "airflow_provider_modelarts.operators.export",
    ],
    "sensors": ["airflow_provider_modelarts.sensors.acceptance"],
    "assets": ["airflow_provider_modelarts.assets"],
}


def _exists(module: str) -> bool:
    return (ROOT / (module.replace(".", "/") + ".py")).exists()


GROUPS: dict[str, list[str]] = {
    f"{key} ({', '.join(m.rsplit('.', 1)[1] for m in present)})": present
    for key, modules in CANDIDATES.items()
    if (present := [m for m in modules if _exists(m)])
}
MISSING = [m for modules in CANDIDATES.values() for m in modules if not _exists(m)]
ALL_MODULES = [m for mods in GROUPS.values() for m in mods]
VALIDATION_SAMPLES = 20_000
PLAIN_SAMPLES: dict[str, dict[str, Any]] = {
    "add samples (Sample)": {
        "name": "cat-00001.jpg",
        "sample_type": 0,
        "data": "aGVsbG8gd29ybGQ=",
        "labels": [{"name": "cat", "type": 0}],
    },
    "update labels (SampleLabels)": {
        "sample_id": "0a1b2c3d4e5f",
        "labels": [{"name": "cat", "type": 0, "score": 0.9, "annotated_by": "auto"}],
    },
}
_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \| (\s*)(\S+)$")


def bytecode_env(cache: Path, *, compiled: bool) -> dict[str, str]:
    """Environment of the measured interpreters: their own bytecode cache, written (``compiled``) or not."""
    env = dict(os.environ, PYTHONPYCACHEPREFIX=str(cache))
    if compiled:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    else:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _run(modules: list[str], env: dict[str, str] | None = None) -> list[tuple[int, int, int, str]]:
    """One fresh interpreter: entries (self us, cumulative us, depth, module) imported after the baseline."""
    code = f"import sys\n{BASELINE}\nsys.stderr.write({MARK!r} + '\\n')\n" + "".join(
        f"import {m}\n" for m in modules
    )
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        env=env,
    )
    if out.returncode != 0:
        raise RuntimeError(f"importing {modules} failed:\n{out.stderr[-3000:]}")
    _, found, after = out.stderr.partition(MARK + "\n")
    if not found:
        raise RuntimeError("marker not found in the -X importtime output")
    entries = []
    for line in after.splitlines():
        match = _LINE.match(line)
        if match:
            self_us, cumulative, indent, name = match.groups()
            entries.append((int(self_us), int(cumulative), len(indent) // 2, name))
    return entries


def added_ms(entries: list[tuple[int, int, int, str]]) -> float:
    return sum(cumulative for _, cumulative, depth, _ in entries if depth == 0) / 1000


def measure(modules: list[str], rounds: int, env: dict[str, str] | None = None) -> tuple[float, float]:
    figures = [added_ms(_run(modules, env)) for _ in range(rounds)]
    return min(figures), statistics.median(figures)


def profile(
    modules: list[str], env: dict[str, str] | None = None, rounds: int = 3
) -> list[tuple[float, str]]:
    """Most expensive modules (self time, ms), from the least disturbed of a few runs."""
    runs = [_run(modules, env) for _ in range(rounds)]
    best = min(runs, key=added_ms)
    return sorted(((s / 1000, name) for s, _, _, name in best), reverse=True)[:25]


def validation_us(raw: dict[str, Any], model_name: str, rounds: int, *, chunk: int = 0) -> float:
    """Strict validation per plain sample (us), least disturbed of ``rounds`` passes: ``parse_sample`` one
    sample at a time, or with ``chunk``, ``parse_samples`` that many to a call as a bulk run does (each
    sample's request JSON included either way)."""
    from airflow_provider_modelarts import models

    model_cls = getattr(models, model_name)
    best = float("inf")
    for _ in range(rounds):
        batch = [
            dict(raw, labels=[dict(label) for label in raw["labels"]]) for _ in range(VALIDATION_SAMPLES)
        ]
        items = list(enumerate(batch))
        start = time.perf_counter()
        if chunk:
            for at in range(0, len(items), chunk):
                models.parse_samples(model_cls, items[at : at + chunk])
        else:
            for index, sample in items:
                models.parse_sample(model_cls, sample, index)
        best = min(best, (time.perf_counter() - start) / VALIDATION_SAMPLES * 1e6)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-parse-") as tmp:
        compiled = bytecode_env(Path(tmp, "compiled"), compiled=True)
        _run(ALL_MODULES, compiled)  # compiles everything into the cache once; not measured
        rows = import_rows(args.rounds, compiled)
        best, median = measure(ALL_MODULES, args.rounds, bytecode_env(Path(tmp, "empty"), compiled=False))
        print(f"all modules, compiled from source every time: +{best:.1f} ms (min of {args.rounds})")
        rows.append(
            Row(
                bench="5. DAG parse cost",
                metric=f"import added by all {len(ALL_MODULES)} modules, compiled from source (context)",
                value=f"{best:.1f} ms",
                note=f"no bytecode cache: PYTHONDONTWRITEBYTECODE and an empty one; median {median:.0f} ms",
            )
        )
        if args.profile or any(r.ok is False for r in rows):
            print("Most expensive imports after the baseline (self time, least disturbed of 3 runs):")
            for ms, name in profile(ALL_MODULES, compiled):
                print(f"  {ms:7.1f} ms  {name}")
    from airflow_provider_modelarts.bulk.validation import CHUNK

    for label, raw in PLAIN_SAMPLES.items():
        model_name = label.split("(")[1].rstrip(")")
        one = validation_us(raw, model_name, args.rounds)
        many = validation_us(raw, model_name, args.rounds, chunk=CHUNK)
        print(
            f"strict validation, {label}: {one:.1f} us per sample one at a time (parse_sample), "
            f"{many:.1f} us {CHUNK} to a call (parse_samples, as a bulk run does), min of {args.rounds}"
        )
        rows.append(
            Row(
                bench="5. DAG parse cost",
                metric=f"strict validation per plain sample, {label} (context)",
                value=f"{many:.1f} us ({one:.1f} us one at a time)",
                note=(
                    f"parse_samples, {CHUNK} to a call as a bulk run does, over {VALIDATION_SAMPLES:,} dicts "
                    f"(parse_sample one at a time in brackets), each sample's request JSON included; min of "
                    f"{args.rounds} passes"
                ),
            )
        )
    emit(rows)


def import_rows(rounds_all: int, env: dict[str, str]) -> list[Row]:
    """Import cost with compiled bytecode: each group, then all modules together (the target's figure)."""
    rows: list[Row] = []
    groups = {**GROUPS, f"all {len(ALL_MODULES)} provider modules a DAG uses, together": ALL_MODULES}
    if MISSING:
        print(f"not in this checkout, so not measured: {', '.join(MISSING)}")
    for label, modules in groups.items():
        # The all-together figure carries the target; the groups say where it comes from, in fewer rounds.
        rounds = rounds_all if modules is ALL_MODULES else max(2, (rounds_all + 1) // 2)
        best, median = measure(modules, rounds, env)
        print(f"{label}: +{best:.1f} ms on top of the baseline (min of {rounds}; median {median:.1f} ms)")
        rows.append(
            check(
                "5. DAG parse cost",
                f"import added by {label}",
                best,
                TARGET_MS,
                fmt=".1f",
                unit=" ms",
                op="<",
                note=f"min of {rounds} fresh interpreters, compiled bytecode (median {median:.0f} ms)",
            )
        )
    return rows


if __name__ == "__main__":
    main()
