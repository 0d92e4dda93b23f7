"""The retry policy tests give clients, hooks and operators: ``FAST_RETRY``, defined once for every tier.

Retries back off in milliseconds instead of seconds, so fault-injection tests stay fast and a test never
waits a real second for an attempt. A test that needs other figures derives them from ``FAST_RETRY`` with
``dataclasses.replace`` where it uses them and says why there (or uses a named variant below).
"""

from __future__ import annotations

import dataclasses

from airflow_provider_modelarts.retries import RetryPolicy

FAST_RETRY = RetryPolicy(max_attempts=6, backoff_base=0.005, backoff_max=0.02, deadline=30.0)

#: Unit tests, where respx answers at once: nothing to wait for between attempts, so no sleep at all.
NO_WAIT_RETRY = dataclasses.replace(FAST_RETRY, backoff_base=0.0, backoff_max=0.0)
