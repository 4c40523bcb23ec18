"""Initial schema: runs, member_state, cursors, event_ledger, run_lock.

Revision ID: 0001
Revises:
Create Date: 2026-11-22

Keep revisions self-contained: plain SQLAlchemy types here, never imports from sync.state.models.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# What sync.state.types.UtcDateTime stores: timestamptz on PostgreSQL, DATETIME(6) on MariaDB, text on SQLite.
UTC_DATETIME = sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
JSON = sa.JSON(none_as_null=True)
MYSQL_TABLE_OPTIONS: dict[str, Any] = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4",
                                       "mysql_collate": "utf8mb4_bin"}


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("audience", sa.String(length=100), nullable=True),
        sa.Column("started_at", UTC_DATETIME, nullable=False),
        sa.Column("finished_at", UTC_DATETIME, nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("counts", JSON, nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_runs")),
        **MYSQL_TABLE_OPTIONS,
    )
    op.create_table(
        "member_state",
        sa.Column("audience", sa.String(length=100), nullable=False),
        sa.Column("contact_id", sa.String(length=191), nullable=False),
        sa.Column("email", sa.String(length=191), nullable=True),
        sa.Column("provider_id", sa.String(length=191), nullable=True),
        sa.Column("payload_hash", sa.String(length=100), nullable=True),
        sa.Column("payload", JSON, nullable=True),
        sa.Column("provider_status", sa.String(length=32), nullable=True),
        sa.Column("owned", sa.Boolean(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("reason_code", sa.String(length=64), nullable=True),
        sa.Column("merged_into", sa.String(length=191), nullable=True),
        sa.Column("pushed_at", UTC_DATETIME, nullable=True),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("audience", "contact_id", name=op.f("pk_member_state")),
        **MYSQL_TABLE_OPTIONS,
    )
    op.create_index(op.f("ix_member_state_audience_email"), "member_state", ["audience", "email"])
    op.create_index(op.f("ix_member_state_audience_provider_id"), "member_state", ["audience", "provider_id"])
    op.create_table(
        "cursors",
        sa.Column("name", sa.String(length=191), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("boundary_keys", JSON, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_cursors")),
        **MYSQL_TABLE_OPTIONS,
    )
    op.create_table(
        "event_ledger",
        sa.Column("event_key", sa.String(length=191), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("audience", sa.String(length=100), nullable=False),
        sa.Column("contact_id", sa.String(length=191), nullable=True),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("occurred_at", UTC_DATETIME, nullable=False),
        sa.Column("imported_at", UTC_DATETIME, nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("event_key", name=op.f("pk_event_ledger")),
        **MYSQL_TABLE_OPTIONS,
    )
    op.create_table(
        "run_lock",
        sa.Column("name", sa.String(length=191), nullable=False),
        sa.Column("holder", sa.String(length=36), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("acquired_at", UTC_DATETIME, nullable=False),
        sa.Column("heartbeat_at", UTC_DATETIME, nullable=False),
        sa.Column("expires_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_run_lock")),
        **MYSQL_TABLE_OPTIONS,
    )


def downgrade() -> None:
    op.drop_table("run_lock")
    op.drop_table("event_ledger")
    op.drop_table("cursors")
    op.drop_index(op.f("ix_member_state_audience_provider_id"), table_name="member_state")
    op.drop_index(op.f("ix_member_state_audience_email"), table_name="member_state")
    op.drop_table("member_state")
    op.drop_table("runs")
