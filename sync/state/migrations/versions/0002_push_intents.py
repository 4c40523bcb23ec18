"""Push intents: the writes a push is about to send, settled when their answers are recorded.

Revision ID: 0002_push_intents
Revises: 0001
Create Date: 2026-12-07

Keep revisions self-contained: plain SQLAlchemy types here, never imports from sync.state.models.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0002_push_intents"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
MYSQL_TABLE_OPTIONS: dict[str, Any] = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4",
                                       "mysql_collate": "utf8mb4_bin"}


def upgrade() -> None:
    op.create_table(
        "push_intents",
        sa.Column("audience", sa.String(length=100), nullable=False),
        sa.Column("contact_id", sa.String(length=191), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("email", sa.String(length=191), nullable=True),
        sa.Column("previous_email", sa.String(length=191), nullable=True),
        sa.Column("reason_code", sa.String(length=64), nullable=True),
        sa.Column("payload_hash", sa.String(length=100), nullable=True),
        sa.Column("recorded_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("audience", "contact_id", name=op.f("pk_push_intents")),
        **MYSQL_TABLE_OPTIONS,
    )


def downgrade() -> None:
    op.drop_table("push_intents")
