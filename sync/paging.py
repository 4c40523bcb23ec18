"""Offset paging that notices when the list moved under it: every page after the first starts one row early.

A provider list read by offset is only safe while no row before the reading position disappears or
appears: one that does shifts every later row by one, so a row is read twice (harmless: the ledger drops
repeats) or never (a row lost for good). The list's order is never documented, but it is stable (offset
paging means nothing otherwise), so the row just before the reading position tells: each page after the
first asks for one row more, starting at the last row already read. If that row is not the one read last,
the list shifted, and it is read again from its start. A list that keeps shifting gives up after a few
restarts (``ListKeptMoving``), and the caller leaves its cursor where it was.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

Row = dict[str, Any]
Fetch = Callable[[int, int], tuple[list[Row], int | None]]  # (offset, count) -> (rows, total if known)
RESTARTS = 5


class ListKeptMoving(Exception):
    """The list shifted under every one of the allowed reads."""


@dataclass(frozen=True, slots=True)
class Position:
    """How many rows were read, and the identity of the last one ("" before the first)."""

    offset: int = 0
    anchor: str = ""

    def text(self) -> str:
        """As a cursor value: ``<offset>:<anchor>``."""
        return f"{self.offset}:{self.anchor}"

    @classmethod
    def parse(cls, text: str | None) -> Position:
        """A cursor value back; anything else (e.g. a bare offset of an older version) starts over."""
        offset, colon, anchor = (text or "").partition(":")
        if not colon or not offset.isdigit() or (int(offset) > 0) != bool(anchor):
            return cls()
        return cls(int(offset), anchor)


def anchored_pages(fetch: Fetch, identity: Callable[[Row], str], page_size: int, max_count: int,
                   start: Position = Position(), *, insertions_read_later: bool = False,
                   restarts: int = RESTARTS) -> Iterator[tuple[Position, list[Row]]]:
    """Pages of new rows, each with the position after it; re-reads from the start when the list shifted.

    ``insertions_read_later``: rows that appear before the reading position are read by a later run anyway
    (a list bounded by a time cursor: they carry a time after the run's bound). Then an anchor found further
    down the page only means rows were inserted, and reading goes on after it instead of starting over.
    """
    position, shifted = start, 0
    while True:
        anchored = bool(position.anchor)
        ask = max(min(page_size + 1, max_count), 2) if anchored else page_size
        first = position.offset - 1 if anchored else position.offset
        rows, total = fetch(first, ask)
        fetched = len(rows)
        if anchored:
            ids = [identity(row) for row in rows]
            found = ids.index(position.anchor) if position.anchor in ids else -1
            if found < 0 or (found > 0 and not insertions_read_later):
                shifted += 1
                if shifted > restarts:
                    raise ListKeptMoving(f"the list shifted under {shifted} reads in a row")
                position = Position()
                continue
            rows, first = rows[found + 1:], first + found + 1
        position = Position(first + len(rows), identity(rows[-1])) if rows else Position(first, position.anchor)
        yield position, rows
        if fetched < ask or (total is not None and position.offset >= total):
            return
