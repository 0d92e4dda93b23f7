"""Batch planning on its own: batches cut by count and by bytes, counted in advance."""

from __future__ import annotations

import pytest

from airflow_provider_modelarts.bulk.planning import Batch, BatchPlanner, ItemRef, make_batches, payload_size


def _items(n: int, size: int = 0) -> list[tuple[ItemRef, int, int]]:
    return [(ItemRef(i, f"s{i}"), i, size) for i in range(n)]


def test_planner_splits_by_count_and_bytes_and_predicts_batch_count() -> None:
    planner = BatchPlanner(batch_size=3, max_batch_bytes=10)
    batches = list(make_batches(_items(7), planner))
    assert [len(b) for b in batches] == [3, 3, 1]
    assert [b.number for b in batches] == [1, 2, 3]
    assert planner.batches == 3

    sizes = [4, 4, 4, 20, 1]  # 4+4 fit, the third overflows; an oversize item gets a batch of its own
    planner = BatchPlanner(batch_size=100, max_batch_bytes=10)
    items = [(ItemRef(i, None), i, s) for i, s in enumerate(sizes)]
    assert [b.items for b in make_batches(items, planner)] == [[0, 1], [2], [3], [4]]

    with pytest.raises(ValueError, match="batch_size"):
        BatchPlanner(0, 10)


def test_a_batch_splits_into_single_item_batches_with_its_number() -> None:
    batch: Batch[str] = Batch(7, ["a", "b"], [ItemRef(3, "a"), ItemRef(4, "b")])
    singles = batch.singles()
    assert [(b.number, b.items, b.refs) for b in singles] == [
        (7, ["a"], [ItemRef(3, "a")]),
        (7, ["b"], [ItemRef(4, "b")]),
    ]
    assert batch.span() == "samples #3-#4"


def test_payload_size_counts_base64_data_only() -> None:
    class WithData:
        def __init__(self, data: object) -> None:
            self.data = data

    assert payload_size(WithData("QUJD")) == 4
    assert payload_size(WithData(None)) == 0
    assert payload_size(object()) == 0  # no __dict__
