"""The SQL CRM connector: contacts, fields and target lists out; activities and e-mail flags in.

Which tables and columns hold what comes from a schema description (``crm_schema``), so the same
connector reads the embedded demo CRM or any SQL CRM someone describes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from sync.connectors.sql import changes, lookup, write
from sync.connectors.sql.read import ContactReader, key_value, read_custom_fields
from sync.connectors.sql.schema import (
    SchemaDescription,
    bind_schema,
    load_schema_description,
)
from sync.connectors.sql.where import contact_filter, filter_columns
from sync.dburl import open_engine
from sync.errors import ConfigError
from sync.records import ActivityRecord, ContactFlags, CrmContact, CrmField
from sync.segments.model import Condition


def _utc_now() -> datetime:
    return datetime.now(UTC)


class SqlCrm:
    """A CRM in a SQL database, described by a schema description. Close it, or use it with ``with``.

    Times come out as aware UTC datetimes and are stored as naive UTC to the second.
    """

    history_per_event = False  # one history entry per contact and campaign (or per event, as the pull says)

    def __init__(self, url: str, description: SchemaDescription, clock: Callable[[], datetime] = _utc_now):
        """Connect and check the description against the database.

        Raises ConnectionFailed (database unreachable; the message shows the URL without its password),
        ConfigError (not a database URL) or ProblemsFound (a described table or column is missing).
        ``clock`` gives the time written into modified/created columns.
        """
        self._engine = open_engine(url, "CRM")
        try:
            self._schema = bind_schema(description, self._engine)
        except BaseException:
            self._engine.dispose()
            raise
        self._clock = clock

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> SqlCrm:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def schema_fingerprint(self) -> str:
        """A hash of the schema description: what is read from where (a change makes the next push full)."""
        text = self._schema.description.model_dump_json()
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def describe_fields(self) -> list[CrmField]:
        """Standard fields from the description, then custom fields from the CRM's metadata table."""
        standard = [CrmField(name, spec.label, spec.type)
                    for name, _, spec in self._schema.description.standard_fields()]
        with self._engine.connect() as connection:
            return standard + [custom.field for custom in read_custom_fields(connection, self._schema)]

    def iter_contacts(self, chunk_size: int = 1000, list_id: str | None = None) -> Iterator[CrmContact]:
        """Stream every contact, deleted ones included (``deleted=True``), in id order.

        Reads ``chunk_size`` contacts per query (constant memory); with ``list_id`` only members of that
        target list, each still carrying all its list memberships.
        """
        return self._stream(chunk_size, self._list_key(list_id), None)

    def iter_contacts_matching(self, condition: Condition, chunk_size: int = 1000) -> Iterator[CrmContact]:
        """Stream, as ``iter_contacts`` does, the contacts that may meet ``condition``: what
        ``sync/connectors/sql/where.py`` translates is filtered by the database, with bound parameters."""
        return self._stream(chunk_size, None, condition)

    def _stream(self, chunk_size: int, list_key: object | None, condition: Condition | None) -> Iterator[CrmContact]:
        if chunk_size < 1:
            raise ConfigError(f"chunk_size must be at least 1, not {chunk_size}")
        with self._engine.connect() as connection:
            custom_fields = read_custom_fields(connection, self._schema)
        where = None if condition is None else \
            contact_filter(condition, filter_columns(self._schema, custom_fields, self._engine.dialect.name))
        return ContactReader(self._schema, custom_fields).iter_contacts(self._engine, chunk_size, list_key, where)

    def count_contacts(self, list_id: str | None = None) -> int:
        """How many contacts ``iter_contacts`` with the same ``list_id`` yields."""
        return ContactReader(self._schema, []).count(self._engine, self._list_key(list_id))

    def shared_emails(self) -> set[str]:
        """Addresses (trimmed, lower case) shared by several contacts: one provider member stands for them."""
        return ContactReader(self._schema, []).shared_emails(self._engine)

    def contacts_by_email(self, emails: Iterable[str], include_deleted: bool = False) -> dict[str, list[str]]:
        """Live contact ids per address (trimmed, lower case); deleted ones too with ``include_deleted``."""
        return lookup.contacts_by_email(self._engine, self._schema, emails, include_deleted)

    def changed_contact_ids(self, since: datetime, limit: int) -> list[str] | None:
        """Ids of the contacts changed at or after ``since`` (their own or their organisation's modification
        time), in id order; None when more than ``limit`` changed."""
        found = changes.changed_ids(self._engine, self._schema, since, limit)
        return None if found is None else [str(contact_id) for contact_id in found]

    def contacts_by_ids(self, contact_ids: Iterable[str], chunk_size: int = 1000) -> Iterator[CrmContact]:
        """The contacts with these ids that exist (deleted-flagged ones included), in id order per chunk."""
        column = self._schema.tables[self._schema.description.contacts.table].c[self._schema.description.contacts.id]
        keys = sorted({key_value(column, text, "contact id") for text in contact_ids})
        with self._engine.connect() as connection:
            reader = ContactReader(self._schema, read_custom_fields(connection, self._schema))
        return reader.by_ids(self._engine, keys, chunk_size)

    def existing_contacts(self, contact_ids: Iterable[str]) -> set[str]:
        """The ids among ``contact_ids`` the CRM still has a row for (erased contacts are absent)."""
        return lookup.existing_contacts(self._engine, self._schema, contact_ids)

    def activities_by_key(self, keys: Iterable[str]) -> dict[str, tuple[dict, datetime, datetime]]:
        """(details, first_at, last_at) of existing history entries, by external key."""
        return lookup.activities_by_key(self._engine, self._schema, keys)

    def contact_owners(self, contact_ids: Iterable[str]) -> dict[str, tuple[str | None, str]]:
        """Per contact: its organisation id and display name."""
        return lookup.contact_owners(self._engine, self._schema, contact_ids)

    def history_of(self, contact_id: str) -> list[tuple[str, str, str, datetime]]:
        """(kind, subject, body, last time) of one contact's history entries, newest first."""
        return lookup.history_of(self._engine, self._schema, contact_id)

    def target_lists(self) -> list[tuple[str, str]]:
        """(id, name) of every target list, ordered by id."""
        section = self._schema.description.target_lists
        table = self._schema.tables[section.table]
        query = select(table.c[section.id], table.c[section.name]).order_by(table.c[section.id])
        with self._engine.connect() as connection:
            return [(str(list_id), str(name)) for list_id, name in connection.execute(query)]

    def write_activities(self, records: Iterable[ActivityRecord]) -> int:
        """Upsert activity history by external key; returns how many were inserted or changed.

        Raises RecordError for a record naming an unknown contact or organisation (its chunk is not written).
        """
        return write.write_activities(self._engine, self._schema, records, self._clock())

    def set_flags(self, flags: Iterable[ContactFlags]) -> int:
        """Set e-mail opt-out / invalid flags; returns how many contacts changed (their modified time moves).

        Never touches e-mail opt-in. Raises RecordError for an unknown contact (its chunk is not written).
        """
        return write.set_flags(self._engine, self._schema, flags, self._clock())

    def _list_key(self, list_id: str | None) -> object | None:
        if list_id is None:
            return None
        section = self._schema.description.target_lists
        column = self._schema.tables[section.table].c[section.id]
        key = key_value(column, list_id, "target list id")
        with self._engine.connect() as connection:
            if connection.execute(select(column).where(column == key)).first() is None:
                known = ", ".join(f"{ident} ({name})" for ident, name in self.target_lists())
                raise ConfigError(f"there is no target list with id '{list_id}'; the CRM has: {known or 'none'}")
        return key


def open_crm(url: str, schema_path: Path | None = None, clock: Callable[[], datetime] = _utc_now) -> SqlCrm:
    """Connect to the SQL CRM at ``url`` described by ``schema_path`` (default: the embedded CRM's)."""
    return SqlCrm(url, load_schema_description(schema_path), clock)
