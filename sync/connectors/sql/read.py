"""Reading a SQL CRM: field descriptions and contacts streamed in keyset-paged chunks (typed values:
``sync/connectors/values.py``)."""

from __future__ import annotations

import json
from array import array
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from itertools import islice
from operator import itemgetter
from typing import Any

from sqlalchemy import Column, ColumnElement, Connection, Engine, and_, func, select, type_coerce
from sqlalchemy.types import NullType

from sync.addresses import normalise_email
from sync.connectors.sql.schema import BoundSchema
from sync.connectors.values import CONVERTERS, to_bool, to_datetime, to_number, to_text
from sync.errors import ConfigError
from sync.records import Consent, CrmContact, CrmField, CrmFieldType, FieldValue

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ADDRESS_CHUNK = 5000  # contacts per query when only their addresses are read
HASH_BUCKETS = 16  # shared_emails sorts its address hashes in this many parts


def _in_chunks(items: list, size: int = 500) -> Iterator[list]:
    return (items[start:start + size] for start in range(0, len(items), size))


def _set_unless_clearly_not(value: object) -> bool:
    """A flag that stops mail: set unless the value clearly says no (empty means no)."""
    return value is not None and to_bool(value) is not False


def _modified_at(value: object) -> datetime:
    converted = to_datetime(value)
    return converted if isinstance(converted, datetime) else _EPOCH


def parse_choices(text: str | None) -> tuple[str, ...]:
    """Dropdown choices stored as a JSON list or one per line; raises ValueError on broken JSON."""
    if not text or not text.strip():
        return ()
    stripped = text.strip()
    if stripped.startswith("["):
        items = json.loads(stripped)
        if not isinstance(items, list):
            raise ValueError("not a JSON list")
        return tuple(str(item).strip() for item in items if str(item).strip())
    return tuple(line.strip() for line in stripped.splitlines() if line.strip())


@dataclass(frozen=True, slots=True)
class CustomField:
    """A custom field and the column of the values table that holds it."""

    field: CrmField
    column: Column


def read_custom_fields(connection: Connection, schema: BoundSchema) -> list[CustomField]:
    """Custom fields from the metadata table, ordered by name; ConfigError for a row that cannot be used."""
    section = schema.description.custom_fields
    meta = schema.tables[section.table]
    values = schema.tables[section.values.table]
    standard = {name for name, _, _ in schema.description.standard_fields()}
    query = select(meta.c[section.name], meta.c[section.label], meta.c[section.type], meta.c[section.choices],
                   meta.c[section.column]).order_by(meta.c[section.name])
    where = f"table {section.table} (described in {schema.description.file})"
    result = []
    for name, label, type_name, choices, column_name in connection.execute(query):
        field_type = section.type_map.get(str(type_name))
        if field_type is None:
            raise ConfigError(f"custom field '{name}' in {where} has type '{type_name}', which "
                              f"custom_fields.type_map does not map; add it there")
        if column_name not in values.c:
            raise ConfigError(f"custom field '{name}' in {where} is stored in column '{column_name}', "
                              f"which table {section.values.table} does not have")
        if name in standard:
            raise ConfigError(f"custom field '{name}' in {where} has the same name as a standard field")
        try:
            parsed = parse_choices(choices)
        except ValueError as error:
            raise ConfigError(f"custom field '{name}' in {where}: its choices are not valid JSON ({error})") from None
        result.append(CustomField(CrmField(str(name), str(label), field_type, parsed, custom=True),
                                  values.c[column_name]))
    return result


def key_value(column: Column, text: str, what: str) -> Any:
    """Turn a string id from a record into the type of ``column``; ConfigError if it cannot be one."""
    try:
        python_type = column.type.python_type
    except NotImplementedError:
        return text
    if python_type is int:
        try:
            return int(text)
        except ValueError:
            raise ConfigError(f"{what} '{text}' is not a valid id (expected a whole number)") from None
    return text


def _converter(column: Column, field_type: CrmFieldType) -> Callable[[object], FieldValue] | None:
    """The conversion for a column's values; None where the driver already returns the right type."""
    convert = CONVERTERS[field_type]
    try:
        python_type = column.type.python_type
    except NotImplementedError:
        return convert
    if convert is to_number and python_type in (Decimal, float):
        return _to_fraction  # a NUMERIC column read as stored hands whole numbers back as int on SQLite
    return None if convert is to_text and python_type is str else convert


def _to_fraction(value: object) -> FieldValue:
    number = to_number(value)
    return float(number) if isinstance(number, int) else number


