"""The state store's tables as SQLAlchemy 2.0 declarative models.

Portable across SQLite, PostgreSQL and MariaDB: indexed strings are at most 191 characters (utf8mb4
keys), datetimes are ``UtcDateTime``, JSON is SQL NULL when absent. On MariaDB every table is utf8mb4
with a binary collation, so keys compare case-sensitively there too, as on the other two backends.
Changing anything here needs a new Alembic revision in ``sync/state/migrations/versions``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Column, Index, Integer, MetaData, String, Table, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from sync.state.types import UtcDateTime, json_type

KEY_LENGTH = 191  # the longest VARCHAR MariaDB can index whole in utf8mb4 on every row format
AUDIENCE_LENGTH = 100

# Deterministic constraint names, so migrations can refer to them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
MYSQL_TABLE_OPTIONS = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}


class Base(DeclarativeBase):
    """Declarative base of the state store's tables."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Run(Base):
    """One push, pull or combined run: when, how it ended, what it did."""

    __tablename__ = "runs"
    __table_args__ = (MYSQL_TABLE_OPTIONS,)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    audience: Mapped[str | None] = mapped_column(String(AUDIENCE_LENGTH))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    outcome: Mapped[str] = mapped_column(String(16))
    counts: Mapped[dict[str, Any]] = mapped_column(json_type())
    error: Mapped[str | None] = mapped_column(Text)
    mode: Mapped[str | None] = mapped_column(String(16))  # a push's kind: full or incremental
    fingerprint: Mapped[str | None] = mapped_column(String(64))  # hash of the configuration a push ran with


class MemberState(Base):
    """What was last pushed for one contact in one audience, and what the provider said."""

    __tablename__ = "member_state"
    __table_args__ = (
        Index(None, "audience", "email"),
        Index(None, "audience", "provider_id"),
        MYSQL_TABLE_OPTIONS,
    )

    audience: Mapped[str] = mapped_column(String(AUDIENCE_LENGTH), primary_key=True)
    contact_id: Mapped[str] = mapped_column(String(KEY_LENGTH), primary_key=True)
    email: Mapped[str | None] = mapped_column(String(KEY_LENGTH))
    provider_id: Mapped[str | None] = mapped_column(String(KEY_LENGTH))
    payload_hash: Mapped[str | None] = mapped_column(String(100))
    payload: Mapped[dict[str, Any] | None] = mapped_column(json_type())
    provider_status: Mapped[str | None] = mapped_column(String(32))
    owned: Mapped[bool] = mapped_column(Boolean)
    last_error: Mapped[str | None] = mapped_column(Text)
    reason_code: Mapped[str | None] = mapped_column(String(64))
    merged_into: Mapped[str | None] = mapped_column(String(KEY_LENGTH))
    pushed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    email_changed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())  # when crm-sync last moved the address
    warnings: Mapped[list[dict[str, str]] | None] = mapped_column(json_type())  # fields left out or cleaned
    rejected_key: Mapped[str | None] = mapped_column(String(100))  # what a rejection was about (a hash)


class PushIntent(Base):
    """A write the push is about to send for one contact; deleted when its answer is recorded.

    A row still here on the next push means the answer never arrived or was never recorded: the push
    first looks the member up at the provider and records what it finds.
    """

    __tablename__ = "push_intents"
    __table_args__ = (MYSQL_TABLE_OPTIONS,)

    audience: Mapped[str] = mapped_column(String(AUDIENCE_LENGTH), primary_key=True)
    contact_id: Mapped[str] = mapped_column(String(KEY_LENGTH), primary_key=True)
    action: Mapped[str] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(KEY_LENGTH))
    previous_email: Mapped[str | None] = mapped_column(String(KEY_LENGTH))
    reason_code: Mapped[str | None] = mapped_column(String(64))
    payload_hash: Mapped[str | None] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Cursor(Base):
    """An incremental-read position: the last value read and the keys already seen at exactly that value."""

    __tablename__ = "cursors"
    __table_args__ = (MYSQL_TABLE_OPTIONS,)

    name: Mapped[str] = mapped_column(String(KEY_LENGTH), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    boundary_keys: Mapped[list[str]] = mapped_column(json_type())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class LedgerEntry(Base):
    """One provider event already imported into the CRM; its key makes re-imports no-ops."""

    __tablename__ = "event_ledger"
    __table_args__ = (MYSQL_TABLE_OPTIONS,)

    event_key: Mapped[str] = mapped_column(String(KEY_LENGTH), primary_key=True)
    provider: Mapped[str] = mapped_column(String(32))
    audience: Mapped[str] = mapped_column(String(AUDIENCE_LENGTH))
    contact_id: Mapped[str | None] = mapped_column(String(KEY_LENGTH))
    kind: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime())
    imported_at: Mapped[datetime] = mapped_column(UtcDateTime())
    run_id: Mapped[int | None] = mapped_column(Integer)
    unapplied_reason: Mapped[str | None] = mapped_column(String(64))  # why the event changed no contact


class HistoryEntry(Base):
    """The details of one CRM history entry crm-sync wrote (the events it counts), by its hashed external key."""

    __tablename__ = "history_entries"
    __table_args__ = (MYSQL_TABLE_OPTIONS,)

    entry_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    details: Mapped[dict[str, Any]] = mapped_column(json_type())
    first_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class SegmentMark(Base):
    """A marketer's segment kept at the provider for one audience: the provider's segment id and name."""

    __tablename__ = "segment_marks"
    __table_args__ = (MYSQL_TABLE_OPTIONS,)

    audience: Mapped[str] = mapped_column(String(AUDIENCE_LENGTH), primary_key=True)
    segment: Mapped[str] = mapped_column(String(KEY_LENGTH), primary_key=True)
    segment_id: Mapped[str] = mapped_column(String(KEY_LENGTH))
    provider_name: Mapped[str] = mapped_column(String(255))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class SegmentMember(Base):
    """One member key crm-sync may have put in a marked segment (by its sha256: any key fits)."""

    __tablename__ = "segment_members"
    __table_args__ = (MYSQL_TABLE_OPTIONS,)

    audience: Mapped[str] = mapped_column(String(AUDIENCE_LENGTH), primary_key=True)
    segment: Mapped[str] = mapped_column(String(KEY_LENGTH), primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    member_key: Mapped[str] = mapped_column(Text)


class RunLock(Base):
    """A named mutex row: whoever inserted it holds the lock until it is deleted or expires."""

    __tablename__ = "run_lock"
    __table_args__ = (MYSQL_TABLE_OPTIONS,)

    name: Mapped[str] = mapped_column(String(KEY_LENGTH), primary_key=True)
    holder: Mapped[str] = mapped_column(String(36))
    pid: Mapped[int] = mapped_column(Integer)
    host: Mapped[str] = mapped_column(String(255))
    acquired_at: Mapped[datetime] = mapped_column(UtcDateTime())
    heartbeat_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())


def table_of(model: type[Base]) -> Table:
    """The Core table behind a mapped class (typed as a Table: every model here maps one table)."""
    table = model.__table__
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is not mapped to one table")
    return table


def column_length(column: Column) -> int:
    """The most characters a text column holds."""
    if not isinstance(column.type, String) or column.type.length is None:
        raise TypeError(f"column {column.name} has no length")
    return column.type.length

