"""The emulator's modules import each other without cycles (issue 16: ``seed.py`` and ``state.py`` did).

Every relative import counts, the ones inside functions too: a lazy import that only dodges an import-time
error is still a cycle between two modules that each need the other.
"""

from __future__ import annotations

import ast
from pathlib import Path

import modelarts_emulator as emulator_package

PACKAGE = Path(emulator_package.__file__).parent
MODULES = {path.stem: path for path in PACKAGE.glob("*.py")}


def _imports(module: str) -> set[str]:
    """The sibling modules ``module`` imports (``from .x import ...`` and ``from . import x``)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(MODULES[module].read_text(encoding="utf-8"))):
        if not isinstance(node, ast.ImportFrom) or node.level != 1:
            continue
        if node.module:
            found.add(node.module.split(".")[0])
        else:
            found.update(alias.name for alias in node.names if alias.name in MODULES)
    return found & set(MODULES)


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph`` as a path that returns to its start, or None."""
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> list[str] | None:
        if node in path:
            return [*path[path.index(node) :], node]
        if node in done:
            return None
        for target in sorted(graph[node]):
            cycle = visit(target, [*path, node])
            if cycle:
                return cycle
        done.add(node)
        return None

    for start in sorted(graph):
        cycle = visit(start, [])
        if cycle:
            return cycle
    return None


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_emulator_modules_import_each_other_without_cycles() -> None:
    # The package's __init__ re-exports its modules (and loads testing.py lazily): only the modules count.
    graph = {name: _imports(name) - {"__init__"} for name in MODULES if name != "__init__"}
    assert {"state", "seed", "records"} <= set(graph)
    assert "seed" in graph["state"] and "state" not in graph["seed"]
    assert _cycle(graph) is None
