"""_paging.py: page numbers, de-duplication across shifting pages, and the end of the iteration."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_modelarts.client._base import item_id
from airflow_provider_modelarts.client._paging import Pager


def pager(size: int = 2) -> Pager[Any]:
    return Pager(size, 100, item_id("sample_id"))


def test_pages_are_numbered_and_a_short_page_does_not_end_a_counted_walk() -> None:
    p = pager()
    assert p.accept_counted([{"sample_id": "a"}, {"sample_id": "b"}], 3) == [
        {"sample_id": "a"},
        {"sample_id": "b"},
    ]
    assert (p.offset, p.done) == (1, False)
    assert p.accept_counted([{"sample_id": "c"}], 3) == [{"sample_id": "c"}]
    assert (p.offset, p.done) == (2, True)  # the count was reached


def test_items_seen_on_an_earlier_page_are_skipped_and_a_page_of_repeats_ends_the_walk() -> None:
    p = pager()
    p.accept_counted([{"sample_id": "a"}, {"sample_id": "b"}], 9)
    assert p.accept_counted([{"sample_id": "b"}, {"sample_id": "c"}], 9) == [{"sample_id": "c"}]  # an insert
    assert p.accept_counted([{"sample_id": "b"}, {"sample_id": "c"}], 9) == []  # a server that ignores offset
    assert p.done


def test_items_without_an_id_are_kept_and_none_is_an_empty_page() -> None:
    p = pager()
    assert p.accept_counted([{"other": 1}, {"sample_id": 5}], None) == [{"other": 1}, {"sample_id": 5}]
    assert p.accept_counted(None, None) == [] and p.done


def test_page_size_must_fit_the_page_limit() -> None:
    for bad in (0, 101, True, 2.5):
        with pytest.raises(ValueError, match="page_size"):
            Pager(bad, 100, item_id("task_id"))  # type: ignore[arg-type]


def tasks(*ids: str) -> list[dict[str, str]]:
    return [{"task_id": task_id} for task_id in ids]


def task_pager(size: int = 3) -> Pager[Any]:
    return Pager(size, 1000, item_id("task_id"))


def test_counted_pages_go_on_after_a_short_page_until_count_items_were_seen() -> None:
    # ListWorkforceTasks: limit is the "Maximum number of records returned on each page", count the total.
    p = task_pager()
    assert p.accept_counted(tasks("a"), 4) == tasks("a") and not p.done  # short, yet not the end
    assert p.accept_counted(tasks("b", "c"), 4) == tasks("b", "c") and not p.done
    assert p.accept_counted(tasks("d"), 4) == tasks("d")
    assert (p.done, p.offset, p.received) == (True, 3, 4)


def test_counted_pages_without_a_usable_count_end_only_at_an_empty_page() -> None:
    for count in (None, "4", -1, True, 2.5):
        p = task_pager()
        p.accept_counted(tasks("a"), count)
        p.accept_counted(tasks("b"), count)
        assert not p.done, count
        assert p.accept_counted([], count) == [] and p.done


def test_counted_pages_end_at_an_empty_page_or_a_page_of_repeats_whatever_count_says() -> None:
    p = task_pager()
    p.accept_counted(tasks("a", "b"), 10)
    assert p.accept_counted(None, 10) == [] and p.done  # fewer than count exist after all: no endless loop
    p = task_pager()
    p.accept_counted(tasks("a", "b"), 10)
    assert p.accept_counted(tasks("a", "b"), 10) == [] and p.done  # a server that ignores offset


def test_counted_pages_follow_the_latest_count() -> None:
    p = task_pager(2)
    p.accept_counted(tasks("a", "b"), 2)
    assert p.done  # the whole list in one page: no second request
    p = task_pager(2)
    p.accept_counted(tasks("a", "b"), 3)
    assert p.accept_counted(tasks("b", "c"), 4) == tasks("c") and not p.done  # shifted by an insert
    assert p.accept_counted(tasks("d"), 4) == tasks("d") and p.done


def samples(*ids: str) -> list[dict[str, str]]:
    return [{"sample_id": sample_id} for sample_id in ids]


def test_a_count_that_may_be_the_page_size_is_not_trusted_when_it_equals_the_page() -> None:
    # The sample lists call sample_count the "Number of samples.": the total, or this page's size.
    p = pager(2)
    assert p.accept_counted(samples("a", "b"), 2, count_may_be_page_size=True) == samples("a", "b")
    assert not p.done  # 2 could be this page's size: one more page decides
    assert p.accept_counted([], 2, count_may_be_page_size=True) == [] and p.done
    assert p.offset == 2


def test_a_count_that_may_be_the_page_size_still_ends_the_walk_once_it_is_clearly_the_total() -> None:
    p = pager(100)
    p.accept_counted(samples("a", "b"), 3, count_may_be_page_size=True)  # short page, count above it
    assert not p.done
    assert p.accept_counted(samples("c"), 3, count_may_be_page_size=True) == samples("c")
    assert (p.done, p.offset, p.received) == (True, 2, 3)  # no empty page needed


def test_per_page_counts_walk_to_the_empty_page() -> None:
    p = pager(2)
    for page in (samples("a", "b"), samples("c", "d"), samples("e")):
        p.accept_counted(page, len(page), count_may_be_page_size=True)
        assert not p.done
    assert p.accept_counted([], 0, count_may_be_page_size=True) == [] and p.done
    assert p.received == 5


def test_a_count_that_may_be_the_page_size_keeps_the_other_guards() -> None:
    p = pager(2)
    p.accept_counted(samples("a", "b"), 9, count_may_be_page_size=True)
    assert p.accept_counted(samples("a", "b"), 9, count_may_be_page_size=True) == [] and p.done  # repeats
    p = pager(2)
    p.accept_counted(samples("a"), None, count_may_be_page_size=True)
    assert not p.done and p.accept_counted(None, None, count_may_be_page_size=True) == [] and p.done


def test_a_long_walk_remembers_only_the_recent_pages_so_its_memory_stays_flat() -> None:
    p = pager()
    for page in range(1000):  # 2,000 distinct samples
        p.accept_counted([{"sample_id": f"s{2 * page}"}, {"sample_id": f"s{2 * page + 1}"}], 10_000)
    assert p.received == 2000 and not p.done
    # A repeat of the page before is still skipped (a page shifted by an insertion) ...
    assert p.accept_counted([{"sample_id": "s1997"}, {"sample_id": "new-1"}], 10_000) == [
        {"sample_id": "new-1"}
    ]
    # ... an id from a thousand pages ago is not remembered any more: what is kept does not grow.
    assert p.accept_counted([{"sample_id": "s0"}], 10_000) == [{"sample_id": "s0"}]
