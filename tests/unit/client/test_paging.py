"""client/_paging.py: a walk yields every item that was listed throughout it, each once, or says it could not.

The walks here read a list the test holds (:class:`World`), page by page as the service pages (``offset`` a
page number, ``limit`` a maximum), and the test changes the list between pages. The property test at the end
varies everything the module docstring allows: items added (at the end, at the front, anywhere) and deleted
between pages, and a count that is true, missing, low, high, or noisy.
"""

from __future__ import annotations

import itertools
import logging
import math
import pickle
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_provider_modelarts.client._base import item_id
from airflow_provider_modelarts.client._paging import (
    GROWTH,
    MARGIN_PAGES,
    MAX_PASSES,
    MERGE_AT,
    UNCOUNTED_ITEMS,
    IdDigests,
    Pager,
    digest,
    usable_count,
)
from airflow_provider_modelarts.errors import IncompleteListError, ModelArtsError

Item = dict[str, Any]
Count = Callable[[int, list[Item]], object]


def true_count(size: int, page: list[Item]) -> object:
    return size


class World:
    """A list as the service pages it: ``cap`` items per page at most whatever ``limit`` asks (``offset``
    then counts pages of that size), ``count(size, page)`` the reply's count (``None``: no count)."""

    def __init__(
        self,
        ids: list[str],
        *,
        count: Count = true_count,
        cap: int | None = None,
        ignore_offset: bool = False,
    ) -> None:
        self.items: list[Item] = [{"sample_id": i} for i in ids]
        self.count = count
        self.cap = cap
        self.ignore_offset = ignore_offset
        self.offsets: list[int] = []
        #: Per pass, as its first page was served: the ids yielded before it, that page's length and count.
        self.starts: list[tuple[int, int, object]] = []

    def ids(self) -> list[str]:
        return [item["sample_id"] for item in self.items]

    def serve(self, offset: int, limit: int) -> tuple[list[Item], object]:
        self.offsets.append(offset)
        size = min(limit, self.cap) if self.cap else limit
        start = 0 if self.ignore_offset else offset * size
        page = self.items[start : start + size]
        return page, self.count(len(self.items), page)


def run(
    pager: Pager[Any], world: World, between: Callable[[int], None] | None = None
) -> tuple[list[str], IncompleteListError | None]:
    """Walk ``world`` to the end (``between(n)`` changes it after the n-th page); the ids yielded and the
    error the walk ends with."""
    yielded: list[str] = []
    while not pager.done:
        items, total = world.serve(pager.offset, pager.page_size)
        if pager.offset == 0:
            world.starts.append((len(yielded), len(items), total))
        yielded += [item.get("sample_id") for item in pager.accept_counted(items, total)]
        if between is not None:
            between(pager.pages)
        assert pager.pages <= 10_000, "the walk does not end"
    return yielded, pager.error()


def pager(size: int = 2, **options: Any) -> Pager[Any]:
    return Pager(size, 100, item_id("sample_id"), **options)


def ids(n: int, prefix: str = "s") -> list[str]:
    return [f"{prefix}{i}" for i in range(n)]


def passes(world: World) -> list[int]:
    """The requests of each pass (a pass begins at offset 0)."""
    lengths: list[int] = []
    for offset in world.offsets:
        if offset == 0:
            lengths.append(0)
        lengths[-1] += 1
    return lengths


def grow(world: World, per_page: int) -> Callable[[int], None]:
    """After every page, ``per_page`` new ids at the end of the list: forever."""
    fresh = (f"n{i}" for i in itertools.count())
    return lambda page: world.items.extend({"sample_id": next(fresh)} for _ in range(per_page))


# ------------------------------------------------------------------------------------- a quiet list


def test_a_quiet_list_is_read_twice_each_pass_to_its_empty_page_and_yielded_once() -> None:
    world = World(ids(5))
    walk = pager(2)
    assert run(walk, world) == (ids(5), None)
    assert world.offsets == [0, 1, 2, 3] * 2  # 2 + 2 + 1, then the empty page; a second pass confirms
    assert (walk.done, walk.passes, walk.pages, walk.received) == (True, 2, 8, 5)
    walk.finish()  # complete: nothing raised


