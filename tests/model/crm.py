"""A tiny embedded SQL CRM for the model test: the demo CRM's schema with a handful of hand-made contacts.

Edits are plain SQL, the way a CRM user (or the CRM's own UI) changes a row; reads go straight to the
tables, independent of crm-sync's connector.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import create_engine, delete, select, update

from sync.demo.crm.schema import DEMO_CUSTOM_FIELDS, crm_tables

ORGANISATIONS = (1, 2)


@dataclass(frozen=True)
class Row:
    """What the model test reads of one contact."""

    id: int
    email: str | None
    opt_in: bool | None
    opt_out: bool
    invalid: bool
    deleted: bool
    organisation_id: int | None


@dataclass(frozen=True)
class HistoryRow:
    """One activity of the CRM's history (``history: event``: one per imported event)."""

    contact_id: int | None
    kind: str
    first_at: datetime
    details: dict


class SmallCrm:
    """The CRM database at ``url``: created with ``contacts`` (id -> (email, opt_in, organisation))."""

    def __init__(self, url: str):
        self.url = url
        self.tables = crm_tables()
        self.engine = create_engine(url)
        self._clock = datetime(2026, 1, 1)

    def create(self, contacts: dict[int, tuple[str, bool | None, int | None]]) -> None:
        t = self.tables
        t.metadata.create_all(self.engine)
        with self.engine.begin() as connection:
            connection.execute(t.custom_fields.insert(), [
                {"id": f.id, "name": f.name, "label": f.label, "type": f.type, "choices": f.choices_text,
                 "column_name": f.column_name} for f in DEMO_CUSTOM_FIELDS])
            connection.execute(t.organisations.insert(), [
                {"id": org, "name": f"Organisation {org}", "mailing_locked": False, "country": "NL",
                 "modified_at": self._tick(), "deleted": False} for org in ORGANISATIONS])
            connection.execute(t.contacts.insert(), [
                {"id": cid, "first_name": f"Person{cid}", "last_name": f"Model{cid}", "email": email,
                 "country": "NL", "language": "nl", "email_opt_in": opt_in, "email_opt_out": False,
                 "email_invalid": False, "organisation_id": org, "created_at": self._tick(),
                 "modified_at": self._tick(), "deleted": False}
                for cid, (email, opt_in, org) in contacts.items()])
            connection.execute(t.contacts_cf.insert(), [{"contact_id": cid} for cid in contacts])

    def edit(self, contact_id: int, **values) -> None:
        """Change one contact as a CRM user would (its modified time moves)."""
        contacts = self.tables.contacts
        with self.engine.begin() as connection:
            connection.execute(update(contacts).where(contacts.c.id == contact_id)
                               .values(modified_at=self._tick(), **values))

    def lock_organisation(self, organisation_id: int, locked: bool) -> None:
        organisations = self.tables.organisations
        with self.engine.begin() as connection:
            connection.execute(update(organisations).where(organisations.c.id == organisation_id)
                               .values(mailing_locked=locked, modified_at=self._tick()))

    def erase(self, contact_id: int) -> None:
        """Erase a contact for good (GDPR): its row is gone, as are its custom values and its history."""
        t = self.tables
        with self.engine.begin() as connection:
            connection.execute(delete(t.activities).where(t.activities.c.contact_id == contact_id))
            connection.execute(delete(t.target_list_members).where(t.target_list_members.c.contact_id == contact_id))
            connection.execute(delete(t.contacts_cf).where(t.contacts_cf.c.contact_id == contact_id))
            connection.execute(delete(t.contacts).where(t.contacts.c.id == contact_id))

    def rows(self) -> dict[int, Row]:
        c = self.tables.contacts.c
        with self.engine.connect() as connection:
            found = connection.execute(select(c.id, c.email, c.email_opt_in, c.email_opt_out, c.email_invalid,
                                              c.deleted, c.organisation_id)).all()
        return {r[0]: Row(r[0], r[1], r[2], bool(r[3]), bool(r[4]), bool(r[5]), r[6]) for r in found}

    def locked_organisations(self) -> set[int]:
        o = self.tables.organisations.c
        with self.engine.connect() as connection:
            return {r[0] for r in connection.execute(select(o.id).where(o.mailing_locked.is_(True)))}

    def history(self) -> list[HistoryRow]:
        a = self.tables.activities.c
        with self.engine.connect() as connection:
            found = connection.execute(select(a.contact_id, a.kind, a.first_at, a.details)).all()
        return [HistoryRow(r[0], r[1], r[2], json.loads(r[3]) if r[3] else {}) for r in found]

    def close(self) -> None:
        self.engine.dispose()

    def _tick(self) -> datetime:
        """Strictly increasing modified times (naive UTC, whole seconds), so "most recently modified" is defined."""
        now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
        self._clock = max(now, self._clock + timedelta(seconds=1))
        return self._clock
