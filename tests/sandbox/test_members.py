"""Members: upsert semantics, compliance rules, fake addresses, merge validation, archive, email change, paging."""

from __future__ import annotations

import time

import pytest
import requests
from mailchimp_marketing.api_client import ApiClientError

from sync.sandbox.mailchimp import subscriber_hash
from tests.sandbox.conftest import problem_of

ANN = "Ann.Jansen@Ziggo.test"


def _put(client, list_id, email, **fields):
    body = {"email_address": email, "status_if_new": "subscribed", **fields}
    return client.lists.set_list_member(list_id, subscriber_hash(email), body)


def _refused(call, *args, **kwargs):
    with pytest.raises(ApiClientError) as raised:
        call(*args, **kwargs)
    return raised.value.status_code, problem_of(raised.value)


def test_subscriber_hash_is_md5_of_the_lowercased_address():
    assert subscriber_hash(" Ann.Jansen@Ziggo.test ") == subscriber_hash("ann.jansen@ziggo.test")
    assert len(subscriber_hash(ANN)) == 32


def test_put_creates_a_member_with_status_if_new(client, list_id, sandbox):
    member = _put(client, list_id, ANN, merge_fields={"FNAME": "Ann", "LNAME": "Jansen"})
    assert member["id"] == subscriber_hash(ANN)
    assert member["status"] == "subscribed"
    assert member["merge_fields"]["FNAME"] == "Ann"
    assert member["full_name"] == "Ann Jansen"
    assert member["list_id"] == list_id
    assert sandbox.member(list_id, ANN)["email_address"] == ANN
    assert client.lists.get_list_member(list_id, subscriber_hash(ANN))["status"] == "subscribed"


def test_status_if_new_never_changes_an_existing_members_status(client, list_id, sandbox):
    _put(client, list_id, ANN)
    sandbox.unsubscribe(list_id, ANN)
    member = _put(client, list_id, ANN, merge_fields={"FNAME": "Annie"})
    assert member["status"] == "unsubscribed"
    assert member["merge_fields"]["FNAME"] == "Annie"
    other = "piet@kpnmail.test"
    _put(client, list_id, other, status_if_new="pending")
    assert _put(client, list_id, other, status_if_new="subscribed")["status"] == "pending"


def test_status_changes_an_existing_member(client, list_id):
    _put(client, list_id, ANN)
    assert _put(client, list_id, ANN, status="unsubscribed")["status"] == "unsubscribed"
    member = client.lists.update_list_member(list_id, subscriber_hash(ANN), {"status": "pending"})
    assert member["status"] == "pending"


def test_put_requires_email_address_and_status_if_new(client, list_id):
    status, problem = _refused(client.lists.set_list_member, list_id, subscriber_hash(ANN), {"email_address": ANN})
    assert status == 400
    assert problem["title"] == "Invalid Resource"
    assert [e["field"] for e in problem["errors"]] == ["status_if_new"]


def test_resubscribing_an_unsubscribed_member_is_a_compliance_error(client, list_id, sandbox):
    _put(client, list_id, ANN)
    sandbox.unsubscribe(list_id, ANN)
    status, problem = _refused(_put, client, list_id, ANN, status="subscribed")
    assert (status, problem["title"]) == (400, "Member In Compliance State")
    assert problem["detail"].startswith(f"{ANN} is in a compliance state")
    assert sandbox.member(list_id, ANN)["status"] == "unsubscribed"


def test_resubscribing_a_cleaned_member_is_a_compliance_error(client, list_id, sandbox):
    _put(client, list_id, ANN)
    sandbox.clean(list_id, ANN)
    _status, problem = _refused(client.lists.update_list_member, list_id, subscriber_hash(ANN),
                                {"status": "subscribed"})
    assert problem["title"] == "Member In Compliance State"


def test_an_unsubscribed_member_may_be_asked_to_opt_in_again(client, list_id, sandbox):
    _put(client, list_id, ANN)
    sandbox.unsubscribe(list_id, ANN)
    assert _put(client, list_id, ANN, status="pending")["status"] == "pending"


def test_permanently_deleted_address_cannot_come_back(client, list_id, sandbox):
    _put(client, list_id, ANN)
    response = client.lists.delete_list_member_permanent(list_id, subscriber_hash(ANN))
    assert response.status_code == 204
    status, _problem = _refused(client.lists.get_list_member, list_id, subscriber_hash(ANN))
    assert status == 404
    status, problem = _refused(_put, client, list_id, ANN, status="subscribed")
    assert (status, problem["title"]) == (400, "Forgotten Email Not Subscribed")
    assert problem["detail"].startswith(f"{ANN} was permanently deleted")


def test_deleted_in_mailchimps_ui_is_forgotten_too(client, list_id, sandbox):
    sandbox.add_member(list_id, ANN)
    sandbox.permanently_delete(list_id, ANN)
    assert sandbox.member(list_id, ANN) is None
    assert _refused(_put, client, list_id, ANN)[1]["title"] == "Forgotten Email Not Subscribed"


