"""Every test the README cites exists: a path ``tests/...py`` is a file of the checkout and a cited
``tests/...py::name`` is a test (or class) defined in that file, so "the test for a behaviour lives there"
stays true when tests move."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CITED = re.compile(r"\btests/[\w/]+\.py(?:::\w+)?")


def _citations() -> list[str]:
    return sorted(set(CITED.findall((ROOT / "README.md").read_text(encoding="utf-8"))))


def _defined(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
    }


def test_the_readme_cites_tests() -> None:
    assert any(c.startswith("tests/unit/") for c in _citations())  # the pattern still finds them


def test_every_cited_test_path_and_name_exists() -> None:
    missing = []
    for citation in _citations():
        file, _, name = citation.partition("::")
        path = ROOT / file
        if not path.is_file() or (name and name not in _defined(path)):
            missing.append(citation)
    assert not missing, f"README.md cites tests that do not exist: {missing}"
