"""The package's modules import each other without cycles (issue 16), lazy imports inside functions
included: a lazy import that only dodges an import-time error is still two modules that each need the
other. Imports for type checkers only (``if TYPE_CHECKING:``) are not run and do not count; a package's
``__init__`` is a module like any other (a facade importing a submodule
that imports the facade is a cycle). The emulator's modules (its own distribution, which imports the
provider) are in the same graph, and the provider never imports the emulator (issue 26): its wheel does not
carry it.

Layers (issue 26): the operators (``operators/``, and ``sensors/`` beside them) are the top of the package;
nothing else imports them, lazily or not. The hook builds itself (``ModelArtsHook.for_connection``), so the
links and the trigger need nothing from above."""

from __future__ import annotations

import ast
from pathlib import Path

import airflow_provider_modelarts
import modelarts_emulator

PACKAGE = Path(airflow_provider_modelarts.__file__).parent
NAME = PACKAGE.name
EMULATOR_PACKAGE = Path(modelarts_emulator.__file__).parent
EMULATOR = EMULATOR_PACKAGE.name


def _module_name(path: Path, package: Path) -> str:
    parts = path.relative_to(package.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {
    _module_name(path, package): path
    for package in (PACKAGE, EMULATOR_PACKAGE)
    for path in package.rglob("*.py")
}


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


def imports(module: str, *, type_checking: bool = False) -> set[str]:
    """The modules of either package that ``module`` imports (``type_checking``: those for type checkers
    too)."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = set() if type_checking else _type_checking_only(tree)
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
        found.update(
            target for name in names if name.startswith((NAME, EMULATOR)) and (target := _resolve(name))
        )
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
    assert f"{NAME}.auth.signing" in imports(f"{EMULATOR}.signature")
    assert f"{EMULATOR}.testing" in imports(f"{EMULATOR}.process", type_checking=True)


def test_no_import_cycles_in_the_package() -> None:
    graph = {module: imports(module) for module in MODULES}
    assert len(graph) > 60 and f"{EMULATOR}.state" in graph
    assert find_cycle(graph) is None


def test_the_provider_never_imports_the_emulator() -> None:
    """Not even for type checkers or inside a function; nor does a docstring name the emulator's old place
    inside the package (``airflow_provider_modelarts.emulator``, moved to ``modelarts_emulator``)."""
    provider = [module for module in MODULES if module.startswith(NAME)]
    assert len(provider) > 60
    offenders = {
        (module, target)
        for module in provider
        for target in imports(module, type_checking=True)
        if target.startswith(EMULATOR)
    }
    assert offenders == set()
    old_path = f"{NAME}.emulator"
    assert [module for module in provider if old_path in MODULES[module].read_text(encoding="utf-8")] == []


#: The operator level: the only subpackages whose modules may import the operators package.
OPERATOR_LEVEL = (f"{NAME}.operators", f"{NAME}.sensors")


def _in(module: str, package: str) -> bool:
    return module == package or module.startswith(f"{package}.")


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    """``module -> target`` for each import of the operators package from outside the operator level."""
    return sorted(
        f"{module} -> {target}"
        for module, targets in graph.items()
        if not any(_in(module, level) for level in OPERATOR_LEVEL)
        for target in targets
        if _in(target, f"{NAME}.operators")
    )


def test_the_layer_rule_finds_an_import_from_below_the_operators() -> None:
    graph = {
        f"{NAME}.links": {f"{NAME}.operators.base", f"{NAME}.errors"},
        f"{NAME}.sensors.acceptance": {f"{NAME}.operators.base"},
        f"{NAME}.operators_like": {f"{NAME}.operators"},
    }
    assert upward_imports(graph) == [
        f"{NAME}.links -> {NAME}.operators.base",
        f"{NAME}.operators_like -> {NAME}.operators",
    ]


def test_nothing_below_the_operators_imports_the_operators_package() -> None:
    graph = {module: imports(module) for module in MODULES}
    assert upward_imports(graph) == []
