"""Walks over the service's lists (samples, team labeling tasks, their samples; import tasks next): the rule.

The list pages define ``offset`` as the *start page of the paging list* (default 0), so it counts pages, not
records (page ``n`` is ``offset=n`` with ``limit=page_size``), and ``limit`` as the "Maximum number of records
returned on each page" (``querying_the_sample_list.rst``, ``querying_the_sample_list_of_a_team_labeling_task
_by_page.rst``, ``querying_the_team_labeling_task_list_of_a_dataset.rst``): a short page proves nothing. Items
are added and removed while a walk reads (a run adds samples, a labeler finishes one, a task is deleted), and
the reply's count may be missing, low or high. A walk is correct under all of that when it yields every item
that was in the list from its first request to its last, never one item twice, or says it could not:

* **Passes.** A pass reads pages 0, 1, 2, ... Every non-empty page earns another request (a full one and a
  short one alike); only an **empty page** ends a pass as read to the end. A page whose items all repeat ones
  this pass already read (a server that ignores ``offset``), a reply whose items are not a list, or reaching
  the pass's page cap end it too, *unproven*.
* **Bounded by what was known.** A pass's cap is bounded by what was known when it began, never by what it
  reads alone (a list that gains items as fast as they are read, or a server inventing ids, would otherwise
  be read forever): ``ceil(GROWTH * basis / page) + MARGIN_PAGES`` pages, ``page`` the average length of the
  non-empty pages read, ``basis`` the larger of the count the pass's first page reported and the distinct
  ids the walk yielded before the pass. Where that first page reports no count it can use (none, one that
  is not a total, or one below the items on that page), the pass has no count to go by and ``basis`` also
  grows with the ids the pass reads, but no further than :data:`UNCOUNTED_ITEMS`. So a pass reads at most
  ``GROWTH * max(basis, UNCOUNTED_ITEMS) + MARGIN_PAGES`` pages whatever the list does; one that reaches
  its cap ends unproven, saying the list grew faster than it could be read, and each later pass starts
  from what the earlier ones yielded (a count that was too low costs a pass, not the walk).
* **Never twice.** Every id yielded is remembered for the whole walk as an 8-byte BLAKE2b digest in
  :class:`IdDigests` (10-15 bytes per item, 25 while merging; a later pass keeps its own set too), so a pass
  yields only what no earlier page yielded. Two distinct ids share a digest with odds of n^2 / 2^65 (1 in 37
  million walks of a million items); the second is then skipped as a repeat.
* **Proof.** One pass never proves anything: between two pages one item before the reader's position can be
  deleted (the next item slides onto a page already read) while another is added at the end, and neither
  the count nor the ids show it. A walk is *complete* when its last two passes read the same pages (the same
  ids in the same places, the same counts), both ended by an empty page, and no page of the last pass
  reported a count above the distinct items that pass read. An item that was in the list throughout and
  was skipped in a pass was skipped because an item that pass read was deleted during it; that item cannot
  be in the next pass, so the two passes differ. (The proof assumes ids are never reused, and fails in one
  case only: an item added *behind* the reader and deleted again while it reads, in both passes at the same
  pages, so that they look alike.) A count below what two equal passes read is only wrong:
  the walk is complete (the team task list's count, issue 25 item 7). A count above it is a possible short
  result: incomplete.
* **At most MAX_PASSES passes.** After each unproven pass the walk reads again, yielding only new items, at
  most :data:`MAX_PASSES` passes; when two passes read the same pages and still prove nothing, the walk stops
  there (another pass would read them again). It then raises
  :class:`~airflow_provider_modelarts.errors.IncompleteListError` (transient: a later walk may find the list
  quiet) naming the distinct items seen, the counts the pages reported and the pages read, or, where the
  caller passed ``on_incomplete="warn"``, logs that message as a warning. Never a silent short result.
* **Items without an id** (a lenient read keeps them) cannot be told apart: they are yielded in the first
  pass only. A later pass that lists any ends the walk: complete if it read the same pages as the pass
  before (so the same id-less items, as many on each page), else incomplete rather than yield one twice.
* **Order.** Where a page offers a stable order, a walk that must be complete asks for it: the dataset
  sample list documents ``order`` (asc / desc, default desc) and is walked with ``order=asc`` unless the
  caller passes ``order``. The team task list and the team task sample list document no order parameter.
* **``count_may_be_page_size``**: the sample lists call ``sample_count`` only the "Number of samples.":
  the total, or perhaps the size of the page it came with. A count equal to its page's length is therefore
  not used as a total (not in the cap, not in the count check); every other count is.
"""

