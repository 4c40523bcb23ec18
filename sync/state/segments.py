"""Marketers' segments kept at the provider: the provider segment each one is, and the member keys crm-sync put in.

The keys are written *before* the provider is asked to add them and trimmed to what the segment should hold
only after it answered, so after a crash the store holds every key that may be in the segment: a provider that
cannot list a segment's members (Spotler Mail+) is then still diffed against a superset, and nothing crm-sync
put in is forgotten.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, and_, delete, insert, select

from sync.state.models import SegmentMark, SegmentMember, table_of
from sync.state.sql import chunked, upsert

MARKS = table_of(SegmentMark)
MEMBERS = table_of(SegmentMember)


@dataclass(frozen=True, slots=True)
class SegmentMarkRow:
    """The provider segment a marketer's segment is kept as, in one audience."""

    audience: str
    segment: str
    segment_id: str
    provider_name: str
    updated_at: datetime


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def segment_mark(conn: Connection, audience: str, segment: str) -> SegmentMarkRow | None:
    row = conn.execute(select(MARKS).where(MARKS.c.audience == audience, MARKS.c.segment == segment)).first()
    return None if row is None else SegmentMarkRow(row.audience, row.segment, row.segment_id, row.provider_name,
                                                   row.updated_at)


def save_segment_mark(conn: Connection, audience: str, segment: str, segment_id: str, provider_name: str,
                      now: datetime) -> None:
    upsert(conn, MARKS, [{"audience": audience, "segment": segment, "segment_id": segment_id,
                          "provider_name": provider_name, "updated_at": now}],
           keys=("audience", "segment"), overwrite=("segment_id", "provider_name", "updated_at"))


def marked_keys(conn: Connection, audience: str, segment: str) -> set[str]:
    query = select(MEMBERS.c.member_key).where(MEMBERS.c.audience == audience, MEMBERS.c.segment == segment)
    return {row.member_key for row in conn.execute(query)}


def add_marked_keys(conn: Connection, audience: str, segment: str, keys: Iterable[str]) -> None:
    """Record keys that may now be in the segment (those already recorded are left)."""
    wanted = {_hash(key): key for key in keys}
    for chunk in chunked(list(wanted)):
        where = and_(MEMBERS.c.audience == audience, MEMBERS.c.segment == segment, MEMBERS.c.key_hash.in_(chunk))
        known = {row.key_hash for row in conn.execute(select(MEMBERS.c.key_hash).where(where))}
        rows = [{"audience": audience, "segment": segment, "key_hash": digest, "member_key": wanted[digest]}
                for digest in chunk if digest not in known]
        if rows:
            conn.execute(insert(MEMBERS), rows)


def remove_marked_keys(conn: Connection, audience: str, segment: str, keys: Iterable[str]) -> None:
    """Forget keys the provider confirmed are out of the segment."""
    for chunk in chunked([_hash(key) for key in keys]):
        conn.execute(delete(MEMBERS).where(MEMBERS.c.audience == audience, MEMBERS.c.segment == segment,
                                           MEMBERS.c.key_hash.in_(chunk)))