def test_an_empty_list_is_two_empty_pages() -> None:
    world = World([], count=lambda size, page: None)
    assert run(pager(), world) == ([], None)
    assert world.offsets == [0, 0]


@pytest.mark.parametrize("count", [None, 0, 3, 7, -1, True, "70", 20.5], ids=repr)
def test_every_non_empty_page_earns_another_request_whatever_the_count(count: object) -> None:
    """Issue 25 item 7: a count at or below what was read never ends a pass; only an empty page does."""
    world = World(ids(7), count=lambda size, page: count)
    yielded, error = run(pager(3), world)
    assert yielded == ids(7)
    assert world.offsets == [0, 1, 2, 3, 0, 1, 2, 3]
    assert error is None  # a low (or missing, or unusable) count is only wrong, not a short result


def test_a_server_that_caps_its_pages_below_the_limit_is_read_to_its_empty_page() -> None:
    world = World(ids(7), cap=2)  # "limit: Maximum number of records returned on each page"
    assert run(pager(50), world) == (ids(7), None)
    assert world.offsets == [0, 1, 2, 3, 4] * 2


# ------------------------------------------------------------------------- lists that change meanwhile


def test_issue_25_item_1_samples_added_newest_first_during_the_walk_are_all_yielded() -> None:
    """Newest first, 6 samples and 3 more added after each of the first pages: each new sample pushes old
    ones onto pages already read, so pages repeat; the walk reads again until two passes agree."""
    world = World(ids(6, "old"))
    added = iter(ids(9, "new"))

    def add_newest(page: int) -> None:
        if page <= 3:
            world.items[:0] = [{"sample_id": next(added)} for _ in range(3)]

    yielded, error = run(pager(2), world, add_newest)
    assert error is None
    assert sorted(yielded) == sorted(ids(6, "old") + ids(9, "new")) and len(yielded) == 15
    assert world.offsets.count(0) == 3  # changed during the first pass, confirmed by the second and third


def test_one_pass_proves_nothing_a_deletion_behind_the_reader_hides_an_item() -> None:
    """Between two pages one sample already read is deleted and another added at the end: the count stays,
    and ``c`` slides onto a page already read. Only a second pass finds it."""
    world = World(["a", "b", "c", "d"])

    def swap(page: int) -> None:
        if page == 1:
            del world.items[0]
            world.items.append({"sample_id": "e"})

    yielded, error = run(pager(2), world, swap)
    assert yielded == ["a", "b", "d", "e", "c"] and error is None
    assert world.offsets == [0, 1, 2] + [0, 1, 2] * 2


def test_a_list_that_never_stops_changing_ends_after_the_last_pass_with_the_numbers() -> None:
    world = World(ids(3, "x"), count=true_count)
    fresh = iter(ids(1000, "n"))
    between = lambda page: world.items.append({"sample_id": next(fresh)})  # noqa: E731
    yielded, error = run(pager(2), world, between)
    assert error is not None and world.offsets.count(0) == MAX_PASSES == 4
    assert len(yielded) == len(set(yielded)) == error.distinct
    assert error.reason == "the list changed during each of 4 passes"
    assert (error.pages, error.passes) == (len(world.offsets), 4)
    assert error.counts[0] == 3 and error.counts[-1] == len(world.items) - 1
    assert set(ids(3, "x")) <= set(yielded)


# ---------------------------------------------------------------------------------- the count's word


def test_a_count_above_what_two_equal_passes_read_is_a_possible_short_result() -> None:
    world = World(ids(3), count=lambda size, page: 50)
    walk = pager(2)
    yielded, error = run(walk, world)
    assert yielded == ids(3)
    assert error is not None and error.is_transient and not isinstance(error, ValueError)
    assert error.reason == "two passes read the same 3 items, fewer than the count 50 the pages reported"
    assert (error.distinct, error.counts, error.pages, error.passes) == (3, (50,), 6, 2)
    with pytest.raises(IncompleteListError, match="3 distinct items seen, counts reported: 50, 6 pages"):
        walk.finish()