from __future__ import annotations

import hashlib
import logging
import struct
from array import array
from bisect import bisect_left
from collections.abc import Callable, Sequence
from heapq import merge
from typing import Generic, TypeVar

from airflow_provider_modelarts.errors import IncompleteListError

__all__ = ["GROWTH", "MARGIN_PAGES", "MAX_PASSES", "ON_INCOMPLETE", "UNCOUNTED_ITEMS", "IdDigests", "Pager"]

log = logging.getLogger("airflow_provider_modelarts.client")

ItemT = TypeVar("ItemT")

#: Passes a walk makes at most; the first can never prove itself complete, so this allows two retries.
MAX_PASSES = 4
#: How many times the items known when a pass began it may read before it ends unproven (a list may grow).
GROWTH = 2
#: Pages a pass may read beyond ``GROWTH`` times what was known (the empty page, and a few items more).
MARGIN_PAGES = 2
#: The ids a pass without a usable count may read before its cap stops growing with them: count-less lists
#: of up to ``GROWTH ** 3`` times this are still read through (the third and fourth passes agree).
UNCOUNTED_ITEMS = 100_000
#: What a walk that cannot prove itself complete does: raise (the default), or log a warning.
ON_INCOMPLETE = ("raise", "warn")
#: Digests kept in a plain set before they are merged into the sorted array (and at least 1/8 of it).
MERGE_AT = 1024
#: A digest as the number the sorted array keeps.
_NUMBER = struct.Struct(">Q")


def digest(key: str) -> bytes:
    """The 8-byte digest a walk remembers an id by."""
    return hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=8).digest()


class IdDigests:
    """A set of 8-byte digests in 10-15 bytes each: a sorted ``array('Q')`` and a small set of recent ones,
    merged into the array when the set outgrows :data:`MERGE_AT` and an eighth of the array."""

    __slots__ = ("_recent", "_sorted")

    def __init__(self) -> None:
        self._sorted = array("Q")
        self._recent: set[int] = set()

    def __len__(self) -> int:
        return len(self._sorted) + len(self._recent)

    def add(self, value: bytes) -> bool:
        """Remember ``value``; ``True`` when it was not remembered yet."""
        (number,) = _NUMBER.unpack(value)
        if number in self._recent:
            return False
        at = bisect_left(self._sorted, number)
        if at < len(self._sorted) and self._sorted[at] == number:
            return False
        self._recent.add(number)
        if len(self._recent) > max(MERGE_AT, len(self._sorted) >> 3):
            self._sorted = array(self._sorted.typecode, merge(self._sorted, sorted(self._recent)))
            self._recent = set()
        return True


def usable_count(total: object) -> int | None:
    """A reply's count if it is one (a non-negative integer; replies are read leniently), else ``None``."""
    return total if isinstance(total, int) and not isinstance(total, bool) and total >= 0 else None


