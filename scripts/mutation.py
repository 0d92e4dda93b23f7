"""Mutation testing (mutmut) of the modules that decide what users rely on; prints each module's kill rate.

Usage: ``python scripts/mutation.py [--only bulk.tally,errors] [--jobs N] [--keep]`` (``make mutation``).

Each module runs on its own, against its own unit tests plus every unit test file that imports it (the
selection below; errors.py and _exceptions.py are the exceptions, said there), so a module's rate says what
*its* tests catch. mutmut reads its settings from the ``pyproject.toml`` of the directory it runs in, so
every module gets a work directory ``mutants/<module>/`` with a copy of the package, the unit tests and a
``pyproject.toml`` whose ``[tool.mutmut]`` mutates that one file; ``cd mutants/<module> && mutmut browse``
shows what survived.
``--jobs`` modules (default: one per core) run side by side, one mutmut worker each: a module's set-up is
single-threaded, so this keeps the cores busy. A whole run of the 15 modules it then had took 10.7 minutes
on an idle 2-core machine (2026-12-07, before four more were added; over 25 minutes before each forked mutant
got a fresh executor, see FORK_SAFETY).
Work directories start empty unless ``--keep``: mutmut keeps a mutant's old verdict while its function is
unchanged even when the tests changed, and a stale "killed" would be a false result.

Counting: killed = killed + timeout + caught by type check; every other status (survived, no tests,
suspicious, segfault) counts as surviving. Mutants listed in ``tests/mutation/equivalent_mutants.md`` (they
cannot change behaviour) leave the count altogether: rate = killed / (mutants - equivalent). A listed mutant
that is now killed, missing, or whose mutated line no longer matches the list is stale and fails the run, so
the list cannot quietly excuse a different mutant after the code moved. Exit status 1 when a module is below
its threshold or the list is stale.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "airflow_provider_modelarts"
WORK = ROOT / "mutants"
EQUIVALENT_LIST = ROOT / "tests" / "mutation" / "equivalent_mutants.md"
MUTMUT = Path(sys.executable).parent / "mutmut"
KILLED = {"killed", "timeout", "caught by type check"}


@dataclass(frozen=True)
class Module:
    """One module under mutation, its threshold (percent) and its unit test files (globs relative to
    tests/unit, which mirrors the package: ``bulk/test_tally*.py`` for ``bulk/tally.py``)."""

    path: str
    threshold: float
    tests: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.path.removesuffix(".py").replace("/", ".")

    @property
    def dotted(self) -> str:
        return f"{PACKAGE}.{self.name}"


# Each module with its unit tests: its own test file(s) plus every unit test file that imports it (directly or
# through a package that re-exports it), except errors.py and _exceptions.py (below). The hook's
# start-or-adopt and create-or-adopt live in acceptance/rounds.py and team_tasks.py, which the hook's tests
# exercise through ModelArtsHook. The modules with the most mutants come first, so the two running side by
# side end together.
MODULES = (
    Module("bulk/tally.py", 95, ("bulk/test_tally*.py", "bulk/test_sending*.py", "bulk/test_validation.py")),
    Module("acceptance/waiting.py", 90, ("acceptance/test_waiting*.py",)),
    Module(
        "auth/signing.py", 90, ("auth/test_signing*.py", "auth/test_aksk.py", "emulator/test_signature.py")
    ),
    # errors.py is imported by some twenty unit test files; running all of them for each of its 250 mutants
    # took a quarter of an hour on its own (each mutant reaches ~800 tests). Its own tests check every
    # mapping, hint and message; the retry tests check the codes retries take from it (STEP_REPEAT_CODES,
    # TOKEN_EXPIRY_CODES). Its exception classes (_exceptions.py, re-exported by errors) likewise: their own
    # tests, the mapping's (every message) and the retry tests (is_transient, what retries ask of them).
    Module("errors.py", 90, ("test_errors*.py", "test_retries*.py")),
    Module("_exceptions.py", 90, ("test_exceptions*.py", "test_errors*.py", "test_retries*.py")),
    Module("_error_answers.py", 90, ("test_errors*.py",)),
    Module("bulk/sending.py", 90, ("bulk/test_sending*.py", "bulk/test_concurrency*.py")),
    Module("retries.py", 90, ("test_retries*.py",)),
    Module(
        "team_tasks.py",
        90,
        ("test_team_tasks*.py", "hooks/test_modelarts_team_tasks*.py", "operators/test_team_tasks.py"),
    ),
    Module("export.py", 90, ("test_export*.py",)),
    Module(
        "operators/export.py",
        90,
        (
            "test_export*.py",
            "operators/test_base_assets.py",
            "operators/test_base_mapped.py",
            "test_lineage.py",
        ),
    ),
    Module("acceptance/decision.py", 95, ("acceptance/test_decision*.py",)),
    Module("acceptance/rounds.py", 90, ("acceptance/test_rounds*.py", "hooks/test_modelarts_acceptance*.py")),
    Module("bulk/concurrency.py", 90, ("bulk/test_concurrency*.py",)),
    # An import created once (issue 28): the claim, the bounded search, adopt or refuse to guess.
    Module("import_tasks/adoption.py", 90, ("import_tasks/test_adoption*.py",)),
    # Where a bulk operator's manifest or files come from, and the retryable "nothing there" failure.
    Module("bulk/places.py", 90, ("bulk/test_places*.py", "operators/test_bulk_sources.py")),
    Module("triggers/clients.py", 90, ("triggers/test_clients.py", "triggers/test_acceptance.py")),
    Module(
        "client/_paging.py",
        90,
        ("client/test_paging.py", "client/test_client.py", "client/test_client_team_tasks.py"),
    ),
    # What a reply keeps raw and what user input is refused with: worked out from pydantic's errors.
    Module(
        "_models/_modes.py",
        90,
        ("models/test_modes.py", "models/test_base.py", "models/test_parse*.py", "test_models*.py"),
    ),
)


@dataclass
class Outcome:
    module: Module
    seconds: float = 0.0
    statuses: dict[str, str] = field(default_factory=dict)  # mutant name -> mutmut status
    equivalent: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    error: str = ""

    @property
    def killed(self) -> int:
        return sum(status in KILLED for status in self.statuses.values())

    @property
    def counted(self) -> int:
        return len(self.statuses) - len(self.equivalent)

    @property
    def rate(self) -> float:
        return 100.0 * self.killed / self.counted if self.counted else 0.0

    @property
    def ok(self) -> bool:
        return not self.error and not self.stale and self.rate >= self.module.threshold


def equivalent_mutants() -> dict[str, str]:
    """Mutant name -> its mutated line, from the list's ``- `name` `mutated line`: why`` entries."""
    entries = {}
    for line in EQUIVALENT_LIST.read_text().splitlines():
        match = re.match(r"- `([^`]+)` `(.+?)`: ", line)
        if match:
            entries[match.group(1)] = match.group(2)
    return entries


