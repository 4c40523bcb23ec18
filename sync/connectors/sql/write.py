"""Writing to a SQL CRM: activity history upserted by external key, and contact e-mail flags.

Both work in chunks, one transaction per chunk, with the same statements on SQLite, PostgreSQL and
MariaDB: read what exists for the chunk, then bulk insert and bulk update. A chunk naming a contact
or organisation the CRM does not have is rejected whole with a RecordError before anything of it is
written; earlier chunks stay written, and writing them again changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from itertools import islice

from sqlalchemy import Column, Connection, Engine, bindparam, select, update

from sync.connectors.sql.read import key_value
from sync.connectors.sql.schema import BoundSchema
from sync.connectors.values import as_utc, to_bool
from sync.errors import ConfigError, RecordError
from sync.records import ActivityRecord, ContactFlags


def db_time(value: datetime) -> datetime:
    """A time as the CRM stores it: naive UTC, to the second (naive input is taken as UTC)."""
    return as_utc(value).replace(tzinfo=None, microsecond=0)


def _chunks(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _fit(text: str, column: Column) -> str:
    """Shorten ``text`` to the column's length, marking the cut with an ellipsis."""
    length = getattr(column.type, "length", None)
    return text if not length or len(text) <= length else text[: length - 1] + "…"


def _record_id(column: Column, text: str, record_key: str, reason: str) -> object:
    try:
        return key_value(column, text, "id")
    except ConfigError:
        raise RecordError(record_key, reason, f"'{text}' is not a valid id in the CRM") from None


def _check_exist(connection: Connection, id_column: Column, wanted: dict[object, str], reason: str, what: str) -> None:
    """RecordError naming the first record whose referenced id is not in ``id_column``."""
    if not wanted:
        return
    found = set(connection.execute(select(id_column).where(id_column.in_(list(wanted)))).scalars())
    missing = [value for value in wanted if value not in found]
    if missing:
        others = f" (and {len(missing) - 1} more in this chunk)" if len(missing) > 1 else ""
        raise RecordError(wanted[missing[0]], reason, f"{what} {missing[0]} does not exist in the CRM{others}")


def write_activities(engine: Engine, schema: BoundSchema, records: Iterable[ActivityRecord], now: datetime,
                     chunk_size: int = 500) -> int:
    """Insert new activities and update changed ones in place; returns how many were inserted or changed.

    An existing activity (same external key) gets the new subject, body, last_at and details and a new
    modified time; its kind, first time and owner stay as first written.
    """
    section = schema.description.activities
    table = schema.tables[section.table]
    c = table.c
    key = c[section.external_key]
    contacts = schema.tables[schema.description.contacts.table].c[schema.description.contacts.id]
    organisations = schema.tables[schema.description.organisations.table].c[schema.description.organisations.id]
    key_length = getattr(key.type, "length", None)
    stamp = db_time(now)
    changing = (section.subject, section.body, section.last_at, section.details)
    statement = (update(table).where(key == bindparam("b_key"))
                 .values({name: bindparam(f"b_{name}") for name in changing + (section.modified_at,)}))
    written = 0
    for chunk in _chunks(records, chunk_size):
        rows: dict[str, dict] = {}  # by external key; the last record of a key wins
        contact_refs: dict[object, str] = {}
        organisation_refs: dict[object, str] = {}
        for record in chunk:
            if (record.contact_id is None) == (record.organisation_id is None):
                raise RecordError(record.external_key, "activity_owner",
                                  "an activity needs exactly one of contact_id and organisation_id")
            if not record.external_key or (key_length and len(record.external_key) > key_length):
                raise RecordError(record.external_key, "activity_key",
                                  f"external_key must have 1 to {key_length} characters")
            contact = organisation = None
            if record.contact_id is not None:
                contact = _record_id(contacts, record.contact_id, record.external_key, "unknown_contact")
                contact_refs[contact] = record.external_key
            else:
                organisation = _record_id(organisations, record.organisation_id, record.external_key,
                                          "unknown_organisation")
                organisation_refs[organisation] = record.external_key
            rows[record.external_key] = {
                section.external_key: record.external_key,
                section.contact_id: contact,
                section.organisation_id: organisation,
                section.kind: record.kind,
                section.subject: _fit(record.subject, c[section.subject]),
                section.body: record.body,
                section.first_at: db_time(record.first_at),
                section.last_at: db_time(record.last_at),
                section.details: json.dumps(dict(record.details), sort_keys=True, ensure_ascii=False, default=str),
            }
        with engine.begin() as connection:
            _check_exist(connection, contacts, contact_refs, "unknown_contact", "contact")
            _check_exist(connection, organisations, organisation_refs, "unknown_organisation", "organisation")
            current = {row[0]: row[1:] for row in connection.execute(
                select(key, *(c[name] for name in changing)).where(key.in_(list(rows))))}
            inserts, updates = [], []
            for external_key, row in rows.items():
                if external_key not in current:
                    inserts.append(row | {section.created_at: stamp, section.modified_at: stamp})
                    continue
                old_subject, old_body, old_last_at, old_details = current[external_key]
                if (old_subject, old_body, db_time(old_last_at), old_details) != tuple(row[n] for n in changing):
                    updates.append({"b_key": external_key, f"b_{section.modified_at}": stamp}
                                   | {f"b_{name}": row[name] for name in changing})
            if inserts:
                connection.execute(table.insert(), inserts)
            if updates:
                connection.execute(statement, updates)
        written += len(inserts) + len(updates)
    return written


