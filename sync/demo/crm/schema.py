"""Tables of the embedded demo CRM, portable across SQLite, PostgreSQL and MariaDB.

Custom fields are stored the way real CRMs store them: metadata rows in ``custom_fields`` and one
``cf_<id>`` column per field in the wide ``contacts_cf`` table. Times are naive UTC, to the second.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypedDict

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
)
from sqlalchemy.dialects import mysql
from sqlalchemy.types import TypeEngine


class _TableOptions(TypedDict):
    """Dialect-specific ``Table`` keyword arguments, typed per key so they splat into ``Table(...)``."""

    mysql_charset: str
    mysql_collate: str
    mariadb_charset: str
    mariadb_collate: str


# MariaDB: always utf8mb4, whatever the server's default; the other dialects ignore these.
_TABLE_OPTIONS: _TableOptions = {
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_unicode_ci",
    "mariadb_charset": "utf8mb4",
    "mariadb_collate": "utf8mb4_unicode_ci",
}


@dataclass(frozen=True, slots=True)
class CustomFieldDef:
    """One custom field the demo CRM ships; ``choices_text`` is stored as the CRM stores it."""

    id: int
    name: str
    label: str
    type: str
    choices_text: str | None = None

    @property
    def column_name(self) -> str:
        return f"cf_{self.id}"


# Every custom-field type once or more; choices use both the newline and the JSON storage form.
DEMO_CUSTOM_FIELDS: tuple[CustomFieldDef, ...] = (
    CustomFieldDef(1, "loyalty_tier", "Loyalty tier", "dropdown", '["bronze", "silver", "gold"]'),
    CustomFieldDef(2, "member_since", "Member since", "date"),
    CustomFieldDef(3, "lifetime_value", "Lifetime value", "number"),
    CustomFieldDef(4, "newsletter_topics", "Newsletter topics", "text"),
    CustomFieldDef(5, "vip", "VIP", "checkbox"),
    CustomFieldDef(6, "customer_number", "Customer number", "text"),
    CustomFieldDef(7, "preferred_contact", "Preferred contact method", "dropdown", "E-mail\nPhone\nPost"),
)

TABLE_NAMES = (
    "organisations",
    "contacts",
    "custom_fields",
    "contacts_cf",
    "target_lists",
    "target_list_members",
    "activities",
)


@dataclass(frozen=True, slots=True)
class CrmTables:
    """The demo CRM's tables, bound to one fresh ``MetaData``."""

    metadata: MetaData
    organisations: Table
    contacts: Table
    custom_fields: Table
    contacts_cf: Table
    target_lists: Table
    target_list_members: Table
    activities: Table


def _custom_column_type(field_type: str) -> TypeEngine[Any]:
    types: dict[str, TypeEngine[Any]] = {
        "text": String(255),
        "number": Numeric(12, 2),
        "date": Date(),
        "dropdown": String(100),
        "checkbox": Boolean(),
    }
    return types[field_type]


def crm_tables(custom_fields: tuple[CustomFieldDef, ...] = DEMO_CUSTOM_FIELDS) -> CrmTables:
    """Describe the demo CRM on a new ``MetaData`` (one ``cf_<id>`` column per custom field)."""
    metadata = MetaData()
    organisations = Table(
        "organisations", metadata,
        Column("id", Integer, primary_key=True),
        Column("name", String(200), nullable=False),
        Column("mailing_locked", Boolean, nullable=False, default=False),
        Column("city", String(100)),
        Column("country", String(2)),
        Column("modified_at", DateTime, nullable=False),
        Column("deleted", Boolean, nullable=False, default=False),
        **_TABLE_OPTIONS,
    )
    contacts = Table(
        "contacts", metadata,
        Column("id", Integer, primary_key=True),
        Column("first_name", String(100)),
        Column("last_name", String(100), nullable=False),
        Column("email", String(254), index=True),
        Column("phone", String(40)),
        Column("street", String(200)),
        Column("postal_code", String(20)),
        Column("city", String(100)),
        Column("region", String(100)),  # province, state, Bundesland, ...
        Column("country", String(2)),
        Column("language", String(5)),
        Column("birthday", Date),
        Column("email_opt_in", Boolean, nullable=True),  # NULL: never asked
        Column("postal_opt_in", Boolean, nullable=True),
        Column("email_opt_out", Boolean, nullable=False, default=False),
        Column("email_invalid", Boolean, nullable=False, default=False),
        Column("email_invalid_reason", String(255)),
        Column("organisation_id", Integer, ForeignKey("organisations.id"), index=True),
        Column("created_at", DateTime, nullable=False),
        Column("modified_at", DateTime, nullable=False, index=True),
        Column("deleted", Boolean, nullable=False, default=False),
        **_TABLE_OPTIONS,
    )
    custom_field_meta = Table(
        "custom_fields", metadata,
        Column("id", Integer, primary_key=True),
        Column("name", String(64), nullable=False, unique=True),
        Column("label", String(100), nullable=False),
        Column("type", String(20), nullable=False),
        Column("choices", Text),
        Column("column_name", String(64), nullable=False),
        **_TABLE_OPTIONS,
    )
    contacts_cf = Table(
        "contacts_cf", metadata,
        Column("contact_id", Integer, ForeignKey("contacts.id"), primary_key=True, autoincrement=False),
        *(Column(field.column_name, _custom_column_type(field.type)) for field in custom_fields),
        **_TABLE_OPTIONS,
    )
    target_lists = Table(
        "target_lists", metadata,
        Column("id", Integer, primary_key=True),
        Column("name", String(100), nullable=False),
        Column("description", String(255)),
        **_TABLE_OPTIONS,
    )
    target_list_members = Table(
        "target_list_members", metadata,
        Column("list_id", Integer, ForeignKey("target_lists.id"), primary_key=True, autoincrement=False),
        Column("contact_id", Integer, ForeignKey("contacts.id"), primary_key=True, autoincrement=False),
        Index("ix_target_list_members_contact_id", "contact_id"),
        **_TABLE_OPTIONS,
    )
    activities = Table(
        "activities", metadata,
        Column("id", Integer, primary_key=True),
        # 191 characters keeps the unique index within InnoDB's limit on utf8mb4; binary collation on
        # MariaDB so keys differing only in case or accents stay distinct.
        Column("external_key",
               String(191).with_variant(mysql.VARCHAR(191, collation="utf8mb4_bin"), "mysql", "mariadb"),
               nullable=False, unique=True),
        Column("contact_id", Integer, ForeignKey("contacts.id"), index=True),
        Column("organisation_id", Integer, ForeignKey("organisations.id"), index=True),
        Column("kind", String(50), nullable=False),
        Column("subject", String(255), nullable=False),
        Column("body", Text, nullable=False),
        Column("first_at", DateTime, nullable=False),
        Column("last_at", DateTime, nullable=False),
        Column("details", Text),  # JSON text
        Column("created_at", DateTime, nullable=False),
        Column("modified_at", DateTime, nullable=False),
        **_TABLE_OPTIONS,
    )
    return CrmTables(metadata, organisations, contacts, custom_field_meta, contacts_cf, target_lists,
                     target_list_members, activities)
