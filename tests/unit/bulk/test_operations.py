"""Guards of the bulk hot path that count work instead of timing it (timing lives in ``bench/``).

An in-memory list of N samples is validated once each, ``CHUNK`` to a call of the models, and serialised
N times (once each, however many batches and passes); the client takes each batch's samples as they are
(no call of the models per batch), the whole run builds one client, and each batch is one request. A
refactor that validates twice, one sample at a time, or builds a client per batch fails here, on any
machine, whatever its speed.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import respx

from airflow_provider_modelarts._models import _parse
from airflow_provider_modelarts.bulk import validation
from airflow_provider_modelarts.client import AsyncModelArtsClient
from airflow_provider_modelarts.client._requests import call as call_module
from airflow_provider_modelarts.operators.labels import UpdateLabelsOperator
from airflow_provider_modelarts.operators.samples import AddSamplesOperator
from unit.hooks._helpers import DATASETS_URL, aksk_conn, set_conn

COUNT = 250  # three batches of 100, the last one short

# Each sample validated once, validation.CHUNK to a call of the models (no sample on its own, no per-sample
# Python loop around pydantic): 8 calls of 32 for 250 samples; the plain-JSON walk once per call too, over
# all of that call's samples (no walk per sample, no second walk).
CALLS = -(-COUNT // validation.CHUNK)
ONCE_EACH = {"validated": COUNT, "validation_calls": CALLS, "client_validation_calls": 0, "json_walks": CALLS}


@pytest.fixture
def work(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Counts validations, serialisations and clients built during one operator run."""
    counts = {
        "validated": 0,
        "validation_calls": 0,
        "client_validation_calls": 0,
        "json_walks": 0,
        "serialised": 0,
        "clients": 0,
    }
    real_many, real_json, real_walk = validation.parse_samples, _parse.request_json, _parse.plainly_sendable
    real_init = AsyncModelArtsClient.__init__

    def parse_samples(model_cls: Any, items: Any) -> Any:
        counts["validation_calls"] += 1
        counts["validated"] += len(items)
        return real_many(model_cls, items)

    def client_parse_samples(model_cls: Any, items: Any) -> Any:
        counts["client_validation_calls"] += 1
        return real_many(model_cls, items)

    def plainly_sendable(*args: Any, **kwargs: Any) -> Any:
        counts["json_walks"] += 1
        return real_walk(*args, **kwargs)

    def request_json(*args: Any, **kwargs: Any) -> Any:
        counts["serialised"] += 1
        return real_json(*args, **kwargs)

    def init(self: AsyncModelArtsClient, **kwargs: Any) -> None:
        counts["clients"] += 1
        real_init(self, **kwargs)

    monkeypatch.setattr(validation, "parse_samples", parse_samples)
    monkeypatch.setattr(call_module, "parse_samples", client_parse_samples)
    monkeypatch.setattr(_parse, "request_json", request_json)
    monkeypatch.setattr(_parse, "plainly_sendable", plainly_sendable)
    monkeypatch.setattr(AsyncModelArtsClient, "__init__", init)
    set_conn(monkeypatch, aksk_conn())
    return counts


@respx.mock
def test_adding_samples_validates_and_serialises_each_sample_once_with_one_client(
    work: dict[str, int],
) -> None:
    def added(request: httpx.Request) -> httpx.Response:
        sent = json.loads(request.content)["samples"]
        return httpx.Response(200, json={"success": True, "results": [{"success": True}] * len(sent)})

    route = respx.post(f"{DATASETS_URL}/d1/data-annotations/samples").mock(side_effect=added)
    samples = [{"name": f"s{i}.jpg", "sample_type": 0, "data": "aGk="} for i in range(COUNT)]
    result = AddSamplesOperator(task_id="add", dataset_id="d1", samples=samples).execute(context={})
    assert result["added"] == COUNT and result["batches"] == 3
    assert work == {**ONCE_EACH, "serialised": COUNT, "clients": 1}
    assert route.call_count == 3  # one request per batch


@respx.mock
def test_updating_labels_validates_and_serialises_each_sample_once_with_one_client(
    work: dict[str, int],
) -> None:
    route = respx.put(f"{DATASETS_URL}/d1/data-annotations/samples").mock(
        return_value=httpx.Response(200, json={"success": True})
    )
    samples = [{"sample_id": f"{i:032x}", "labels": [{"name": "cat", "type": 0}]} for i in range(COUNT)]
    result = UpdateLabelsOperator(task_id="update", dataset_id="d1", samples=samples).execute(context={})
    assert result["updated"] == COUNT and result["batches"] == 3
    assert work == {**ONCE_EACH, "serialised": COUNT, "clients": 1}
    assert route.call_count == 3
