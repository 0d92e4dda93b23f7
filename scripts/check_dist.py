"""`make dist`, last step: install the built wheel as a user would and run the demo DAG with it.

A clean venv (the interpreter's own ``venv``, nothing of this checkout on its path) gets the wheel with its
``emulator`` extra; its dependencies come from the package index, constrained to the versions of the newest
Airflow lock (Airflow's own advice: install with constraints). Then, in that venv:

1. the provider is imported from the venv's site-packages, not from the checkout;
2. ``airflow providers list`` shows it, at the version the wheel carries;
3. the example pipeline (a copy of ``dags_examples/`` and ``scripts/demo.py`` in a scratch folder) runs
   against the emulator the wheel installed.

Usage: ``python scripts/check_dist.py DIST_DIR LOCK``
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DISTRIBUTION = "airflow-provider-modelarts"


def say(message: str) -> None:
    print(f"[dist] {message}", flush=True)


def run(command: list[str], *, cwd: Path, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(
            f"{' '.join(command)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        )
    return result.stdout


def constraints_from_lock(lock: Path, target: Path) -> None:
    """The lock's pins without hashes (a constraint file takes versions; hashes belong to requirements)."""
    pins = [
        line.split(" ", 1)[0]
        for line in lock.read_text().splitlines()
        if re.match(r"^[A-Za-z0-9_.-]+==", line)
    ]
    target.write_text("\n".join(pins) + "\n")


def main(dist_dir: str, lock: str) -> int:
    wheels = sorted(Path(dist_dir).resolve().glob("*.whl"))
    sdists = sorted(Path(dist_dir).resolve().glob("*.tar.gz"))
    if len(wheels) != 1 or len(sdists) != 1:
        raise SystemExit(f"expected one wheel and one sdist in {dist_dir}, found {wheels + sdists}")
    wheel = wheels[0]
    version = wheel.name.split("-")[1]
    uv = Path(sys.executable).parent / "uv"
    with tempfile.TemporaryDirectory(prefix="modelarts-dist-") as scratch_name:
        scratch = Path(scratch_name)
        venv = scratch / "venv"
        python = venv / "bin" / "python"
        run([sys.executable, "-m", "venv", str(venv)], cwd=scratch)
        constraints = scratch / "constraints.txt"
        constraints_from_lock(Path(lock).resolve(), constraints)
        say(f"installing {wheel.name}[emulator] into a clean venv from the index ...")
        run(
            [str(uv), "pip", "install", "--quiet", "--python", str(python), "-c", str(constraints),
             f"{DISTRIBUTION}[emulator] @ {wheel.as_uri()}"],
            cwd=scratch,
        )  # fmt: skip

        located = run(
            [str(python), "-c", "import airflow_provider_modelarts as p; print(p.__file__)"], cwd=scratch
        )
        if not located.strip().startswith(str(venv)):
            raise SystemExit(f"the provider was imported from {located.strip()}, not from the wheel's venv")
        say(f"imported from {located.strip()}")

        env = {key: value for key, value in os.environ.items() if not key.startswith("AIRFLOW")}
        env.update({"AIRFLOW_HOME": str(scratch / "airflow"), "AIRFLOW__CORE__LOAD_EXAMPLES": "False"})
        listed = run(
            [str(venv / "bin" / "airflow"), "providers", "list", "-o", "plain"], cwd=scratch, env=env
        )
        rows = [line for line in listed.splitlines() if DISTRIBUTION in line]
        if not rows or version not in rows[0]:
            raise SystemExit(f"`airflow providers list` does not show {DISTRIBUTION} {version}:\n{listed}")
        say(f"airflow providers list: {' '.join(rows[0].split())}")

        # The demo from a scratch copy: its ROOT (the folder above scripts/) holds only the example DAGs, so
        # nothing of this checkout can be imported in place of the installed wheel.
        work = scratch / "demo"
        shutil.copytree(ROOT / "dags_examples", work / "dags_examples")
        (work / "scripts").mkdir()
        shutil.copy2(ROOT / "scripts" / "demo.py", work / "scripts" / "demo.py")
        say("running the example pipeline with the installed wheel against its emulator ...")
        demo = subprocess.run([str(python), str(work / "scripts" / "demo.py")], cwd=work, env=env, text=True)
        if demo.returncode != 0:
            raise SystemExit(f"the demo failed with the installed wheel (exit {demo.returncode})")
    say(f"OK: {wheel.name} and {sdists[0].name} install and run")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
