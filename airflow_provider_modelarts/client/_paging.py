"""Paging state for the clients' ``iter_*`` helpers (samples, team labeling tasks), shared by both clients.

The list pages define ``offset`` as the *start page of the paging list* (default 0), so it counts pages,
not records: page ``n`` is ``offset=n`` with ``limit=page_size``. An item whose id was yielded by one of the
last :data:`REMEMBERED_PAGES` pages is not yielded again (pages shift when items are added while iterating),
and a page made only of repeats ends the iteration, so a server that ignores ``offset`` cannot cause an
endless loop. An empty page always ends it. Only recent pages are remembered, so a walk of 100,000 samples
holds a few hundred ids, not 100,000 (an export's memory stays flat); an item pushed back by more than a page
during one walk is not recognised as a repeat.

Where the list ends (:meth:`Pager.accept_counted`, for team labeling tasks and both sample lists):
ListWorkforceTasks documents ``limit`` as the "Maximum number of records returned on each page" and
``count`` as the "Total number of team labeling tasks"
(``querying_the_team_labeling_task_list_of_a_dataset.rst``), so a short page proves nothing: the walk goes on
while pages are non-empty and fewer than ``count`` distinct items were seen. Without a ``count`` (replies
are read leniently) only an empty page, or a page of repeats, ends it. The sample lists
(``querying_the_sample_list.rst``, ``querying_the_sample_list_of_a_team_labeling_task_by_page.rst``)
document the same ``limit`` but call ``sample_count`` only the "Number of samples.": the total, or perhaps
the size of the page it came with. With ``count_may_be_page_size`` a count equal to the page's size is not
trusted as the total, so the walk is right under both readings; it costs one request more (answered
empty) when the whole list fits in one page.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

__all__ = ["REMEMBERED_PAGES", "Pager"]

ItemT = TypeVar("ItemT")

#: Pages whose item ids a walk remembers to skip repeats: the page before and the page just read.
REMEMBERED_PAGES = 2


class Pager(Generic[ItemT]):
    """Which page to fetch next and which of its items are new; ``max_page_size`` is the page's limit."""

    __slots__ = ("_item_id", "_recent", "done", "offset", "page_size", "received")

    def __init__(self, page_size: int, max_page_size: int, item_id: Callable[[ItemT], str | None]) -> None:
        if (
            isinstance(page_size, bool)
            or not isinstance(page_size, int)
            or not 1 <= page_size <= max_page_size
        ):
            raise ValueError(f"page_size must be an integer from 1 to {max_page_size}, got {page_size!r}")
        self.page_size = page_size
        self.offset = 0
        self.done = False
        #: Distinct items yielded so far (items without an id each count once).
        self.received = 0
        self._item_id = item_id
        self._recent: deque[set[str]] = deque(maxlen=REMEMBERED_PAGES)

    def _fresh(self, items: Sequence[ItemT] | None) -> tuple[list[ItemT], int]:
        page = list(items or ())
        fresh: list[ItemT] = []
        keys: set[str] = set()
        for item in page:
            key = self._item_id(item)
            if key is not None:
                if key in keys or any(key in seen for seen in self._recent):
                    continue
                keys.add(key)
            fresh.append(item)
        self._recent.append(keys)
        self.offset += 1
        self.received += len(fresh)
        return fresh, len(page)

    def accept_counted(
        self, items: Sequence[ItemT] | None, total: object, *, count_may_be_page_size: bool = False
    ) -> list[ItemT]:
        """Record one page of a list whose reply carries the ``total`` number of items; returns the new ones.

        A short page does not end the walk (the page size is only a maximum); an empty page, a page of
        repeats, or having seen ``total`` distinct items does. A ``total`` that is not a non-negative integer
        is ignored (read leniently), leaving the empty page to end the walk. With ``count_may_be_page_size``
        (the sample lists, see the module docstring) a ``total`` equal to this page's size is ignored too.
        """
        fresh, size = self._fresh(items)
        count = total if isinstance(total, int) and not isinstance(total, bool) and total >= 0 else None
        if count_may_be_page_size and count == size:
            count = None
        if not fresh or (count is not None and self.received >= count):
            self.done = True
        return fresh