def _as_stored(column: Column):
    """The column read as the database hands it over, converted here value by value: a typed column can hold
    what its type does not allow (SQLite keeps 'abc' in a NUMERIC column, MariaDB '0000-00-00' in a DATE),
    and SQLAlchemy's own conversion would then fail the whole query. Strings need no conversion."""
    try:
        if column.type.python_type is str:
            return column
    except NotImplementedError:
        return column
    return type_coerce(column, NullType()).label(f"raw_{column.table.name}_{column.name}")


class ContactReader:
    """Builds the chunk query once and turns its rows into CrmContacts."""

    def __init__(self, schema: BoundSchema, custom_fields: list[CustomField]):
        description = schema.description
        contacts, consent = description.contacts, description.contacts.consent
        self._contacts = schema.tables[contacts.table]
        self._id = self._contacts.c[contacts.id]
        self._email_column = contacts.email
        self._deleted_column = contacts.deleted
        self._email_key_column = contacts.email_key
        organisations = schema.tables[description.organisations.table]
        values = schema.tables[description.custom_fields.values.table]
        self._members = schema.tables[description.target_lists.members.table]
        self._member_contact = self._members.c[description.target_lists.members.contact_id]
        self._member_list = self._members.c[description.target_lists.members.list_id]
        organisation_id = self._contacts.c[contacts.organisation_id]
        self._from = (self._contacts
                      .outerjoin(organisations, organisations.c[description.organisations.id] == organisation_id)
                      .outerjoin(values, values.c[description.custom_fields.values.contact_id] == self._id))
        positions: dict[Column, int] = {}  # each column selected once, even when two roles share it

        def position(column: Column) -> int:
            return positions.setdefault(column, len(positions))

        c = self._contacts.c
        self._core = tuple(position(column) for column in (
            self._id, c[contacts.email], c[contacts.modified_at], c[contacts.deleted], organisation_id,
            organisations.c[description.organisations.mailing_locked], c[consent.email_opt_in],
            c[consent.email_opt_out], c[consent.email_invalid], c[consent.invalid_reason], c[consent.postal_opt_in],
        ))
        fields = [(name, schema.column(table, spec.column), spec.type)
                  for name, table, spec in description.standard_fields()]
        fields += [(custom.field.name, custom.column, custom.field.type) for custom in custom_fields]
        self._fields = [(name, position(column), _converter(column, field_type)) for name, column, field_type in fields]
        self._columns = [column if column is self._id else _as_stored(column) for column in positions]
        self._core_values = itemgetter(*self._core)

    def iter_contacts(self, engine: Engine, chunk_size: int, list_id: object | None,
                      where: ColumnElement[bool] | None = None) -> Iterator[CrmContact]:
        """Every contact (deleted ones too; those ``where`` is true for), ordered by id, one query per chunk
        plus one for memberships (of the chunk's ids when filtered: they may lie far apart)."""
        base = select(*self._columns).select_from(self._from)
        if list_id is not None:
            base = base.join(self._members, and_(self._member_contact == self._id, self._member_list == list_id))
        if where is not None:
            base = base.where(where)
        last = None
        while True:
            query = base if last is None else base.where(self._id > last)
            with engine.connect() as connection:
                rows = connection.execute(query.order_by(self._id).limit(chunk_size)).all()
                if not rows:
                    return
                ids = [row[self._core[0]] for row in rows]
                memberships = self._memberships(connection, ids[0], ids[-1], ids if where is not None else None)
            for row in rows:
                yield self._contact(row, memberships)
            last = rows[-1][self._core[0]]
            if len(rows) < chunk_size:
                return

    def by_ids(self, engine: Engine, ids: Iterable[object], chunk_size: int) -> Iterator[CrmContact]:
        """The contacts with the given ids (as the id column types them), in chunks of ``chunk_size``."""
        base = select(*self._columns).select_from(self._from)
        for chunk in _in_chunks(list(ids), chunk_size):
            with engine.connect() as connection:
                rows = connection.execute(base.where(self._id.in_(chunk)).order_by(self._id)).all()
                memberships = self._memberships(connection, ids=chunk)
            yield from (self._contact(row, memberships) for row in rows)

    def _memberships(self, connection: Connection, first: object = None, last: object = None,
                     ids: list | None = None) -> dict[object, set[str]]:
        which = self._member_contact.in_(ids) if ids is not None else self._member_contact.between(first, last)
        query = select(self._member_contact, self._member_list).where(which)
        lists: dict[object, set[str]] = defaultdict(set)
        for contact_id, list_id in connection.execute(query):
            lists[contact_id].add(str(list_id))
        return lists

    def _contact(self, row, memberships: dict[object, set[str]]) -> CrmContact:
        (id_, email, modified_at, deleted, organisation_id, locked, opt_in, opt_out, invalid, reason,
         postal) = self._core_values(row)
        return CrmContact(
            id=str(id_),
            email=email,
            fields={name: row[index] if convert is None else convert(row[index])
                    for name, index, convert in self._fields},
            # Unclear values fall on the safe side: consent not given, and an opt-out, an invalid mark, a
            # deletion or a mailing lock that cannot be read counts as set.
            consent=Consent(
                email_opt_in=to_bool(opt_in),
                email_opt_out=_set_unless_clearly_not(opt_out),
                email_invalid=_set_unless_clearly_not(invalid),
                invalid_reason=reason,
                postal_opt_in=to_bool(postal),
            ),
            # A row without a (readable) modification time sorts as the oldest change.
            modified_at=_modified_at(modified_at),
            deleted=_set_unless_clearly_not(deleted),
            organisation_id=None if organisation_id is None else str(organisation_id),
            organisation_locked=_set_unless_clearly_not(locked),
            list_ids=frozenset(memberships.get(id_, ())),
        )

    def addresses(self, engine: Engine, chunk_size: int = ADDRESS_CHUNK) -> Iterator[tuple[str, str, bool]]:
        """(contact id, normalised address, deleted) of every contact with an address, in id order: a keyset-
        paged read of three columns, normalised here (``sync/addresses.py``) and never by the database."""
        email_column = self._contacts.c[self._email_column]
        base = select(self._id, email_column, self._contacts.c[self._deleted_column])
        last = None
        while True:
            query = base if last is None else base.where(self._id > last)
            with engine.connect() as connection:
                rows = connection.execute(query.order_by(self._id).limit(chunk_size)).all()
            for contact_id, email, deleted in rows:
                address = normalise_email(email)
                if address is not None:
                    yield str(contact_id), address, bool(to_bool(deleted))
            if len(rows) < chunk_size:
                return
            last = rows[-1][0]

    def addresses_keyed(self, engine: Engine, key_chunks: Iterable[list[str]]) -> Iterator[tuple[str, str, bool]]:
        """Like ``addresses``, for the contacts whose ``email_key`` column is one of the keys (its index)."""
        if self._email_key_column is None:
            raise ValueError("addresses_keyed needs an email_key column")
        key = self._contacts.c[self._email_key_column]
        email_column = self._contacts.c[self._email_column]
        base = select(self._id, email_column, self._contacts.c[self._deleted_column]).order_by(self._id)
        with engine.connect() as connection:
            for keys in key_chunks:
                for contact_id, email, deleted in connection.execute(base.where(key.in_(keys))):
                    address = normalise_email(email)
                    if address is not None:
                        yield str(contact_id), address, bool(to_bool(deleted))

    def shared_emails(self, engine: Engine) -> set[str]:
        """Normalised addresses that more than one contact has, deleted contacts included."""
        if self._email_key_column is not None:
            return self._shared_by_key(engine, self._email_key_column)
        # Two reads of the addresses instead of one count of them all: first 8 bytes per contact (a hash), then
        # only the addresses whose hash repeats are counted. The hashes are sorted a bucket at a time (a sorted
        # list costs 40 bytes a hash): a million addresses need ~10 MB, not ~200.
        buckets = [array("q") for _ in range(HASH_BUCKETS)]
        for _, address, _ in self.addresses(engine):
            value = hash(address)
            buckets[value % HASH_BUCKETS].append(value)
        repeated: set[int] = set()
        for index, bucket in enumerate(buckets):
            buckets[index] = array("q")
            ordered = sorted(bucket)
            del bucket
            repeated.update(value for value, after in zip(ordered, islice(ordered, 1, None)) if value == after)
            del ordered
        counts = Counter(address for _, address, _ in self.addresses(engine) if hash(address) in repeated)
        return {address for address, count in counts.items() if count > 1}

    def _shared_by_key(self, engine: Engine, key_column: str) -> set[str]:
        """Keys the database groups more than once, counted again from the addresses themselves (a database
        collation may group keys Python keeps apart; then only the real repeats count)."""
        key = self._contacts.c[key_column]
        query = select(key).where(key.is_not(None)).group_by(key).having(func.count() > 1)
        with engine.connect() as connection:
            candidates = sorted({value for (value,) in connection.execute(query) if value})
        counts = Counter(address for _, address, _ in self.addresses_keyed(engine, _in_chunks(candidates)))
        return {address for address, count in counts.items() if count > 1}

    def count(self, engine: Engine, list_id: object | None) -> int:
        query = select(func.count()).select_from(self._contacts)
        if list_id is not None:
            query = query.join(self._members, and_(self._member_contact == self._id, self._member_list == list_id))
        with engine.connect() as connection:
            return connection.execute(query).scalar_one()
