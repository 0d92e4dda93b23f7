"""The CLI starts a server on a free port and prints its URL and the Airflow connection to use."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx


def _read_line(proc: subprocess.Popen[str], prefix: str, deadline: float) -> str:
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            raise AssertionError(f"the CLI exited early: {proc.stderr.read() if proc.stderr else ''}")
        if line.startswith(prefix):
            return line.strip()
    raise AssertionError(f"no line starting {prefix!r} within the deadline")


def test_cli_port_0_prints_url_and_connection_json(tmp_path: Path) -> None:
    url_file = tmp_path / "emulator.url"
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps({"datasets": [{"dataset_id": "ds-cli", "samples": [{"name": "a.jpg"}]}]}))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "modelarts_emulator",
            "--port",
            "0",
            "--seed",
            str(seed),
            "--url-file",
            str(url_file),
            "--reviewer-pass-rate",
            "0.5",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        listening = _read_line(proc, "ModelArts emulator listening on ", deadline)
        base_url = listening.split()[4]
        assert base_url.startswith("http://127.0.0.1:") and not base_url.endswith(":0")
        conn_line = _read_line(proc, "AIRFLOW_CONN_MODELARTS_DEFAULT=", deadline)
        connection = json.loads(conn_line.split("=", 1)[1].strip("'"))
        assert connection["conn_type"] == "modelarts"
        assert connection["extra"]["endpoint"] == base_url
        # The extra links of runs using this connection open the emulator's own console.
        assert connection["extra"]["console_url"] == base_url + "/_emulator/console"
        assert re.fullmatch(r"[0-9a-f]{32}", connection["extra"]["project_id"])  # the documented format
        assert "ds-cli" in httpx.get(connection["extra"]["console_url"] + "/modelarts/").text
        assert url_file.read_text().strip() == base_url
        datasets = httpx.get(base_url + "/_emulator/datasets").json()
        assert [d["dataset_id"] for d in datasets] == ["ds-cli"]
        assert httpx.get(base_url + "/_emulator/config").json()["reviewer_pass_rate"] == 0.5
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    assert proc.returncode is not None


def test_cli_rejects_a_bad_seed_file(tmp_path: Path) -> None:
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps({"datasets": [{"samples": [{"name": "a.jpg"}]}]}))
    result = subprocess.run(
        [sys.executable, "-m", "modelarts_emulator", "--port", "0", "--seed", str(seed)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "dataset_id" in result.stderr