def test_a_count_equal_to_what_was_read_is_complete() -> None:
    for total in (4, 3):  # exactly the items, or fewer (a low count: only wrong)
        assert run(pager(2), World(ids(4), count=lambda size, page, t=total: t)) == (ids(4), None)


def test_a_count_that_may_be_the_page_size_is_not_taken_for_a_total() -> None:
    """The sample lists: "sample_count: Number of samples." A count equal to its page's length may be that
    page's size, so it is neither a total to miss nor a cap; any other count is a total."""
    per_page = World(ids(5), count=lambda size, page: len(page))
    assert run(pager(2, count_may_be_page_size=True), per_page) == (ids(5), None)
    high = World(ids(5), count=lambda size, page: 9)
    assert run(pager(2, count_may_be_page_size=True), high)[1] is not None  # 9 is no page's size
    # Read as a total, the per-page counts (2, 2, 1, 0) would be below the 5 items read: still complete.
    assert run(pager(2), World(ids(5), count=lambda size, page: len(page))) == (ids(5), None)
    # 2 on a page of 2 is not a total; 2 on the empty page is, and it is below 5: complete.
    walk = pager(2, count_may_be_page_size=True)
    assert run(walk, World(ids(5), count=lambda size, page: 2))[1] is None
    # 6 beside a page of 6 may be its size; beside the empty page it is the total, and all 6 were read.
    walk = pager(6, count_may_be_page_size=True)
    assert run(walk, World(ids(6), count=lambda size, page: 6)) == (ids(6), None)


# --------------------------------------------------------------------- servers that never end a pass


def test_a_server_that_ignores_offset_ends_the_walk_after_two_passes() -> None:
    world = World(ids(2), count=lambda size, page: 5, ignore_offset=True)
    yielded, error = run(pager(2), world)
    assert yielded == ids(2) and world.offsets == [0, 1, 0, 1]
    assert error is not None
    assert error.reason == (
        "two passes read the same pages and ended at a page of items that pass had read already"
    )


