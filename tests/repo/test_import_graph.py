"""The package's modules import each other without cycles (issue 16), lazy imports inside functions
included: a lazy import that only dodges an import-time error is still two modules that each need the
other. Imports for type checkers only (``if TYPE_CHECKING:``) are not run and do not count; a package's
``__init__`` is a module like any other (a facade importing a submodule
that imports the facade is a cycle)."""

from __future__ import annotations

import ast
from pathlib import Path

import airflow_provider_modelarts

PACKAGE = Path(airflow_provider_modelarts.__file__).parent
NAME = PACKAGE.name


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(path): path for path in PACKAGE.rglob("*.py")}


def _type_checking_only(tree: ast.AST) -> set[int]:
    """Line numbers of the imports inside ``if TYPE_CHECKING:`` blocks."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


def _resolve(name: str) -> str | None:
    """The module an imported dotted name lives in (``a.b.c`` may be module ``a.b`` with attribute ``c``)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def imports(module: str) -> set[str]:
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = _type_checking_only(tree)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) in skipped:
            continue
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            names = [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        found.update(target for name in names if name.startswith(NAME) and (target := _resolve(name)))
    found.discard(module)
    return found


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> list[str] | None:
        if node in path:
            return [*path[path.index(node) :], node]
        if node in done:
            return None
        for target in sorted(graph.get(node, ())):
            if cycle := visit(target, [*path, node]):
                return cycle
        done.add(node)
        return None

    for start in sorted(graph):
        if cycle := visit(start, []):
            return cycle
    return None


def test_the_cycle_finder_finds_a_cycle_and_the_graph_is_real() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
    assert f"{NAME}.errors" in imports(f"{NAME}.retries")
    assert f"{NAME}.client._async.core" in imports(f"{NAME}.client._async.client")


def test_no_import_cycles_in_the_package() -> None:
    graph = {module: imports(module) for module in MODULES}
    assert len(graph) > 60
    assert find_cycle(graph) is None
