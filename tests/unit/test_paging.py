"""_paging.py: page numbers, de-duplication across shifting pages, and the end of the iteration."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_modelarts._client_base import item_id
from airflow_provider_modelarts._paging import Pager


def pager(size: int = 2) -> Pager[Any]:
    return Pager(size, 100, item_id("sample_id"))


def test_pages_are_numbered_and_a_short_page_ends_the_walk() -> None:
    p = pager()
    assert p.accept([{"sample_id": "a"}, {"sample_id": "b"}]) == [{"sample_id": "a"}, {"sample_id": "b"}]
    assert (p.offset, p.done) == (1, False)
    assert p.accept([{"sample_id": "c"}]) == [{"sample_id": "c"}]
    assert (p.offset, p.done) == (2, True)


def test_items_seen_on_an_earlier_page_are_skipped_and_a_page_of_repeats_ends_the_walk() -> None:
    p = pager()
    p.accept([{"sample_id": "a"}, {"sample_id": "b"}])
    assert p.accept([{"sample_id": "b"}, {"sample_id": "c"}]) == [{"sample_id": "c"}]  # shifted by an insert
    assert p.accept([{"sample_id": "b"}, {"sample_id": "c"}]) == []  # a server that ignores offset
    assert p.done


def test_items_without_an_id_are_kept_and_none_is_an_empty_page() -> None:
    p = pager()
    assert p.accept([{"other": 1}, {"sample_id": 5}]) == [{"other": 1}, {"sample_id": 5}]
    assert p.accept(None) == [] and p.done


def test_page_size_must_fit_the_page_limit() -> None:
    for bad in (0, 101, True, 2.5):
        with pytest.raises(ValueError, match="page_size"):
            Pager(bad, 100, item_id("task_id"))  # type: ignore[arg-type]
