"""`make demo`: run the example labeling pipeline end to end against a local ModelArts emulator.

Starts a local S3-compatible store (moto's server, ``modelarts_emulator.obs_server.S3Server``: the pipeline
lands its batch there and the emulator's import task reads it, as ModelArts reads OBS) and the emulator
(``modelarts_emulator.process.EmulatorProcess``) on free loopback ports, points the ``object_store`` and
``modelarts_default`` connections at them, runs ``airflow db migrate`` in a project-local AIRFLOW_HOME and
``airflow dags test modelarts_labeling_pipeline``, then prints what happened. Works offline; stops both
servers even when something fails; exits non-zero when the pipeline fails.

Usage: ``python scripts/demo.py [--date YYYY-MM-DD] [--verbose] [--pass-rate P]``
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DAG_ID = "modelarts_labeling_pipeline"
DATASET_ID = "ds-images"
#: The bucket the batches land in (``s3://object_store@<bucket>/landing``), created in the demo's store.
BUCKET = "modelarts-demo"
# The reviewers of the demo seed check quickly and pass this share of what they check.
DEFAULT_REVIEWER_PASS_RATE = 0.95


def _log(message: str) -> None:
    print(f"[demo] {message}", flush=True)


def _bin(name: str) -> str:
    """A console script of the interpreter running this file (the project's .venv under `make demo`)."""
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else name


def _run(command: list[str], env: dict[str, str], log_path: Path, verbose: bool) -> int:
    """Run a command with its output in a log file (and on the console with --verbose)."""
    with log_path.open("w") as log:
        process = subprocess.Popen(
            command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        assert process.stdout is not None
        for line in process.stdout:
            log.write(line)
            if verbose:
                sys.stdout.write(line)
        return process.wait()


def _tail(path: Path, lines: int = 40) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def _admin_get(base_url: str, path: str) -> Any:
    with urllib.request.urlopen(f"{base_url.rstrip('/')}{path}", timeout=10) as response:
        return json.loads(response.read())


def _latest_run(home: Path) -> int:
    """Id of the newest run of the DAG in the SQLite metadata DB (0 if none)."""
    db = home / "airflow.db"
    if not db.exists():
        return 0
    try:
        with contextlib.closing(sqlite3.connect(db)) as connection:
            row = connection.execute("SELECT max(id) FROM dag_run WHERE dag_id = ?", (DAG_ID,)).fetchone()
    except sqlite3.Error:
        return 0
    return int(row[0] or 0)


def _xcoms(home: Path, newer_than: int) -> dict[str, Any]:
    """Return values of this demo's run (read from SQLite: importing Airflow here would cost ~2 s).

    Only a run newer than ``newer_than`` counts, so a failed start never reports an older run's figures.
    """
    run_id = _latest_run(home)
    if run_id <= newer_than:
        return {}
    try:
        with contextlib.closing(sqlite3.connect(home / "airflow.db")) as connection:
            rows = connection.execute(
                "SELECT task_id, value FROM xcom WHERE key = 'return_value' AND dag_run_id = ?", (run_id,)
            ).fetchall()
    except sqlite3.Error:
        return {}
    values: dict[str, Any] = {}
    for task_id, value in rows:
        try:
            values[task_id] = json.loads(value) if isinstance(value, (str, bytes)) else value
        except ValueError:
            values[task_id] = value
    return values


def _summary(base_url: str, home: Path, newer_than: int) -> list[str]:
    """What happened, from the tasks' return values (XCom) and the emulator's own state."""
    lines: list[str] = []
    xcoms = _xcoms(home, newer_than)
    imported = xcoms.get("import_samples") or {}
    team_task = xcoms.get("create_team_task") or {}
    task_id = team_task.get("workforce_task_id")
    updated = xcoms.get("update_labels") or {}
    waited = xcoms.get("wait_for_acceptance") or {}
    decided = xcoms.get("decide_by_pass_rate") or {}
    if imported:
        how = "adopted" if imported.get("adopted") else "created"
        task = imported.get("import_task_id")
        lines.append(
            f"samples imported:  {imported.get('imported')} of {imported.get('total')} to {DATASET_ID}, "
            f"to be confirmed, with model pre-labels: import task {task} ({how}) read "
            f"{imported.get('import_path')} in the store; no image byte passed through Airflow"
        )
    if team_task:
        how = "created and started" if team_task.get("created") else "adopted (it existed already)"
        lines.append(
            f"team task:         {team_task.get('task_name')} ({task_id}), {how} for this run's batch"
        )
    if updated:
        lines.append(
            f"labels updated:    {updated.get('updated')} samples in team task {task_id} "
            f"({updated.get('failed', 0)} failed)"
        )
    if waited:
        lines.append(
            f"acceptance check:  reviewers checked {waited.get('checked')}/{waited.get('sampled')} sampled "
            f"samples, {waited.get('rejected')} rejected (waited deferred, in the triggerer)"
        )
    if decided:
        comparison = ">=" if decided.get("passed") else "<"
        lines.append(
            f"acceptance result: {str(decided.get('decision', '?')).upper()}: pass rate "
            f"{_pct(decided.get('pass_rate'))} {comparison} minimum {_pct(decided.get('min_pass_rate'))}"
        )
    try:
        samples = _admin_get(base_url, f"/_emulator/datasets/{DATASET_ID}/samples")
        lines.append(f"dataset {DATASET_ID}:  {samples['sample_count']} samples in the emulator now")
        if task_id:
            lines.append(f"final task status: {_final_status(base_url, task_id)}")
    except Exception as exc:  # the summary must never hide the pipeline's own result
        lines.append(f"(could not read the emulator's state: {exc})")
    return lines


def _final_status(base_url: str, task_id: str) -> str:
    """The team task's status once the owner's decision has synchronized (a second or so in the emulator)."""
    names = {0: "STARTING", 1: "RUNNING", 2: "ACCEPTING", 3: "ACCEPTED", 4: "REJECTED", 5: "SYNCHRONIZING",
             6: "CREATED", 7: "SAMPLING"}  # fmt: skip
    path = f"/_emulator/datasets/{DATASET_ID}/workforce-tasks/{task_id}"
    deadline = time.monotonic() + 10
    status = int(_admin_get(base_url, path)["status"])
    while status == 5 and time.monotonic() < deadline:
        time.sleep(0.2)
        status = int(_admin_get(base_url, path)["status"])
    return f"{names.get(status, 'UNKNOWN')} ({status})"


def _pct(value: Any) -> str:
    return f"{value:.1%}" if isinstance(value, (int, float)) else "n/a"


def main(argv: list[str] | None = None) -> int:
    # Here: --help never loads the emulator or moto.
    from modelarts_emulator.obs_server import S3Server
    from modelarts_emulator.process import EmulatorProcess

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--date", default=dt.date.today().isoformat(), help="logical date of the run and its batch"
    )
    parser.add_argument("--verbose", action="store_true", help="stream Airflow's output to the console")
    parser.add_argument(
        "--pass-rate",
        type=float,
        default=DEFAULT_REVIEWER_PASS_RATE,
        help="share of sampled samples the simulated reviewers accept (try 0.5 to see a rejection)",
    )
    args = parser.parse_args(argv)

    started = time.monotonic()
    home = ROOT / ".airflow" / "demo"
    home.mkdir(parents=True, exist_ok=True)
    # Start from the caller's environment minus any Airflow settings: a demo must never migrate or write to
    # the metadata DB (or read the connections) of an Airflow the caller has configured in their shell.
    env = {key: value for key, value in os.environ.items() if not key.startswith("AIRFLOW")}
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags_examples"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "PYTHONUNBUFFERED": "1",
            # The simulated reviewers finish in seconds; poll them every second instead of every 5 minutes.
            "MODELARTS_EXAMPLE_POKE_INTERVAL": "1",
        }
    )
    # The emulator's log lives beside AIRFLOW_HOME, not in it: it shows the (dummy) credentials.
    emulator_dir = ROOT / ".airflow" / "demo-emulator"
    emulator_dir.mkdir(parents=True, exist_ok=True)
    log_file = emulator_dir / "emulator.log"
    _log(f"AIRFLOW_HOME={home}")
    # The store in a thread of this process, the emulator in its own (the CLI), both on free loopback ports
    # and stopped on the way out even when something fails.
    store = S3Server().start()
    store.client().create_bucket(Bucket=BUCKET)
    _log(f"object store (S3 API) running at {store.endpoint}, bucket {BUCKET}")
    env["AIRFLOW_CONN_OBJECT_STORE"] = json.dumps(store.connection_dict())
    env["MODELARTS_EXAMPLE_LANDING_DIR"] = f"s3://object_store@{BUCKET}/landing"
    emulator = EmulatorProcess(
        "--reviewer-pass-rate", str(args.pass_rate), "--obs-endpoint", store.endpoint, log_file=log_file
    )
    try:
        emulator.start()
    except RuntimeError as exc:
        store.stop()
        raise SystemExit(f"The emulator did not start: {exc}") from None
    with store, emulator:
        base_url = emulator.base_url
        _log(f"emulator running at {base_url} (log: {log_file})")
        env["AIRFLOW_CONN_MODELARTS_DEFAULT"] = emulator.connection_json()

        _log("airflow db migrate ...")
        migrate_log = home / "db_migrate.log"
        if _run([_bin("airflow"), "db", "migrate"], env, migrate_log, args.verbose) != 0:
            _log(f"airflow db migrate failed:\n{_tail(migrate_log)}")
            return 1

        previous_run = _latest_run(home)
        _log(f"airflow dags test {DAG_ID} {args.date} ...")
        test_log = home / "dags_test.log"
        # The day's batch, as that day's scheduled run labels it (a manual run's default: a batch of its own).
        conf = json.dumps({"batch": args.date.replace("-", "")})
        command = [_bin("airflow"), "dags", "test", DAG_ID, args.date, "--conf", conf]
        code = _run(command, env, test_log, args.verbose)
        # `airflow dags test` exits with "DagRun failed" (non-zero) when the run ends failed.
        failed = code != 0

        print()
        for line in _summary(base_url, home, previous_run):
            _log(line)
    elapsed = time.monotonic() - started
    if failed:
        _log(f"pipeline FAILED (exit code {code}); last lines of {test_log}:\n{_tail(test_log)}")
        return 1
    _log(f"pipeline succeeded in {elapsed:.0f} s (full output: {test_log})")
    if args.pass_rate >= 0.8:
        _log("to see the reject path: python scripts/demo.py --pass-rate 0.5")
    return 0


if __name__ == "__main__":
    sys.exit(main())
