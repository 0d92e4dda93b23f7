"""SQLite connection settings for the system tier's ``airflow standalone`` (imported by Airflow itself through
``[database] sql_alchemy_connect_args``).

Scheduler, API server, dag-processor, triggerer and task processes all write one SQLite file. Python's
default busy timeout is 5 s: on a loaded 2-core machine a writer can hold the lock longer than that. Waiting
up to two minutes for the lock turns that chance failure into a short wait.

It does not help a transaction that read inside a savepoint and then writes after another process
committed: SQLite refuses that at once ("database is locked"), whatever the timeout. Creating a backfill
does exactly that, so ``test_deployment.py`` creates it while nothing runs and tries again if it still
coincides with a scheduler or dag-processor commit (its ``_create_backfill`` says how).
"""

from __future__ import annotations

CONNECT_ARGS = {"timeout": 120}
