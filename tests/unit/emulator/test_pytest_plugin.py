"""The emulator's pytest plugin (emulator/modelarts_emulator/pytest_plugin.py) loads through its ``pytest11``
entry point, with no ``pytest_plugins`` line, and imports no Airflow (it loads before any conftest.py)."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import entry_points

import pytest

import modelarts_emulator.pytest_plugin as plugin


def test_the_plugin_is_registered_as_a_pytest11_entry_point() -> None:
    ours = [ep for ep in entry_points(group="pytest11") if ep.value.startswith("modelarts")]
    registered = {ep.name: ep.value for ep in ours}
    assert registered == {"modelarts_emulator": "modelarts_emulator.pytest_plugin"}


def test_this_session_got_the_fixtures_from_the_entry_point(request: pytest.FixtureRequest) -> None:
    # Registered under the entry point's name (a conftest's pytest_plugins would use the module's).
    assert request.config.pluginmanager.get_plugin("modelarts_emulator") is plugin


def test_loading_the_plugin_imports_no_airflow() -> None:
    code = (
        "import sys\n"
        "import modelarts_emulator.pytest_plugin\n"
        "print(sorted(m for m in sys.modules if m == 'airflow' or m.startswith('airflow.')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"
