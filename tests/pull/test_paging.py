"""Anchored offset paging (sync/paging.py) over a list that changes between any two page reads: every row that
is in the list from start to end of the read is yielded, whatever was deleted or inserted meanwhile."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sync.paging import ListKeptMoving, Position, anchored_pages

change = st.tuples(st.sampled_from(["delete", "insert"]), st.integers(0, 60))


def read(rows: list[str], changes: list[tuple[str, int]], page_size: int, insertions_read_later: bool) -> list[str]:
    """Read ``rows`` page by page, applying one change before every request after the first."""
    pending = list(changes)
    seen: list[str] = []
    fresh = iter(f"new{n}" for n in range(1000))

    def fetch(offset: int, count: int):
        if seen and pending:
            kind, where = pending.pop(0)
            if kind == "delete" and rows:
                rows.pop(where % len(rows))
            elif kind == "insert":
                rows.insert(where % (len(rows) + 1), next(fresh))
        return rows[offset:offset + count], len(rows)

    for _, page in anchored_pages(fetch, str, page_size, 1000, insertions_read_later=insertions_read_later,
                                  restarts=100):
        seen += page
    return seen


@settings(max_examples=300, deadline=None)
@given(size=st.integers(0, 30), changes=st.lists(change, max_size=8), page_size=st.integers(1, 5),
       insertions_read_later=st.booleans())
def test_no_row_present_throughout_is_skipped(size, changes, page_size, insertions_read_later):
    rows = [f"row{n}" for n in range(size)]
    original = list(rows)
    seen = read(rows, changes, page_size, insertions_read_later)
    survivors = [row for row in original if row in rows]
    assert set(survivors) <= set(seen)
    if not insertions_read_later:  # a position cursor: rows that appeared are read too
        assert set(rows) <= set(seen)


def test_a_list_that_never_stops_moving_gives_up_instead_of_looping():
    rows = [f"row{n}" for n in range(10)]
    late = iter(range(1000))

    def fetch(offset: int, count: int):
        rows.pop(0)  # every request: the first row is gone, a new one comes at the end
        rows.append(f"late{next(late)}")
        return rows[offset:offset + count], len(rows)

    with pytest.raises(ListKeptMoving):
        for _ in anchored_pages(fetch, str, 2, 1000):
            pass


def test_a_saved_position_resumes_after_its_anchor_and_an_older_cursor_starts_over():
    rows = [f"row{n}" for n in range(6)]
    pages = list(anchored_pages(lambda offset, count: (rows[offset:offset + count], len(rows)), str, 2, 1000,
                                start=Position.parse("2:row1")))
    assert [row for _, page in pages for row in page] == ["row2", "row3", "row4", "row5"]
    assert Position.parse("17") == Position() and Position.parse(pages[-1][0].text()) == pages[-1][0]