def mutmut_pyproject(module: Module, tests: list[str]) -> str:
    """The project's pyproject.toml (for the pytest settings) with a [tool.mutmut] for this one module."""
    text = (ROOT / "pyproject.toml").read_text()
    text = re.sub(r"(?ms)^\[tool\.mutmut\]$.*?(?=^\[|\Z)", "", text)
    quoted = ", ".join(f'"{test}"' for test in tests)
    return (
        f"{text.rstrip()}\n\n[tool.mutmut]\n"
        f'source_paths = ["{PACKAGE}"]\n'
        f'only_mutate = ["{PACKAGE}/{module.path}"]\n'
        f"pytest_add_cli_args_test_selection = [{quoted}]\n"
        # pytest's unraisable-exception plugin runs gc.collect() twice per session: half a second in every
        # mutant's pytest run once Airflow is imported, and nothing a verdict depends on.
        'pytest_add_cli_args = ["-p", "no:cacheprovider", "-p", "no:unraisableexception"]\n'
        # A mutant that loops is stopped after (its tests' time + 1 s) x 8 CPU seconds, not mutmut's x 30.
        "timeout_multiplier = 4.0\n"
    )


# mutmut runs each mutant in a child forked from a pytest process that has already run the tests once. A test
# that called ``sync_to_async`` (the trigger's connection lookup) left asgiref's one thread-sensitive executor
# with an idle worker thread, which a fork does not copy: in the child the executor sees an idle worker and
# starts none, so the first lookup waits for ever at no CPU until mutmut's wall timeout, and the mutant is
# counted "timeout" (killed) whatever its tests would have said. The work copy's conftest.py gives each child
# a fresh executor (mutation runs only; the project's tests never fork).
FORK_SAFETY = """

# Added by scripts/mutation.py (FORK_SAFETY): a fresh thread-sensitive executor in each forked mutant.
import os as _mutation_os
from concurrent.futures import ThreadPoolExecutor as _MutationExecutor

from asgiref.sync import SyncToAsync as _MutationSyncToAsync


def _mutation_fresh_executor() -> None:
    _MutationSyncToAsync.single_thread_executor = _MutationExecutor(max_workers=1)


_mutation_os.register_at_fork(after_in_child=_mutation_fresh_executor)
"""


