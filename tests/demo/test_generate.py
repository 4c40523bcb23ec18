"""The demo CRM generator on every database: deterministic, realistic, refuses to overwrite by accident."""

from __future__ import annotations

import random
from collections import Counter
from datetime import datetime
from decimal import Decimal

import pytest
from sqlalchemy import create_engine, select

from sync.demo.crm.factory import DemoFactory
from sync.demo.crm.generate import DemoSummary, create_demo_crm
from sync.demo.crm.schema import DEMO_CUSTOM_FIELDS, crm_tables
from sync.errors import ConfigError

RESERVED_ENDINGS = (".test", "@example.com", "@example.org", "@example.net")


def dump(url: str) -> dict[str, list[tuple]]:
    """Every row of every demo table, in primary-key order."""
    tables = crm_tables()
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return {table.name: connection.execute(select(table).order_by(*table.primary_key.columns)).all()
                    for table in tables.metadata.sorted_tables}
    finally:
        engine.dispose()


def test_same_seed_gives_the_same_database_and_another_seed_does_not(database_url):
    create_demo_crm(database_url, contacts=300, seed=7)
    first = dump(database_url)
    create_demo_crm(database_url, contacts=300, seed=7, replace=True)
    assert dump(database_url) == first
    create_demo_crm(database_url, contacts=300, seed=8, replace=True)
    assert dump(database_url)["contacts"] != first["contacts"]


def test_database_holds_exactly_what_the_factory_drew(database_url):
    """Accents, dates, nullable booleans and numbers survive the round trip on every backend."""
    create_demo_crm(database_url, contacts=400, seed=3)
    factory = DemoFactory(random.Random(3), {field.name: field.column_name for field in DEMO_CUSTOM_FIELDS})
    list(factory.organisations(max(3, 400 // 25)))
    drawn = [factory.contact(contact_id) for contact_id in range(1, 401)]
    stored = dump(database_url)
    contact_columns = list(crm_tables().contacts.c.keys())
    assert [dict(zip(contact_columns, row)) for row in stored["contacts"]] == [rows.contact for rows in drawn]
    cf_columns = list(crm_tables().contacts_cf.c.keys())
    for row, rows in zip(stored["contacts_cf"], drawn, strict=True):
        stored_values = {name: float(value) if isinstance(value, Decimal) else value
                         for name, value in zip(cf_columns, row)}
        assert stored_values == rows.custom
    assert sorted(stored["target_list_members"]) == sorted(
        (list_id, rows.contact["id"]) for rows in drawn for list_id in rows.list_ids)


def test_the_data_mix_covers_what_a_sync_must_handle(database_url):
    summary = create_demo_crm(database_url, contacts=2000, seed=42)
    rows = dump(database_url)
    names = crm_tables().contacts.c.keys()
    contacts = [dict(zip(names, row)) for row in rows["contacts"]]

    assert summary.contacts == len(contacts) == 2000
    assert summary.opted_out == sum(c["email_opt_out"] for c in contacts) > 0
    assert summary.never_asked == sum(c["email_opt_in"] is None for c in contacts) > 0
    assert summary.no_email == sum(c["email"] is None for c in contacts) > 0
    assert summary.deleted == sum(c["deleted"] for c in contacts) > 0
    invalid = [c for c in contacts if c["email_invalid"]]
    assert summary.invalid == len(invalid) > 0 and all(c["email_invalid_reason"] for c in invalid)

    emails = Counter(c["email"] for c in contacts if c["email"])
    assert summary.shared_email == sum(n for n in emails.values() if n > 1) > 0
    households = [c for c in contacts if c["email"] and emails[c["email"]] > 1 and c["email"].endswith(".test")]
    by_email = {}
    for contact in households:
        by_email.setdefault(contact["email"], set()).add(contact["last_name"])
    assert any(len(last_names) == 1 for last_names in by_email.values()), "no household shares a surname"

    assert all(c["email"].endswith(RESERVED_ENDINGS) for c in contacts if c["email"])
    fake = [c for c in contacts if c["email"] and "@example." in c["email"]]
    assert summary.fake_looking_email == len(fake) and 1 <= len(fake) <= 30  # about half a percent

    full_names = " ".join(f"{c['first_name']} {c['last_name']}" for c in contacts)
    for letter in "ëüéłåñöä":
        assert letter in full_names.lower(), f"no name with {letter!r}"
    assert {"NL", "BE", "DE", "FR", "ES", "PL", "SE", "GB"} <= {c["country"] for c in contacts}
    assert {"nl", "de", "fr", "es", "pl", "en"} <= {c["language"] for c in contacts}
    assert any(c["birthday"] for c in contacts) and any(c["birthday"] is None for c in contacts)

    organisations = rows["organisations"]
    locked = {row[0] for row in organisations if row[2]}
    assert summary.organisations == len(organisations) and summary.locked_organisations == len(locked) > 0
    assert any(c["organisation_id"] in locked for c in contacts)

    assert summary.custom_fields == len(rows["custom_fields"]) == len(DEMO_CUSTOM_FIELDS)
    assert {row[3] for row in rows["custom_fields"]} == {"text", "number", "date", "dropdown", "checkbox"}
    assert len(rows["contacts_cf"]) == 2000
    for position in range(1, len(DEMO_CUSTOM_FIELDS) + 1):
        assert any(row[position] not in (None, False) for row in rows["contacts_cf"])
    members_per_list = Counter(list_id for list_id, _ in rows["target_list_members"])
    assert summary.lists == 4 and set(members_per_list) == {1, 2, 3, 4}
    assert summary.list_memberships == sum(members_per_list.values())


def test_summary_rows_are_labelled_counts():
    summary = DemoSummary(*range(13))
    rows = summary.as_rows()
    assert rows[0] == ("contacts", 0)
    assert ("sharing an email", 6) in rows
    assert [value for _, value in rows] == list(range(13))


def test_existing_crm_tables_are_kept_unless_replace_is_asked(database_url):
    create_demo_crm(database_url, contacts=20, seed=1)
    with pytest.raises(ConfigError, match=r"already has CRM tables \(activities, contacts.*--replace"):
        create_demo_crm(database_url, contacts=30, seed=1)
    assert len(dump(database_url)["contacts"]) == 20
    assert create_demo_crm(database_url, contacts=30, seed=1, replace=True).contacts == 30


def test_new_rows_get_ids_after_the_generated_ones(database_url):
    """Ids were given explicitly; the database must still number the next contact after them."""
    create_demo_crm(database_url, contacts=25, seed=1)
    tables = crm_tables()
    engine = create_engine(database_url)
    try:
        with engine.begin() as connection:
            result = connection.execute(tables.contacts.insert().values(
                last_name="Nieuw", created_at=datetime(2026, 1, 2), modified_at=datetime(2026, 1, 2)))
            assert result.inserted_primary_key[0] == 26
    finally:
        engine.dispose()


def test_progress_is_reported_from_zero_to_total(database_url):
    calls = []
    create_demo_crm(database_url, contacts=250, seed=2, chunk_size=100,
                    progress=lambda done, total: calls.append((done, total)))
    assert calls == [(0, 250), (100, 250), (200, 250), (250, 250)]


def test_zero_contacts_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="at least 1"):
        create_demo_crm(f"sqlite:///{tmp_path / 'crm.db'}", contacts=0)
