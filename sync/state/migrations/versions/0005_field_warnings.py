"""Per-field warnings and rejections keyed to what they were about.

``member_state.warnings``: the fields of the contact's last pushed payload that were left out or cleaned
(a JSON list of {field, sources, problem, detail}), for ``crm-sync why`` and ``status``.
``member_state.rejected_key``: a hash of what the provider refused (the address, or the whole payload);
the rejection holds only while it is unchanged, so a value corrected in the CRM is tried again. Rows refused
for their address before this revision are keyed to the address they hold (the refused one, for a contact
never pushed), so they keep being skipped until that address changes.

Revision ID: 0005_field_warnings
Revises: 0004_pull_unmatched
Create Date: 2026-12-07
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_field_warnings"
down_revision: str | Sequence[str] | None = "0004_pull_unmatched"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("member_state") as table:
        table.add_column(sa.Column("warnings", sa.JSON(none_as_null=True), nullable=True))
        table.add_column(sa.Column("rejected_key", sa.String(length=100), nullable=True))
    members = sa.table("member_state", sa.column("audience"), sa.column("contact_id"), sa.column("email"),
                       sa.column("reason_code"), sa.column("rejected_key"))
    connection = op.get_bind()
    refused = connection.execute(sa.select(members.c.audience, members.c.contact_id, members.c.email).where(
        members.c.reason_code.in_(ADDRESS_REASONS), members.c.email.is_not(None))).all()
    for audience, contact_id, email in refused:
        connection.execute(members.update().where(members.c.audience == audience, members.c.contact_id == contact_id)
                           .values(rejected_key=_address_key(email)))


ADDRESS_REASONS = ("compliance_state", "forgotten_email", "invalid_address")


def _address_key(email: str) -> str:
    """sync/push/rules.py ``rejection_key`` for an address refusal, as it was at this revision."""
    canonical = json.dumps({"email": email}, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def downgrade() -> None:
    with op.batch_alter_table("member_state") as table:
        table.drop_column("rejected_key")
        table.drop_column("warnings")
