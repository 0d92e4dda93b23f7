"""`make dist`, last step: install the built wheels as a user would and run the demo DAG with them.

``DIST_DIR`` holds a wheel and an sdist of each distribution: the provider and the emulator
(``modelarts-emulator``, from ``emulator/``). The provider's wheel must not carry the emulator: its file list
is printed and checked first. A clean venv (the interpreter's own ``venv``, nothing of this checkout on its
path) then gets the provider's wheel with its ``examples`` extra (what the example DAGs need: the ``emulator``
extra, which names ``modelarts-emulator[s3]``, and the Amazon provider's s3fs for ``s3://``), the emulator
resolved to its wheel just built (no index has it); every other dependency comes from the package
index, constrained to the versions of the newest Airflow lock (Airflow's own advice: install with
constraints). Then, in that venv:

1. the provider and the emulator are imported from the venv's site-packages, not from the checkout;
2. ``airflow providers list`` shows the provider, at the version the wheel carries;
3. the example pipeline (a copy of ``dags_examples/`` and ``scripts/demo.py`` in a scratch folder) runs
   against the emulator the extra installed, its batch landed in the extra's local S3-compatible store.

Usage: ``python scripts/check_dist.py DIST_DIR LOCK``
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DISTRIBUTION = "airflow-provider-modelarts"
EMULATOR = "modelarts-emulator"


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


def built(dist_dir: Path, distribution: str) -> tuple[Path, Path]:
    """(wheel, sdist) of one distribution in ``dist_dir``: exactly one of each."""
    stem = distribution.replace("-", "_")
    wheels = sorted(dist_dir.glob(f"{stem}-*.whl"))
    sdists = sorted(dist_dir.glob(f"{stem}-*.tar.gz"))
    if len(wheels) != 1 or len(sdists) != 1:
        found = [path.name for path in wheels + sdists]
        raise SystemExit(f"expected one wheel and one sdist of {distribution} in {dist_dir}, found {found}")
    return wheels[0], sdists[0]


def check_provider_wheel_has_no_emulator(wheel: Path) -> None:
    """Print the provider wheel's file list; fail if any file of it is the emulator's."""
    with zipfile.ZipFile(wheel) as archive:
        names = sorted(archive.namelist())
    say(f"{wheel.name}: {len(names)} files")
    for name in names:
        print(f"    {name}", flush=True)
    emulator_files = [name for name in names if "emulator" in name]
    if emulator_files:
        raise SystemExit(f"the provider's wheel carries emulator files: {emulator_files}")
    say(f"{wheel.name} carries no emulator file")


def main(dist_dir: str, lock: str) -> int:
    dist = Path(dist_dir).resolve()
    wheel, sdist = built(dist, DISTRIBUTION)
    emulator_wheel, emulator_sdist = built(dist, EMULATOR)
    archives = sorted(path.name for path in dist.iterdir() if path.name.endswith((".whl", ".tar.gz")))
    if len(archives) != 4:
        raise SystemExit(f"expected a wheel and an sdist of each distribution in {dist}, found {archives}")
    check_provider_wheel_has_no_emulator(wheel)
    version = wheel.name.split("-")[1]
    if emulator_wheel.name.split("-")[1] != version:
        raise SystemExit(f"{emulator_wheel.name} is not at the provider's version {version}")
    uv = Path(sys.executable).parent / "uv"
    with tempfile.TemporaryDirectory(prefix="modelarts-dist-") as scratch_name:
        scratch = Path(scratch_name)
        venv = scratch / "venv"
        python = venv / "bin" / "python"
        run([sys.executable, "-m", "venv", str(venv)], cwd=scratch)
        constraints = scratch / "constraints.txt"
        constraints_from_lock(Path(lock).resolve(), constraints)
        say(f"installing {wheel.name}[examples] ({EMULATOR}: {emulator_wheel.name}) into a clean venv ...")
        run(
            [str(uv), "pip", "install", "--quiet", "--python", str(python), "-c", str(constraints),
             f"{DISTRIBUTION}[examples] @ {wheel.as_uri()}", f"{EMULATOR} @ {emulator_wheel.as_uri()}"],
            cwd=scratch,
        )  # fmt: skip

        for package in ("airflow_provider_modelarts", "modelarts_emulator"):
            located = run([str(python), "-c", f"import {package} as p; print(p.__file__)"], cwd=scratch)
            if not located.strip().startswith(str(venv)):
                raise SystemExit(f"{package} was imported from {located.strip()}, not from the wheels' venv")
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
    archives = f"{wheel.name}, {sdist.name}, {emulator_wheel.name} and {emulator_sdist.name}"
    say(f"OK: {archives} are built; the wheels install and run")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
