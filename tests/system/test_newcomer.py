"""The one SQLite ``airflow standalone`` test: a newcomer's first steps, the README's commands verbatim.

The commands are read from the README (between ``<!-- newcomer-start -->`` and ``<!-- newcomer-end -->``)
and run by bash as written, in a folder of their own that holds what a clone holds for them: ``.venv`` (the
venv of the Airflow minor under test) and ``dags_examples``. Only two things differ from a newcomer's
machine: ports 9090 (the emulator) and 9000 (the S3-compatible store) become free ports in the commands,
and ``AIRFLOW__API__PORT`` (8080 by default) is set to another in the environment the commands inherit,
with ``AIRFLOW__CORE__EXECUTION_API_SERVER_URL`` on that
port (the task processes' default is port 8080), so a second deployment on the machine does not collide.

Then what the README promises: the UI and REST API answer with the generated admin password, the Test
button's request succeeds for the connection from the environment, and a pipeline run triggered with no
logical date succeeds; the export DAG, unpaused by the commands, runs for it exactly when its acceptance
passed. The emulator's reviewers run on their own clock here (as for the newcomer), so which decision the
round gets is not fixed: each outcome is checked against what it must cause.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from services import free_port
from system_api import TERMINAL, get, runs, wait_parsed, xcom
from system_deployment import SystemDeployment, poll, stop_group

from modelarts_emulator.testing import EmulatorAdmin

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
PIPELINE = "modelarts_labeling_pipeline"
EXPORT = "modelarts_accepted_labels_export"
START_TIMEOUT = 300.0
RUN_TIMEOUT = 600.0


def newcomer_commands(readme: str) -> str:
    """The bash block between the README's newcomer markers."""
    found = re.search(r"<!-- newcomer-start -->\s*```bash\n(.*?)```\s*<!-- newcomer-end -->", readme, re.S)
    assert found, "README.md has no newcomer block between <!-- newcomer-start --> and <!-- newcomer-end -->"
    return found.group(1)


@pytest.fixture(scope="module")
def standalone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SystemDeployment]:
    folder = tmp_path_factory.mktemp("newcomer")
    (folder / ".venv").symlink_to(Path(sys.executable).parent.parent)
    (folder / "dags_examples").symlink_to(ROOT / "dags_examples")
    emulator_port, store_port, api_port = free_port(), free_port(), free_port()
    commands = newcomer_commands(README.read_text())
    commands = commands.replace("9090", str(emulator_port)).replace("9000", str(store_port))
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AIRFLOW", "PYTEST"))}
    env.update(
        {
            "AIRFLOW__API__PORT": str(api_port),
            # Off 8080, the task processes must be told where the execution API is (airflow3.md).
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
            "PYTHONUNBUFFERED": "1",
        }
    )
    home = folder / ".airflow" / "standalone"
    log = folder / "newcomer.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["bash", "-e", "-c", commands],
            cwd=folder,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base_url = f"http://127.0.0.1:{api_port}"
    try:
        password = poll(
            f"the README's standalone answering (log: {log})",
            lambda: _ready(process, base_url, home, log),
            timeout=START_TIMEOUT,
        )
        emulator_url = f"http://127.0.0.1:{emulator_port}"
        admin = EmulatorAdmin(emulator_url)
        # The connection the commands exported, printed by the same command.
        printed = subprocess.run(
            [sys.executable, "-m", "modelarts_emulator", "--port", str(emulator_port), "--print-connection"],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        yield SystemDeployment(
            base_url, "admin", password, home, log, emulator_url, admin, json.loads(printed)
        )
        admin.close()
    finally:
        stop_group(process)


def _ready(process: subprocess.Popen[bytes], base_url: str, home: Path, log: Path) -> str | None:
    if process.poll() is not None:
        raise RuntimeError(
            f"the README's commands stopped ({process.returncode}):\n{log.read_text()[-3000:]}"
        )
    try:
        healthy = httpx.get(f"{base_url}/api/v2/monitor/health", timeout=5).status_code == 200
    except httpx.HTTPError:
        return None
    passwords = home / "simple_auth_manager_passwords.json.generated"
    if not healthy or not passwords.exists():
        return None
    return str(json.loads(passwords.read_text())["admin"])


def test_the_readmes_first_steps_run_the_pipeline_and_its_export(standalone: SystemDeployment) -> None:
    with standalone.api() as api:
        wait_parsed(api, PIPELINE, EXPORT)
        export = api.get(f"/dags/{EXPORT}").json()
        assert export["is_paused"] is False, export  # the README unpaused it
        # The Test button's request, for the connection the README exported.
        connection = standalone.connection
        body = {
            "connection_id": "modelarts_default",
            "conn_type": connection["conn_type"],
            "login": connection["login"],
            "password": connection["password"],
            "extra": json.dumps(connection["extra"]),
        }
        tested = api.post("/connections/test", json=body)
        assert tested.status_code == 200 and tested.json()["status"] is True, tested.text

        # Unpausing also starts the scheduler's run of the day: every run is checked alike.
        api.patch(f"/dags/{PIPELINE}", json={"is_paused": False}).raise_for_status()
        triggered = api.post(f"/dags/{PIPELINE}/dagRuns", json={"logical_date": None})
        assert triggered.status_code == 200, triggered.text
        run_id = triggered.json()["dag_run_id"]

        def ended() -> dict[str, str] | None:
            every = runs(api, PIPELINE)
            done = run_id in every and all(run["state"] in TERMINAL for run in every.values())
            return {rid: run["state"] for rid, run in every.items()} if done else None

        states = poll(f"{PIPELINE} runs ended (log: {standalone.log_file})", ended, timeout=RUN_TIMEOUT)
        assert set(states.values()) == {"success"}, states
        decisions = {rid: xcom(api, PIPELINE, rid, "decide_by_pass_rate")["decision"] for rid in states}
        assert set(decisions.values()) <= {"pass_all", "reject_all"}, decisions
        passed = {rid for rid, decision in decisions.items() if decision == "pass_all"}

        # Asset events are recorded when the deciding task ends: the export runs for the passes, only.
        def exported() -> tuple[dict[str, dict[str, Any]], set[str]] | None:
            export_runs = runs(api, EXPORT)
            if not all(run["state"] in TERMINAL for run in export_runs.values()):
                return None
            sources = set()
            for export_id in export_runs:
                events = get(api, f"/dags/{EXPORT}/dagRuns/{export_id}/upstreamAssetEvents")["asset_events"]
                sources |= {event["source_run_id"] for event in events}
            return (export_runs, sources) if sources >= passed else None

        export_runs, sources = poll(f"{EXPORT} ran for every pass", exported, timeout=RUN_TIMEOUT)
        assert sources == passed, (sources, decisions)
        assert all(run["state"] == "success" for run in export_runs.values()), export_runs
