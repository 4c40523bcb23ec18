"""Stored member addresses normalised (sync/addresses.py), so lookups by address are exact and use the index.

Revision ID: 0003_normalised_email
Revises: 0001
Create Date: 2026-12-07

Data only: every ``member_state.email`` is rewritten as ``normalise_email`` makes it (computed here in
Python, in chunks of rows, never by SQL ``lower``/``trim``, which differ per database). The schema is
unchanged. New rows are stored normalised by ``sync/state/members.py``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from sync.addresses import normalise_email

revision: str = "0003_normalised_email"
down_revision: str | Sequence[str] | None = "0002_push_intents"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHUNK = 1000
MEMBERS = sa.table("member_state", sa.column("audience", sa.String), sa.column("contact_id", sa.String),
                   sa.column("email", sa.String))


def upgrade() -> None:
    connection = op.get_bind()
    last: tuple[str, str] | None = None
    while True:
        query = sa.select(MEMBERS.c.audience, MEMBERS.c.contact_id, MEMBERS.c.email).where(
            MEMBERS.c.email.is_not(None))
        if last is not None:
            query = query.where(sa.tuple_(MEMBERS.c.audience, MEMBERS.c.contact_id) > sa.tuple_(*last))
        rows = connection.execute(query.order_by(MEMBERS.c.audience, MEMBERS.c.contact_id).limit(CHUNK)).all()
        changed = [{"b_audience": audience, "b_contact_id": contact_id, "b_email": normalise_email(email)}
                   for audience, contact_id, email in rows if normalise_email(email) != email]
        if changed:
            connection.execute(
                sa.update(MEMBERS).where(MEMBERS.c.audience == sa.bindparam("b_audience"),
                                         MEMBERS.c.contact_id == sa.bindparam("b_contact_id"))
                .values(email=sa.bindparam("b_email")), changed)
        if len(rows) < CHUNK:
            return
        last = (rows[-1][0], rows[-1][1])


def downgrade() -> None:
    """Nothing to undo: a normalised address is the same address."""
