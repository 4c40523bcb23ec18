"""One address normalisation (sync/addresses.py): the SQL CRM's lookups, the planner and the state store
agree on addresses with surrounding white space, mixed case and non-ASCII letters, on every database."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import create_engine, insert, select, update

from sync.addresses import normalise_email
from sync.connectors.sql.crm import open_crm
from sync.demo.crm.generate import create_demo_crm
from sync.demo.crm.schema import crm_tables
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


def test_a_described_key_column_gives_the_same_answers_through_its_index(database_url, tmp_path):
    """A CRM that keeps a normalised-address column (``contacts.email_key`` in its description): the look-ups
    go through it, agree with the streamed ones, and a stale key never names a wrong contact."""
    from sqlalchemy import Index, MetaData, Table, text

    from sync.connectors.sql.schema import EMBEDDED_SCHEMA

    create_demo_crm(database_url, contacts=40, seed=3)
    _spell(database_url)
    engine = create_engine(database_url)
    with engine.begin() as connection:  # the CRM's table collation applies (case-insensitive on MariaDB)
        connection.execute(text("ALTER TABLE contacts ADD COLUMN email_key VARCHAR(254)"))
    contacts = Table("contacts", MetaData(), autoload_with=engine)
    Index("ix_contacts_email_key", contacts.c.email_key).create(engine)
    with engine.begin() as connection:
        for contact_id, email in connection.execute(select(contacts.c.id, contacts.c.email)).all():
            connection.execute(update(contacts).where(contacts.c.id == contact_id)
                               .values(email_key=normalise_email(email)))
        # Contact 6 changed its address and the CRM has not refreshed the key yet.
        connection.execute(update(contacts).where(contacts.c.id == 6).values(email="later@example.com",
                                                                              email_key=ELODIE))
    engine.dispose()
    described = tmp_path / "keyed.yaml"
    described.write_text(EMBEDDED_SCHEMA.read_text().replace("  email: email\n",
                                                             "  email: email\n  email_key: email_key\n", 1))
    with open_crm(database_url, described) as crm:
        assert ELODIE in crm.shared_emails() and "elodie@example.com" not in crm.shared_emails()
        found = crm.contacts_by_email(["ÉLODIE@EXAMPLE.COM", "elodie@example.com"])
        assert found == {ELODIE: ["1", "2", "3"], "elodie@example.com": ["4"]}
    with open_crm(database_url) as streamed, open_crm(database_url, described) as keyed:
        everyone = {c.email for c in streamed.iter_contacts() if c.email and c.id != "6"}
        assert keyed.contacts_by_email(everyone) == streamed.contacts_by_email(everyone)
        assert keyed.shared_emails() == streamed.shared_emails()
