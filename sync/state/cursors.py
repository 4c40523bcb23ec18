"""Incremental-read cursors: a closed-range position plus the keys already seen at exactly that position."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select

from sync.state.models import KEY_LENGTH, Cursor, table_of
from sync.state.sql import upsert

CURSORS = table_of(Cursor)


@dataclass(frozen=True, slots=True)
class CursorRow:
    """A stored cursor. The next read starts at ``value`` inclusive and skips ``boundary_keys``."""

    name: str
    value: str
    boundary_keys: frozenset[str]
    updated_at: datetime


def get_cursor(conn: Connection, name: str) -> CursorRow | None:
    """The cursor called ``name``, or None before its first read."""
    row = conn.execute(select(CURSORS).where(CURSORS.c.name == name)).one_or_none()
    if row is None:
        return None
    return CursorRow(row.name, row.value, frozenset(row.boundary_keys), row.updated_at)


def set_cursor(conn: Connection, name: str, value: str, boundary_keys: Iterable[str], now: datetime) -> None:
    """Create or move the cursor called ``name``."""
    if len(name) > KEY_LENGTH:
        raise ValueError(f"cursor name {name[:40]!r}... is longer than {KEY_LENGTH} characters")
    row = {"name": name, "value": value, "boundary_keys": sorted(set(boundary_keys)), "updated_at": now}
    upsert(conn, CURSORS, [row], keys=("name",), overwrite=("value", "boundary_keys", "updated_at"))
