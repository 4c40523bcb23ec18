"""Push intents: what a push is about to write for each contact, until the answer is recorded.

An intent is stored before its request goes out and deleted in the transaction that records the
answer, so an intent left over means "sent, or about to be; outcome unknown".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, select

from sync.state.members import check_audience
from sync.state.models import PushIntent, table_of
from sync.state.sql import chunked, upsert

INTENTS = table_of(PushIntent)


@dataclass(frozen=True, slots=True)
class IntentRow:
    """One write about to be sent: the action, the address it goes to (and the one it leaves, for an
    e-mail change), the reason recorded with it and the hash of the payload sent."""

    contact_id: str
    action: str
    email: str | None
    previous_email: str | None = None
    reason_code: str | None = None
    payload_hash: str | None = None


def record_intents(conn: Connection, audience: str, intents: Iterable[IntentRow], now: datetime) -> None:
    """Store intents, replacing any older one of the same contact."""
    check_audience(audience)
    columns = ("action", "email", "previous_email", "reason_code", "payload_hash", "recorded_at")
    for chunk in chunked(intents):
        rows = {intent.contact_id: {"audience": audience, "contact_id": intent.contact_id, "action": intent.action,
                                    "email": intent.email, "previous_email": intent.previous_email,
                                    "reason_code": intent.reason_code, "payload_hash": intent.payload_hash,
                                    "recorded_at": now} for intent in chunk}
        upsert(conn, INTENTS, list(rows.values()), ("audience", "contact_id"), overwrite=columns)


def unsettled_intents(conn: Connection, audience: str) -> list[IntentRow]:
    """Every intent of ``audience`` whose answer was never recorded, in contact-id order."""
    query = select(INTENTS).where(INTENTS.c.audience == audience).order_by(INTENTS.c.contact_id)
    return [IntentRow(row.contact_id, row.action, row.email, row.previous_email, row.reason_code, row.payload_hash)
            for row in conn.execute(query)]


def settle_intents(conn: Connection, audience: str, contact_ids: Iterable[str]) -> None:
    """Forget the intents of these contacts: their answers are recorded."""
    for chunk in chunked(contact_ids):
        conn.execute(delete(INTENTS).where(INTENTS.c.audience == audience, INTENTS.c.contact_id.in_(chunk)))
