"""Portable SQL helpers: chunking and a bulk upsert for SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import islice
from typing import Any, TypeVar

from sqlalchemy import Connection, Table, func
from sqlalchemy.dialects import mysql, postgresql, sqlite

from sync.state.types import MYSQL_DIALECTS

T = TypeVar("T")

# Rows per statement: keeps bound parameters well under every backend's limit (SQLite: 32,766).
CHUNK_SIZE = 500


def chunked(items: Iterable[T], size: int = CHUNK_SIZE) -> Iterator[list[T]]:
    """Lists of up to ``size`` items, in order, reading ``items`` lazily."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def upsert(
    conn: Connection,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    keys: Sequence[str],
    overwrite: Sequence[str],
    fill: Sequence[str] = (),
) -> None:
    """Insert ``rows``; where a row with the same ``keys`` exists, update it instead.

    On update, ``overwrite`` columns take the new value and ``fill`` columns take it only when it is not
    NULL; every other column keeps its stored value. Each row must hold every column named, and no two
    rows may share their keys (PostgreSQL refuses to update one row twice in a statement).
    """
    if not rows:
        return
    dialect = conn.dialect.name
    if dialect in MYSQL_DIALECTS:
        mysql_stmt = mysql.insert(table)
        new = mysql_stmt.inserted
        mysql_stmt = mysql_stmt.on_duplicate_key_update(_assignments(table, new, overwrite, fill))
        conn.execute(mysql_stmt, list(rows))
        return
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(table)
    assignments = _assignments(table, stmt.excluded, overwrite, fill)
    stmt = stmt.on_conflict_do_update(index_elements=list(keys), set_=assignments)
    conn.execute(stmt, list(rows))


def _assignments(table: Table, new: Any, overwrite: Sequence[str], fill: Sequence[str]) -> dict[str, Any]:
    values: dict[str, Any] = {name: new[name] for name in overwrite}
    values.update({name: func.coalesce(new[name], table.c[name]) for name in fill})
    return values