@pytest.mark.parametrize("address", [
    "someone@example.com", "jan@mail.example.org", "x@example.net", "test@ziggo.test", "info@bakker.nl",
    "admin@bakker.nl", "noreply@bakker.nl", "no-at-sign.nl", "two@@ats.nl", "space in@bakker.nl",
    "trailing@dot.", "nodomain@localhost",
])
def test_fake_looking_addresses_are_refused(client, list_id, address):
    status, problem = _refused(_put, client, list_id, address)
    assert (status, problem["title"]) == (400, "Invalid Resource")
    assert problem["detail"] == f"{address} looks fake or invalid, please enter a real email address."


@pytest.mark.parametrize("address", ["ann@ziggo.test", "j.de.vries+news@kpnmail.test", "info.desk@bakker.nl"])
def test_real_looking_addresses_are_accepted(client, list_id, address):
    assert _put(client, list_id, address)["email_address"] == address


@pytest.fixture
def typed_fields(client, list_id):  # BIRTHDAY (MM/DD) comes with every new audience, as in Mailchimp
    for body in (
        {"name": "Score", "type": "number", "tag": "SCORE"},
        {"name": "Joined", "type": "date", "tag": "JOINED", "options": {"date_format": "DD/MM/YYYY"}},
        {"name": "Tier", "type": "dropdown", "tag": "TIER", "options": {"choices": ["gold", "silver"]}},
        {"name": "Site", "type": "url", "tag": "SITE"},
    ):
        client.lists.add_list_merge_field(list_id, body)


def test_valid_typed_merge_values_are_stored(client, list_id, typed_fields):
    values = {"SCORE": 42, "JOINED": "31/12/2024", "BIRTHDAY": "02/29", "TIER": "gold",
              "SITE": "https://bakker.nl", "ADDRESS": {"addr1": "Dorpsstraat 1", "city": "Utrecht",
                                                       "state": "UT", "zip": "3511 AA", "country": "NL"}}
    member = _put(client, list_id, ANN, merge_fields=values)
    assert member["merge_fields"]["SCORE"] == 42
    assert member["merge_fields"]["JOINED"] == "31/12/2024"
    assert member["merge_fields"]["ADDRESS"]["city"] == "Utrecht"


@pytest.mark.parametrize(("tag", "value", "message"), [
    ("SCORE", "many", "Please enter a number"),
    ("JOINED", "2024-12-31", "Please enter the date"),
    ("JOINED", "12/31/2024", "Please enter the date"),
    ("BIRTHDAY", "1990-02-14", "Please enter a month (01-12) and a day (01-31)"),
    ("TIER", "bronze", "Please choose one of"),
    ("ADDRESS", {"addr1": "Dorpsstraat 1", "city": "Utrecht"}, "Please enter a complete address"),
    ("SITE", "not a url", "Please enter a valid URL"),
])
def test_invalid_merge_values_are_refused_with_field_errors(client, list_id, typed_fields, tag, value, message):
    status, problem = _refused(_put, client, list_id, ANN, merge_fields={tag: value})
    assert (status, problem["title"], problem["detail"]) == (400, "Invalid Resource", "Your merge fields were invalid.")
    assert problem["errors"][0]["field"] == tag
    assert problem["errors"][0]["message"].startswith(message)


def test_required_merge_field_must_have_a_value(client, list_id):
    client.lists.add_list_merge_field(list_id, {"name": "Company", "type": "text", "tag": "COMPANY", "required": True})
    _status, problem = _refused(_put, client, list_id, ANN)
    assert problem["errors"] == [{"field": "COMPANY", "message": "Please enter a value"}]
    body = {"email_address": ANN, "status_if_new": "subscribed"}
    member = client.lists.set_list_member(list_id, subscriber_hash(ANN), body, skip_merge_validation=True)
    assert member["status"] == "subscribed"


def test_delete_archives_with_204_and_status_brings_the_member_back(client, list_id):
    _put(client, list_id, ANN)
    response = client.lists.delete_list_member(list_id, subscriber_hash(ANN))
    assert response.status_code == 204
    assert client.lists.get_list_member(list_id, subscriber_hash(ANN))["status"] == "archived"
    assert _put(client, list_id, ANN)["status"] == "archived"  # status_if_new alone does not unarchive
    assert _put(client, list_id, ANN, status="subscribed")["status"] == "subscribed"


@pytest.mark.parametrize("status", ["cleaned", "pending", "archived"])
def test_archiving_a_cleaned_pending_or_archived_member_is_405(client, list_id, sandbox, status):
    sandbox.add_member(list_id, ANN, status=status)
    code, problem = _refused(client.lists.delete_list_member, list_id, subscriber_hash(ANN))
    assert (code, problem["title"]) == (405, "Method Not Allowed")


