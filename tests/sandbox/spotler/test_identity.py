"""Identity: e-mail de-duplication, anonymisation, global opt-out and unsubscribes from Mail+'s side."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.sandbox.spotler.conftest import at, error_of

WINDOW = {"fromDate": "2000-01-01T00:00:00", "toDate": "2100-01-01T00:00:00", "pageSize": 100}


def test_insert_of_an_address_a_contact_already_has_is_refused(spotler, api):
    spotler.add_contact("jan@example.nl")
    api.upsert("CRM-2", email="piet@example.nl")
    for email in ("Jan@Example.nl", "piet@example.nl"):
        result = api.bulk([{"externalId": "CRM-3", "properties": {"email": email}}], update=False).json()[0]
        assert result["code"] == "CONTACT_ALREADY_EXISTS", email
    assert len(spotler.all_contacts()) == 2


def test_upsert_merges_into_a_contact_without_external_id(spotler, api):
    encrypted_id = spotler.add_contact("jan@example.nl", properties={"firstName": "Jan"},
                                       permissions={1: True})
    assert spotler.contacts() == {}
    assert api.upsert("CRM-1", email="JAN@example.nl", lastName="Vries").status_code == 204
    contact = spotler.contact("CRM-1")
    assert contact["encryptedId"] == encrypted_id
    assert contact["properties"]["firstName"] == "Jan" and contact["properties"]["lastName"] == "Vries"
    assert contact["properties"]["permissions"][0]["enabled"] is True
    assert len(spotler.all_contacts()) == 1


def test_upsert_with_an_address_of_another_external_id_is_refused(spotler, api):
    api.upsert("CRM-1", email="jan@example.nl")
    result = api.bulk([{"externalId": "CRM-2", "properties": {"email": "jan@example.nl"}}]).json()[0]
    assert result["code"] == "CONTACT_ALREADY_EXISTS"
    assert "CRM-1" in result["message"]
    assert set(spotler.contacts()) == {"CRM-1"}


def test_changing_the_address_of_an_external_id_is_an_update(spotler, api):
    api.upsert("CRM-1", email="jan@example.nl")
    api.upsert("CRM-2", email="piet@example.nl")
    assert api.upsert("CRM-1", email="jan@new.example.nl").status_code == 204
    assert api.upsert("CRM-2", email="jan@new.example.nl").status_code == 204
    assert api.upsert("CRM-3", email="jan@example.nl").status_code == 204  # the old address is free again
    assert len(spotler.contacts()) == 3


def test_anonymise_is_irreversible(spotler, api):
    spotler.set_clock(at("2024-05-01 10:00"))
    api.upsert("CRM-1", email="jan@example.nl", firstName="Jan", permissions=[{"bit": 1, "enabled": True}])
    old = spotler.contact("CRM-1")
    spotler.set_clock(at("2024-05-01 11:00"))
    assert api.put("contact/anonymize/CRM-1").status_code == 204
    assert error_of(api.get("contact/CRM-1"), 404)["errorType"] == "CONTACT_NOT_FOUND"
    assert error_of(api.put("contact/anonymize/CRM-1"), 404)["errorType"] == "CONTACT_NOT_FOUND"
    assert spotler.contacts() == {}
    [anonymised] = spotler.all_contacts()
    assert anonymised["externalId"] is None and anonymised["encryptedId"] == old["encryptedId"]
    assert anonymised["channels"] == [{"name": "EMAIL", "value": False}]
    assert anonymised["lastChanged"] == "2024-05-01T11:00:00.000+02:00"
    assert anonymised["properties"] == {"permissions": [{"bit": 1, "enabled": False, "description": "Nieuwsbrief"},
                                                        {"bit": 2, "enabled": False, "description": "Acties"}]}
    assert api.get("contact/updates/list", **WINDOW).json()["contacts"] == []
    assert api.upsert("CRM-1", email="jan@example.nl").status_code == 204
    assert spotler.contact("CRM-1")["encryptedId"] != old["encryptedId"]
    assert spotler.contact("CRM-1")["properties"]["permissions"][0]["enabled"] is False
    assert len(spotler.all_contacts()) == 2


def test_a_global_opt_out_refuses_every_later_write(spotler, api):
    spotler.set_clock(at("2024-05-01 10:00"))
    api.upsert("CRM-1", email="jan@example.nl", permissions=[{"bit": 1, "enabled": True}])
    spotler.set_clock(at("2024-05-01 11:00"))
    spotler.opt_out_globally("jan@example.nl")
    contact = spotler.contact("CRM-1")
    assert contact["channels"] == [{"name": "EMAIL", "value": False}]
    assert contact["lastChanged"] == "2024-05-01T11:00:00.000+02:00"
    spotler.set_clock(at("2024-05-01 12:00"))
    assert error_of(api.upsert("CRM-1", firstName="Jan"), 400)["errorType"] == "CONTACT_OPTOUT"
    put = api.put("contact/CRM-1", {"contact": {"properties": {"permissions": [{"bit": 1, "enabled": True}]}}})
    assert error_of(put, 400)["errorType"] == "CONTACT_OPTOUT"
    assert api.bulk([{"externalId": "CRM-1", "properties": {"city": "Delft"}}]).json()[0]["code"] == "CONTACT_OPTOUT"
    assert spotler.contact("CRM-1") == contact


def test_a_merge_into_an_opted_out_signup_is_refused(spotler, api):
    spotler.add_contact("jan@example.nl")
    spotler.opt_out_globally("jan@example.nl")
    assert error_of(api.upsert("CRM-1", email="jan@example.nl"), 400)["errorType"] == "CONTACT_OPTOUT"
    assert spotler.contacts() == {}


def test_unsubscribe_turns_bits_off_and_shows_in_the_updates_feed(spotler, api):
    start = at("2024-05-01 10:00")
    spotler.set_clock(start)
    api.upsert("CRM-1", email="jan@example.nl",
               permissions=[{"bit": 1, "enabled": True}, {"bit": 2, "enabled": True}])
    spotler.set_clock(start + timedelta(minutes=5))
    spotler.unsubscribe("CRM-1", bits=[2])
    contact = spotler.contact("CRM-1")
    assert [p["enabled"] for p in contact["properties"]["permissions"]] == [True, False]
    assert contact["channels"][0]["value"] is True
    window = {"fromDate": "2024-05-01T10:01:00+02:00", "toDate": "2024-05-01T10:10:00+02:00", "pageSize": 10}
    assert [c["externalId"] for c in api.get("contact/updates/list", **window).json()["contacts"]] == ["CRM-1"]
    spotler.unsubscribe("jan@example.nl")
    assert [p["enabled"] for p in spotler.contact("CRM-1")["properties"]["permissions"]] == [False, False]


def test_control_methods_refuse_what_the_account_lacks(spotler):
    spotler.add_contact("jan@example.nl", external_id="CRM-1")
    with pytest.raises(ValueError):
        spotler.add_contact("JAN@example.nl")
    with pytest.raises(ValueError):
        spotler.add_contact("piet@example.nl", external_id="CRM-1")
    with pytest.raises(ValueError):
        spotler.add_contact("kees@example.nl", properties={"gender": "X"})
    with pytest.raises(LookupError):
        spotler.unsubscribe("nobody@example.nl")
    with pytest.raises(ValueError):
        spotler.unsubscribe("CRM-1", bits=[9])


def test_search_finds_contacts_with_an_external_id_by_property(spotler, api):
    spotler.add_contact("jan@example.nl", properties={"city": "Delft"})
    api.upsert("CRM-1", email="piet@example.nl", city="Delft")
    found = api.get("contact/search", MPSearchQuery="email=PIET@example.nl", pageSize=10).json()
    assert [c["externalId"] for c in found["contacts"]] == ["CRM-1"]
    found = api.get("contact/search", MPSearchQuery="city=Delft", pageSize=10).json()
    assert [c["externalId"] for c in found["contacts"]] == ["CRM-1"]
    assert api.get("contact/search", MPSearchQuery="email=jan@example.nl", pageSize=10).json()["contacts"] == []
    assert error_of(api.get("contact/search", MPSearchQuery="nothing", pageSize=10), 400)["errorType"] == \
        "INVALID_PARAMS"
