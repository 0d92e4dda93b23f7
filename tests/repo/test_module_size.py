"""Every module of the package, of the emulator (emulator/) and every example DAG stays small enough to read
in one sitting (≤ 400 lines).

The developers' guide asks for small modules; this keeps the rule true as code is added, instead of relying
on someone counting. A module that outgrows it is split along a line its docstring can name.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 400
MODULES = sorted(
    path
    for folder in ("airflow_provider_modelarts", "emulator", "dags_examples")
    for path in (ROOT / folder).rglob("*.py")
)


def test_there_are_modules_to_check() -> None:
    assert len(MODULES) > 60


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_module_is_at_most_400_lines(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= LIMIT, f"{path.relative_to(ROOT)} has {lines} lines (at most {LIMIT})"
