"""The end of the session's secret scan (moved to the very end of the run by the plugin).

See ``secret_scan_plugin.py`` for what is learnt and where it looks. This test fails with the list of places
a configured secret (SK, IAM password, security token, fetched IAM token) reached: a log record, captured
output, an operator's XCom, a rendered template field, a task log file or the XCom tables.
"""

from __future__ import annotations

import logging

import pytest
from secret_scan_plugin import PLUGIN_NAME, SecretScan, SecretScanPlugin


def _scan(config: pytest.Config) -> SecretScan:
    plugin = config.pluginmanager.get_plugin(PLUGIN_NAME)
    assert isinstance(plugin, SecretScanPlugin), "the secret scan plugin is not registered"
    return plugin.scan


def test_the_scan_detects_a_leak_when_there_is_one(pytestconfig: pytest.Config) -> None:
    """The scan must be able to fail: a planted secret in a log record and in an XCom-like value is found."""
    probe = SecretScan()
    probe.learn(["planted-secret-value-0001"])
    probe.current_test = "probe"
    handler_scan = probe.scan
    handler_scan("log record", "token planted-secret-value-0001 leaked")
    handler_scan("XCom", {"nested": ["x", {"k": "planted-secret-value-0001"}]})
    handler_scan("clean", "nothing to see")
    assert len(probe.findings) == 2
    assert all("pla...(25 chars)" in f for f in probe.findings), "findings must not quote the secret whole"


def test_no_configured_secret_reached_logs_xcom_or_templates(pytestconfig: pytest.Config) -> None:
    scan = _scan(pytestconfig)
    scan.learn_from_environment()
    scan.scan_files_and_databases()
    logging.getLogger(__name__).info(
        "secret scan: %d texts scanned for %d secrets", scan.scanned, len(scan.secrets)
    )
    assert scan.secrets, "no secret was learnt, so the scan proved nothing"
    assert scan.scanned > 0
    assert not scan.findings, f"{len(scan.findings)} leaks:\n" + "\n".join(scan.findings)
