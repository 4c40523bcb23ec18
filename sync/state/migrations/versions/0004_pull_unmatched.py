"""The pull's placement facts: why an event changed nothing, and when a member's address last changed.

``event_ledger.unapplied_reason``: set when an event was recorded without being applied to a contact
(``unknown_address``, ``contact_not_in_crm``, ``own_write``, ``previous_address``), so ``crm-sync why``
and status can say why. ``member_state.email_changed_at``: when crm-sync last moved the member to another
address; a bounce from before it happened on the previous address.

Revision ID: 0004_pull_unmatched
Revises: 0001
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0004_pull_unmatched"
down_revision: str | Sequence[str] | None = "0003_normalised_email"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    with op.batch_alter_table("event_ledger") as table:
        table.add_column(sa.Column("unapplied_reason", sa.String(length=64), nullable=True))
    with op.batch_alter_table("member_state") as table:
        table.add_column(sa.Column("email_changed_at", UTC_DATETIME, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("member_state") as table:
        table.drop_column("email_changed_at")
    with op.batch_alter_table("event_ledger") as table:
        table.drop_column("unapplied_reason")
