"""Typed HTTP clients for the ModelArts data-labeling API: :class:`ModelArtsClient` and
:class:`AsyncModelArtsClient`. Import them from here; every module below starting with ``_`` is
implementation.

The layout shows what is written by hand and what is generated (the way httpcore lays out its clients):

* ``_async/client.py``: every API method, written once; ``_async/core.py``: sending, the retry loop, reply
  parsing, paging. Both are the source.
* ``_sync/``: GENERATED from ``_async/`` by ``scripts/unasync.py`` (``make lint`` fails when stale).
* ``_requests/``: request building, one function per API call (``labeling.py``: samples, labels,
  acceptance, datasets; ``team_tasks.py``: the team labeling task life cycle; ``call.py``: the ``ApiCall``
  they return, with its reply parser and whether it may be re-sent).
* ``_base.py``: per-client set-up: endpoint resolution, TLS contexts, default headers (no ``await``);
  ``_paging.py``: where a list walk ends.

One API call crosses four modules of this package: the method (``_async/client.py``), its request builder
(``_requests/<resource>.py``), the ``ApiCall`` it returns (``_requests/call.py``: body, reply parser) and the
core (``_async/core.py``: retries, sending, error mapping, parsing); ``_base.py`` is set up once per client,
not per call. The two policy modules every call consults live beside the package:
:mod:`~airflow_provider_modelarts.retries` (whether to try again) and
:mod:`~airflow_provider_modelarts.errors` (what an error answer means). No Airflow import anywhere in
these, so the clients are usable as a plain library and in the emulator tests.
"""

from __future__ import annotations

from airflow_provider_modelarts.client._async.client import AsyncModelArtsClient
from airflow_provider_modelarts.client._base import OTC_REGIONS, resolve_endpoint
from airflow_provider_modelarts.client._requests.call import UnparsedReply
from airflow_provider_modelarts.client._sync.client import ModelArtsClient
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
