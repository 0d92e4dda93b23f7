"""Payload sizes measured in the validation pass are the ones the sending pass batches by.

The validation pass keeps each list sample's payload size so the sending pass does not recompute it; these
tests pin that the kept sizes stay aligned with the samples they belong to when invalid samples are skipped
in between, so batches are cut exactly where the data budget says.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest

from airflow_provider_modelarts.operators.samples import AddSamplesOperator
from modelarts_emulator.seed import DEFAULT_DATASET_ID as DS
from modelarts_emulator.testing import EmulatorServer

pytestmark = pytest.mark.usefixtures("modelarts_conn_env")


def sample(i: int, size: int) -> dict[str, Any]:
    return {"name": f"sized-{i:03d}.jpg", "sample_type": 0, "data": base64.b64encode(b"x" * size).decode()}


def expected_batches(sizes: list[int], batch_size: int, budget: int) -> list[list[int]]:
    """The batching rule written out independently: close on count, or when the next item would overflow."""
    batches: list[list[int]] = []
    used = 0
    for position, size in enumerate(sizes):
        if not batches or len(batches[-1]) >= batch_size or used + size > budget:
            batches.append([])
            used = 0
        batches[-1].append(position)
        used += size
    return batches


def test_sizes_kept_from_validation_cut_batches_by_data_budget(emulator: EmulatorServer) -> None:
    raw_sizes = [30, 3, 300, 60, 6, 90, 150, 3, 240, 12, 45, 180]
    samples: list[Any] = []
    valid_sizes: list[int] = []
    for i, raw in enumerate(raw_sizes):
        if i % 4 == 1:  # an invalid sample between valid ones: it has no size entry
            samples.append({"name": f"bad-{i}.jpg", "sample_type": 0, "data": "x", "labels": [{"score": 2}]})
        item = sample(i, raw)
        samples.append(item)
        valid_sizes.append(len(item["data"]))
    budget = 400
    op = AddSamplesOperator(
        task_id="add",
        dataset_id=DS,
        samples=samples,
        batch_size=4,
        max_batch_bytes=budget,
        on_invalid="skip",
    )
    result = op.execute(context={})
    want = expected_batches(valid_sizes, 4, budget)
    assert len(want) > len(valid_sizes) // 4 + 1  # the data budget, not the count, decides some cuts
    assert result["invalid"] == 3 and result["added"] == len(valid_sizes)
    assert result["batches"] == len(want)
    stats = emulator.admin.stats()["routes"]["add_samples"]
    assert int(stats["requests"]) == len(want)
    stored = sorted(
        s["sample_name"] for s in emulator.admin.samples(DS) if s["sample_name"].startswith("sized-")
    )
    assert stored == sorted(s["name"] for s in samples if s["name"].startswith("sized-"))
