from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync.mapping.load import load_mapping
from sync.mapping.model import AudienceMapping, FieldMapping
from sync.mapping.payload import build_payload, field_value, payload_hash
from sync.mapping.transforms import ConversionError
from sync.records import Consent, CrmContact
from tests.mapping.demo import SHIPPED_MAPPING, demo_contact


@pytest.fixture(scope="module")
def newsletter() -> AudienceMapping:
    return load_mapping(SHIPPED_MAPPING).audiences["newsletter"]


def test_shipped_mapping_turns_the_demo_contact_into_provider_values(newsletter):
    assert build_payload(demo_contact(), newsletter).values == {
        "FNAME": "jan",
        "LNAME": "de vries",
        "FULLNAME": "Jan de Vries",
        "PHONE": "+31 30 123 4567",
        "ADDRESS": {
            "addr1": "Dorpstraat 1",
            "addr2": "",
            "city": "Utrecht",
            "state": "Utrecht",
            "zip": "1234 AB",
            "country": "NL",
        },
        "LANGUAGE": "nl",
        "BIRTHDAY": "01/02",
        "COMPANY": "Vries & Zn",
        "TIER": "Gold",
        "SINCE": "06/05/2020",
        "LTV": 1234.57,
        "TOPICS": "events, offers",
        "VIP": "Yes",
        "CUSTNO": "C-0042",
    }


def test_empty_crm_values_clear_provider_fields_or_take_their_default(newsletter):
    empty = dict.fromkeys(("first_name", "last_name", "street", "postal_code", "city", "region", "country"))
    payload = build_payload(demo_contact(**empty, lifetime_value=None, birthday=None, loyalty_tier="  "),
                            newsletter).values
    assert payload["FNAME"] == payload["LNAME"] == payload["FULLNAME"] == ""
    assert payload["ADDRESS"] == ""
    assert payload["BIRTHDAY"] == ""
    assert payload["TIER"] == ""
    assert payload["LTV"] == 0


def test_an_address_with_only_a_country_is_empty(newsletter):
    # The demo CRM has such contacts: Mailchimp cannot take them, and they are no reason to refuse the contact.
    contact = demo_contact(street=None, city="", region=None, postal_code=None, country="ES")
    assert build_payload(contact, newsletter).values["ADDRESS"] == ""


def test_a_crm_field_the_contact_lacks_counts_as_empty(newsletter):
    contact = demo_contact()
    fields = {k: v for k, v in contact.fields.items() if k != "customer_number"}
    lacking = CrmContact(contact.id, contact.email, fields, contact.consent, contact.modified_at)
    assert build_payload(lacking, newsletter).values["CUSTNO"] == ""


def test_payload_is_json_serialisable(newsletter):
    payload = build_payload(demo_contact(), newsletter).values
    assert json.loads(json.dumps(payload, allow_nan=False)) == payload


def test_same_contact_gives_the_same_payload_and_hash(newsletter):
    contact = demo_contact()
    reordered = CrmContact(
        id="C-1",
        email="jan@example.nl",
        fields=dict(reversed(list(contact.fields.items()))),
        consent=Consent(email_opt_in=None, email_opt_out=True),
        modified_at=datetime(2030, 1, 1, tzinfo=UTC),
    )
    first, again, other_order = (build_payload(c, newsletter).values for c in (contact, contact, reordered))
    assert first == again == other_order
    assert list(first) == list(other_order)  # tags in mapping order, not the contact's field order
    assert payload_hash(first) == payload_hash(again) == payload_hash(other_order)


def test_hash_follows_values_not_the_way_the_crm_typed_them(newsletter):
    as_float = build_payload(demo_contact(lifetime_value=12.0), newsletter).values
    as_int = build_payload(demo_contact(lifetime_value=12), newsletter).values
    as_text = build_payload(demo_contact(lifetime_value="12.00"), newsletter).values
    assert payload_hash(as_float) == payload_hash(as_int) == payload_hash(as_text)
    changed = build_payload(demo_contact(lifetime_value=12.01), newsletter).values
    assert payload_hash(changed) != payload_hash(as_int)


