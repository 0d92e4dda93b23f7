"""bench/readme_section.py: the README's measured performance block is regenerated from bench/results.md.

Only the text between the two markers may change, a second run must change nothing, and results of the wrong
shape must leave the README alone. No timing here: the figures themselves belong to ``make bench``.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "bench_readme_section", ROOT / "bench" / "readme_section.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


rs = _load()

RESULTS = """# Benchmark results

Measured 2026-12-03 02:10 UTC with `make bench` (`python bench/run.py`) in 4.1 min on 2 cores (AMD EPYC), \
Python 3.11.7, Linux 6.1; load average at start 0.5, 0.4, 0.3.

| Benchmark | Measure | Measured | Target | Measured / target | Result |
|---|---|---|---|---|---|
| 1. Latency bound | AddSamplesOperator 20k: time / bound | 1.05 x | ≤ 1.10 x | 0.95 | met |
| 2. Client CPU | AddSamplesOperator 20k, CPU: ours / bare | 2.90 x | ≤ 1.30 x | 2.23 | **MISSED** |

1 targets met, 1 missed: 2. Client CPU / AddSamplesOperator 20k, CPU: ours / bare.

## Notes

- 1. Latency bound / AddSamplesOperator 20k: time / bound: 2.6 s

## Benchmark output

| not | the table | either |
"""

BEFORE = "# Project\n\n## Performance\n\nHand-written intro.\n\n"
AFTER = "\n\nHow each figure is taken (hand-written).\n\n## Architecture\n"


def readme(inner: str = "old table\nold date\n") -> str:
    return f"{BEFORE}{rs.START}\n{inner}{rs.END}{AFTER}"


def test_render_takes_the_header_table_and_summary() -> None:
    block = rs.render(RESULTS)
    lines = block.splitlines()
    assert lines[0].startswith("Measured 2026-12-03 02:10 UTC with `make bench` (`python bench/run.py`)")
    assert "on 2 cores" in lines[0]
    assert [line for line in lines if line.startswith("|")] == [
        "| Benchmark | Measure | Measured | Target | Measured / target | Result |",
        "|---|---|---|---|---|---|",
        "| 1. Latency bound | AddSamplesOperator 20k: time / bound | 1.05 x | ≤ 1.10 x | 0.95 | met |",
        "| 2. Client CPU | AddSamplesOperator 20k, CPU: ours / bare | 2.90 x | ≤ 1.30 x | 2.23 "
        "| **MISSED** |",
    ]
    assert lines[-1].startswith("1 targets met, 1 missed: 2. Client CPU")
    assert "[bench/results.md](bench/results.md)" in lines[-1]
    assert "the table | either" not in block  # only the first table: not the benchmark output below it


def test_replaces_exactly_the_marked_region() -> None:
    old = readme()
    new = rs.replace_section(old, rs.render(RESULTS))
    assert new.startswith(BEFORE + rs.START + "\n")
    assert new.endswith("\n" + rs.END + AFTER)
    inner = new[len(BEFORE) + len(rs.START) : -len(rs.END + AFTER)]
    assert inner == "\n" + rs.render(RESULTS) + "\n"
    assert "old table" not in new


def test_is_idempotent() -> None:
    block = rs.render(RESULTS)
    once = rs.replace_section(readme(), block)
    assert rs.replace_section(once, block) == once
    assert rs.replace_section(rs.replace_section(readme(""), block), block) == once


@pytest.mark.parametrize(
    "text",
    [
        "no markers at all\n",
        f"{rs.START}\nonly the start\n",
        f"only the end\n{rs.END}\n",
        f"{rs.END}\nreversed\n{rs.START}\n",
        f"{rs.START}\n{rs.START}\ntwice\n{rs.END}\n",
    ],
)
def test_refuses_a_readme_without_one_pair_of_markers(text: str) -> None:
    with pytest.raises(ValueError, match="marker"):
        rs.replace_section(text, "block")


@pytest.mark.parametrize(
    "broken",
    [
        RESULTS.replace("on 2 cores", "somewhere"),  # no core count
        RESULTS.replace("Measured 2026-12-03 02:10 UTC", "Measured yesterday"),  # no date
        "\n".join(line for line in RESULTS.splitlines() if not line.startswith("| ")),  # no table
        RESULTS.replace("1 targets met, 1 missed", "who knows"),  # no summary
    ],
)
def test_refuses_results_of_the_wrong_shape(broken: str) -> None:
    with pytest.raises(ValueError):
        rs.render(broken)


def test_command_line_writes_then_checks(tmp_path: Path) -> None:
    results = tmp_path / "results.md"
    results.write_text(RESULTS, encoding="utf-8")
    target = tmp_path / "README.md"
    target.write_text(readme(), encoding="utf-8")
    args = ["--results", str(results), "--readme", str(target)]
    assert rs.main([*args, "--check"]) == 1
    assert target.read_text(encoding="utf-8") == readme()  # --check writes nothing
    assert rs.main(args) == 0
    written = target.read_text(encoding="utf-8")
    assert rs.main(args) == 0
    assert target.read_text(encoding="utf-8") == written
    assert rs.main([*args, "--check"]) == 0


def test_the_repository_readme_has_one_pair_of_markers() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert text.count(rs.START) == 1
    assert text.count(rs.END) == 1
    assert text.index(rs.START) < text.index(rs.END)
