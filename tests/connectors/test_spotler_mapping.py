"""The mapping as Spotler Mail+ properties (pure): which account properties fit, and the values sent."""

from __future__ import annotations

from datetime import date

import pytest

from sync.connectors.spotler.mapping import (
    SpotlerAccount,
    build_properties,
    plan_properties,
)
from sync.mapping.load import load_mapping
from sync.mapping.model import AudienceMapping
from tests.mapping.demo import SHIPPED_MAPPING, demo_contact

TYPES = {"email": "email", "permissions": "set", "firstName": "string", "lastName": "string",
         "phoneNumber": "string", "street": "string", "city": "string", "zipCode": "postcode", "country": "string",
         "language": "string", "birthday": "birthdate", "organisation": "string", "loyaltyTier": "string",
         "memberSince": "date", "lifetimeValue": "string", "topics": "set", "vip": "string",
         "customerNumber": "string"}
TOPICS = {1: "Events", 2: "Offers", 3: "Kids"}
ACCOUNT = SpotlerAccount(TYPES, {1: "Nieuwsbrief", 2: "Acties"}, {"topics": TOPICS})


@pytest.fixture(scope="module")
def newsletter() -> AudienceMapping:
    return load_mapping(SHIPPED_MAPPING).audiences["newsletter"]


def account_with(**types: str) -> SpotlerAccount:
    return SpotlerAccount({**TYPES, **types}, ACCOUNT.permission_bits, ACCOUNT.entries)


def test_the_shipped_mapping_fits_the_account_and_gives_typed_values(newsletter):
    plan = plan_properties(newsletter, ACCOUNT, "newsletter", [1])
    assert plan.conflicts == [] and plan.missing == [] and plan.unmapped == ["FULLNAME"]
    assert build_properties(demo_contact(), newsletter, plan).values == {
        "firstName": "jan", "lastName": "de vries", "phoneNumber": "+31 30 123 4567",
        "street": "Dorpstraat 1", "city": "Utrecht", "zipCode": "1234 AB", "country": "NL", "language": "nl",
        "birthday": "1980-02-01",  # a Spotler birthdate keeps the year
        "organisation": "Vries & Zn", "loyaltyTier": "Gold", "memberSince": "2020-05-06",
        "lifetimeValue": "1234.57", "vip": "Yes", "customerNumber": "C-0042",
        "topics": [{"bit": 1, "enabled": True}, {"bit": 2, "enabled": True}, {"bit": 3, "enabled": False}],
    }


def test_empty_values_clear_and_an_empty_set_switches_every_entry_off(newsletter):
    plan = plan_properties(newsletter, ACCOUNT, "newsletter", [1])
    values = build_properties(demo_contact(first_name=None, member_since=None, newsletter_topics=None),
                              newsletter, plan).values
    assert (values["firstName"], values["memberSince"]) == ("", "")
    assert values["topics"] == [{"bit": bit, "enabled": False} for bit in TOPICS]


def test_properties_the_account_lacks_are_listed_with_the_type_to_make(newsletter):
    account = SpotlerAccount({k: v for k, v in TYPES.items() if k not in ("loyaltyTier", "memberSince")},
                             ACCOUNT.permission_bits, ACCOUNT.entries)
    plan = plan_properties(newsletter, account, "newsletter", [1])
    assert [(p.name, p.fits[0], p.tag) for p in plan.missing] == \
        [("loyaltyTier", "string", "TIER"), ("memberSince", "date", "SINCE")]
    [problem] = plan.conflicts
    assert "loyaltyTier (string), memberSince (date)" in problem and "Contacts > Properties" in problem


@pytest.mark.parametrize(("types", "expected"), [
    ({"memberSince": "int"}, "SINCE: Spotler property memberSince is of type int, which this field cannot fill; "
                             "it fits date or dateTime or string"),
    ({"lifetimeValue": "int"}, "LTV: Spotler property lifetimeValue holds whole numbers; set decimals: 0"),
    ({"loyaltyTier": "set"}, "TIER: Spotler set property loyaltyTier has no entries Gold, Silver, Bronze"),
])
def test_a_property_of_a_type_that_cannot_hold_the_field_is_a_conflict(newsletter, types, expected):
    plan = plan_properties(newsletter, account_with(**types), "newsletter", [1])
    assert len(plan.conflicts) == 1 and expected in plan.conflicts[0]