def test_email_change_moves_the_member_to_the_new_hash(client, list_id, sandbox):
    _put(client, list_id, ANN, merge_fields={"FNAME": "Ann"})
    client.lists.update_list_member_tags(list_id, subscriber_hash(ANN), {"tags": [{"name": "VIP", "status": "active"}]})
    new_address = "ann@kpnmail.test"
    moved = client.lists.set_list_member(list_id, subscriber_hash(ANN),
                                         {"email_address": new_address, "status_if_new": "subscribed"})
    assert moved["id"] == subscriber_hash(new_address)
    assert moved["email_address"] == new_address
    assert moved["merge_fields"]["FNAME"] == "Ann"
    assert [t["name"] for t in moved["tags"]] == ["VIP"]
    assert _refused(client.lists.get_list_member, list_id, subscriber_hash(ANN))[0] == 404
    assert sandbox.segment_emails(list_id, "VIP") == [new_address]
    assert sandbox.member_count(list_id) == 1


def test_email_change_to_an_existing_members_address_is_refused(client, list_id, sandbox):
    _put(client, list_id, ANN)
    _put(client, list_id, "piet@kpnmail.test")
    _status, problem = _refused(client.lists.update_list_member, list_id, subscriber_hash(ANN),
                                {"email_address": "piet@kpnmail.test"})
    assert problem["title"] == "Member Exists"
    assert sandbox.member(list_id, ANN) is not None


def test_put_to_a_hash_that_does_not_match_a_new_address_is_refused(client, list_id, sandbox):
    _status, problem = _refused(client.lists.set_list_member, list_id, subscriber_hash("other@ziggo.test"),
                                {"email_address": ANN, "status_if_new": "subscribed"})
    assert problem["title"] == "Invalid Resource"
    assert sandbox.member_count(list_id) == 0


def test_patch_of_an_unknown_member_is_404(client, list_id):
    assert _refused(client.lists.update_list_member, list_id, subscriber_hash(ANN), {"status": "pending"})[0] == 404


def test_member_list_pages_with_default_count_10_and_status_filter(client, list_id, sandbox):
    for number in range(25):
        sandbox.add_member(list_id, f"member{number:02d}@ziggo.test",
                           status="unsubscribed" if number % 5 == 0 else "subscribed")
    first = client.lists.get_list_members_info(list_id)
    assert (len(first["members"]), first["total_items"]) == (10, 25)
    pages = [client.lists.get_list_members_info(list_id, count=10, offset=offset)["members"]
             for offset in (0, 10, 20)]
    emails = [m["email_address"] for page in pages for m in page]
    assert emails == [f"member{n:02d}@ziggo.test" for n in range(25)]
    unsubscribed = client.lists.get_list_members_info(list_id, status="unsubscribed", count=1000)
    assert unsubscribed["total_items"] == 5
    assert {m["status"] for m in unsubscribed["members"]} == {"unsubscribed"}


def test_member_list_since_last_changed(client, list_id, sandbox):
    sandbox.add_member(list_id, "old@ziggo.test")
    cutoff = sandbox.member(list_id, "old@ziggo.test")["last_changed"]
    time.sleep(1.05)  # last_changed has one-second resolution, like Mailchimp's
    _put(client, list_id, ANN)
    changed = client.lists.get_list_members_info(list_id, since_last_changed=cutoff)
    assert [m["email_address"] for m in changed["members"]] == [ANN]
    assert changed["total_items"] == 1


def test_member_list_count_above_1000_is_400(sandbox, list_id):
    response = requests.get(f"{sandbox.base_url}/lists/{list_id}/members", params={"count": 5000},
                            auth=("user", sandbox.api_key), timeout=5)
    assert response.status_code == 400


def test_member_can_be_addressed_by_email_in_the_path(sandbox, list_id, client):
    _put(client, list_id, ANN)
    response = requests.get(f"{sandbox.base_url}/lists/{list_id}/members/{ANN}", auth=("user", sandbox.api_key),
                            timeout=5)
    assert response.json()["id"] == subscriber_hash(ANN)


def test_fields_and_exclude_fields_trim_responses(client, list_id, sandbox):
    sandbox.add_member(list_id, ANN, merge_values={"FNAME": "Ann"})
    trimmed = client.lists.get_list_members_info(
        list_id, fields=["members.email_address", "members.merge_fields.FNAME", "total_items"])
    assert trimmed == {"members": [{"email_address": ANN, "merge_fields": {"FNAME": "Ann"}}], "total_items": 1}
    without = client.lists.get_list_member(list_id, subscriber_hash(ANN),
                                           exclude_fields=["merge_fields", "stats.avg_open_rate"])
    assert "merge_fields" not in without
    assert without["stats"] == {"avg_click_rate": 0}
    assert without["id"] == subscriber_hash(ANN)
