"""Segment conditions as a WHERE clause of the SQL CRM's contact query, with bound parameters only.

``contact_filter`` is true for every contact that meets a condition as ``sync/segments/conditions.py``
evaluates it, and may be true for more: a part it cannot translate exactly counts as true, and the stream
evaluates every condition again. No value is ever pasted into the query's text.

Pushed down: target lists; ``equals``, ``in`` and ``contains`` on text columns for ASCII values (compared
through the database's ``lower``, which lowers at least ASCII; values holding one of the few letters whose
``casefold`` gives ASCII, such as ``ß`` or ``ſ``, are let through); ``empty: false``; number tests on numeric
columns (compared as floats, as the stream does); date tests on date columns (PostgreSQL and MariaDB: SQLite
keeps dates as text). Left to the stream: ``empty: true``, checkboxes, date-times, non-ASCII text, and every
field whose column type is not its field type (numbers or dates kept as text, ...).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Column, ColumnElement, Date, Float, String, and_, exists, false, func, literal, or_, select

from sync.connectors.sql.read import CustomField, key_value
from sync.connectors.sql.schema import BoundSchema
from sync.errors import ConfigError
from sync.records import CrmFieldType
from sync.segments.folding import folds_to_ascii
from sync.segments.model import Combined, Condition, ConditionValue, FieldTest, ListTest

_TEXT_TYPES = {CrmFieldType.TEXT, CrmFieldType.EMAIL, CrmFieldType.PHONE, CrmFieldType.DROPDOWN}
_COMPARE = {"gt": "__gt__", "gte": "__ge__", "lt": "__lt__", "lte": "__le__", "before": "__lt__",
            "after": "__gt__", "equals": "__eq__"}


@dataclass(frozen=True)
class FilterColumns:
    """The columns a condition is translated onto: each field's column and type, and the list memberships."""

    fields: Mapping[str, tuple[Column, CrmFieldType]]
    contact_id: Column
    member_contact: Column
    member_list: Column
    dialect: str


def filter_columns(schema: BoundSchema, custom_fields: list[CustomField], dialect: str) -> FilterColumns:
    """The FilterColumns of a bound schema and its custom fields, for the database ``dialect`` names."""
    description = schema.description
    fields = {name: (schema.column(table, spec.column), spec.type)
              for name, table, spec in description.standard_fields()}
    fields.update({custom.field.name: (custom.column, custom.field.type) for custom in custom_fields})
    members = description.target_lists.members
    return FilterColumns(fields, schema.column(description.contacts.table, description.contacts.id),
                         schema.column(members.table, members.contact_id),
                         schema.column(members.table, members.list_id), dialect)


def contact_filter(condition: Condition, columns: FilterColumns) -> ColumnElement[bool] | None:
    """A WHERE clause true for every contact meeting ``condition`` (and maybe more); None: no filter."""
    if isinstance(condition, ListTest):
        return _on_list(condition.list_id, columns)
    if isinstance(condition, Combined):
        parts = [contact_filter(part, columns) for part in condition.parts]
        if condition.kind == "all":
            kept = [part for part in parts if part is not None]
            return and_(*kept) if kept else None
        known = [part for part in parts if part is not None]
        if len(known) < len(parts):
            return None
        return or_(*known) if known else false()
    column_and_type = columns.fields.get(condition.field)
    if column_and_type is None:
        return None
    column, field_type = column_and_type
    if condition.operator == "empty":
        return column.is_not(None) if condition.value is False else None
    stored_type = _python_type(column)
    if field_type in _TEXT_TYPES and stored_type is str:
        exact = _letter_for_letter(column, columns.dialect)
        return _any_of(condition, lambda value: _text(column, exact, condition.operator, value))
    if field_type == CrmFieldType.NUMBER and stored_type in (int, float, Decimal):
        found = _any_of(condition, lambda value: _number(column, condition.operator, value))
        if found is not None and columns.dialect == "sqlite":  # a NUMERIC column there may hold text too
            return or_(found, func.typeof(column).not_in(["integer", "real", "null"]))
        return found
    if field_type == CrmFieldType.DATE and stored_type is date and columns.dialect != "sqlite":
        return _any_of(condition, lambda value: _date(column, condition.operator, value))
    return None


def _any_of(test: FieldTest, translate) -> ColumnElement[bool] | None:
    """``in``: any of the values equals (None when one of them cannot be translated); else the test itself."""
    if test.operator != "in":
        return translate(test.value)
    if not isinstance(test.value, tuple):
        return None
    parts = [translate(value) for value in test.value]
    known = [part for part in parts if part is not None]
    if len(known) < len(parts):
        return None
    return or_(*known) if known else false()


def _text(column: Column, exact: ColumnElement, operator: str, wanted: ConditionValue
          ) -> ColumnElement[bool] | None:
    """Lower-cased ASCII compared; ``exact``: the column compared letter for letter (MariaDB's collations
    would match ``ſ`` to every ``s``), to let through values holding a letter that casefolds to ASCII."""
    if operator == "in":
        operator = "equals"
    if operator not in ("equals", "contains") or not isinstance(wanted, str) or not wanted.isascii():
        return None
    folded = wanted.casefold()
    lowered = func.lower(column, type_=String())
    found = lowered == folded if operator == "equals" else lowered.contains(folded, autoescape=True)
    unsure = [exact.contains(char, autoescape=True) for char, ascii_parts in folds_to_ascii().items()
              if ascii_parts & set(folded)]
    return or_(found, *unsure) if unsure else found


def _number(column: Column, operator: str, wanted: ConditionValue) -> ColumnElement[bool] | None:
    operator = "equals" if operator == "in" else operator
    if operator not in ("gt", "gte", "lt", "lte", "equals") or not isinstance(wanted, float) \
            or not math.isfinite(wanted):
        return None
    return getattr(column, _COMPARE[operator])(literal(wanted, Float()))


def _date(column: Column, operator: str, wanted: ConditionValue) -> ColumnElement[bool] | None:
    operator = "equals" if operator == "in" else operator
    if operator not in ("before", "after", "equals") or not isinstance(wanted, date) \
            or isinstance(wanted, datetime):
        return None
    return getattr(column, _COMPARE[operator])(literal(wanted, Date()))


def _on_list(list_id: str, columns: FilterColumns) -> ColumnElement[bool] | None:
    """Membership of the list, when its id reads back as the same text (the stream compares text)."""
    try:
        key = key_value(columns.member_list, list_id, "target list id")
    except ConfigError:
        return None
    if str(key) != list_id:
        return None
    members = columns.member_list.table.alias("segment_members")
    contact, listed = members.c[columns.member_contact.name], members.c[columns.member_list.name]
    return exists(select(contact).where(contact == columns.contact_id, listed == key))


def _letter_for_letter(column: Column, dialect: str) -> ColumnElement:
    """The column compared by code point: MariaDB/MySQL's utf8mb4_bin for a utf8mb4 column (their other
    collations match ``ſ`` to every ``s``, a superset); any other column as it is."""
    if dialect not in ("mysql", "mariadb"):
        return column
    charset = getattr(column.type, "charset", None) or column.table.kwargs.get(f"{dialect}_default charset")
    collation = getattr(column.type, "collation", None) or column.table.kwargs.get(f"{dialect}_collate") or ""
    if charset == "utf8mb4" or (charset is None and str(collation).startswith("utf8mb4")):
        return column.collate("utf8mb4_bin")
    return column


def _python_type(column: Column) -> Any:
    try:
        return column.type.python_type
    except NotImplementedError:
        return None
