"""A small hand-built CRM in the demo CRM's schema, with one contact per rule a segment obeys."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from sqlalchemy import create_engine

from sync.demo.crm.schema import CustomFieldDef, crm_tables
from sync.settings import Settings

FIELDS = (
    CustomFieldDef(1, "loyalty_tier", "Loyalty tier", "dropdown", '["bronze", "silver", "gold"]'),
    CustomFieldDef(2, "member_since", "Member since", "date"),
    CustomFieldDef(3, "lifetime_value", "Lifetime value", "number"),
    CustomFieldDef(4, "keywords", "Keywords", "text"),
    CustomFieldDef(5, "mailing_lock", "Mailing lock", "checkbox"),
    CustomFieldDef(6, "channel", "Channel", "dropdown", "email\npost\nboth"),
)
LISTS = ((1, "VIP"), (2, "Do not mail"))
SQL_TEXT = "O'Brien\"; DROP TABLE contacts; --"
STAMP = datetime(2026, 1, 1)

SEGMENTS = """\
segments:
  spring:
    audience: newsletter
    mailing: Spring promotion 2027
    steps:
      - include:
          all:
            - {field: country, in: [NL, BE]}
            - {field: loyalty_tier, equals: gold}
      - include: {target_list: VIP}
      - exclude:
          any:
            - {field: member_since, after: 2026-01-01}
            - {field: keywords, contains: do-not-mail}
    exclusion_lists: [Do not mail]
    contact_lock_field: mailing_lock
    channel_field: channel
    organisation_field: organisation_name
    post_fields: [city, country]
  literal-quotes:
    audience: newsletter
    steps:
      - include: {field: keywords, equals: "O'Brien\\"; DROP TABLE contacts; --"}
  literal-percent:
    audience: newsletter
    steps:
      - include: {field: keywords, contains: "%"}
  nobody:
    audience: newsletter
    steps:
      - include: {field: lifetime_value, gt: 1000000}
"""

# contact id -> (overrides of the contact row, custom values, list ids). Every contact: NL, gold, opted in.
CONTACTS: dict[int, tuple[dict, dict, tuple[int, ...]]] = {
    1: ({}, {}, ()),                                              # sent
    2: ({"email_opt_out": True}, {}, ()),                          # opted_out
    3: ({"email_opt_in": None}, {}, ()),                           # no_consent
    4: ({"email_opt_in": False}, {}, ()),                          # consent_withdrawn
    5: ({"organisation_id": 2}, {}, ()),                           # organisation_locked
    6: ({}, {"mailing_lock": True}, ()),                           # contact_locked
    7: ({"email_opt_in": None}, {"channel": "post"}, ()),          # the post part
    8: ({}, {"channel": "both"}, ()),                              # e-mail
    9: ({"email": "excluded@x.test"}, {}, ()),                     # exclusion_list (contact 20's address)
    10: ({"email": None}, {}, ()),                                 # no_email
    11: ({"email": "not an address"}, {}, ()),                     # malformed_email
    12: ({"email_invalid": True, "email_invalid_reason": "hard bounce"}, {}, ()),  # email_invalid
    13: ({"deleted": True}, {}, ()),                               # deleted
    14: ({"email": "family@x.test"}, {}, ()),                      # one of these two: shared_email
    15: ({"email": " Family@X.test"}, {}, ()),
    16: ({"email": "shared-out@x.test"}, {}, ()),                  # opted_out (contact 21 at its address)
    17: ({}, {"keywords": SQL_TEXT}, ()),                          # sent; literal-quotes selects only it
    18: ({}, {"keywords": "100% organic"}, ()),                    # sent; literal-percent selects only it
    19: ({"country": "BE", "first_name": "=HYPERLINK(\"http://x.test\")", "organisation_id": 3}, {}, ()),  # sent
    20: ({"country": "DE", "email": "Excluded@X.test "}, {}, (2,)),  # on the exclusion list, not selected
    21: ({"country": "DE", "email": "shared-out@x.test", "email_opt_out": True}, {}, ()),  # not selected
    22: ({}, {"loyalty_tier": "silver"}, (1,)),                    # sent: step 2 (VIP)
    23: ({}, {"member_since": date(2026, 6, 1)}, ()),              # removed by step 3
    24: ({}, {"keywords": "please do-not-mail"}, ()),              # removed by step 3
}
EXPECTED_REASONS = {"opted_out": 2, "no_consent": 1, "consent_withdrawn": 1, "organisation_locked": 1,
                    "contact_locked": 1, "exclusion_list": 1, "no_email": 1, "malformed_email": 1,
                    "email_invalid": 1, "deleted": 1, "shared_email": 1}
EXPECTED_EMAIL = {"1", "8", "17", "18", "19", "22"}  # and one of 14, 15
EXPECTED_POST = {"7"}
EXPECTED_STEPS = [21, 22, 20]


ORGANISATIONS = ((1, "Open BV", False), (2, "Locked BV", True), (3, "@Formula BV", False))


def create_schema(engine, organisations=ORGANISATIONS):
    """The world's tables with its custom fields, organisations (id, name, mailing lock) and lists; no contacts."""
    tables = crm_tables(FIELDS)
    tables.metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(tables.custom_fields.insert(), [
            {"id": field.id, "name": field.name, "label": field.label, "type": field.type,
             "choices": field.choices_text, "column_name": field.column_name} for field in FIELDS])
        connection.execute(tables.organisations.insert(), [
            {"id": key, "name": name, "mailing_locked": locked, "modified_at": STAMP, "deleted": False}
            for key, name, locked in organisations])
        connection.execute(tables.target_lists.insert(), [{"id": i, "name": name} for i, name in LISTS])
    return tables


def build_crm(url: str) -> None:
    """Create the schema at ``url`` and fill it with CONTACTS."""
    engine = create_engine(url)
    try:
        tables = create_schema(engine)
        with engine.begin() as connection:
            columns = {field.name: field.column_name for field in FIELDS}
            for contact_id, (row, custom, lists) in CONTACTS.items():
                contact = {"id": contact_id, "first_name": "Person", "last_name": f"N{contact_id}",
                           "email": f"p{contact_id}@x.test", "country": "NL", "email_opt_in": True,
                           "email_opt_out": False, "email_invalid": False, "organisation_id": 1,
                           "created_at": STAMP, "modified_at": STAMP, "deleted": False, "city": "Utrecht"} | row
                connection.execute(tables.contacts.insert(), [contact])
                values = {"loyalty_tier": "gold"} | custom
                connection.execute(tables.contacts_cf.insert(), [
                    {"contact_id": contact_id} | {columns[name]: value for name, value in values.items()}])
                for list_id in lists:
                    connection.execute(tables.target_list_members.insert(), [{"list_id": list_id,
                                                                               "contact_id": contact_id}])
    finally:
        engine.dispose()


def settings_for(url: str, segments_file: Path) -> Settings:
    return Settings(crm={"url": url}, segments_file=segments_file, audiences={"newsletter": {"audience_id": "x"}})
