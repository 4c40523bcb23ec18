"""Contact writes: insert, upsert, PUT, bulk result codes and limits, and the contact rendering."""

from __future__ import annotations

import re

import pytest

from tests.sandbox.spotler.conftest import TIMESTAMP, error_of


def test_an_inserted_contact_reads_back_as_a_contact(spotler, api):
    assert api.upsert("CRM-1", update=False, email="jan@example.nl", firstName="Jan").status_code == 204
    body = api.get("contact/CRM-1").json()
    assert set(body) == {"externalId", "encryptedId", "created", "lastChanged", "testGroup", "temporary",
                         "channels", "properties"}
    assert body["externalId"] == "CRM-1" and body["encryptedId"]
    assert re.match(TIMESTAMP, body["created"]) and body["created"] == body["lastChanged"]
    assert body["channels"] == [{"name": "EMAIL", "value": True}]
    assert (body["testGroup"], body["temporary"]) == (False, False)
    assert body["properties"] == {"email": "jan@example.nl", "firstName": "Jan", "permissions": [
        {"bit": 1, "enabled": False, "description": "Nieuwsbrief"},
        {"bit": 2, "enabled": False, "description": "Acties"}]}
    assert spotler.contact("CRM-1") == body == spotler.contacts()["CRM-1"]


def test_insert_of_an_existing_external_id_is_refused_and_upsert_merges(spotler, api):
    api.upsert("CRM-1", email="jan@example.nl", firstName="Jan")
    body = error_of(api.upsert("CRM-1", update=False, email="jan@example.nl", lastName="Vries"), 400)
    assert body["errorType"] == "CONTACT_ALREADY_EXISTS"
    assert error_of(api.post("contact", {"contact": {"externalId": "CRM-1", "properties": {}}}), 400)[
        "errorType"] == "CONTACT_ALREADY_EXISTS"
    assert api.upsert("CRM-1", lastName="Vries").status_code == 204
    assert spotler.contact("CRM-1")["properties"]["firstName"] == "Jan"
    assert spotler.contact("CRM-1")["properties"]["lastName"] == "Vries"


def test_get_of_an_unknown_contact_is_404(spotler, api):
    assert error_of(api.get("contact/CRM-404"), 404)["errorType"] == "CONTACT_NOT_FOUND"


def test_put_updates_an_existing_contact_only(spotler, api):
    body = {"purge": False, "contact": {"externalId": "CRM-1", "properties": {"city": "Utrecht"}}}
    assert error_of(api.put("contact/CRM-1", body), 404)["errorType"] == "CONTACT_NOT_FOUND"
    assert spotler.contacts() == {}
    api.upsert("CRM-1", email="jan@example.nl")
    assert api.put("contact/CRM-1", body).status_code == 204
    assert spotler.contact("CRM-1")["properties"]["city"] == "Utrecht"
    assert api.put("contact/CRM-1", {"contact": {"properties": {"city": "Delft"}}}).status_code == 204
    assert spotler.contact("CRM-1")["properties"]["city"] == "Delft"
    mismatch = {"contact": {"externalId": "CRM-2", "properties": {"city": "Gouda"}}}
    assert error_of(api.put("contact/CRM-1", mismatch), 400)["errorType"] == "INVALID_PARAMS"
    assert spotler.contact("CRM-1")["properties"]["city"] == "Delft"


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b'{"update": true}', b'{"update": "yes", "contact": {}}'])
def test_malformed_write_requests_are_invalid_params(spotler, api, raw):
    response = api.session.post(api.url("contact"), data=raw, headers={"Content-Type": "application/json"},
                                timeout=5)
    assert error_of(response, 400)["errorType"] == "INVALID_PARAMS"


def test_single_write_without_external_id_is_invalid_params(spotler, api):
    response = api.post("contact", {"update": True, "contact": {"properties": {"email": "a@example.nl"}}})
    assert error_of(response, 400)["errorType"] == "INVALID_PARAMS"


def test_bulk_answers_one_code_per_contact_in_order(spotler, api):
    spotler.add_contact("out@example.nl", external_id="CRM-OUT")
    spotler.opt_out_globally("CRM-OUT")
    api.upsert("CRM-OLD", email="old@example.nl")
    response = api.bulk([
        {"externalId": "CRM-1", "properties": {"email": "one@example.nl"}},
        {"externalId": "CRM-2", "properties": {"email": "two@example.nl", "gender": "X"}},
        {"externalId": "CRM-OLD", "properties": {"firstName": "Old"}},
        {"externalId": "CRM-OUT", "properties": {"firstName": "Out"}},
    ], update=False)
    assert response.status_code == 200
    results = response.json()
    assert [(r["externalId"], r["code"]) for r in results] == [
        ("CRM-1", "OK"), ("CRM-2", "PROPERTY_INVALID"), ("CRM-OLD", "CONTACT_ALREADY_EXISTS"),
        ("CRM-OUT", "CONTACT_ALREADY_EXISTS")]
    assert results[0]["message"] == ""
    assert "gender" in results[1]["message"] and "'X'" in results[1]["message"]
    assert set(spotler.contacts()) == {"CRM-1", "CRM-OLD", "CRM-OUT"}
    upserted = api.bulk([{"externalId": "CRM-OUT", "properties": {"firstName": "Out"}}]).json()
    assert upserted[0]["code"] == "CONTACT_OPTOUT"


def test_bulk_limits(spotler, api):
    contacts = [{"externalId": f"CRM-{n}", "properties": {"email": f"c{n}@example.nl"}} for n in range(101)]
    body = error_of(api.bulk(contacts), 400)
    assert body == {"errorType": "INVALID_PARAMS", "message": "Too many contacts provided (max is 100)"}
    assert spotler.contacts() == {}
    assert [r["code"] for r in api.bulk(contacts[:100]).json()] == ["OK"] * 100
    missing = [{"externalId": "CRM-X", "properties": {"email": "x@example.nl"}}, {"properties": {"email": "y@e.nl"}}]
    body = error_of(api.bulk(missing), 400)
    assert body == {"errorType": "INVALID_PARAMS", "message": "Contact without externalId found"}
    assert spotler.contact("CRM-X") is None
    assert api.bulk([]).json() == []


def test_scripted_write_failures_answer_error(spotler, api):
    spotler.fail_writes("CRM-1", count=2)
    assert api.bulk([{"externalId": "CRM-1", "properties": {"email": "a@example.nl"}}]).json()[0]["code"] == "ERROR"
    assert error_of(api.upsert("CRM-1", email="a@example.nl"), 500)["errorType"] == "BACKEND_EXCEPTION"
    assert spotler.contact("CRM-1") is None
    assert api.upsert("CRM-1", email="a@example.nl").status_code == 204


def test_test_group_is_writable(spotler, api):
    api.post("contact", {"update": True, "contact": {"externalId": "CRM-1", "testGroup": True,
                                                     "properties": {"email": "a@example.nl"}}})
    assert spotler.contact("CRM-1")["testGroup"] is True
    response = api.post("contact", {"update": True, "contact": {"externalId": "CRM-1", "testGroup": "yes"}})
    assert error_of(response, 400)["errorType"] == "INVALID_PROPERTY"