def test_payload_hash_is_sha256_of_canonical_json():
    # Pinned: the state store keeps these hashes, so the canonical form must never drift. The value is
    # sha256 of '{"ADDRESS":{"addr1":"Dorpstraat 1","zip":"1234 AB"},"FNAME":"Zoë","LTV":12.5,"TIER":"Gold"}'.
    payload = {"TIER": "Gold", "ADDRESS": {"zip": "1234 AB", "addr1": "Dorpstraat 1"}, "LTV": 12.5, "FNAME": "Zoë"}
    assert payload_hash(payload) == "64ddab90866540b0f8e4a0f97a7fcdb52125e3489970514c05d923c43011c367"
    assert payload_hash(dict(reversed(list(payload.items())))) == payload_hash(payload)
    assert payload_hash({**payload, "FNAME": "Zoe"}) != payload_hash(payload)


@pytest.mark.parametrize(
    ("changes", "fragments"),
    [
        ({"lifetime_value": "abc"}, ["LTV (from lifetime_value)", "'abc' is not a number"]),
        ({"lifetime_value": True}, ["LTV (from lifetime_value)", "True is a yes/no value"]),
        ({"loyalty_tier": "platinum"}, ["TIER (from loyalty_tier)", "'platinum' has no translation"]),
        ({"member_since": "06-05-2020"}, ["SINCE (from member_since)", "'06-05-2020' is not a date"]),
        ({"birthday": 19800201}, ["BIRTHDAY (from birthday)", "19800201 (int) is not a date"]),
        ({"postal_code": None},
         ["ADDRESS (from street, city, region, postal_code, country)", "zip (postal_code) empty"]),
        ({"street": " ", "city": None}, ["ADDRESS", "addr1 (street), city (city) empty"]),
    ],
)
def test_a_value_that_cannot_be_converted_is_left_out_with_a_warning(newsletter, changes, fragments):
    good = build_payload(demo_contact("C-77"), newsletter)
    built = build_payload(demo_contact("C-77", **changes), newsletter)
    [warning] = built.warnings
    tag = fragments[0].split(" ")[0]
    assert warning.field == tag and warning.left_out
    # Left out, never cleared: the provider keeps what it holds; every other field is still sent.
    assert tag not in built.values
    assert {k: v for k, v in good.values.items() if k != tag} == built.values
    for fragment in fragments:
        assert fragment in warning.text()


@pytest.mark.parametrize(
    ("value", "sent", "problem"),
    [
        ("Jan\x1b[31m de Vries\x1b[0m", "Jan de Vries", "control_characters"),
        ("Jan\x07\x7f\x85 de Vries", "Jan de Vries", "control_characters"),
        ("Jan\x00de Vries", None, "nul_character"),
        ("J" * 256, None, "too_long"),
        ("=cmd|' /C calc'!A0", "=cmd|' /C calc'!A0", None),  # a formula is text to a provider: sent as is
        ("Jan\tde\nVries", "Jan\tde\nVries", None),  # tabs and line breaks are text
    ],
)
def test_text_hygiene_strips_control_characters_and_refuses_nul_and_overlong_values(newsletter, value, sent, problem):
    built = build_payload(demo_contact("C-78", first_name=value), newsletter)
    assert built.values.get("FNAME") == sent
    assert [w.problem for w in built.warnings if w.field == "FNAME"] == ([problem] if problem else [])
    if problem:
        assert "FNAME (from first_name)" in built.warnings[0].text()


def field(**options) -> FieldMapping:
    return FieldMapping.model_validate(options)


CET = timezone(timedelta(hours=1))

