"""Look-ups the engagement pull needs: contacts by e-mail, existing history entries, contact owners."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select

from sync.addresses import normalise_email
from sync.connectors.sql.read import ContactReader, key_value
from sync.connectors.sql.schema import BoundSchema
from sync.connectors.values import as_utc
from sync.errors import ConfigError

CHUNK = 500


def _chunks(items: Iterable, size: int = CHUNK) -> Iterator[list]:
    chunk: list = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def contacts_by_email(engine: Engine, schema: BoundSchema, emails: Iterable[str], include_deleted: bool = False
                      ) -> dict[str, list[str]]:
    """Live contact ids per normalised address (``sync/addresses.py``), in id order; deleted ones left out
    unless ``include_deleted``.

    Addresses are compared as Python normalises them, never by SQL ``lower``/``trim`` (which differ per
    database): through the index of the description's ``email_key`` column when it names one (each row's
    address normalised again, so a stale key can never give a wrong contact), else one streamed read.
    """
    wanted = {address for address in map(normalise_email, emails) if address is not None}
    found: dict[str, list[str]] = defaultdict(list)
    if not wanted:
        return {}
    reader = ContactReader(schema, [])
    rows = reader.addresses(engine) if schema.description.contacts.email_key is None \
        else reader.addresses_keyed(engine, _chunks(sorted(wanted)))
    for contact_id, address, deleted in rows:
        if address in wanted and (include_deleted or not deleted):
            found[address].append(contact_id)
    return dict(found)


def existing_contacts(engine: Engine, schema: BoundSchema, contact_ids: Iterable[str]) -> set[str]:
    """The ids among ``contact_ids`` that name a contact row (deleted-flagged ones included: they still exist)."""
    contacts = schema.description.contacts
    column = schema.tables[contacts.table].c[contacts.id]
    wanted: dict[object, str] = {}
    for text in set(contact_ids):
        try:
            wanted[key_value(column, text, "id")] = text
        except ConfigError:
            continue  # not even a valid id: no such contact
    found: set[str] = set()
    with engine.connect() as connection:
        for chunk in _chunks(wanted):
            rows = connection.execute(select(column).where(column.in_(chunk))).scalars()
            found.update(wanted[value] for value in rows)
    return found


def activities_by_key(engine: Engine, schema: BoundSchema, keys: Iterable[str]
                      ) -> dict[str, tuple[dict[str, Any], datetime, datetime]]:
    """(details, first_at, last_at) of the history entries that exist for these external keys."""
    section = schema.description.activities
    table = schema.tables[section.table]
    c = table.c
    found = {}
    with engine.connect() as connection:
        for chunk in _chunks(set(keys)):
            query = select(c[section.external_key], c[section.details], c[section.first_at], c[section.last_at])
            for key, details, first_at, last_at in connection.execute(query.where(c[section.external_key].in_(chunk))):
                found[key] = (json.loads(details) if details else {}, as_utc(first_at), as_utc(last_at))
    return found


def contact_owners(engine: Engine, schema: BoundSchema, contact_ids: Iterable[str]
                   ) -> dict[str, tuple[str | None, str]]:
    """Per contact id: its organisation id (or None) and a display name (first and last name)."""
    contacts = schema.description.contacts
    table = schema.tables[contacts.table]
    fields = {name: spec for name, _, spec in schema.description.standard_fields()}
    names = [table.c[fields[name].column] for name in ("first_name", "last_name") if name in fields]
    id_column = table.c[contacts.id]
    owners = {}
    with engine.connect() as connection:
        for chunk in _chunks(set(contact_ids)):
            ids = [key_value(id_column, contact_id, "contact id") for contact_id in chunk]
            query = select(id_column, table.c[contacts.organisation_id], *names).where(id_column.in_(ids))
            for contact_id, organisation_id, *parts in connection.execute(query):
                owners[str(contact_id)] = (None if organisation_id is None else str(organisation_id),
                                           " ".join(part for part in parts if part))
    return owners


def history_of(engine: Engine, schema: BoundSchema, contact_id: str) -> list[tuple[str, str, str, datetime]]:
    """(kind, subject, body, last_at) of a contact's history entries, newest first: what a CRM user sees."""
    section = schema.description.activities
    table = schema.tables[section.table]
    c = table.c
    contacts = schema.tables[schema.description.contacts.table].c[schema.description.contacts.id]
    query = (select(c[section.kind], c[section.subject], c[section.body], c[section.last_at])
             .where(c[section.contact_id] == key_value(contacts, contact_id, "contact id"))
             .order_by(c[section.last_at].desc(), c[section.external_key]))
    with engine.connect() as connection:
        return [(kind, subject, body, as_utc(last_at)) for kind, subject, body, last_at in connection.execute(query)]
