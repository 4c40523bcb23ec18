"""Marketers' segments kept at the provider: which provider segment each is, and the member keys crm-sync put in.

``segment_marks``: one row per (audience, segment) with the provider's segment id and name, so a later push
finds the same segment and refuses one crm-sync did not make. ``segment_members``: the keys crm-sync may have
put in it (written before the provider is asked, trimmed after), for a provider that cannot list a segment's
members (Spotler Mail+).

Revision ID: 0008_segment_marks
Revises: 0007_history_entries
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0008_segment_marks"
down_revision: str | Sequence[str] | None = "0007_history_entries"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
MYSQL_TABLE_OPTIONS: dict[str, Any] = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4",
                                       "mysql_collate": "utf8mb4_bin"}


def upgrade() -> None:
    op.create_table(
        "segment_marks",
        sa.Column("audience", sa.String(length=100), nullable=False),
        sa.Column("segment", sa.String(length=191), nullable=False),
        sa.Column("segment_id", sa.String(length=191), nullable=False),
        sa.Column("provider_name", sa.String(length=255), nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("audience", "segment", name=op.f("pk_segment_marks")),
        **MYSQL_TABLE_OPTIONS,
    )
    op.create_table(
        "segment_members",
        sa.Column("audience", sa.String(length=100), nullable=False),
        sa.Column("segment", sa.String(length=191), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("member_key", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("audience", "segment", "key_hash", name=op.f("pk_segment_members")),
        **MYSQL_TABLE_OPTIONS,
    )


def downgrade() -> None:
    op.drop_table("segment_members")
    op.drop_table("segment_marks")