# (field options, CRM values, expected provider value)
FIELD_CASES = {
    "text as is": ({"source": "a", "type": "text"}, {"a": " Jan "}, " Jan "),
    "text trimmed": ({"source": "a", "type": "text", "trim": True}, {"a": " Jan "}, "Jan"),
    "text from a number": ({"source": "a", "type": "text"}, {"a": 42.0}, "42"),
    "text from a checkbox": ({"source": "a", "type": "text"}, {"a": False}, "false"),
    "text from a date": ({"source": "a", "type": "text"}, {"a": date(2024, 2, 9)}, "2024-02-09"),
    "text upper case": ({"source": "a", "type": "text", "case": "upper"}, {"a": "nl"}, "NL"),
    "zip upper case": ({"source": "a", "type": "zip", "case": "upper", "trim": True}, {"a": " 1234 ab"}, "1234 AB"),
    "joined with a comma": (
        {"source": ["a", "b", "c"], "type": "text", "join": ", "},
        {"a": "Utrecht", "b": None, "c": "NL"},
        "Utrecht, NL",
    ),
    "joined, default separator": ({"source": ["a", "b"], "type": "text"}, {"a": "Jan", "b": "Vries"}, "Jan Vries"),
    "joined then title case": (
        {"source": ["a", "b"], "type": "text", "case": "title"},
        {"a": "JAN", "b": "van der berg"},
        "Jan van der Berg",
    ),
    "text default": ({"source": "a", "type": "text", "default": "friend"}, {"a": "  "}, "friend"),
    "number as is": ({"source": "a", "type": "number"}, {"a": 3.25}, 3.25),
    "number rounded": ({"source": "a", "type": "number", "decimals": 1}, {"a": "3.25"}, 3.3),
    "number default": ({"source": "a", "type": "number", "default": 0}, {"a": None}, 0),
    "number empty clears": ({"source": "a", "type": "number"}, {}, ""),
    "date from datetime": (
        {"source": "a", "type": "date", "date_format": "MM/DD/YYYY"},
        {"a": datetime(2024, 12, 31, 23, 59, tzinfo=CET)},
        "12/31/2024",
    ),
    "birthday": ({"source": "a", "type": "birthday", "date_format": "DD/MM"}, {"a": date(1980, 2, 1)}, "01/02"),
    "dropdown translated": (
        {"source": "a", "type": "dropdown", "choices": {"gold": "Gold"}},
        {"a": "gold"},
        "Gold",
    ),
    "dropdown trimmed then translated": (
        {"source": "a", "type": "dropdown", "trim": True, "choices": {"gold": "Gold"}},
        {"a": " gold "},
        "Gold",
    ),
    "dropdown with the CRM's own choices": ({"source": "a", "type": "dropdown"}, {"a": "gold"}, "gold"),
    "radio from a checkbox": (
        {"source": "a", "type": "radio", "choices": {True: "Yes", False: "No"}},
        {"a": False},
        "No",
    ),
    "radio default": (
        {"source": "a", "type": "radio", "choices": {"y": "Yes", "n": "No"}, "default": "No"},
        {"a": None},
        "No",
    ),
    "url": ({"source": "a", "type": "url", "trim": True}, {"a": " https://example.org/x "}, "https://example.org/x"),
    "address with state": (
        {"source": {"addr1": "s", "city": "c", "state": "st", "zip": "z"}, "type": "address"},
        {"s": "1 Main St", "c": "Springfield", "st": "IL", "z": 62701},
        {"addr1": "1 Main St", "addr2": "", "city": "Springfield", "state": "IL", "zip": "62701", "country": ""},
    ),
}


@pytest.mark.parametrize("case", FIELD_CASES.values(), ids=FIELD_CASES.keys())
def test_field_value(case):
    options, values, expected = case
    assert field_value(field(**options), values) == expected


def test_field_value_refuses_an_untranslated_choice_even_with_a_default():
    dropdown = field(source="a", type="dropdown", choices={"gold": "Gold"}, default="Gold")
    with pytest.raises(ConversionError, match="'silver' has no translation"):
        field_value(dropdown, {"a": "silver"})


names = st.text(alphabet=st.characters(codec="utf-8"), max_size=20)


@given(first=names | st.none(), last=names | st.none(), value=st.floats(-1e9, 1e9) | st.integers(-10**9, 10**9))
def test_payload_is_a_function_of_the_values(newsletter, first, last, value):
    contact = demo_contact(first_name=first, last_name=last, lifetime_value=value)
    payload = build_payload(contact, newsletter)
    same_values = demo_contact("other-id", lifetime_value=value, last_name=last, first_name=first)
    rebuilt = build_payload(same_values, newsletter)
    assert payload == rebuilt
    assert payload_hash(payload.values) == payload_hash(rebuilt.values)
    assert json.loads(json.dumps(payload.values)) == payload.values