def test_the_page_cap_is_fixed_by_what_was_known_when_the_pass_began() -> None:
    world = World(ids(4), count=lambda size, page: 4)
    walk = pager(2)
    walk.accept_counted(*world.serve(0, 2))
    assert walk.offset == 1
    assert walk._page_cap() == math.ceil(GROWTH * 4 / 2) + MARGIN_PAGES == 6
    walk.accept_counted([{"sample_id": "z1"}, {"sample_id": "z2"}, {"sample_id": "z3"}], 90)
    assert walk._page_cap() == 6  # neither a later count nor more ids move it (average page: 5 // 2)
    walk.accept_counted([{"sample_id": f"y{i}"} for i in range(7)], 90)
    assert walk._page_cap() == math.ceil(2 * 4 / (12 // 3)) + 2 == 4  # longer pages: fewer of them


def test_the_page_cap_is_counted_in_whole_pages_of_the_average_whole_length() -> None:
    walk = pager(4)
    walk.accept_counted([{"sample_id": f"a{i}"} for i in range(4)], 5)
    assert walk._page_cap() == math.ceil(2 * 5 / 4) + 2 == 5  # whole pages: 3, not 2.5
    walk.accept_counted([{"sample_id": "b"}], 5)
    assert walk._page_cap() == 2 * 5 // 2 + 2 == 7  # 5 items in 2 pages: 2 a page (whole items), not 2.5
    walk = pager(1)
    walk.accept_counted([{"sample_id": "a"}], 3)
    assert walk._page_cap() == 2 * 3 + 2 == 8  # pages of one item


def test_a_later_pass_starts_from_the_ids_yielded_before_it() -> None:
    """A count of 2 caps pass 1 at 2x2 items + 2 pages; pass 2 knows the 8 ids pass 1 yielded (cap 2x8 / 2
    + 2 = 10 pages, one short of the empty page), pass 3 the 20: it reaches the empty page, pass 4 agrees
    (a count below what two equal passes read is only wrong)."""
    world = World(ids(20), count=lambda size, page: 2)
    assert run(pager(2), world) == (ids(20), None)
    assert passes(world) == [4, 10, 11, 11]


def test_without_a_count_to_go_by_the_cap_grows_with_the_ids_read_up_to_uncounted() -> None:
    assert pager(2).uncounted == UNCOUNTED_ITEMS == 100_000 and GROWTH == 2
    for count in (None, 1):  # none, or one below the first page's 2 items: nothing to go by
        world = World(ids(30), count=lambda size, page, c=count: c)
        assert run(pager(2, uncounted=4), world) == (ids(30), None)
        # 2x4 ids + 2 pages; 2x12 + 2; 2x28 + 2 reaches the empty page (the 16th), and the 4th pass agrees
        assert passes(world) == [6, 14, 16, 16]
    world = World(ids(70), count=lambda size, page: None)  # more than 8x uncounted (and the margins)
    yielded, error = run(pager(2, uncounted=4), world)
    assert yielded == ids(70) and error is not None and passes(world) == [6, 14, 30, 36]
    assert error.reason == (
        "no two of 4 passes read the same pages; pass 3 ended at no empty page within 30 pages, its cap "
        "(2x the 28 items known when it began, plus 2 pages): the list grew faster than it could be read, "
        "or holds far more than was known"
    )


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        (true_count, [6, 18, 54, 162]),  # counts 10, 40, 130, 400 on the first pages: caps 2x / 5 + 2
        (lambda size, page: None, [10, 22, 46, 94]),  # no count: 2x 20 (uncounted), then 2x 50, 110, 230
        (lambda size, page: len(page), [10, 22, 46, 94]),  # a count that may be the page's size: none
    ],
    ids=["count", "no-count", "page-size-count"],
)
def test_a_list_that_grows_as_fast_as_it_is_read_ends_after_a_bounded_number_of_requests(
    count: Count, expected: list[int], caplog: pytest.LogCaptureFixture
) -> None:
    """A page of fresh ids after every page read, forever (a dataset filled faster than it is read, or a
    server inventing ids): each pass stops at the cap fixed by what was known when it began."""
    for on_incomplete in ("raise", "warn"):
        world = World(ids(10), count=count)
        walk = pager(5, uncounted=20, count_may_be_page_size=True, on_incomplete=on_incomplete)
        yielded, error = run(walk, world, grow(world, 5))
        assert passes(world) == expected and error is not None
        for length, (before, first, total) in zip(passes(world), world.starts, strict=True):
            known = total if isinstance(total, int) and total > first else max(before, 20)
            assert length <= math.ceil(GROWTH * max(known, before) / 5) + MARGIN_PAGES
        assert len(yielded) == len(set(yielded)) == error.distinct == 5 * expected[-1]  # the last pass's
        assert error.reason.startswith(
            f"no two of 4 passes read the same pages; pass 4 ended at no empty page "
            f"within {expected[-1]} pages, its cap (2x the {(expected[-1] - 2) * 5 // 2} items known when it "
            "began, plus 2 pages)"
        )
        assert error.reason.endswith(
            "the list grew faster than it could be read, or holds far more than was known"
        )
    with caplog.at_level(logging.WARNING, logger="airflow_provider_modelarts.client"):
        walk.finish()  # the warn walk: the same verdict as a warning
    assert [r.getMessage() for r in caplog.records] == [str(error)]


def test_pages_of_one_item_without_a_count_are_read_to_the_end() -> None:
    """Pages of one: the cap grows with the ids seen, a page at a time."""
    world = World(ids(6), count=lambda size, page: None)
    assert run(pager(1), world) == (ids(6), None)
    assert world.offsets == list(range(7)) * 2


@pytest.mark.parametrize("per_page", [False, True], ids=["total", "page-length"])
def test_a_page_that_lists_one_item_twice_counts_it_once(per_page: bool) -> None:
    """Two entries of one id under a count of 2 (the total, or the page's length): one item was read, so
    the list may hold one more; only where the count may be the page's size is 2 no total."""
    world = World(["a", "a"], count=(lambda size, page: len(page)) if per_page else true_count)
    yielded, error = run(pager(2), world)
    assert yielded == ["a"] and error is not None
    assert error.reason == "two passes read the same 1 items, fewer than the count 2 the pages reported"
    yielded, error = run(pager(2, count_may_be_page_size=True), World(["a", "a"], count=world.count))
    assert yielded == ["a"]
    assert (error is None) == per_page  # the empty page's 2 is a total; its 0 is its size