class Pager(Generic[ItemT]):
    """One walk: which page to fetch next (:attr:`offset`), which items of a page are new
    (:meth:`accept_counted`) and, once :attr:`done`, whether it proved itself complete (:meth:`finish`).

    ``max_page_size`` is the page's documented limit; ``what`` names the list in messages (method and path).
    """

    __slots__ = (
        "_basis",
        "_before",
        "_counted",
        "_counts",
        "_fingerprint",
        "_idless_in_pass",
        "_in_pass",
        "_item_id",
        "_items_read",
        "_nonempty_pages",
        "_pass_count",
        "_previous",
        "_read_in_pass",
        "_unproven",
        "_yielded",
        "count_may_be_page_size",
        "done",
        "idless",
        "offset",
        "on_incomplete",
        "page_size",
        "pages",
        "passes",
        "problem",
        "uncounted",
        "what",
    )

    def __init__(
        self,
        page_size: int,
        max_page_size: int,
        item_id: Callable[[ItemT], str | None],
        *,
        count_may_be_page_size: bool = False,
        on_incomplete: str = "raise",
        what: str = "list",
        uncounted: int = UNCOUNTED_ITEMS,
    ) -> None:
        if (
            isinstance(page_size, bool)
            or not isinstance(page_size, int)
            or not 1 <= page_size <= max_page_size
        ):
            raise ValueError(f"page_size must be an integer from 1 to {max_page_size}, got {page_size!r}")
        if on_incomplete not in ON_INCOMPLETE:
            raise ValueError(f"on_incomplete must be 'raise' or 'warn', got {on_incomplete!r}")
        self.page_size = page_size
        self.count_may_be_page_size = count_may_be_page_size
        self.on_incomplete = on_incomplete
        self.what = what
        #: The ids a pass without a usable count may read before its cap stops growing (tests lower it).
        self.uncounted = uncounted
        self._item_id = item_id
        self.passes = 1
        self.pages = 0
        self.done = False
        #: Why the walk is not complete, once it is :attr:`done` (``None``: complete).
        self.problem: str | None = None
        #: Items without an id yielded (first pass only).
        self.idless = 0
        self._yielded = IdDigests()
        self._counts: list[int] = []
        self._items_read = 0
        self._nonempty_pages = 0
        self._previous: bytes | None = None
        self._unproven: tuple[int, str] | None = None  # the last pass that ended unproven, and why
        self._new_pass(self._yielded)  # the first pass's ids are the walk's; later passes get their own

    def _new_pass(self, ids: IdDigests) -> None:
        #: Page number of the next request within the current pass (1-based :attr:`passes`).
        self.offset = 0
        self._in_pass = ids
        self._read_in_pass = 0  # distinct items the pass read (each without an id counts once)
        self._idless_in_pass = 0
        self._pass_count = 0  # the largest count the pass's pages reported (one that is a total)
        self._fingerprint = hashlib.blake2b()
        self._before = len(self._yielded)  # the ids yielded before the pass: its basis at least

    @property
    def received(self) -> int:
        """Distinct items yielded so far (each item without an id counts once)."""
        return len(self._yielded) + self.idless

    def accept_counted(self, items: Sequence[ItemT] | None, total: object) -> list[ItemT]:
        """Record the page just read at :attr:`offset` (its items and the reply's count); returns the items
        to yield, and moves :attr:`offset` on or ends the pass (see the module docstring)."""
        self.pages += 1
        readable = items is None or isinstance(items, (list, tuple))
        page: Sequence[ItemT] = (items or ()) if readable else ()
        count = usable_count(total)
        if count is not None and count not in self._counts:
            self._counts.append(count)
        if count is not None and self.count_may_be_page_size and count == len(page):
            count = None  # perhaps the page's size: no total
        if count is not None:
            self._pass_count = max(self._pass_count, count)
        fresh, listed, idless = self._take(page)
        if self.offset == 0:  # what is known when the pass begins fixes its cap (set before any cap is read)
            known = count if count is not None and count >= listed else None
            self._counted = known is not None  # whether the first page reported a count to go by
            self._basis = self._before if known is None else max(known, self._before)
        # The page as the pass fingerprint sees it: where, what count, how many items and without an id.
        self._fingerprint.update(repr((self.offset, count, len(page), idless, readable)).encode())
        if not readable:
            self._end_pass("a reply whose items are not a list")
        elif not page:
            self._end_pass(None)
        elif not listed:
            self._end_pass("a page of items that pass had read already")
        elif self.offset + 1 >= self._page_cap():
            self._end_pass(
                f"no empty page within {self.offset + 1} pages, its cap ({GROWTH}x the {self._cap_basis()} "
                f"items known when it began, plus {MARGIN_PAGES} pages): the list grew faster than it could "
                "be read, or holds far more than was known"
            )
        else:
            self.offset += 1
        return fresh

    def _take(self, page: Sequence[ItemT]) -> tuple[list[ItemT], int, int]:
        """The page's items to yield, how many this pass had not read (0: a page of repeats), and how many
        have no id."""
        fresh: list[ItemT] = []
        listed = idless = 0
        for item in page:
            key = self._item_id(item)
            if key is None:
                listed += 1
                idless += 1
                if self.passes == 1:
                    fresh.append(item)
                    self.idless += 1
                continue
            value = digest(key)
            self._fingerprint.update(value)
            if self._in_pass.add(value):
                listed += 1
                if self._in_pass is self._yielded or self._yielded.add(value):
                    fresh.append(item)
        if page:
            self._items_read += len(page)
            self._nonempty_pages += 1
        self._read_in_pass += listed
        self._idless_in_pass += idless
        return fresh, listed, idless

    def _cap_basis(self) -> int:
        """The items the pass's cap is counted from: fixed on its first page, or, without a count to go by,
        growing with the ids the pass reads up to :attr:`uncounted`."""
        if self._counted:
            return self._basis
        return max(self._basis, min(len(self._in_pass), self.uncounted))

    def _page_cap(self) -> int:
        per_page = max(1, self._items_read // max(1, self._nonempty_pages))
        return -(-GROWTH * self._cap_basis() // per_page) + MARGIN_PAGES

    def _end_pass(self, unproven: str | None) -> None:
        """End the pass: at an empty page (``unproven`` None) or, unproven, for that reason; then decide."""
        fingerprint = self._fingerprint.digest()
        same = fingerprint == self._previous
        read = self._read_in_pass
        if unproven is not None:
            self._unproven = (self.passes, unproven)
        if unproven is None and same and self._pass_count <= read:
            self.done = True
            return
        if same:
            self.problem = (
                f"two passes read the same pages and ended at {unproven}"
                if unproven
                else f"two passes read the same {read} items, fewer than the count {self._pass_count} the "
                "pages reported"
            )
        elif self.passes > 1 and self._idless_in_pass:
            self.problem = (
                f"the list changed, and pass {self.passes} listed {self._idless_in_pass} items without an id"
            )
        elif self.passes == MAX_PASSES:
            self.problem = (
                f"no two of {MAX_PASSES} passes read the same pages; pass {self._unproven[0]} ended at "
                f"{self._unproven[1]}"
                if self._unproven is not None
                else f"the list changed during each of {MAX_PASSES} passes"
            )
        if self.problem is not None:
            self.done = True
            return
        self.passes += 1
        self._previous = fingerprint
        self._new_pass(IdDigests())

    def error(self) -> IncompleteListError | None:
        """The walk's :class:`IncompleteListError` once it is :attr:`done` without proof, else ``None``."""
        if self.problem is None:
            return None
        return IncompleteListError(
            what=self.what,
            reason=self.problem,
            distinct=self.received,
            counts=tuple(self._counts),
            pages=self.pages,
            passes=self.passes,
        )

    def finish(self) -> None:
        """After the last page: raise the walk's :class:`IncompleteListError`, or log it as a warning where
        the caller passed ``on_incomplete="warn"``; nothing when the walk is complete."""
        error = self.error()
        if error is None:
            return
        if self.on_incomplete == "warn":
            log.warning(str(error))
            return
        raise error
