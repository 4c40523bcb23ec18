"""The details of the CRM history entries crm-sync writes (the events each campaign entry counts).

``history_entries``: one row per entry, keyed by the sha256 of its external key, written in the same
transaction as the ledger rows of the events folded into it. A CRM that can only hold an entry's text (a
vtiger comment, an EspoCRM note) gets the same exactly-once fold as the SQL CRM, which also keeps them itself.

Revision ID: 0007_history_entries
Revises: 0006_run_modes
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0007_history_entries"
down_revision: str | Sequence[str] | None = "0006_run_modes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
MYSQL_TABLE_OPTIONS: dict[str, Any] = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4",
                                       "mysql_collate": "utf8mb4_bin"}


def upgrade() -> None:
    op.create_table(
        "history_entries",
        sa.Column("entry_hash", sa.String(length=64), nullable=False),
        sa.Column("details", sa.JSON(none_as_null=True), nullable=False),
        sa.Column("first_at", UTC_DATETIME, nullable=False),
        sa.Column("last_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("entry_hash", name=op.f("pk_history_entries")),
        **MYSQL_TABLE_OPTIONS,
    )


def downgrade() -> None:
    op.drop_table("history_entries")
