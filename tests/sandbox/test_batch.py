"""Batch subscribe (POST /lists/{list_id}): creates, updates and per-item errors in a 200 answer."""

from __future__ import annotations

import pytest
import requests
from mailchimp_marketing.api_client import ApiClientError

from tests.sandbox.conftest import problem_of


def _item(email, status="subscribed", **fields):
    return {"email_address": email, "status": status, **fields}


def test_batch_creates_members(client, list_id, sandbox):
    body = {"members": [_item(f"m{n}@ziggo.test", merge_fields={"FNAME": f"M{n}"}) for n in range(3)]}
    result = client.lists.batch_list_members(list_id, body)
    assert (result["total_created"], result["total_updated"], result["error_count"]) == (3, 0, 0)
    assert [m["email_address"] for m in result["new_members"]] == ["m0@ziggo.test", "m1@ziggo.test", "m2@ziggo.test"]
    assert sandbox.member(list_id, "m1@ziggo.test")["merge_fields"]["FNAME"] == "M1"


def test_existing_members_are_errors_without_update_existing(client, list_id, sandbox):
    sandbox.add_member(list_id, "known@ziggo.test", merge_values={"FNAME": "Old"})
    result = client.lists.batch_list_members(list_id, {"members": [
        _item("known@ziggo.test", merge_fields={"FNAME": "New"}), _item("fresh@ziggo.test")]})
    assert (result["total_created"], result["total_updated"], result["error_count"]) == (1, 0, 1)
    assert result["errors"][0]["error_code"] == "ERROR_CONTACT_EXISTS"
    assert result["errors"][0]["email_address"] == "known@ziggo.test"
    assert sandbox.member(list_id, "known@ziggo.test")["merge_fields"]["FNAME"] == "Old"


def test_update_existing_updates_members_and_their_status(client, list_id, sandbox):
    sandbox.add_member(list_id, "known@ziggo.test", status="pending")
    result = client.lists.batch_list_members(list_id, {"update_existing": True, "members": [
        _item("known@ziggo.test", merge_fields={"FNAME": "New"})]})
    assert (result["total_created"], result["total_updated"]) == (0, 1)
    member = sandbox.member(list_id, "known@ziggo.test")
    assert (member["status"], member["merge_fields"]["FNAME"]) == ("subscribed", "New")


def test_per_item_errors_come_back_in_a_200(client, list_id, sandbox):
    # BIRTHDAY (MM/DD) comes with every new audience, as in Mailchimp.
    sandbox.add_member(list_id, "gone@ziggo.test", status="unsubscribed")
    sandbox.add_member(list_id, "forgotten@ziggo.test")
    sandbox.permanently_delete(list_id, "forgotten@ziggo.test")
    result = client.lists.batch_list_members(list_id, {"update_existing": True, "members": [
        _item("someone@example.com"),
        _item("gone@ziggo.test"),
        _item("forgotten@ziggo.test"),
        _item("bday@ziggo.test", merge_fields={"BIRTHDAY": "1990-02-14"}),
        _item("good@ziggo.test"),
    ]})
    assert (result["total_created"], result["error_count"]) == (1, 4)
    by_address = {e["email_address"]: e for e in result["errors"]}
    assert by_address["someone@example.com"]["error"] == (
        "someone@example.com looks fake or invalid, please enter a real email address.")
    assert "compliance state" in by_address["gone@ziggo.test"]["error"]
    assert "permanently deleted" in by_address["forgotten@ziggo.test"]["error"]
    assert by_address["bday@ziggo.test"]["error"] == "Your merge fields were invalid."
    assert (by_address["bday@ziggo.test"]["field"], by_address["bday@ziggo.test"]["field_message"]) == (
        "BIRTHDAY", "Please enter a month (01-12) and a day (01-31)")
    assert {e["error_code"] for e in result["errors"]} == {"ERROR_GENERIC"}
    assert sandbox.member(list_id, "gone@ziggo.test")["status"] == "unsubscribed"


def test_new_member_without_status_is_an_item_error(client, list_id):
    result = client.lists.batch_list_members(list_id, {"members": [{"email_address": "nostatus@ziggo.test"}]})
    assert result["errors"][0]["field"] == "status"


def test_status_if_new_item_sets_new_members_and_never_changes_existing_ones(client, list_id, sandbox):
    sandbox.add_member(list_id, "left@ziggo.test")
    sandbox.unsubscribe(list_id, "left@ziggo.test")
    items = [{"email_address": "fresh@ziggo.test", "status_if_new": "subscribed", "merge_fields": {"FNAME": "F"}},
             {"email_address": "left@ziggo.test", "status_if_new": "subscribed", "merge_fields": {"FNAME": "L"}}]
    result = client.lists.batch_list_members(list_id, {"members": items, "update_existing": True})
    assert (result["total_created"], result["total_updated"], result["error_count"]) == (1, 1, 0)
    assert sandbox.member(list_id, "fresh@ziggo.test")["status"] == "subscribed"
    left = sandbox.member(list_id, "left@ziggo.test")
    assert (left["status"], left["merge_fields"]["FNAME"]) == ("unsubscribed", "L")


def test_archived_member_is_re_added(client, list_id, sandbox):
    sandbox.add_member(list_id, "back@ziggo.test")
    sandbox.archive(list_id, "back@ziggo.test")
    result = client.lists.batch_list_members(list_id, {"members": [_item("back@ziggo.test")]})
    assert result["total_created"] == 1
    assert sandbox.member(list_id, "back@ziggo.test")["status"] == "subscribed"


def test_duplicates_in_one_request(client, list_id, sandbox):
    items = [_item("twice@ziggo.test", merge_fields={"FNAME": "First"}),
             _item("twice@ziggo.test", merge_fields={"FNAME": "Second"})]
    result = client.lists.batch_list_members(list_id, {"members": items})
    assert (result["total_created"], result["error_count"]) == (1, 1)
    again = client.lists.batch_list_members(list_id, {"members": [_item("dup@ziggo.test"), _item("dup@ziggo.test")]},
                                            skip_duplicate_check=True)
    assert (again["total_created"], again["error_count"]) == (1, 0)
    assert sandbox.member(list_id, "twice@ziggo.test")["merge_fields"]["FNAME"] == "First"


def test_more_than_500_members_is_refused(client, list_id, sandbox):
    with pytest.raises(ApiClientError) as raised:
        client.lists.batch_list_members(list_id, {"members": [_item(f"m{n}@ziggo.test") for n in range(501)]})
    assert raised.value.status_code == 400
    assert "500" in problem_of(raised.value)["detail"]
    assert sandbox.member_count(list_id) == 0


def test_500_members_are_accepted(client, list_id, sandbox):
    result = client.lists.batch_list_members(list_id, {"members": [_item(f"m{n}@ziggo.test") for n in range(500)]})
    assert result["total_created"] == 500
    assert sandbox.member_count(list_id, "subscribed") == 500


def test_members_key_is_required(sandbox, list_id):
    response = requests.post(f"{sandbox.base_url}/lists/{list_id}", json={"update_existing": True},
                             auth=("user", sandbox.api_key), timeout=5)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "members"
