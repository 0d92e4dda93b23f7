"""The Airflow version under test, and the one skip reason for what an older Airflow cannot do.

`make test` runs the unit and integration tiers on every supported minor (one venv and lock each), so a test
that cannot hold on a version is skipped there with a reason that names the version and what the user does
instead; it runs everywhere else.
"""

from __future__ import annotations

from importlib.metadata import version

import pytest
from packaging.version import Version

AIRFLOW_VERSION = Version(version("apache-airflow"))

# Airflow builds a provider's connection form from its metadata (conn-fields, ui-field-behaviour) since 3.2.
needs_metadata_connection_form = pytest.mark.skipif(
    AIRFLOW_VERSION.release < (3, 2),
    reason=(
        f"Airflow {AIRFLOW_VERSION} does not build connection forms from provider metadata (3.2+ does): the "
        "form shows only the standard fields, and users put project_id, region and the other settings in "
        "the connection's Extra JSON (README, Connection)"
    ),
)
