"""Stream cursors of the pull, the same for every provider: a provider declares how a stream is read, and
these read it through the importer and move its cursor (the write protocol's step 5, sync/pull/importer.py).

- By position (``read_by_position``): a list read by offset, anchored on the last row read
  (sync/paging.py); the position is saved after every page.
- By time (``read_by_time``, ``TimeCursor``): read from ``lag`` (plus the provider's ``margin``) before the
  cursor up to the run's upper bound, fixed for the whole run; the cursor moves to that bound only once the
  stream was read completely, so an event a provider shows late with an earlier time is still read (the
  ledger drops repeats).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from sync.paging import ListKeptMoving, Position
from sync.pull.history import Event
from sync.pull.importer import EventImporter

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TimeCursor:
    """How a provider's time cursors read: its time format, the run's upper bound and how far back a read
    starts. ``first`` is where a stream without a cursor starts (None: the stream's own beginning);
    ``skip_empty`` reads nothing when the start is not before ``until``."""

    parse: Callable[[str], datetime]
    text: Callable[[datetime], str]
    until: datetime
    lag: timedelta
    margin: timedelta = timedelta(0)
    first: datetime | None = None
    skip_empty: bool = False


def read_by_time(importer: EventImporter, name: str, clock: TimeCursor,
                 pages: Callable[[datetime | None], Iterable[list[Event]]]) -> None:
    """Read the stream called ``name`` from its cursor (``pages(start)``, up to ``clock.until``), then move
    its cursor to ``clock.until``, never back."""
    store = importer.store
    cursor = store.get_cursor(name)
    start = clock.parse(cursor.value) - clock.lag - clock.margin if cursor else clock.first
    if clock.skip_empty and start is not None and start >= clock.until:
        return
    if not importer.import_stream(name, pages(start)):
        return
    if cursor is None or clock.until > clock.parse(cursor.value):
        store.set_cursor(name, clock.text(clock.until))
    importer.checkpoint("cursor_written")


def read_by_position(importer: EventImporter, name: str,
                     pages: Callable[[Position], Iterator[tuple[Position, list[Event]]]]) -> None:
    """Read the list called ``name`` from its anchored position, saving the position reached after every page;
    a list that kept moving under the reads is left where it was and read again next run."""
    store = importer.store
    cursor = store.get_cursor(name)
    try:
        for position, events in pages(Position.parse(cursor.value if cursor else None)):
            importer.import_page(events)
            store.set_cursor(name, position.text())
            importer.checkpoint("cursor_written")
    except ListKeptMoving as error:
        log.warning("%s: %s; it is read again next run", name, error)
