"""Create the embedded demo CRM in any SQLAlchemy database and fill it with synthetic data."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Iterator
from dataclasses import astuple, dataclass, fields
from itertools import islice

from sqlalchemy import Connection, Engine, Table, func, inspect, select, text

from sync.dburl import display_url, open_engine
from sync.demo.crm.factory import TARGET_LISTS, DemoFactory
from sync.demo.crm.schema import DEMO_CUSTOM_FIELDS, TABLE_NAMES, CrmTables, crm_tables
from sync.errors import ConfigError

# Rows per INSERT batch and per transaction: large enough to amortise round trips, small enough
# to keep memory flat at a million contacts.
CHUNK_SIZE = 10_000
_CONTACTS_PER_ORGANISATION = 25
_SQLITE_CACHE_KIB = 64 * 1024


@dataclass(frozen=True, slots=True)
class DemoSummary:
    """What the demo CRM holds, counted in the database after it was filled."""

    contacts: int
    organisations: int
    locked_organisations: int
    opted_out: int
    invalid: int
    never_asked: int
    shared_email: int
    no_email: int
    fake_looking_email: int
    deleted: int
    lists: int
    list_memberships: int
    custom_fields: int

    def as_rows(self) -> list[tuple[str, int]]:
        """(label, count) pairs in a stable order, for printing."""
        labels = {
            "shared_email": "sharing an email",
            "never_asked": "email opt-in never asked",
            "fake_looking_email": "fake-looking emails",
        }
        return [(labels.get(field.name, field.name.replace("_", " ")), value)
                for field, value in zip(fields(self), astuple(self))]


def create_demo_crm(
    url: str,
    contacts: int = 1000,
    seed: int = 42,
    progress: Callable[[int, int], None] | None = None,
    replace: bool = False,
    chunk_size: int = CHUNK_SIZE,
) -> DemoSummary:
    """Create the demo CRM schema at ``url`` and fill it with ``contacts`` deterministic contacts.

    The same ``seed`` and count always give the same database. If the database already has demo CRM
    tables, raises ConfigError unless ``replace`` is true, in which case they are dropped first.
    ``progress(done, total)`` is called before the first and after each batch of ``chunk_size`` contacts.
    """
    if contacts < 1 or chunk_size < 1:
        raise ConfigError(f"demo CRM: contacts and chunk_size must be at least 1, not {contacts} and {chunk_size}")
    engine = open_engine(url, "demo CRM")
    try:
        tables = crm_tables()
        _prepare_schema(engine, tables, url, replace)
        _fill(engine, tables, contacts, random.Random(seed), progress, chunk_size)
        with engine.connect() as connection:
            return _summarise(connection, tables)
    finally:
        engine.dispose()


def _prepare_schema(engine: Engine, tables: CrmTables, url: str, replace: bool) -> None:
    existing = sorted(set(inspect(engine).get_table_names()) & set(TABLE_NAMES))
    if existing and not replace:
        raise ConfigError(
            f"demo CRM: {display_url(url)} already has CRM tables ({', '.join(existing)}). "
            "Run `crm-sync demo init --replace` to drop and recreate them, or give --crm-url an empty database."
        )
    if existing:
        tables.metadata.drop_all(engine, checkfirst=True)
    tables.metadata.create_all(engine)


def _fill(engine: Engine, tables: CrmTables, contacts: int, rng: random.Random,
          progress: Callable[[int, int], None] | None, chunk_size: int) -> None:
    factory = DemoFactory(rng, {field.name: field.column_name for field in DEMO_CUSTOM_FIELDS})
    with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            # The e-mail and modified_at indexes take random inserts; SQLite's default 2 MB page cache
            # makes that disk-bound past a few hundred thousand contacts.
            connection.exec_driver_sql(f"PRAGMA cache_size = -{_SQLITE_CACHE_KIB}")
            connection.commit()
        with connection.begin():
            _insert_fixed_rows(connection, tables, factory, max(3, contacts // _CONTACTS_PER_ORGANISATION),
                               chunk_size)
        if progress:
            progress(0, contacts)
        done = 0
        for batch in _batches((factory.contact(contact_id) for contact_id in range(1, contacts + 1)), chunk_size):
            with connection.begin():
                _insert_contacts(connection, tables, batch)
            done += len(batch)
            if progress:
                progress(done, contacts)
        with connection.begin():
            _advance_sequences(connection, (tables.organisations, tables.contacts, tables.custom_fields,
                                            tables.target_lists))


def _insert_fixed_rows(connection: Connection, tables: CrmTables, factory: DemoFactory, organisations: int,
                       chunk_size: int) -> None:
    """Custom-field metadata, target lists and organisations: everything contacts refer to."""
    connection.execute(tables.custom_fields.insert(), [
        {"id": field.id, "name": field.name, "label": field.label, "type": field.type,
         "choices": field.choices_text, "column_name": field.column_name}
        for field in DEMO_CUSTOM_FIELDS
    ])
    connection.execute(tables.target_lists.insert(), [
        {"id": list_id, "name": name, "description": description} for list_id, name, description in TARGET_LISTS
    ])
    for batch in _batches(factory.organisations(organisations), chunk_size):
        connection.execute(tables.organisations.insert(), batch)


def _insert_contacts(connection: Connection, tables: CrmTables, batch: list) -> None:
    connection.execute(tables.contacts.insert(), [rows.contact for rows in batch])
    connection.execute(tables.contacts_cf.insert(), [rows.custom for rows in batch])
    memberships = [{"list_id": list_id, "contact_id": rows.contact["id"]}
                   for rows in batch for list_id in rows.list_ids]
    if memberships:
        connection.execute(tables.target_list_members.insert(), memberships)


def _advance_sequences(connection: Connection, tables: Iterable[Table]) -> None:
    """PostgreSQL sequences do not move when ids are given explicitly; move them past the data."""
    if connection.dialect.name != "postgresql":
        return
    for table in tables:
        connection.execute(text(
            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), (SELECT max(id) FROM {table.name}))"
        ))


def _batches(rows: Iterable, size: int) -> Iterator[list]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


def _summarise(connection: Connection, tables: CrmTables) -> DemoSummary:
    contacts, organisations = tables.contacts, tables.organisations

    def count(table: Table, *conditions) -> int:
        return connection.execute(select(func.count()).select_from(table).where(*conditions)).scalar_one()

    email = contacts.c.email
    per_address = (select(func.count().label("n")).where(email.is_not(None)).group_by(email)
                   .having(func.count() > 1).subquery())
    fake = email.like("%@example.com") | email.like("%@example.org") | email.like("%@example.net")
    return DemoSummary(
        contacts=count(contacts),
        organisations=count(organisations),
        locked_organisations=count(organisations, organisations.c.mailing_locked.is_(True)),
        opted_out=count(contacts, contacts.c.email_opt_out.is_(True)),
        invalid=count(contacts, contacts.c.email_invalid.is_(True)),
        never_asked=count(contacts, contacts.c.email_opt_in.is_(None)),
        shared_email=int(connection.execute(select(func.coalesce(func.sum(per_address.c.n), 0))).scalar_one()),
        no_email=count(contacts, email.is_(None)),
        fake_looking_email=count(contacts, fake),
        deleted=count(contacts, contacts.c.deleted.is_(True)),
        lists=count(tables.target_lists),
        list_memberships=count(tables.target_list_members),
        custom_fields=count(tables.custom_fields),
    )
