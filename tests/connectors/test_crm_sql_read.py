"""Reading the SQL CRM: fields, typed values, every contact once across chunks, list filter."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import create_engine, select, text

from sync.connectors.sql.crm import open_crm
from sync.connectors.sql.read import parse_choices
from sync.connectors.values import to_bool, to_date, to_datetime, to_number
from sync.demo.crm.generate import create_demo_crm
from sync.demo.crm.schema import DEMO_CUSTOM_FIELDS, crm_tables
from sync.errors import ConfigError
from sync.records import CrmFieldType

CONTACTS = 2345


@pytest.fixture
def big_crm_url(database_url):
    create_demo_crm(database_url, contacts=CONTACTS, seed=5)
    return database_url


@pytest.fixture
def crm_url(database_url):
    create_demo_crm(database_url, contacts=300, seed=5)
    return database_url


def raw_contacts(url: str) -> dict[str, dict]:
    """What the demo tables hold per contact id, read straight from the tables (not via the description)."""
    tables = crm_tables()
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            organisations = {row.id: row for row in connection.execute(select(tables.organisations))}
            custom = {row.contact_id: row._mapping for row in connection.execute(select(tables.contacts_cf))}
            lists = defaultdict(set)
            for list_id, contact_id in connection.execute(select(tables.target_list_members)):
                lists[contact_id].add(str(list_id))
            result = {}
            for row in connection.execute(select(tables.contacts)):
                organisation = organisations.get(row.organisation_id)
                values = {field.name: custom[row.id][field.column_name] for field in DEMO_CUSTOM_FIELDS}
                values["lifetime_value"] = None if values["lifetime_value"] is None else float(values["lifetime_value"])
                result[str(row.id)] = {
                    "row": row, "custom": values, "lists": frozenset(lists[row.id]),
                    "locked": bool(organisation and organisation.mailing_locked),
                    "organisation_name": organisation.name if organisation else None,
                }
            return result
    finally:
        engine.dispose()


def test_every_contact_comes_once_across_chunk_boundaries_with_typed_values(big_crm_url):
    expected = raw_contacts(big_crm_url)
    with open_crm(big_crm_url) as crm:
        contacts = list(crm.iter_contacts(chunk_size=500))
        assert crm.count_contacts() == CONTACTS
    assert [c.id for c in contacts] == sorted(expected, key=int)
    assert len(contacts) == CONTACTS
    for contact in contacts:
        raw = expected[contact.id]
        row = raw["row"]
        assert contact.email == row.email
        assert contact.deleted == row.deleted
        assert contact.modified_at == row.modified_at.replace(tzinfo=UTC)
        assert contact.organisation_id == (None if row.organisation_id is None else str(row.organisation_id))
        assert contact.organisation_locked == raw["locked"]
        assert contact.list_ids == raw["lists"]
        consent = contact.consent
        assert (consent.email_opt_in, consent.email_opt_out, consent.email_invalid, consent.invalid_reason,
                consent.postal_opt_in) == (row.email_opt_in, row.email_opt_out, row.email_invalid,
                                           row.email_invalid_reason, row.postal_opt_in)
        assert contact.fields["first_name"] == row.first_name
        assert contact.fields["birthday"] == row.birthday
        assert contact.fields["created_at"] == row.created_at.replace(tzinfo=UTC)
        assert contact.fields["organisation_name"] == raw["organisation_name"]
        for name, value in raw["custom"].items():
            assert contact.fields[name] == value, (contact.id, name)
    deleted = [c for c in contacts if c.deleted]
    assert deleted, "deleted contacts must be streamed too"
    values = defaultdict(set)
    for contact in contacts:
        for name in ("lifetime_value", "member_since", "vip", "loyalty_tier"):
            values[name].add(type(contact.fields[name]))
    assert values["lifetime_value"] == {float, type(None)}
    assert values["member_since"] == {date, type(None)}
    assert values["vip"] == {bool}
    assert values["loyalty_tier"] == {str, type(None)}


def test_list_filter_yields_only_members_with_all_their_lists(crm_url):
    expected = raw_contacts(crm_url)
    members = sorted((cid for cid, raw in expected.items() if "2" in raw["lists"]), key=int)
    with open_crm(crm_url) as crm:
        contacts = list(crm.iter_contacts(chunk_size=7, list_id="2"))
        assert crm.count_contacts(list_id="2") == len(members)
    assert [c.id for c in contacts] == members and members
    assert all(c.list_ids == expected[c.id]["lists"] for c in contacts)
    assert any(len(c.list_ids) > 1 for c in contacts)


def test_unknown_or_malformed_list_id_is_a_clear_error(crm_url):
    with open_crm(crm_url) as crm:
        with pytest.raises(ConfigError, match=r"no target list with id '99'.*1 \(Newsletter\)"):
            crm.iter_contacts(list_id="99")
        with pytest.raises(ConfigError, match="'vip' is not a valid id"):
            crm.count_contacts(list_id="vip")
        with pytest.raises(ConfigError, match="chunk_size"):
            crm.iter_contacts(chunk_size=0)


def test_target_lists_are_id_name_pairs(crm_url):
    with open_crm(crm_url) as crm:
        assert crm.target_lists() == [("1", "Newsletter"), ("2", "VIP customers"), ("3", "Spring event 2026"),
                                      ("4", "Webshop buyers")]


def test_describe_fields_gives_standard_then_custom_fields(crm_url):
    with open_crm(crm_url) as crm:
        fields = {field.name: field for field in crm.describe_fields()}
    assert fields["email"].type is CrmFieldType.EMAIL and not fields["email"].custom
    assert fields["birthday"].type is CrmFieldType.DATE
    assert fields["organisation_name"].label == "Organisation"
    custom = {name: field for name, field in fields.items() if field.custom}
    assert set(custom) == {field.name for field in DEMO_CUSTOM_FIELDS}
    assert custom["loyalty_tier"].choices == ("bronze", "silver", "gold")  # stored as JSON
    assert custom["preferred_contact"].choices == ("E-mail", "Phone", "Post")  # stored one per line
    assert custom["lifetime_value"].type is CrmFieldType.NUMBER
    assert custom["vip"].type is CrmFieldType.CHECKBOX
    assert custom["member_since"].label == "Member since"


def test_custom_field_metadata_the_description_cannot_use_is_named(crm_url):
    tables = crm_tables()
    engine = create_engine(crm_url)
    with engine.begin() as connection:
        connection.execute(tables.custom_fields.update().where(tables.custom_fields.c.name == "vip")
                           .values(type="colour"))
    with open_crm(crm_url) as crm, pytest.raises(ConfigError, match="'vip'.*type 'colour'.*type_map"):
        crm.describe_fields()
    with engine.begin() as connection:
        connection.execute(tables.custom_fields.update().where(tables.custom_fields.c.name == "vip")
                           .values(type="checkbox", column_name="cf_99"))
    engine.dispose()
    with open_crm(crm_url) as crm, pytest.raises(ConfigError, match="'vip'.*column 'cf_99'.*contacts_cf"):
        list(crm.iter_contacts())


def test_choices_are_parsed_from_json_or_lines():
    assert parse_choices('["a", " b ", ""]') == ("a", "b")
    assert parse_choices("E-mail\r\nPhone\n\n Post ") == ("E-mail", "Phone", "Post")
    assert parse_choices(None) == () and parse_choices("  ") == ()
    with pytest.raises(ValueError):
        parse_choices('["a", ')


def test_values_are_converted_the_way_crms_store_them():
    assert to_number(Decimal("12.50")) == 12.5 and isinstance(to_number(Decimal("12.50")), float)
    assert to_number(7) == 7 and to_number("42") == 42 and to_number("4.5") == 4.5 and to_number("") is None
    assert to_number("n/a") == "n/a"  # left for the mapping to reject per contact
    assert to_bool("1") is True and to_bool("0") is False and to_bool(1) is True and to_bool(None) is None
    assert to_date("2024-02-29") == date(2024, 2, 29) and to_date("0000-00-00") is None
    assert to_date(datetime(2024, 2, 29, 13, 0)) == date(2024, 2, 29)
    assert to_datetime(datetime(2024, 1, 1, 12)) == datetime(2024, 1, 1, 12, tzinfo=UTC)
    assert to_datetime("2024-01-01 12:00:00") == datetime(2024, 1, 1, 12, tzinfo=UTC)


def test_shared_emails_are_found_case_and_space_insensitively(database_url):
    from sqlalchemy import create_engine, update

    from sync.connectors.sql.crm import open_crm
    from sync.demo.crm.generate import create_demo_crm
    from sync.demo.crm.schema import crm_tables

    create_demo_crm(database_url, contacts=300, seed=5)
    with open_crm(database_url) as crm:
        emails = [contact.email for contact in crm.iter_contacts() if contact.email]
        expected = {email.strip().lower() for email in emails
                    if sum(1 for other in emails if other.strip().lower() == email.strip().lower()) > 1}
        assert crm.shared_emails() == expected and expected
    engine = create_engine(database_url)
    contacts = crm_tables().contacts
    with engine.begin() as connection:
        connection.execute(update(contacts).where(contacts.c.id == 1).values(email="  Solo.Twin@Ziggo.test "))
        connection.execute(update(contacts).where(contacts.c.id == 2).values(email="solo.twin@ziggo.test"))
    engine.dispose()
    with open_crm(database_url) as crm:
        assert "solo.twin@ziggo.test" in crm.shared_emails()


@pytest.mark.parametrize(("value", "read"), [
    (True, True), (1, True), ("1", True), ("Yes", True), (" ja ", True), ("J", True), ("true", True),
    (False, False), (0, False), ("0", False), ("no", False), ("Nee", False), ("nein", False), ("", False),
    (None, None), (2, None), (Decimal("0.5"), None), ("misschien", None), ("nee, bellen", None), ("yes!", None),
])
def test_only_clear_spellings_are_read_as_yes_or_no(value, read):
    assert to_bool(value) is read


def test_text_in_a_boolean_column_never_gives_consent_and_an_unclear_opt_out_counts(tmp_path):
    url = f"sqlite:///{tmp_path / 'crm.db'}"
    create_demo_crm(url, contacts=6, seed=3)
    values = {1: "email_opt_in = 'nee'", 2: "email_opt_in = 'yes'", 3: "email_opt_in = 'misschien'",
              4: "email_opt_in = 1, email_opt_out = 'weet niet'", 5: "email_opt_in = 1, deleted = 'x'",
              6: "email_opt_in = 1, email_opt_out = 0, deleted = 0"}
    engine = create_engine(url)
    with engine.begin() as connection:  # SQLite keeps text in its BOOLEAN columns, as some CRMs do
        for contact_id, assignments in values.items():
            connection.execute(text(f"UPDATE contacts SET {assignments} WHERE id = {contact_id}"))
    engine.dispose()
    with open_crm(url, None) as crm:
        read = {contact.id: contact for contact in crm.iter_contacts()}
    assert [read[str(i)].consent.email_opt_in for i in (1, 2, 3)] == [False, True, None]
    assert read["4"].consent.email_opt_out is True and read["5"].deleted is True
    assert read["6"].consent.email_opt_out is False and read["6"].deleted is False


# What a typed column may hold on SQLite (it enforces no types): every one is read, never an exception.
BAD_STORED = {"cf_3": ["abc", "12,50", "1e999x"], "birthday": ["2023-02-30", "0000-00-00", "not a date"]}


@pytest.mark.parametrize("column", sorted(BAD_STORED))
def test_a_value_its_column_type_does_not_allow_is_read_as_stored_and_the_rest_of_the_row_too(tmp_path, column):
    url = f"sqlite:///{tmp_path / 'crm.db'}"
    create_demo_crm(url, contacts=40, seed=5)
    table = "contacts_cf" if column.startswith("cf_") else "contacts"
    key = "contact_id" if table == "contacts_cf" else "id"
    engine = create_engine(url)
    with engine.begin() as connection:
        for contact_id, value in enumerate(BAD_STORED[column], start=1):
            connection.execute(text(f"UPDATE {table} SET {column} = :value WHERE {key} = :id"),
                               {"value": value, "id": contact_id})
        connection.execute(text("UPDATE contacts SET modified_at = 'yesterday' WHERE id = 1"))
    engine.dispose()
    with open_crm(url) as crm:
        contacts = {contact.id: contact for contact in crm.iter_contacts(chunk_size=7)}
    assert len(contacts) == 40
    name = "lifetime_value" if column == "cf_3" else "birthday"
    read = [contacts[str(n)].fields[name] for n in range(1, len(BAD_STORED[column]) + 1)]
    # Text that is no number or date stays text, for the mapping to name as a field warning; a zero date is empty.
    assert read == [None if value == "0000-00-00" else value for value in BAD_STORED[column]]
    assert contacts["1"].modified_at == datetime(1970, 1, 1, tzinfo=UTC)  # unreadable: sorts as the oldest change
    engine = create_engine(url)
    with engine.connect() as connection:
        email, first_name = connection.execute(text("SELECT email, first_name FROM contacts WHERE id = 1")).one()
    engine.dispose()
    assert (contacts["1"].email, contacts["1"].fields["first_name"]) == (email, first_name)
