"""Audiences in the Spotler sandbox, as the spec documents them: 200 with the Audience on create and update, 417
for names and ids, 404 naming unknown contacts (and adding none), 413 above 2500, a null body emptying, 403 on a
Professional account."""

from __future__ import annotations

import re

from tests.sandbox.spotler.conftest import TIMESTAMP


def test_create_get_update_delete(api, spotler):
    created = api.post("audience", {"externalId": "seg-1", "name": "Fair", "description": "d"})
    assert created.status_code == 200
    body = created.json()
    assert (body["externalId"], body["name"], body["description"]) == ("seg-1", "Fair", "d")
    assert re.match(TIMESTAMP, body["createDate"])
    assert api.get("audience/seg-1").json()["name"] == "Fair"
    assert api.put("audience/seg-1", {"externalId": "seg-1", "name": "Fair 2"}).json()["name"] == "Fair 2"
    assert api.put("audience/seg-1", {"externalId": "other", "name": "X"}).status_code == 400
    assert api.session.delete(api.url("audience/seg-1"), timeout=10).status_code == 204
    missing = api.get("audience/seg-1")
    assert (missing.status_code, missing.json()["message"]) == (404, "Audience not found")


def test_names_and_ids_are_unique_and_checked(api):
    api.post("audience", {"externalId": "seg-1", "name": "Fair"})
    for body, error_type in (({"externalId": "seg-2", "name": "Fair"}, "NAME_ALREADY_IN_USE"),
                             ({"externalId": "seg-1", "name": "Other"}, "ID_NOTUNIQUE"),
                             ({"externalId": "seg-3", "name": ""}, "INVALID_PARAMS"),
                             ({"externalId": "seg-3", "name": "x" * 256}, "INVALID_PARAMS")):
        answer = api.post("audience", body)
        assert (answer.status_code, answer.json()["errorType"]) == (417, error_type)


def test_contacts_in_and_out(api, spotler):
    for n in range(3):
        spotler.add_contact(f"c{n}@ziggo.test", f"C{n}")
    api.post("audience", {"externalId": "seg-1", "name": "Fair"})
    unknown = api.post("audience/seg-1/contact", {"contacts": ["C0", "NOPE"]})
    assert unknown.status_code == 404
    assert unknown.json() == {"errorType": "CONTACT_NOT_FOUND", "message": "Contacts not found",
                              "externalContactIds": ["NOPE"]}
    assert spotler.audience("seg-1")["contacts"] == []  # nothing added
    assert api.post("audience/seg-1/contact", {"contacts": ["C0", "C1", "C2", "C0"]}).status_code == 204
    assert spotler.audience("seg-1")["contacts"] == ["C0", "C1", "C2"]
    assert api.post("audience/seg-1/contact", {"contacts": [f"C{n}" for n in range(2501)]}).status_code == 413
    removed = api.session.delete(api.url("audience/seg-1/contact"), json={"contacts": ["C1", "NOPE"]}, timeout=10)
    assert removed.status_code == 204 and spotler.audience("seg-1")["contacts"] == ["C0", "C2"]
    assert api.session.delete(api.url("audience/seg-1/contact"), timeout=10).status_code == 204  # null body
    assert spotler.audience("seg-1")["contacts"] == []
    assert api.post("audience/gone/contact", {"contacts": ["C0"]}).status_code == 404


def test_a_professional_account_gets_403(api, spotler):
    spotler.allow_audiences(False)
    answer = api.post("audience", {"externalId": "seg-1", "name": "Fair"})
    assert (answer.status_code, answer.json()["message"]) == (403, "Only Automation or eCommerce products can use "
                                                                    "this call")
