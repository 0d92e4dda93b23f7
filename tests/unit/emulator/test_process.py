"""EmulatorProcess (emulator/modelarts_emulator/process.py): how it starts a server, hands over its
connection and stops it, driven with a stand-in server (a small script that speaks the same ``--url-file``
protocol and writes down what it was given), plus one round trip with the real CLI.

Nothing here waits for time to pass: readiness is the URL file, exits are awaited, and the one SIGKILL test
uses a process that ignores SIGTERM for good.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from modelarts_emulator import process as process_module
from modelarts_emulator.config import DEFAULT_ACCESS_KEY, DEFAULT_PROJECT_ID, DEFAULT_SECRET_KEY
from modelarts_emulator.process import EmulatorProcess
from modelarts_emulator.testing import connection_dict

# Writes what it was started with to $STAND_IN_SEEN, prints a line, then (unless --fail N) publishes its URL
# the way the CLI does (written aside, then renamed) and waits for a signal.
STAND_IN = """
import argparse, json, os, signal, sys
from pathlib import Path

parser = argparse.ArgumentParser()
for name in ("--host", "--port", "--url-file", "--access-key"):
    parser.add_argument(name)
parser.add_argument("--fail", type=int, default=0)
parser.add_argument("--ignore-sigterm", action="store_true")
args, _ = parser.parse_known_args()
print("stand-in output", flush=True)
if args.fail:
    print("stand-in refuses to start", flush=True)
    sys.exit(args.fail)
if args.ignore_sigterm:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
seen = {"argv": sys.argv[1:], "sk": os.environ.get("MODELARTS_EMULATOR_SK"), "pid": os.getpid(),
        "obs_sk": os.environ.get("MODELARTS_EMULATOR_OBS_SK")}
Path(os.environ["STAND_IN_SEEN"]).write_text(json.dumps(seen))
url_file = Path(args.url_file)
aside = url_file.with_name(url_file.name + ".tmp")
aside.write_text(f"http://{args.host}:{args.port if args.port != '0' else 4242}/\\n")
aside.replace(url_file)
while True:
    signal.pause()
