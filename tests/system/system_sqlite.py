"""SQLite connection settings for the system tier's ``airflow standalone`` (imported by Airflow itself through
``[database] sql_alchemy_connect_args``).

Scheduler, API server, dag-processor, triggerer and task processes all write one SQLite file. Python's
default busy timeout is 5 s: on a loaded 2-core machine a writer can hold the lock longer than that, and the
REST API then answered 500 "database is locked" (seen on Airflow 3.1.8 creating a backfill). Waiting up to
two minutes for the lock turns that chance failure into a short wait.
"""

from __future__ import annotations

CONNECT_ARGS = {"timeout": 120}
