"""Typed HTTP clients for the ModelArts data-labeling API: :class:`ModelArtsClient` and
:class:`AsyncModelArtsClient`.

Where each concern lives:

* ``_async_client.py``: every API method, written once (the async client); ``_sync_client.py`` is generated
  from it by ``scripts/unasync.py`` and checked by ``make lint``.
* ``_client_base.py``: endpoint resolution, TLS contexts, default headers, reply handling (no ``await``).
* :mod:`.retries`: :class:`RetryPolicy` and the one retry predicate, backoff and deadline (tenacity).
* :mod:`.errors`: mapping an error answer to an exception, and ``is_transient``.
* ``_requests.py`` / ``_team_task_requests.py``: building each request and choosing its reply parser.

No Airflow import anywhere in these, so the clients are usable as a plain library and in the emulator tests.
"""

from __future__ import annotations

from airflow_provider_modelarts._api_call import UnparsedReply
from airflow_provider_modelarts._async_client import AsyncModelArtsClient
from airflow_provider_modelarts._client_base import OTC_REGIONS, resolve_endpoint
from airflow_provider_modelarts._sync_client import ModelArtsClient
from airflow_provider_modelarts.errors import ResponseParseError
from airflow_provider_modelarts.retries import RetryPolicy, is_retryable

__all__ = [
    "OTC_REGIONS",
    "AsyncModelArtsClient",
    "ModelArtsClient",
    "ResponseParseError",
    "RetryPolicy",
    "UnparsedReply",
    "is_retryable",
    "resolve_endpoint",
]
