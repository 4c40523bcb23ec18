"""Full and incremental pushes: which kind each push run was, and the configuration it ran with.

``runs.mode``: ``full`` (every CRM contact read) or ``incremental`` (only those changed since the last
completed push); NULL for pulls. ``runs.fingerprint``: a hash of the mapping, the audience's settings and the
CRM's schema description, so a change to any of them makes the next push a full one.

Revision ID: 0006_run_modes
Revises: 0005_field_warnings
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_run_modes"
down_revision: str | Sequence[str] | None = "0005_field_warnings"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as table:
        table.add_column(sa.Column("mode", sa.String(length=16), nullable=True))
        table.add_column(sa.Column("fingerprint", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("runs") as table:
        table.drop_column("fingerprint")
        table.drop_column("mode")
