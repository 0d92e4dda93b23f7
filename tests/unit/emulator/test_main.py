"""The emulator CLI's ``--print-connection``: the README's newcomer path exports its output as
``AIRFLOW_CONN_MODELARTS_DEFAULT`` before the emulator runs, so it must be exactly the connection the serving
emulator announces, and it must not start a server."""

from __future__ import annotations

import json

import pytest

from modelarts_emulator import DEFAULT_ACCESS_KEY, DEFAULT_PROJECT_ID, DEFAULT_SECRET_KEY
from modelarts_emulator.__main__ import main
from modelarts_emulator.testing import connection_dict


def test_print_connection_prints_the_connection_of_that_port_and_exits(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--port", "9090", "--print-connection"]) == 0
    printed = json.loads(capsys.readouterr().out)
    expected = connection_dict(
        "http://127.0.0.1:9090",
        DEFAULT_PROJECT_ID,
        access_key=DEFAULT_ACCESS_KEY,
        secret_key=DEFAULT_SECRET_KEY,
    )
    assert printed == expected
    assert printed["extra"]["endpoint"] == "http://127.0.0.1:9090"


def test_print_connection_uses_the_given_host_and_keys(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODELARTS_EMULATOR_SK", "another-secret")
    assert main(["--host", "0.0.0.0", "--port", "7000", "--access-key", "AK2", "--print-connection"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["login"] == "AK2" and printed["password"] == "another-secret"
    assert printed["extra"]["endpoint"] == "http://127.0.0.1:7000"  # a wildcard host is reached on loopback


def test_print_connection_needs_a_real_port() -> None:
    with pytest.raises(SystemExit, match="needs the port"):
        main(["--port", "0", "--print-connection"])
