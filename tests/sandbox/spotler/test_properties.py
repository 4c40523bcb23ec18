"""The property catalogue, value validation by type, purge and merge, and permission bits."""

from __future__ import annotations

from datetime import timedelta

import pytest

from sync.sandbox.spotler import SpotlerSandbox
from tests.sandbox.spotler.conftest import Api, at, error_of

CUSTOM = [{"name": "score", "description": "Score", "type": "int"},
          {"name": "since", "description": "Klant sinds", "type": "date"},
          {"name": "lastPurchaseDate", "description": "Laatste aankoop", "type": "dateTime"},
          {"name": "revenue", "description": "Omzet", "type": "money"},
          {"name": "list1", "description": "Interesses", "type": "set",
           "entries": [{"bit": 4, "description": "Fietsen"}, {"bit": 8, "description": "Wandelen"}]}]


@pytest.fixture
def custom():
    with SpotlerSandbox(properties=CUSTOM, permission_bits={1: "Nieuwsbrief", 2: "Acties", 4: "Events"}) as sandbox:
        yield sandbox, Api(sandbox)
        assert sandbox.internal_errors == []


def test_the_catalogue_lists_defaults_permissions_and_custom_properties(custom):
    sandbox, api = custom
    listed = api.get("contact/properties/list").json()
    assert [p["name"] for p in listed] == [
        "email", "firstName", "infix", "lastName", "gender", "birthday", "postalCode", "city", "country", "street",
        "phoneNumber", "mobileNumber", "organisation", "permissions", "score", "since", "lastPurchaseDate",
        "revenue", "list1"]
    by_name = {p["name"]: p for p in listed}
    assert by_name["birthday"] == {"name": "birthday", "description": "Geboortedatum", "type": "birthdate"}
    assert (by_name["postalCode"]["type"], by_name["mobileNumber"]["type"]) == ("postcode", "mobNr")
    assert by_name["permissions"]["entries"] == [{"bit": 1, "description": "Nieuwsbrief", "rank": 1},
                                                 {"bit": 2, "description": "Acties", "rank": 2},
                                                 {"bit": 4, "description": "Events", "rank": 3}]
    assert "entries" not in by_name["score"]
    assert sandbox.properties() == listed


GOOD = [("gender", "F"), ("birthday", "1980-02-29"), ("postalCode", "1234 AB"), ("postalCode", "1234ab"),
        ("mobileNumber", "+31612345678"), ("mobileNumber", "0612345678"), ("score", 42), ("score", -3),
        ("since", "2020-01-31"), ("lastPurchaseDate", "2024-04-30T12:00:00+02:00"), ("revenue", 1250),
        ("revenue", "1250"), ("firstName", "x" * 255), ("list1", [{"bit": 8, "enabled": True}])]
BAD = [("gender", "X"), ("gender", "m"), ("birthday", "1980-02-30"), ("birthday", "01-02-1980"),
       ("postalCode", "0123 AB"), ("postalCode", "SW1A 1AA"), ("mobileNumber", "06-12345678"),
       ("mobileNumber", 612345678), ("score", "42"), ("score", 4.5), ("score", True), ("since", "2020-1-31"),
       ("lastPurchaseDate", "2024-04-30T12:00:00"), ("lastPurchaseDate", "2024-04-30"), ("revenue", 12.5),
       ("firstName", "x" * 256), ("firstName", 7), ("email", "not-an-address"), ("email", "a@b"),
       ("list1", [{"bit": 16, "enabled": True}]), ("list1", [{"bit": 4}]), ("list1", {"bit": 4, "enabled": True}),
       ("nickname", "Jan")]


@pytest.mark.parametrize(("name", "value"), GOOD)
def test_valid_values_are_stored(custom, name, value):
    sandbox, api = custom
    response = api.bulk([{"externalId": "CRM-1", "properties": {"email": "jan@example.nl", name: value}}])
    assert response.json()[0]["code"] == "OK", response.json()
    stored = sandbox.contact("CRM-1")["properties"][name]
    if name == "list1":
        assert {item["bit"]: item["enabled"] for item in stored} == {4: False, 8: True}
    else:
        assert stored == value


@pytest.mark.parametrize(("name", "value"), BAD)
def test_invalid_values_reject_the_whole_contact(custom, name, value):
    sandbox, api = custom
    api.upsert("CRM-1", email="jan@example.nl", firstName="Jan")
    before = sandbox.contact("CRM-1")
    result = api.bulk([{"externalId": "CRM-1", "properties": {"lastName": "Vries", name: value}}]).json()[0]
    assert result["code"] == "PROPERTY_INVALID"
    assert name in result["message"]
    assert sandbox.contact("CRM-1") == before
    body = error_of(api.upsert("CRM-1", lastName="Vries", **{name: value}), 400)
    assert body["errorType"] == "INVALID_PROPERTY" and name in body["message"]


