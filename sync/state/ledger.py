"""The event ledger: keys of provider events already imported, so a re-read imports nothing twice."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import datetime

from sqlalchemy import Connection, func, insert, select
from sqlalchemy.exc import IntegrityError

from sync.state.models import KEY_LENGTH, LedgerEntry, table_of
from sync.state.sql import chunked
from sync.state.types import require_aware

LEDGER = table_of(LedgerEntry)


@dataclass(frozen=True, slots=True)
class LedgerEvent:
    """One provider event to remember as imported; ``event_key`` names it uniquely."""

    event_key: str
    provider: str
    audience: str
    kind: str
    occurred_at: datetime
    contact_id: str | None = None
    unapplied_reason: str | None = None  # set when the event was recorded without changing a contact

    def __post_init__(self) -> None:
        if not self.event_key or len(self.event_key) > KEY_LENGTH:
            raise ValueError(f"event key {self.event_key[:40]!r} must have 1 to {KEY_LENGTH} characters")
        require_aware(self.occurred_at, f"event {self.event_key}: occurred_at")


@dataclass(frozen=True, slots=True)
class LedgerRow:
    """One imported event as stored in the ledger."""

    event_key: str
    provider: str
    audience: str
    kind: str
    occurred_at: datetime
    contact_id: str | None
    imported_at: datetime
    run_id: int | None
    unapplied_reason: str | None = None

    def as_dict(self) -> dict[str, object]:
        """The event as JSON-ready values (ISO 8601 times)."""
        return {
            "event_key": self.event_key,
            "provider": self.provider,
            "audience": self.audience,
            "kind": self.kind,
            "occurred_at": self.occurred_at.isoformat(),
            "contact_id": self.contact_id,
            "imported_at": self.imported_at.isoformat(),
            "run_id": self.run_id,
            "unapplied_reason": self.unapplied_reason,
        }


def event_key(*identity: object) -> str:
    """A ledger key for an event: the sha256 hex of its identity parts, e.g. (provider, campaign, email, action,
    time)."""
    joined = "\x1f".join(str(part) for part in identity)
    return hashlib.sha256(joined.encode()).hexdigest()


def unseen_event_keys(conn: Connection, keys: Iterable[str]) -> set[str]:
    """The keys among ``keys`` that are not in the ledger yet."""
    unseen: set[str] = set()
    for chunk in chunked(set(keys)):
        unseen.update(set(chunk) - _recorded(conn, chunk))
    return unseen


def record_events(conn: Connection, events: Iterable[LedgerEvent], run_id: int | None, now: datetime) -> set[str]:
    """Add events to the ledger and return the keys that were new.

    Events already in the ledger, or repeated in ``events``, are skipped. Should another process record
    a key between our check and our insert, the unique key refuses it and that one row is skipped.
    Must run inside a transaction (savepoints isolate the refused rows).
    """
    added: set[str] = set()
    for chunk in chunked(events):
        fresh: dict[str, LedgerEvent] = {}
        for event in chunk:
            fresh.setdefault(event.event_key, event)
        for key in _recorded(conn, list(fresh)):
            fresh.pop(key, None)
        rows = [_to_values(event, run_id, now) for event in fresh.values()]
        if not rows:
            continue
        try:
            with conn.begin_nested():
                conn.execute(insert(LEDGER), rows)
            added.update(fresh)
        except IntegrityError:
            added.update(_insert_one_by_one(conn, rows))
    return added


def events_for_contact(conn: Connection, audience: str, contact_id: str, limit: int) -> list[LedgerRow]:
    """Up to ``limit`` events imported for one contact of ``audience``, the latest occurrence first."""
    query = (select(LEDGER).where(LEDGER.c.audience == audience, LEDGER.c.contact_id == contact_id)
             .order_by(LEDGER.c.occurred_at.desc(), LEDGER.c.event_key).limit(limit))
    return [LedgerRow(**{field.name: getattr(row, field.name) for field in fields(LedgerRow)})
            for row in conn.execute(query)]


def event_counts_for_contact(conn: Connection, audience: str, contact_id: str) -> dict[str, int]:
    """How many events of each kind were imported for one contact of ``audience``."""
    query = (select(LEDGER.c.kind, func.count())
             .where(LEDGER.c.audience == audience, LEDGER.c.contact_id == contact_id).group_by(LEDGER.c.kind))
    return {kind: int(count) for kind, count in conn.execute(query)}


def _recorded(conn: Connection, keys: list[str]) -> set[str]:
    if not keys:
        return set()
    return set(conn.execute(select(LEDGER.c.event_key).where(LEDGER.c.event_key.in_(keys))).scalars())


def _insert_one_by_one(conn: Connection, rows: list[dict[str, object]]) -> set[str]:
    added: set[str] = set()
    for row in rows:
        try:
            with conn.begin_nested():
                conn.execute(insert(LEDGER), [row])
            added.add(str(row["event_key"]))
        except IntegrityError:
            continue  # recorded meanwhile by another process: exactly what the unique key is for
    return added


def _to_values(event: LedgerEvent, run_id: int | None, now: datetime) -> dict[str, object]:
    return {
        "event_key": event.event_key,
        "provider": event.provider,
        "audience": event.audience,
        "contact_id": event.contact_id,
        "kind": event.kind,
        "occurred_at": event.occurred_at,
        "imported_at": now,
        "run_id": run_id,
        "unapplied_reason": event.unapplied_reason,
    }