def test_a_repeating_server_with_no_count_ends_at_the_margin() -> None:
    """Items without ids, no count, offset ignored (issue 25 item 8): this walked forever; it ends now."""
    page = [{"name": "a"}, {"name": "b"}]
    walk = pager(2)
    requests = 0
    while not walk.done:
        walk.accept_counted(page, None)
        requests += 1
    assert requests == 4  # no basis: MARGIN_PAGES (2) per pass, and one confirming pass
    assert walk.idless == 4 and walk.problem is not None
    assert "no empty page within 2 pages" in walk.problem


def test_a_reply_whose_items_are_not_a_list_is_never_an_end() -> None:
    walk = pager(2)
    assert walk.accept_counted({"sample_id": "a"}, 1) == []  # type: ignore[arg-type]
    assert walk.passes == 2 and walk.offset == 0 and not walk.done  # the pass ended, unproven
    walk.accept_counted({"sample_id": "a"}, 1)  # type: ignore[arg-type]
    assert (
        walk.done
        and walk.problem == "two passes read the same pages and ended at a reply whose items are not a list"
    )


# ------------------------------------------------------------------------------- items without an id


def test_items_without_an_id_are_yielded_in_the_first_pass_only() -> None:
    world = World(ids(2))
    world.items.insert(1, {"other": 1})
    world.items.append({"sample_id": 5})  # not a string: no id
    walk = pager(2)
    assert walk.done is False
    yielded, error = run(walk, world)
    assert yielded == ["s0", None, "s1", 5] and error is None
    assert walk.idless == 2 and walk.received == 4


def test_a_later_pass_names_how_many_items_without_an_id_it_listed() -> None:
    world = World(["a", "b"])

    def prepend(page: int) -> None:
        if page == 2:  # after the first pass's empty page
            world.items[:0] = [{"other": 1}, {"other": 2}]

    yielded, error = run(pager(3), world, prepend)
    assert yielded == ["a", "b"] and error is not None
    assert error.reason == "the list changed, and pass 2 listed 2 items without an id"


def test_an_item_without_an_id_counts_once_against_the_count() -> None:
    world = World(["a"], count=lambda size, page: 3)
    world.items.append({"other": 1})
    yielded, error = run(pager(2), world)
    assert yielded == ["a", None] and error is not None
    assert error.reason == "two passes read the same 2 items, fewer than the count 3 the pages reported"
    world = World(["a"], count=lambda size, page: 4)
    world.items += [{"other": 1}, {"other": 2}, {"other": 3}]
    assert run(pager(5), world)[1] is None  # 4 items, 3 of them without an id


def test_items_without_an_id_fail_a_list_that_changed_rather_than_be_yielded_twice() -> None:
    world = World(["a", "b"])
    world.items.append({"other": 1})

    def add(page: int) -> None:
        if page == 1:
            world.items.append({"sample_id": "c"})

    walk = pager(2)
    yielded, error = run(walk, world, add)
    assert yielded.count(None) == 1 and error is not None
    assert error.reason == "the list changed, and pass 2 listed 1 items without an id"
    assert walk.passes == 2


def test_items_without_an_id_that_appear_in_a_later_pass_fail_the_walk() -> None:
    world = World(["a", "b", "c"])

    def add(page: int) -> None:
        if page == 2:
            world.items.append({"other": 1})

    walk = pager(2)
    yielded, error = run(walk, world, add)
    assert None not in yielded and error is not None
    assert error.reason == "the list changed, and pass 2 listed 1 items without an id"
    assert (walk.idless, walk.received, walk.passes) == (0, 3, 2)  # never yielded: it came in pass 2


# -------------------------------------------------------------------------------------- the results