def set_flags(engine: Engine, schema: BoundSchema, flags: Iterable[ContactFlags], now: datetime,
              chunk_size: int = 500) -> int:
    """Set e-mail opt-out / invalid (+ reason) and bump the modified time of contacts that change.

    Returns how many contacts changed. Never touches e-mail opt-in: consent is never invented. A reason
    is kept only while the address is invalid.
    """
    description = schema.description.contacts
    table = schema.tables[description.table]
    c = table.c
    ident, consent = c[description.id], description.consent
    opt_out, invalid, reason = c[consent.email_opt_out], c[consent.email_invalid], c[consent.invalid_reason]
    stamp = db_time(now)
    statement = (update(table).where(ident == bindparam("b_id"))
                 .values({consent.email_opt_out: bindparam("b_opt_out"), consent.email_invalid: bindparam("b_invalid"),
                          consent.invalid_reason: bindparam("b_reason"),
                          description.modified_at: bindparam("b_modified")}))
    changed = 0
    for chunk in _chunks(flags, chunk_size):
        wanted: dict[object, ContactFlags] = {}
        for flag in chunk:
            contact = _record_id(ident, flag.contact_id, flag.contact_id, "unknown_contact")
            previous = wanted.get(contact)
            wanted[contact] = flag if previous is None else _merge(previous, flag)
        with engine.begin() as connection:
            _check_exist(connection, ident, {contact: flag.contact_id for contact, flag in wanted.items()},
                         "unknown_contact", "contact")
            updates = []
            for contact, old_opt_out, old_invalid, old_reason in connection.execute(
                    select(ident, opt_out, invalid, reason).where(ident.in_(list(wanted)))):
                old = (bool(to_bool(old_opt_out)), bool(to_bool(old_invalid)), old_reason)
                new = _apply(wanted[contact], old, reason)
                if new != old:
                    updates.append({"b_id": contact, "b_opt_out": new[0], "b_invalid": new[1], "b_reason": new[2],
                                    "b_modified": stamp})
            if updates:
                connection.execute(statement, updates)
        changed += len(updates)
    return changed


def _merge(first: ContactFlags, second: ContactFlags) -> ContactFlags:
    """Two flag changes for one contact in one chunk: the later one wins where it says something."""
    return ContactFlags(
        first.contact_id,
        second.email_opt_out if second.email_opt_out is not None else first.email_opt_out,
        second.email_invalid if second.email_invalid is not None else first.email_invalid,
        second.invalid_reason if second.invalid_reason is not None else first.invalid_reason,
        second.email or first.email,
    )


def _apply(flag: ContactFlags, old: tuple[bool, bool, str | None], reason_column: Column) -> tuple:
    opt_out = old[0] if flag.email_opt_out is None else flag.email_opt_out
    invalid = old[1] if flag.email_invalid is None else flag.email_invalid
    if not invalid:
        reason = None
    elif old[1] and old[2]:
        reason = old[2]  # already invalid with a reason: the first cause is the informative one
    elif flag.invalid_reason is not None:
        reason = _fit(flag.invalid_reason, reason_column)
    else:
        reason = old[2]
    return opt_out, invalid, reason
