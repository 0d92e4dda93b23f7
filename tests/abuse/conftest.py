"""Abuse suite set-up: the session-wide secret scan, and the suite's modules importable by name."""

from __future__ import annotations

import pytest
from secret_scan_plugin import register


def pytest_configure(config: pytest.Config) -> None:
    # Called when pytest imports this conftest during collection, i.e. before any test of the session runs:
    # registered as a global plugin, the scan sees every test, not only those under tests/abuse.
    register(config)