def test_on_incomplete_warn_logs_the_numbers_instead_of_raising(caplog: pytest.LogCaptureFixture) -> None:
    walk = pager(2, on_incomplete="warn", what="GET /v2/p/datasets/d/data-annotations/samples")
    run(walk, World(ids(1), count=lambda size, page: 3))
    with caplog.at_level(logging.WARNING, logger="airflow_provider_modelarts.client"):
        walk.finish()
    (record,) = caplog.records
    assert (record.levelno, record.name) == (logging.WARNING, "airflow_provider_modelarts.client")
    assert record.getMessage() == (
        "GET /v2/p/datasets/d/data-annotations/samples: could not prove every item was read (two passes read "
        "the same 1 items, fewer than the count 3 the pages reported): 1 distinct items seen, counts "
        "reported: 3, 4 pages read in 2 passes."
    )


def test_the_error_is_a_transient_picklable_modelarts_error_naming_its_numbers() -> None:
    walk = pager(2)
    run(walk, World(ids(1), count=lambda size, page: 3))
    error = walk.error()
    assert isinstance(error, ModelArtsError) and not isinstance(error, ValueError)
    copy = pickle.loads(pickle.dumps(error))
    assert (type(copy), str(copy), copy.counts) == (IncompleteListError, str(error), (3,))
    with pytest.raises(IncompleteListError) as raised:
        walk.finish()
    assert raised.value.what == "list"


def test_arguments_are_checked() -> None:
    for bad in (0, 101, True, 2.5):
        with pytest.raises(ValueError, match="page_size must be an integer from 1 to 100"):
            Pager(bad, 100, item_id("task_id"))  # type: ignore[arg-type]
    assert Pager(100, 100, item_id("task_id")).page_size == 100
    assert Pager(1, 100, item_id("task_id")).page_size == 1
    with pytest.raises(ValueError, match="on_incomplete must be 'raise' or 'warn', got 'ignore'"):
        Pager(2, 100, item_id("task_id"), on_incomplete="ignore")


@pytest.mark.parametrize(
    ("total", "expected"), [(0, 0), (7, 7), (-1, None), (True, None), ("3", None), (2.0, None), (None, None)]
)
def test_only_a_non_negative_integer_is_a_count(total: object, expected: int | None) -> None:
    assert usable_count(total) == expected


# ------------------------------------------------------------------------------ remembering the ids


def test_ids_are_remembered_as_8_byte_digests_across_merges() -> None:
    assert len(digest("s1")) == 8 and digest("s1") != digest("s2")
    assert len(digest("\ud800")) == 8  # a lone surrogate (a lenient read keeps what the JSON held)
    seen = IdDigests()
    n = MERGE_AT * 3
    assert all(seen.add(digest(f"id-{i}")) for i in range(n))
    assert len(seen) == n
    assert len(seen._recent) <= MERGE_AT  # the rest went into the sorted array
    assert list(seen._sorted) == sorted(seen._sorted)
    assert not any(seen.add(digest(f"id-{i}")) for i in range(n))  # remembered, merged or not
    assert len(seen) == n


def test_digests_merge_when_the_recent_set_outgrows_an_eighth_of_the_array() -> None:
    seen = IdDigests()
    for i in range(1024):
        seen.add(digest(f"a{i}"))
    assert (len(seen._sorted), len(seen._recent)) == (0, 1024)  # MERGE_AT (1024) recent ones: not yet
    seen.add(digest("a-last"))
    assert (len(seen._sorted), len(seen._recent)) == (1025, 0)  # more than 1024: merged
    for i in range(7 * 1025 + 1024):
        seen.add(digest(f"b{i}"))
    assert (len(seen._sorted), len(seen._recent)) == (8200, 1024)  # merged every 1025 up to here
    seen.add(digest("b-last"))
    assert (len(seen._sorted), len(seen._recent)) == (8200, 1025)  # 8200 // 8 = 1025: not more than that
    seen.add(digest("c"))
    assert (len(seen._sorted), len(seen._recent)) == (9226, 0)


