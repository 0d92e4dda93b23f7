"""Fixtures for the emulator tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from airflow_provider_modelarts.emulator.testing import EmulatorServer


@pytest.fixture
def paused(emulator: EmulatorServer) -> Iterator[EmulatorServer]:
    """The emulator with wall-clock progress off: only /_emulator/advance moves reviewers (deterministic)."""
    emulator.admin.configure(step_seconds=None)
    yield emulator
