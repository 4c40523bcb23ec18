"""What changed in a SQL CRM since a time: the contact ids an incremental push re-reads.

A contact changed when its own modification time is at or after ``since`` (a closed range: the boundary
second is read again, and the planner's payload hash makes a second read of an unchanged contact a no-op), or
when its organisation's is (a mailing lock set or lifted), where the description names that column.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select

from sync.connectors.sql.schema import BoundSchema


def changed_ids(engine: Engine, schema: BoundSchema, since: datetime, limit: int) -> list[object] | None:
    """Ids (as the id column types them) of the contacts changed at or after ``since`` (aware UTC), in id
    order; None when more than ``limit`` changed (then reading everything is as cheap: the caller runs full).

    Two indexed reads: contacts by their modification time, and contacts of organisations by theirs.
    """
    description = schema.description
    contacts = schema.tables[description.contacts.table]
    contact_id = contacts.c[description.contacts.id]
    naive = since.replace(tzinfo=None)  # the CRM stores naive UTC
    queries = [select(contact_id).where(contacts.c[description.contacts.modified_at] >= naive)]
    organisations = description.organisations
    if organisations.modified_at is not None:
        table = schema.tables[organisations.table]
        changed_organisations = select(table.c[organisations.id]).where(table.c[organisations.modified_at] >= naive)
        queries.append(select(contact_id).where(
            contacts.c[description.contacts.organisation_id].in_(changed_organisations)))
    found: set[Any] = set()  # contact ids in the id column's Python type (numbers or text)
    with engine.connect() as connection:
        for query in queries:
            found.update(connection.execute(query.limit(limit + 1)).scalars())
            if len(found) > limit:
                return None
    return sorted(found)
