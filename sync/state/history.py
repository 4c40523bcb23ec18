"""How each CRM history entry crm-sync writes came to be: the details the pull folds new events into.

A campaign entry counts the events it already holds (``sync/pull/history.py``); keeping those details here,
committed in the same transaction as the ledger rows of the events, makes the fold exactly-once for every CRM,
also for one that can only hold the entry's text (a comment). Keys are sha256 hashes of the entries' external
keys, so any external key fits.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Connection, delete, insert, select

from sync.records import ActivityRecord
from sync.state.models import HistoryEntry, table_of
from sync.state.sql import chunked

HISTORY = table_of(HistoryEntry)


def entry_hash(external_key: str) -> str:
    """The stored key of an entry."""
    return hashlib.sha256(external_key.encode("utf-8")).hexdigest()


def history_entries(conn: Connection, keys: Iterable[str]) -> dict[str, tuple[dict, datetime, datetime]]:
    """(details, first_at, last_at) of the entries kept for these external keys."""
    by_hash = {entry_hash(key): key for key in set(keys)}
    found: dict[str, tuple[dict, datetime, datetime]] = {}
    for chunk in chunked(list(by_hash)):
        query = select(HISTORY.c.entry_hash, HISTORY.c.details, HISTORY.c.first_at, HISTORY.c.last_at).where(
            HISTORY.c.entry_hash.in_(chunk))
        for row in conn.execute(query):
            found[by_hash[row.entry_hash]] = (dict(row.details), row.first_at, row.last_at)
    return found


def save_history_entries(conn: Connection, records: Iterable[ActivityRecord], now: datetime) -> None:
    """Keep the details of these entries, replacing what was kept for their keys."""
    rows = {entry_hash(record.external_key): {
        "entry_hash": entry_hash(record.external_key), "details": dict(record.details),
        "first_at": record.first_at, "last_at": record.last_at, "updated_at": now} for record in records}
    for chunk in chunked(list(rows)):
        conn.execute(delete(HISTORY).where(HISTORY.c.entry_hash.in_(chunk)))
        conn.execute(insert(HISTORY), [rows[key] for key in chunk])