def test_permission_bits_the_account_lacks_are_a_conflict(newsletter):
    plan = plan_properties(newsletter, ACCOUNT, "newsletter", [1, 7])
    assert plan.conflicts == ["audience newsletter: permission_bits [7] are not permission bits of the Spotler "
                              "account (it has 1 (Nieuwsbrief), 2 (Acties))"]


def test_one_property_filled_by_two_fields_is_a_conflict():
    mapping = AudienceMapping.model_validate({"fields": {
        "FNAME": {"source": "first_name", "type": "text", "spotler": "firstName"},
        "NICK": {"source": "last_name", "type": "text", "spotler": "firstName"}}})
    plan = plan_properties(mapping, ACCOUNT, "newsletter", [1])
    assert plan.conflicts == ["audience newsletter: NICK: Spotler property firstName is already filled by FNAME"]


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"newsletter_topics": "Events; Gardening"}, "topics (from newsletter_topics)",
     "no entry 'Gardening' (its entries: Events, Offers, Kids)"),
    ({"postal_code": "SW1A 1AA"}, "zipCode (from postal_code)", "'SW1A 1AA' is not a Dutch postcode"),
])
def test_a_value_the_property_cannot_take_is_left_out_for_that_contact(newsletter, changes, field, message):
    plan = plan_properties(newsletter, account_with(zipCode="postcode"), "newsletter", [1])
    good = build_properties(demo_contact("C-9"), newsletter, plan)
    built = build_properties(demo_contact("C-9", **changes), newsletter, plan)
    [warning] = built.warnings
    assert warning.text().startswith(field) and message in warning.text()
    # Only that property is left out (the provider keeps its value); the contact is still synced.
    assert {k: v for k, v in good.values.items() if k != warning.field} == built.values


def test_set_entries_match_in_any_case_and_vtiger_multiselect_separators(newsletter):
    plan = plan_properties(newsletter, ACCOUNT, "newsletter", [1])
    values = build_properties(demo_contact(newsletter_topics="kids |##| EVENTS"), newsletter, plan).values
    assert values["topics"] == [{"bit": 1, "enabled": True}, {"bit": 2, "enabled": False},
                                {"bit": 3, "enabled": True}]


def test_date_time_and_whole_number_properties():
    mapping = AudienceMapping.model_validate({"fields": {
        "SINCE": {"source": "member_since", "type": "date", "date_format": "DD/MM/YYYY", "spotler": "since"},
        "LTV": {"source": "lifetime_value", "type": "number", "decimals": 0, "spotler": "value"}}})
    plan = plan_properties(mapping, account_with(since="dateTime", value="int"), "newsletter", [1])
    assert plan.conflicts == []
    assert build_properties(demo_contact(member_since=date(2021, 3, 4)), mapping, plan).values == \
        {"since": "2021-03-04T00:00:00+00:00", "value": 1235}


def test_advice_for_missing_properties_is_a_type_that_takes_every_value(newsletter):
    """Numbers with decimals go to a string (an int property refuses them); postcodes from any country to a
    string (a postcode property takes Dutch ones only). Advice the push would then refuse is never given."""
    lacking = ("lifetimeValue", "zipCode")
    account = SpotlerAccount({k: v for k, v in TYPES.items() if k not in lacking}, ACCOUNT.permission_bits,
                             ACCOUNT.entries)
    advice = {p.name: p.fits[0] for p in plan_properties(newsletter, account, "newsletter", [1]).missing}
    assert advice == {"lifetimeValue": "string", "zipCode": "string"}
    assert newsletter.fields["LTV"].decimals  # the shipped mapping keeps cents
    made = SpotlerAccount({**account.types, **advice}, ACCOUNT.permission_bits, ACCOUNT.entries)
    assert plan_properties(newsletter, made, "newsletter", [1]).conflicts == []  # made as advised, they fit
