"""Reading the CRM's activity history and flags straight from SQL, to compare runs event for event."""

from __future__ import annotations

import json

from sqlalchemy import create_engine, select

from sync.demo.crm.schema import crm_tables


def history(crm_url: str) -> list[tuple]:
    """Every activity row as comparable data (no database ids or write times)."""
    activities = crm_tables().activities
    engine = create_engine(crm_url)
    with engine.connect() as connection:
        rows = connection.execute(select(activities).order_by(activities.c.external_key)).mappings().all()
    engine.dispose()
    return [(r["external_key"], r["contact_id"], r["organisation_id"], r["kind"], r["subject"], r["body"],
             r["first_at"], r["last_at"], _details(r["details"])) for r in rows]


def flags(crm_url: str) -> dict[int, tuple]:
    contacts = crm_tables().contacts
    engine = create_engine(crm_url)
    with engine.connect() as connection:
        rows = connection.execute(select(contacts.c.id, contacts.c.email_opt_out, contacts.c.email_invalid,
                                         contacts.c.email_invalid_reason)).all()
    engine.dispose()
    return {row[0]: tuple(row[1:]) for row in rows}


def _details(text: str | None) -> dict:
    details = json.loads(text) if text else {}
    if "folded" in details:  # the order events were folded in depends on page boundaries, not the result
        details["folded"] = sorted(details["folded"])
    return details