def prepare(module: Module, keep: bool) -> Path:
    work = WORK / module.name
    unit = ROOT / "tests" / "unit"
    tests = sorted(str(path.relative_to(ROOT)) for pattern in module.tests for path in unit.glob(pattern))
    if not tests:
        raise SystemExit(f"{module.name}: no test files match {module.tests}")
    if work.exists() and not keep:
        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "integration", "system", ".hypothesis")
    for tree in (PACKAGE, "tests"):
        shutil.copytree(ROOT / tree, work / tree, ignore=ignore, dirs_exist_ok=True)
    (work / "pyproject.toml").write_text(mutmut_pyproject(module, tests))
    with open(work / "tests" / "conftest.py", "a") as conftest:
        conftest.write(FORK_SAFETY)
    return work


def mutated_line(work: Path, name: str) -> str:
    """The line(s) the mutant wrote, from ``mutmut show``; ``deleted: ...`` when it only removed code."""
    shown = subprocess.run([MUTMUT, "show", name], cwd=work, capture_output=True, text=True, check=False)
    lines = shown.stdout.splitlines()
    added = [line[1:].strip() for line in lines if line.startswith("+") and not line.startswith("+++")]
    if added:
        return " | ".join(added)
    removed = [line[1:].strip() for line in lines if line.startswith("-") and not line.startswith("---")]
    return "deleted: " + " | ".join(removed)


def run_module(module: Module, keep: bool, listed: dict[str, str]) -> Outcome:
    outcome = Outcome(module)
    started = time.monotonic()
    work = prepare(module, keep)
    with open(work / "mutmut.log", "w") as log:
        command = [MUTMUT, "run", "--max-children", "1"]
        run = subprocess.run(command, cwd=work, stdout=log, stderr=subprocess.STDOUT, check=False)
    results = subprocess.run(
        [MUTMUT, "results", "--all", "true"], cwd=work, capture_output=True, text=True, check=False
    )
    for line in results.stdout.splitlines():
        name, sep, status = line.strip().rpartition(": ")
        if sep and name.startswith(module.dotted + "."):
            outcome.statuses[name] = status
    if run.returncode != 0 or not outcome.statuses:
        outcome.error = f"mutmut failed (exit {run.returncode}), see {work / 'mutmut.log'}"
    for name, line in listed.items():
        if not name.startswith(module.dotted + ".x"):
            continue
        status = outcome.statuses.get(name)
        if status is None:
            outcome.stale.append(f"{name}: no such mutant")
        elif status in KILLED:
            outcome.stale.append(f"{name}: {status}, so not equivalent")
        elif (actual := mutated_line(work, name)) != line:
            outcome.stale.append(f"{name}: the mutated line is now `{actual}`")
        else:
            outcome.equivalent.append(name)
    outcome.seconds = time.monotonic() - started
    return outcome


def table(outcomes: list[Outcome]) -> str:
    rows = [("module", "mutants", "killed", "survived", "equivalent", "kill rate", "needed", "time")]
    for o in outcomes:
        survived = o.counted - o.killed
        rate = "error" if o.error else f"{o.rate:.1f}%"
        verdict = f">= {o.module.threshold:.0f}%" + ("" if o.ok else "  FAIL")
        rows.append(
            (o.module.path, str(len(o.statuses)), str(o.killed), str(survived), str(len(o.equivalent)), rate,
             verdict, f"{o.seconds:.0f} s")
        )  # fmt: skip
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="comma-separated module names, e.g. bulk.tally,errors")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="modules run side by side")
    parser.add_argument("--keep", action="store_true", help="reuse work directories (verdicts may be stale)")
    args = parser.parse_args()
    wanted = {name for name in args.only.split(",") if name}
    modules = [m for m in MODULES if not wanted or m.name in wanted]
    if unknown := wanted - {m.name for m in MODULES}:
        parser.error(f"unknown module(s): {', '.join(sorted(unknown))}")
    listed = equivalent_mutants()
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = [pool.submit(run_module, module, args.keep, listed) for module in modules]
        outcomes = []
        for future in futures:
            outcomes.append(future.result())
            done = outcomes[-1]
            print(f"{done.module.path}: {done.rate:.1f}% in {done.seconds:.0f} s", flush=True)
    print()
    print(table(outcomes))
    for o in outcomes:
        for problem in filter(None, [o.error, *o.stale]):
            print(f"{o.module.path}: {problem}")
        survivors = sorted(n for n, s in o.statuses.items() if s not in KILLED and n not in o.equivalent)
        if survivors:
            where = f"cd mutants/{o.module.name} && mutmut browse"
            print(f"{o.module.path}: {len(survivors)} surviving, see `{where}`")
    listed_at = EQUIVALENT_LIST.relative_to(ROOT)
    print(f"\nequivalent mutants: {listed_at}; total {time.monotonic() - started:.0f} s")
    return 0 if all(o.ok for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
