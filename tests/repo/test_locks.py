"""The locks the install depends on: one per supported Airflow minor, all hashed, and a bootstrap installer
that is the same uv the locks pin (so the install never depends on how the bundled pip resolves)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REQUIREMENTS = ROOT / "requirements"
sys.path.insert(0, str(ROOT / "scripts"))
from bootstrap_lock import uv_block  # noqa: E402

PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==(\S+)")


def _makefile_list(name: str) -> list[str]:
    (line,) = [line for line in (ROOT / "Makefile").read_text().splitlines() if line.startswith(f"{name} ")]
    return line.split(":=", 1)[1].split()


MINORS = _makefile_list("MINORS")


def _requirements(lock: Path) -> dict[str, tuple[str, list[str]]]:
    """name -> (version, hashes) for every requirement of a uv-generated, hashed lock."""
    found: dict[str, tuple[str, list[str]]] = {}
    name = ""
    for line in lock.read_text().splitlines():
        if match := PIN.match(line):
            name = match.group(1).lower()
            found[name] = (match.group(2).rstrip(" \\"), [])
        elif line.strip().startswith("--hash=sha256:") and name:
            found[name][1].append(line.strip().removeprefix("--hash=sha256:").rstrip(" \\"))
    return found


def test_every_supported_minor_has_a_lock_and_nothing_else_does() -> None:
    assert MINORS == ["3.1", "3.2", "3.3"]
    locks = sorted(p.name for p in REQUIREMENTS.glob("airflow-*.lock"))
    assert locks == [f"airflow-{m}.lock" for m in MINORS]
    assert _makefile_list("NEWEST") == [MINORS[-1]] and _makefile_list("OLDEST") == [MINORS[0]]


@pytest.mark.parametrize("minor", MINORS)
def test_each_lock_pins_its_airflow_minor_with_hashes_for_every_requirement(minor: str) -> None:
    requirements = _requirements(REQUIREMENTS / f"airflow-{minor}.lock")
    assert requirements["apache-airflow"][0].startswith(f"{minor}.")
    assert len(requirements) > 100
    unhashed = [name for name, (_, hashes) in requirements.items() if not hashes]
    assert unhashed == []
    # The provider and the emulator (emulator/) are installed from the checkout, never from a pin; the
    # emulator's own dependencies are locked like the provider's.
    assert "airflow-provider-modelarts" not in requirements and "modelarts-emulator" not in requirements
    assert {"fastapi", "uvicorn"} <= set(requirements)


def test_the_oldest_lock_holds_the_floor_pyproject_claims() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text()
    floor = re.search(r'"apache-airflow>=(\d+\.\d+)"', pyproject)
    assert floor is not None and floor.group(1) == MINORS[0]


def test_bootstrap_installs_the_uv_every_lock_pins() -> None:
    bootstrap = _requirements(REQUIREMENTS / "bootstrap.lock")
    assert list(bootstrap) == ["uv"]
    version, hashes = bootstrap["uv"]
    assert hashes
    for minor in MINORS:
        assert _requirements(REQUIREMENTS / f"airflow-{minor}.lock")["uv"] == (version, hashes)


def test_bootstrap_lock_is_what_make_lock_writes() -> None:
    newest = (REQUIREMENTS / f"airflow-{MINORS[-1]}.lock").read_text()
    assert uv_block(newest) in (REQUIREMENTS / "bootstrap.lock").read_text()
