"""Paging state for the clients' ``iter_*`` helpers (samples, team labeling tasks), shared by both clients.

The list pages define ``offset`` as the *start page of the paging list* (default 0), so it counts pages,
not records: page ``n`` is ``offset=n`` with ``limit=page_size``. Iteration stops at the first short or
empty page. An item whose id was already yielded is not yielded again (pages shift when items are added
while iterating), and a page made only of repeats ends the iteration, so a server that ignores ``offset``
cannot cause an endless loop.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

__all__ = ["Pager"]

ItemT = TypeVar("ItemT")


class Pager(Generic[ItemT]):
    """Which page to fetch next and which of its items are new; ``max_page_size`` is the page's limit."""

    __slots__ = ("_item_id", "_seen", "done", "offset", "page_size")

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
        self._item_id = item_id
        self._seen: set[str] = set()

    def accept(self, items: Sequence[ItemT] | None) -> list[ItemT]:
        """Record one fetched page; returns its items not seen before."""
        items = list(items or ())
        fresh: list[ItemT] = []
        for item in items:
            key = self._item_id(item)
            if key is not None:
                if key in self._seen:
                    continue
                self._seen.add(key)
            fresh.append(item)
        self.offset += 1
        if len(items) < self.page_size or not fresh:
            self.done = True
        return fresh