"""


@pytest.fixture
def stand_in(tmp_path: Path) -> dict[str, Any]:
    script = tmp_path / "stand_in.py"
    script.write_text(STAND_IN)
    seen = tmp_path / "seen.json"
    return {
        "command": [sys.executable, str(script)],
        "env": {**os.environ, "STAND_IN_SEEN": str(seen)},
        "seen": seen,
    }


def _seen(stand_in: dict[str, Any]) -> dict[str, Any]:
    return dict(json.loads(stand_in["seen"].read_text()))


def test_start_passes_host_port_and_url_file_then_the_args_and_the_secret_only_by_environment(
    stand_in: dict[str, Any],
) -> None:
    process = EmulatorProcess(
        "--reviewer-pace",
        "1",
        access_key="AK-OTHER",
        secret_key="sk-never-on-the-command-line",
        command=stand_in["command"],
        env=stand_in["env"],
    )
    with process:
        seen = _seen(stand_in)
        argv = seen["argv"]
        url_file = Path(argv[argv.index("--url-file") + 1])
        assert argv[:4] == ["--host", "127.0.0.1", "--port", "0"]
        assert argv[4] == "--url-file" and url_file.exists()
        assert argv[6:] == ["--access-key", "AK-OTHER", "--reviewer-pace", "1"]
        assert "sk-never-on-the-command-line" not in " ".join(argv)
        assert seen["sk"] == "sk-never-on-the-command-line"
        assert process.pid == seen["pid"]
        assert process.base_url == "http://127.0.0.1:4242"  # the trailing slash dropped
    # Stopped on exit: SIGTERM ended it, and the private folder with the URL file is gone.
    assert process.returncode == -signal.SIGTERM
    assert process.process is None and not url_file.parent.exists()


def test_the_obs_endpoint_is_passed_and_its_secret_only_by_environment(stand_in: dict[str, Any]) -> None:
    process = EmulatorProcess(
        obs_endpoint="http://127.0.0.1:9000",
        obs_access_key="obs-ak",
        obs_secret_key="obs-sk-never-on-the-command-line",
        command=stand_in["command"],
        env=stand_in["env"],
    )
    with process:
        seen = _seen(stand_in)
        argv = seen["argv"]
        assert argv[argv.index("--obs-endpoint") + 1] == "http://127.0.0.1:9000"
        assert argv[argv.index("--obs-access-key") + 1] == "obs-ak"
        assert "obs-sk-never-on-the-command-line" not in " ".join(argv)
        assert seen["obs_sk"] == "obs-sk-never-on-the-command-line"


def test_a_given_port_is_used_as_is_and_the_default_access_key_is_not_passed(
    stand_in: dict[str, Any],
) -> None:
    with EmulatorProcess(port=8123, command=stand_in["command"], env=stand_in["env"]) as process:
        argv = _seen(stand_in)["argv"]
        assert argv[2:4] == ["--port", "8123"] and "--access-key" not in argv
        assert _seen(stand_in)["sk"] == DEFAULT_SECRET_KEY
        assert process.base_url == "http://127.0.0.1:8123"


def test_the_connection_is_the_one_the_cli_prints_for_its_url_and_keys(stand_in: dict[str, Any]) -> None:
    process = EmulatorProcess(
        access_key="AK-2", secret_key="SK-2", command=stand_in["command"], env=stand_in["env"]
    )
    with process:
        url = process.base_url
        expected = connection_dict(url, DEFAULT_PROJECT_ID, access_key="AK-2", secret_key="SK-2")
        assert process.connection_dict() == expected
        assert json.loads(process.connection_json()) == expected
        assert expected["login"] == "AK-2" and expected["extra"]["endpoint"] == url
        assert process.connection_dict("password") == connection_dict(url, DEFAULT_PROJECT_ID, "password")
        # A key given for the one connection wins (e.g. a wrong secret, to see it refused).
        assert process.connection_dict(secret_key="wrong")["password"] == "wrong"


def test_a_process_that_exits_before_it_is_ready_raises_with_its_output(
    stand_in: dict[str, Any], tmp_path: Path
) -> None:
    log_file = tmp_path / "emulator.log"
    process = EmulatorProcess(
        "--fail", "3", command=stand_in["command"], env=stand_in["env"], log_file=log_file
    )
    with pytest.raises(RuntimeError, match=r"exited before it was ready \(exit code 3\)") as raised:
        process.start()
    assert "stand-in refuses to start" in str(raised.value)
    assert process.process is None and process.returncode == 3
    assert "stand-in refuses to start" in log_file.read_text()  # a given log file stays


def test_output_goes_to_the_log_file_given(stand_in: dict[str, Any], tmp_path: Path) -> None:
    log_file = tmp_path / "emulator.log"
    with EmulatorProcess(command=stand_in["command"], env=stand_in["env"], log_file=log_file) as process:
        # Printed (and flushed) before the URL file was written, so it is there once start() returned.
        assert "stand-in output" in log_file.read_text()
        assert process.log_path == log_file
    assert log_file.exists()


def test_a_process_that_ignores_sigterm_is_killed(
    stand_in: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(process_module, "STOP_GRACE_SECONDS", 0.2)
    process = EmulatorProcess("--ignore-sigterm", command=stand_in["command"], env=stand_in["env"])
    with process:
        pass
    assert process.returncode == -signal.SIGKILL


def test_before_start_and_after_stop_it_is_not_running(stand_in: dict[str, Any]) -> None:
    process = EmulatorProcess(command=stand_in["command"], env=stand_in["env"])
    process.stop()  # nothing to stop: no error
    with pytest.raises(RuntimeError, match="not running"):
        _ = process.base_url
    with pytest.raises(RuntimeError, match="not running"):
        _ = process.pid
    process.start()
    assert process.start() is process  # already running: the same process
    first_pid = process.pid
    process.stop()
    process.stop()
    assert process.returncode == -signal.SIGTERM
    with pytest.raises(RuntimeError, match="not running"):
        _ = process.base_url
    with process:  # it can start again
        assert process.pid != first_pid


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="CPU affinity is Linux-only")
def test_cpus_pin_the_process(stand_in: dict[str, Any]) -> None:
    core = min(os.sched_getaffinity(0))
    with EmulatorProcess(cpus={core}, command=stand_in["command"], env=stand_in["env"]) as process:
        assert os.sched_getaffinity(process.pid) == {core}


def test_the_real_cli_answers_with_its_connection_and_stops() -> None:
    with EmulatorProcess("--reviewer-pass-rate", "0.5") as process:
        assert "routes" in process.admin.stats()
        connection = process.connection_dict()
        assert connection["login"] == DEFAULT_ACCESS_KEY and connection["password"] == DEFAULT_SECRET_KEY
        assert process.admin.configure()["reviewer_pass_rate"] == 0.5  # the args reached the CLI
        # The connection's console is the emulator's own (the extra links open it).
        console = httpx.get(connection["extra"]["console_url"] + "/", timeout=30, follow_redirects=True)
        assert console.status_code == 200
    assert process.returncode is not None