def test_a_long_walk_keeps_about_nine_bytes_per_id() -> None:
    walk = pager(100)
    for page in range(200):
        walk.accept_counted([{"sample_id": f"s{100 * page + i}"} for i in range(100)], 20_000)
    assert walk.received == 20_000
    seen = walk._yielded
    assert seen._sorted.itemsize == 8 and len(seen._recent) <= len(seen._sorted) // 8 + 1


# ------------------------------------------------------------------- the property: never a short result


@st.composite
def worlds(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "size": draw(st.integers(0, 14)),
        "page": draw(st.integers(1, 4)),
        "cap": draw(st.one_of(st.none(), st.integers(1, 3))),
        "where": draw(st.sampled_from(["end", "front", "anywhere"])),
        "count": draw(st.sampled_from(["true", "missing", "offset", "noisy"])),
        "offset": draw(st.integers(-3, 3)),
        "forever": draw(st.booleans()),  # items added after every page, never stopping
        "uncounted": draw(st.integers(1, 8)),
    }


@settings(max_examples=120)
@given(world=worlds(), data=st.data())
def test_a_walk_yields_every_item_listed_throughout_once_or_raises(world: dict[str, Any], data: Any) -> None:
    """Items are added and deleted between any two pages (what is deleted was listed when the walk began:
    the module docstring's one blind spot is an item added and deleted again unseen), and the count is
    true, missing, off by a constant, or noisy. Whatever happens: no item twice, a bounded number of
    requests, and every item listed from the first request to the last yielded, or IncompleteListError.
    Each pass reads at most the pages its cap allows from what was known when it began (the count its first
    page reported, or ``uncounted`` without one, and the ids yielded before it), so a list that never stops
    growing ends the walk too, with IncompleteListError."""
    noise = data.draw(st.lists(st.integers(-2, 2), min_size=1, max_size=8), label="noise")
    counts = {
        "true": lambda size, page: size,
        "missing": lambda size, page: None,
        "offset": lambda size, page: max(0, size + world["offset"]),
        "noisy": lambda size, page: max(0, size + noise[len(lists.offsets) % len(noise)]),
    }
    lists = World(ids(world["size"], "o"), count=counts[world["count"]], cap=world["cap"])
    original = set(lists.ids())
    deleted: set[str] = set()
    largest = [world["size"], 0]
    new_ids = (f"n{i}" for i in itertools.count())
    added = [0]
    changes = math.inf if world["forever"] else data.draw(st.integers(0, 12), label="changes")

    def change(page: int) -> None:
        if page > changes:  # how many pages have a change after them
            return
        for _ in range(data.draw(st.integers(int(world["forever"]), 2), label="adds")):
            at = {"end": len(lists.items), "front": 0}.get(world["where"])
            if at is None:
                at = data.draw(st.integers(0, len(lists.items)), label="at")
            lists.items.insert(at, {"sample_id": next(new_ids)})
            added[0] += 1
        removable = [i for i, item in enumerate(lists.items) if item["sample_id"] in original]
        for _ in range(data.draw(st.integers(0, min(2, len(removable))), label="deletes")):
            index = data.draw(st.sampled_from(removable), label="delete")
            removable.remove(index)
            deleted.add(lists.items[index]["sample_id"])
            lists.items[index] = {"sample_id": None}  # placeholder so the indexes stay valid
        lists.items = [item for item in lists.items if item["sample_id"] is not None]
        largest[0] = max(largest[0], len(lists.items))

    walk = pager(world["page"], uncounted=world["uncounted"])
    yielded, error = run(walk, lists, change)
    assert len(yielded) == len(set(yielded)), "an item was yielded twice"
    basis = max(largest[0], world["size"] + added[0], *walk._counts)
    assert walk.pages <= MAX_PASSES * (basis + MARGIN_PAGES + 1)
    for length, (before, first, total) in zip(passes(lists), lists.starts, strict=True):
        count = usable_count(total)
        known = count if count is not None and count >= first else world["uncounted"]
        assert length <= GROWTH * max(known, before) + MARGIN_PAGES  # pages of at least one item
    if world["forever"]:
        assert error is not None
    if error is None:
        throughout = original - deleted
        assert throughout <= set(yielded), f"silently missed {sorted(throughout - set(yielded))}"
