"""ContactReads from vtiger's MySQL/MariaDB database, read-only (``crm.read_url``, a SELECT-only user).

Which column of which table holds a field comes from ``vtiger_field`` (``cf_*`` columns included, so whatever the
layout editor added is found at run time); the field list itself, names and types, is the webservice's
``describe``, so both paths offer the same fields. Records are ``vtiger_crmentity`` rows of the module joined to
the module's tables by their primary keys; ``deleted = 1`` rows come out as tombstones. Ids are webservice ids
(``12x117``), prefixes from ``vtiger_ws_entity``. Nothing is ever written here.
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from functools import cached_property
from typing import Any

from sqlalchemy import MetaData, Table, and_, case, func, or_, select, union
from sqlalchemy.engine import Engine

from sync.addresses import normalise_email
from sync.connectors.values import as_utc
from sync.connectors.vtiger.contacts import crmid, organisation_opted_out, to_contact
from sync.connectors.vtiger.fields import ORGANISATION_NAME
from sync.connectors.vtiger.reads import WebserviceReads, _no_lists
from sync.dburl import open_engine
from sync.records import CrmContact, CrmField, CrmFieldType

REFERENCE_TYPES = {"reference", "owner"}
LOCK = "organisation emailoptout"  # not a field: the organisation's mailing lock


class DatabaseReads:
    """Contacts (or Leads) read from the database; the webservice's ``describe`` names the fields."""

    def __init__(self, url: str, module: str, webservice: WebserviceReads):
        self.module = module
        self.webservice = webservice
        self.engine: Engine = open_engine(url, "crm.read_url")
        self._metadata = MetaData()

    def close(self) -> None:
        self.engine.dispose()

    def _table(self, name: str) -> Table:
        if name not in self._metadata.tables:
            Table(name, self._metadata, autoload_with=self.engine)
        return self._metadata.tables[name]

    @cached_property
    def prefixes(self) -> dict[str, str]:
        entity = self._table("vtiger_ws_entity")
        with self.engine.connect() as connection:
            return {str(name): str(ident) for name, ident in connection.execute(select(entity.c.name, entity.c.id))}

    @cached_property
    def _plan(self) -> tuple[Any, list[tuple[str, Any, str]], Any]:
        """(the FROM clause, [(webservice field, column, describe type)], the crmentity table)."""
        entity = self._table("vtiger_crmentity")
        field_table, tab = self._table("vtiger_field"), self._table("vtiger_tab")
        query = (select(field_table.c.fieldname, field_table.c.columnname, field_table.c.tablename)
                 .join(tab, tab.c.tabid == field_table.c.tabid).where(tab.c.name == self.module))
        with self.engine.connect() as connection:
            where = {str(name): (str(table), str(column)) for name, column, table in connection.execute(query)}
        types = {str(item["name"]): str((item.get("type") or {}).get("name"))
                 for item in self.webservice.description.get("fields", [])}
        source: Any = entity
        joined = {entity.name: entity}
        columns: list[tuple[str, Any, str]] = []
        for spec in self.webservice.fields + [_extra("email"), _extra("emailoptout"), _extra("modifiedtime")]:
            table_name, column_name = where.get(spec.column, ("", ""))
            if not table_name:
                continue
            if table_name not in joined:
                table = self._table(table_name)
                keys = list(table.primary_key.columns)
                if len(keys) != 1:
                    continue  # e.g. a per-user table: not one row per record
                source = source.outerjoin(table, keys[0] == entity.c.crmid)
                joined[table_name] = table
            table = joined[table_name]
            if column_name in table.c:
                columns.append((spec.column, table.c[column_name], types.get(spec.column, "string")))
        if self.webservice.has_organisations and "account_id" in where:
            table_name, column_name = where["account_id"]
            account, live = self._table("vtiger_account"), entity.alias("organisation")
            source = (source.outerjoin(account, account.c.accountid == joined[table_name].c[column_name])
                      .outerjoin(live, and_(live.c.crmid == account.c.accountid, live.c.deleted == 0)))
            exists = live.c.crmid.is_not(None)
            columns.append((ORGANISATION_NAME, case((exists, account.c.accountname), else_=None), "string"))
            columns.append((LOCK, case((exists, account.c.emailoptout), else_="0"), LOCK))
        return source, columns, entity

    def _select(self) -> Any:
        source, columns, entity = self._plan
        return (select(entity.c.crmid, entity.c.deleted, *[column for _, column, _ in columns])
                .select_from(source).where(entity.c.setype == self.module))

    def _contacts(self, rows: Sequence[Any]) -> Iterator[CrmContact]:
        _, columns, _ = self._plan
        references = self._reference_modules(rows, columns)
        prefix = self.prefixes[self.module]
        invalid_column = self.webservice.invalid_column
        for row in rows:
            record: dict[str, Any] = {"id": f"{prefix}x{row[0]}", LOCK: "0"}
            for index, (name, _, type_name) in enumerate(columns, start=2):
                value = row[index]
                if type_name in REFERENCE_TYPES:
                    module = references.get(int(value)) if value not in (None, "", 0, "0") else None
                    value = f"{self.prefixes[module]}x{int(value)}" if module in self.prefixes else None
                elif isinstance(value, str):
                    value = html.unescape(value)  # vtiger stores some text HTML-encoded; the webservice decodes
                elif isinstance(value, datetime):
                    value = as_utc(value)
                record[name] = value
            yield to_contact(record, self.webservice.fields, deleted=bool(row[1]), invalid_column=invalid_column,
                             organisation_locked=organisation_opted_out(record[LOCK]))

    def _reference_modules(self, rows: Sequence[Any], columns: list[tuple[str, Any, str]]) -> dict[int, str]:
        """The module of every record or user a reference in these rows points at."""
        ids = {int(row[index]) for row in rows for index, (_, _, kind) in enumerate(columns, start=2)
               if kind in REFERENCE_TYPES and row[index] not in (None, "", 0, "0")}
        if not ids:
            return {}
        entity, users, groups = (self._table(name) for name in ("vtiger_crmentity", "vtiger_users", "vtiger_groups"))
        found: dict[int, str] = {}
        with self.engine.connect() as connection:
            found.update({int(i): "Users" for (i,) in connection.execute(
                select(users.c.id).where(users.c.id.in_(ids)))})
            found.update({int(i): "Groups" for (i,) in connection.execute(
                select(groups.c.groupid).where(groups.c.groupid.in_(ids)))})
            found.update({int(i): str(setype) for i, setype in connection.execute(
                select(entity.c.crmid, entity.c.setype).where(entity.c.crmid.in_(ids)))})
        return found

    # -- ContactReads ----------------------------------------------------------------------------------------

    def describe_fields(self) -> list[CrmField]:
        return self.webservice.describe_fields()

    def schema_fingerprint(self) -> str:
        return self.webservice.schema_fingerprint()

    def target_lists(self) -> list[tuple[str, str]]:
        return []

    def iter_contacts(self, chunk_size: int = 1000, list_id: str | None = None) -> Iterator[CrmContact]:
        """Every record of the module, deleted ones as tombstones, by crmid (keyset chunks)."""
        _no_lists(list_id)
        entity = self._plan[2]
        last = None
        while True:
            query = self._select() if last is None else self._select().where(entity.c.crmid > last)
            with self.engine.connect() as connection:
                rows = connection.execute(query.order_by(entity.c.crmid).limit(chunk_size)).all()
            yield from self._contacts(rows)
            if len(rows) < chunk_size:
                return
            last = rows[-1][0]

    def count_contacts(self, list_id: str | None = None) -> int:
        _no_lists(list_id)
        entity = self._table("vtiger_crmentity")
        with self.engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(entity)
                                          .where(entity.c.setype == self.module)).scalar_one())

    def changed_contact_ids(self, since: datetime, limit: int) -> list[str] | None:
        """Records (deleted ones included) whose modifiedtime is at or after ``since``, cursor (modifiedtime,
        crmid); None when more than ``limit``."""
        entity = self._table("vtiger_crmentity")
        start = as_utc(since).replace(tzinfo=None)
        own = select(entity.c.crmid).where(and_(entity.c.setype == self.module, entity.c.modifiedtime >= start))
        query: Any = own
        if self.webservice.has_organisations:
            details, organisation = self._table(_details_table(self.module)), entity.alias("organisation")
            theirs = (select(entity.c.crmid).join(details, details.c.contactid == entity.c.crmid)
                      .join(organisation, organisation.c.crmid == details.c.accountid)
                      .where(and_(entity.c.setype == self.module, organisation.c.modifiedtime >= start)))
            query = union(own, theirs)
        with self.engine.connect() as connection:
            ids = [int(i) for (i,) in connection.execute(query.limit(limit + 1))]
        prefix = self.prefixes[self.module]
        return None if len(ids) > limit else [f"{prefix}x{i}" for i in sorted(ids)]

    def contacts_by_ids(self, contact_ids: Iterable[str], chunk_size: int = 1000) -> Iterator[CrmContact]:
        prefix = self.prefixes[self.module]
        ids = sorted({crmid(i) for i in contact_ids if str(i).partition("x")[0] == prefix} - {-1})
        entity = self._plan[2]
        for start in range(0, len(ids), chunk_size):
            query = self._select().where(entity.c.crmid.in_(ids[start:start + chunk_size])).order_by(entity.c.crmid)
            with self.engine.connect() as connection:
                rows = connection.execute(query).all()
            yield from self._contacts(rows)

    def existing_contacts(self, contact_ids: Iterable[str]) -> set[str]:
        return {c.id for c in self.contacts_by_ids(contact_ids) if not c.deleted}

    def _addresses(self, keys: list[str] | None = None) -> Iterator[tuple[str, str | None, str | None, bool]]:
        entity = self._table("vtiger_crmentity")
        details = self._table(_details_table(self.module))
        key = list(details.primary_key.columns)[0]
        query = (select(entity.c.crmid, details.c.email, details.c.secondaryemail, entity.c.deleted)
                 .join(details, key == entity.c.crmid).where(entity.c.setype == self.module))
        if keys is not None:
            query = query.where(or_(details.c.email.in_(keys), details.c.secondaryemail.in_(keys)))
        prefix = self.prefixes[self.module]
        with self.engine.connect() as connection:
            for ident, email, secondary, deleted in connection.execute(query.order_by(entity.c.crmid)):
                yield f"{prefix}x{ident}", email, secondary, bool(deleted)

    def contacts_by_email(self, emails: Iterable[str], include_deleted: bool = False) -> dict[str, list[str]]:
        wanted = sorted({key for key in (normalise_email(e) for e in emails) if key})
        found: dict[str, list[str]] = {}
        for start in range(0, len(wanted), 500):
            for ident, email, secondary, deleted in self._addresses(wanted[start:start + 500]):
                if deleted and not include_deleted:
                    continue
                for key in {normalise_email(email), normalise_email(secondary)}:
                    if key in wanted and ident not in found.setdefault(key, []):
                        found[key].append(ident)
        return found

    def shared_emails(self) -> set[str]:
        counts = Counter(key for _, email, _, _ in self._addresses() if (key := normalise_email(email)))
        return {address for address, count in counts.items() if count > 1}


def _details_table(module: str) -> str:
    return {"Contacts": "vtiger_contactdetails", "Leads": "vtiger_leaddetails"}[module]


def _extra(column: str) -> Any:
    """A field read for the contact's core (address, opt-out, time) even when not offered as a field."""
    from sync.connectors.vtiger.fields import VtigerField
    return VtigerField(CrmField(column, column, CrmFieldType.TEXT), column, str)
