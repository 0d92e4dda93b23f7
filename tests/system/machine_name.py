"""``[core] hostname_callable`` of the production-shaped deployment: each Airflow process reports the machine
it stands for (``MODELARTS_TEST_MACHINE``: ``worker-1``, ``triggerer-2``, ...), as processes on separate
machines would report their own host names. Airflow records it as the task instance's ``hostname`` and the
job's host, which is how the tests tell which worker ran a task. Imported by Airflow (PYTHONPATH).
"""

from __future__ import annotations

import os
import socket


def name() -> str:
    return os.environ.get("MODELARTS_TEST_MACHINE") or socket.getfqdn()
