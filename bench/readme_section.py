"""Regenerate the measured part of the README's Performance section from ``bench/results.md``.

Usage: ``python bench/readme_section.py [--results bench/results.md] [--readme README.md] [--check]``
(``make bench`` runs it after ``bench/run.py``).

Only the text between the two marker comments (:data:`START` and :data:`END`) is replaced; everything
else in the README, the prose around the table included, stays byte for byte. What goes between them comes
from ``results.md`` as ``bench/run.py`` wrote it: its first paragraph (when, with which command, on how many
cores of which CPU, Python, load), the table of every figure next to its target, and the met / missed line.
Running it twice changes nothing the second time. ``--check`` writes nothing and exits 1 when the README
is not what the results would give (for a CI step or a pre-commit hook).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
START = "<!-- bench-results:start: written by bench/readme_section.py from bench/results.md (make bench) -->"
END = "<!-- bench-results:end -->"

_HEADER = re.compile(r"^Measured \d{4}-\d\d-\d\d \d\d:\d\d UTC with .*\bon \d+ cores\b")
_SUMMARY = re.compile(r"^\d+ targets met, \d+ missed")


def render(results: str, results_link: str = "bench/results.md") -> str:
    """The block that goes between the markers (without them), from the text of ``results.md``.

    Raises ``ValueError`` when the results do not have the shape ``bench/run.py`` writes (no header line
    with the date and core count, no table, no summary line): a README must not be half regenerated.
    """
    lines = results.splitlines()
    header = next((line for line in lines if _HEADER.match(line)), None)
    if header is None:
        raise ValueError("results.md has no 'Measured <date> UTC with ... on <n> cores' line")
    start = next((i for i, line in enumerate(lines) if line.startswith("| ")), None)
    if start is None:
        raise ValueError("results.md has no table")
    end = start
    while end < len(lines) and lines[end].startswith("|"):
        end += 1
    table = lines[start:end]
    if len(table) < 3:
        raise ValueError("results.md's table has no rows")
    summary = next((line for line in lines[end:] if _SUMMARY.match(line)), None)
    if summary is None:
        raise ValueError("results.md has no 'N targets met, M missed' line")
    return "\n".join(
        [
            header,
            "",
            *table,
            "",
            f"{summary} Notes for each figure and every benchmark's full output: [{results_link}]"
            f"({results_link}).",
        ]
    )


def replace_section(readme: str, block: str) -> str:
    """``readme`` with the text between :data:`START` and :data:`END` replaced by ``block``.

    The markers stay, each on its own line, with exactly one line break between a marker and the block;
    nothing outside them changes. Raises ``ValueError`` unless each marker appears exactly once, in order.
    """
    for marker in (START, END):
        count = readme.count(marker)
        if count != 1:
            raise ValueError(f"README must hold the marker {marker!r} exactly once (found {count})")
    head, _, rest = readme.partition(START)
    _, _, tail = rest.partition(END)
    if END in head:
        raise ValueError("the end marker comes before the start marker")
    return f"{head}{START}\n{block.strip(chr(10))}\n{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results.md")
    parser.add_argument("--readme", type=Path, default=ROOT / "README.md")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 when out of date")
    args = parser.parse_args(argv)

    readme = args.readme.read_text(encoding="utf-8")
    updated = replace_section(readme, render(args.results.read_text(encoding="utf-8")))
    if args.check:
        if updated != readme:
            print(f"{args.readme} is not up to date with {args.results}: run bench/readme_section.py")
            return 1
        print(f"{args.readme} is up to date with {args.results}")
        return 0
    if updated == readme:
        print(f"{args.readme}: performance section already up to date")
    else:
        args.readme.write_text(updated, encoding="utf-8")
        print(f"{args.readme}: performance section regenerated from {args.results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