def test_a_new_contact_needs_an_email_and_an_email_cannot_be_cleared(spotler, api):
    assert "email is required" in error_of(api.upsert("CRM-1", firstName="Jan"), 400)["message"]
    assert spotler.contacts() == {}
    api.upsert("CRM-1", email="jan@example.nl")
    assert error_of(api.upsert("CRM-1", email=""), 400)["errorType"] == "INVALID_PROPERTY"
    assert error_of(api.upsert("CRM-1", purge=True, firstName="Jan"), 400)["errorType"] == "INVALID_PROPERTY"
    assert spotler.contact("CRM-1")["properties"]["email"] == "jan@example.nl"


def test_merge_keeps_unsent_properties_and_empty_or_null_clears(spotler, api):
    api.upsert("CRM-1", email="jan@example.nl", firstName="Jan", lastName="Vries", city="Delft")
    api.upsert("CRM-1", firstName="Johan", lastName="", city=None)
    assert spotler.contact("CRM-1")["properties"] == {
        "email": "jan@example.nl", "firstName": "Johan",
        "permissions": [{"bit": 1, "enabled": False, "description": "Nieuwsbrief"},
                        {"bit": 2, "enabled": False, "description": "Acties"}]}


def test_purge_clears_every_property_not_sent_permissions_included(spotler, api):
    api.upsert("CRM-1", email="jan@example.nl", firstName="Jan", city="Delft",
               permissions=[{"bit": 1, "enabled": True}, {"bit": 2, "enabled": True}])
    assert api.upsert("CRM-1", purge=True, email="jan@example.nl", city="Gouda").status_code == 204
    properties = spotler.contact("CRM-1")["properties"]
    assert {k: v for k, v in properties.items() if k != "permissions"} == {"email": "jan@example.nl", "city": "Gouda"}
    assert [p["enabled"] for p in properties["permissions"]] == [False, False]


def test_only_the_permission_bits_sent_change(spotler, api):
    api.upsert("CRM-1", email="jan@example.nl", permissions=[{"bit": 2, "enabled": True}])

    def bits():
        return {p["bit"]: p["enabled"] for p in spotler.contact("CRM-1")["properties"]["permissions"]}

    assert bits() == {1: False, 2: True}
    api.upsert("CRM-1", permissions=[{"bit": 1, "enabled": True}])
    assert bits() == {1: True, 2: True}
    api.upsert("CRM-1", permissions=[{"bit": 2, "enabled": False}])
    assert bits() == {1: True, 2: False}
    api.upsert("CRM-1", permissions=[])
    assert bits() == {1: True, 2: False}
    result = api.bulk([{"externalId": "CRM-1", "properties": {"permissions": [{"bit": 3, "enabled": True}]}}])
    assert result.json()[0]["code"] == "PROPERTY_INVALID" and "bit 3" in result.json()[0]["message"]
    api.upsert("CRM-1", permissions=None)
    assert bits() == {1: False, 2: False}


def test_last_changed_moves_only_when_something_changes(spotler, api):
    start = at("2024-05-01 10:00")
    spotler.set_clock(start)
    api.upsert("CRM-1", email="jan@example.nl", firstName="Jan")
    spotler.set_clock(start + timedelta(hours=1))
    api.upsert("CRM-1", email="jan@example.nl", firstName="Jan", permissions=[{"bit": 1, "enabled": False}])
    assert spotler.contact("CRM-1")["lastChanged"] == "2024-05-01T10:00:00.000+02:00"
    api.upsert("CRM-1", firstName="Johan")
    contact = spotler.contact("CRM-1")
    assert (contact["created"], contact["lastChanged"]) == ("2024-05-01T10:00:00.000+02:00",
                                                            "2024-05-01T11:00:00.000+02:00")


def test_purge_changes_only_the_sent_bits_of_a_sent_set(spotler, api):
    api.upsert("CRM-1", email="jan@example.nl", permissions=[{"bit": 2, "enabled": True}])
    api.upsert("CRM-1", purge=True, email="jan@example.nl", permissions=[{"bit": 1, "enabled": True}])
    bits = {p["bit"]: p["enabled"] for p in spotler.contact("CRM-1")["properties"]["permissions"]}
    assert bits == {1: True, 2: True}
