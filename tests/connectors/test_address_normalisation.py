"""One address normalisation (sync/addresses.py): the SQL CRM's lookups, the planner and the state store
agree on addresses with surrounding white space, mixed case and non-ASCII letters, on every database."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import create_engine, insert, select, update

from sync.addresses import normalise_email
from sync.connectors.crm_sql import open_crm
from sync.democrm.generate import create_demo_crm
from sync.democrm.schema import crm_tables
from sync.state.engine import make_engine
from sync.state.members import MemberOutcome
from sync.state.migrate import alembic_config
from sync.state.store import open_state

SPELLINGS = {1: "ÉLODIE@Example.com ", 2: " élodie@example.COM", 3: "\tÉlodie@EXAMPLE.com\n",
             4: "elodie@example.com", 5: "ÅSA@Example.com"}  # 4: no accent, another address; 5: alone
ELODIE = "élodie@example.com"


def _spell(url: str) -> None:
    contacts = crm_tables().contacts
    engine = create_engine(url)
    with engine.begin() as connection:
        for contact_id, email in SPELLINGS.items():
            connection.execute(update(contacts).where(contacts.c.id == contact_id)
                               .values(email=email, deleted=False))
    engine.dispose()


def test_the_crm_lookups_and_the_planner_agree_on_every_database(database_url):
    create_demo_crm(database_url, contacts=40, seed=3)
    _spell(database_url)
    with open_crm(database_url) as crm:
        planner = {c.id: normalise_email(c.email) for c in crm.iter_contacts() if c.id in map(str, SPELLINGS)}
        assert planner == {"1": ELODIE, "2": ELODIE, "3": ELODIE, "4": "elodie@example.com", "5": "åsa@example.com"}
        shared = crm.shared_emails()
        assert ELODIE in shared and "elodie@example.com" not in shared and "åsa@example.com" not in shared
        found = crm.contacts_by_email(["ÉLODIE@EXAMPLE.COM", " Åsa@example.com"])
        assert found[ELODIE] == ["1", "2", "3"] and found["åsa@example.com"] == ["5"]
        assert crm.contacts_by_email(["elodie@example.com"]) == {"elodie@example.com": ["4"]}


def test_the_state_store_keeps_addresses_normalised_and_finds_them_exactly(database_url):
    with open_state(database_url) as store:
        store.save_member_outcomes("newsletter", [MemberOutcome(
            "7", email="\tÉLODIE@Example.com ", provider_id="h", payload_hash="x", pushed_at=datetime.now(UTC))])
        [row] = store.member_states_by_email(" élodie@EXAMPLE.com")
        assert row.contact_id == "7" and row.email == ELODIE
        assert store.member_states_by_email("elodie@example.com") == []


def test_the_migration_normalises_addresses_stored_before_it(database_url):
    command.upgrade(alembic_config(database_url), "0001")
    engine = make_engine(database_url)
    members = crm_members_table()
    now = datetime(2026, 12, 1, tzinfo=UTC)
    with engine.begin() as connection:
        connection.execute(insert(members), [
            {"audience": "newsletter", "contact_id": str(n), "email": email, "owned": False, "updated_at": now}
            for n, email in [(1, " ÉLODIE@Example.com"), (2, "plain@example.com"), (3, None)]])
    command.upgrade(alembic_config(database_url), "0003_normalised_email")
    with engine.connect() as connection:
        stored = dict(connection.execute(select(members.c.contact_id, members.c.email)).all())
    engine.dispose()
    assert stored == {"1": ELODIE, "2": "plain@example.com", "3": None}


def crm_members_table():
    from sync.state.models import MemberState

    return MemberState.__table__
