"""The end of the session's secret scan (moved to the very end of the run by the plugin).

See ``secret_scan_plugin.py`` for what is learnt and where it looks. This test fails with the list of places
a configured secret (SK, IAM password, security token, fetched IAM token) reached: a log record, captured
output, an operator's XCom, a rendered template field, a task log file or the XCom tables.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest
from secret_scan_plugin import PLUGIN_NAME, SecretScan, SecretScanPlugin


def _scan(config: pytest.Config) -> SecretScan:
    plugin = config.pluginmanager.get_plugin(PLUGIN_NAME)
    assert isinstance(plugin, SecretScanPlugin), "the secret scan plugin is not registered"
    return plugin.scan


def test_the_scan_detects_a_leak_when_there_is_one(tmp_path: Path) -> None:
    """The scan must be able to fail: planted secrets in a log record, an XCom-like value, a task log file
    and an XCom table row are all found, and the findings do not quote the secret whole."""
    probe = SecretScan()
    probe.learn(["planted-secret-value-0001"])
    probe.current_test = "probe"
    probe.scan("log record", "token planted-secret-value-0001 leaked")
    probe.scan("XCom", {"nested": ["x", {"k": "planted-secret-value-0001"}]})
    probe.scan("clean", "nothing to see")
    home = tmp_path / "home"
    (home / "logs" / "dag_id=d").mkdir(parents=True)
    (home / "logs" / "dag_id=d" / "attempt=1.log").write_text("... planted-secret-value-0001 ...")
    (home / "not-a-log.txt").write_text("planted-secret-value-0001")  # not a log, not a database
    with sqlite3.connect(home / "airflow.db") as con:
        con.execute("create table xcom (key text, value blob)")
        con.execute("insert into xcom values ('return_value', ?)", (b'{"t": "planted-secret-value-0001"}',))
    con.close()
    probe.scan_files_and_databases(tmp_path)
    assert len(probe.findings) == 4, probe.findings
    assert all("pla...(25 chars)" in f for f in probe.findings)
    assert not any("planted-secret-value-0001" in f for f in probe.findings)


def test_no_configured_secret_reached_logs_xcom_or_templates(
    pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory
) -> None:
    scan = _scan(pytestconfig)
    scan.learn_from_environment()
    scan.scan_files_and_databases(tmp_path_factory.getbasetemp())
    logging.getLogger(__name__).info(
        "secret scan: %d texts scanned for %d secrets", scan.scanned, len(scan.secrets)
    )
    assert scan.secrets, "no secret was learnt, so the scan proved nothing"
    assert scan.scanned > 0
    assert not scan.findings, f"{len(scan.findings)} leaks:\n" + "\n".join(scan.findings)
