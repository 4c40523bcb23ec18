"""Tags and static segments: tags are static segments, 500-address limits, segment member listing."""

from __future__ import annotations

import pytest
from mailchimp_marketing.api_client import ApiClientError

from sync.sandbox.mailchimp import subscriber_hash

ANN, PIET, KEES = "ann@ziggo.test", "piet@kpnmail.test", "kees@xs4all.test"


@pytest.fixture
def people(sandbox, list_id):
    for email in (ANN, PIET, KEES):
        sandbox.add_member(list_id, email)


def test_member_tags_are_set_with_204_and_read_back(client, list_id, sandbox, people):
    response = client.lists.update_list_member_tags(list_id, subscriber_hash(ANN), {
        "tags": [{"name": "VIP", "status": "active"}, {"name": "Donor", "status": "active"}], "is_syncing": True})
    assert response.status_code == 204
    tags = client.lists.get_list_member_tags(list_id, subscriber_hash(ANN))
    assert [t["name"] for t in tags["tags"]] == ["VIP", "Donor"]
    assert tags["total_items"] == 2
    client.lists.update_list_member_tags(list_id, subscriber_hash(ANN),
                                         {"tags": [{"name": "vip", "status": "inactive"}]})
    assert [t["name"] for t in client.lists.get_list_member(list_id, subscriber_hash(ANN))["tags"]] == ["Donor"]
    assert sandbox.segment_emails(list_id, "VIP") == []


def test_tags_show_up_as_static_segments(client, list_id, people):
    client.lists.update_list_member_tags(list_id, subscriber_hash(PIET),
                                         {"tags": [{"name": "VIP", "status": "active"}]})
    segments = client.lists.list_segments(list_id)["segments"]
    assert [(s["name"], s["type"], s["member_count"]) for s in segments] == [("VIP", "static", 1)]


def test_tags_of_an_unknown_member_are_404(client, list_id):
    with pytest.raises(ApiClientError) as raised:
        client.lists.update_list_member_tags(list_id, subscriber_hash(ANN),
                                             {"tags": [{"name": "X", "status": "active"}]})
    assert raised.value.status_code == 404


def test_static_segment_create_add_remove(client, list_id, sandbox, people):
    segment = client.lists.create_segment(list_id, {"name": "Newsletter", "static_segment": [ANN, "nobody@ziggo.test"]})
    assert (segment["type"], segment["member_count"]) == ("static", 1)
    result = client.lists.batch_segment_members(
        {"members_to_add": [PIET, KEES, "nobody@ziggo.test"], "members_to_remove": [ANN]}, list_id, segment["id"])
    assert [m["email_address"] for m in result["members_added"]] == [PIET, KEES]
    assert [m["email_address"] for m in result["members_removed"]] == [ANN]
    assert (result["total_added"], result["total_removed"], result["error_count"]) == (2, 1, 1)
    assert result["errors"][0]["email_addresses"] == ["nobody@ziggo.test"]
    assert sandbox.segment_emails(list_id, "Newsletter") == [PIET, KEES]
    listed = client.lists.get_segment_members_list(list_id, segment["id"])
    assert [m["email_address"] for m in listed["members"]] == [PIET, KEES]


def test_segment_members_hide_unsubscribed_unless_asked(client, list_id, sandbox, people):
    segment = client.lists.create_segment(list_id, {"name": "All", "static_segment": [ANN, PIET]})
    sandbox.unsubscribe(list_id, PIET)
    shown = client.lists.get_segment_members_list(list_id, segment["id"])
    assert [m["email_address"] for m in shown["members"]] == [ANN]
    every = client.lists.get_segment_members_list(list_id, segment["id"], include_unsubscribed=True)
    assert every["total_items"] == 2


def test_more_than_500_segment_changes_are_refused(client, list_id, people):
    segment = client.lists.create_segment(list_id, {"name": "Big", "static_segment": []})
    with pytest.raises(ApiClientError) as raised:
        client.lists.batch_segment_members({"members_to_add": [f"m{n}@ziggo.test" for n in range(501)]},
                                           list_id, segment["id"])
    assert raised.value.status_code == 400


def test_duplicate_segment_names_and_saved_segments_are_refused(client, list_id):
    client.lists.create_segment(list_id, {"name": "Once", "static_segment": []})
    for body in ({"name": "once", "static_segment": []},
                 {"name": "Saved", "options": {"match": "any", "conditions": []}}):
        with pytest.raises(ApiClientError) as raised:
            client.lists.create_segment(list_id, body)
        assert raised.value.status_code == 400


def test_permanent_delete_removes_segment_membership(client, list_id, sandbox, people):
    client.lists.create_segment(list_id, {"name": "Gone", "static_segment": [ANN, PIET]})
    client.lists.delete_list_member_permanent(list_id, subscriber_hash(ANN))
    assert sandbox.segment_emails(list_id, "Gone") == [PIET]


def test_members_of_a_saved_segment_cannot_be_changed(client, list_id, sandbox, people):
    saved = sandbox.add_segment(list_id, "Openers", kind="saved")
    with pytest.raises(ApiClientError) as raised:
        client.lists.batch_segment_members({"members_to_add": [ANN]}, list_id, str(saved))
    assert raised.value.status_code == 400
    assert f"A Static Segment with an id of {saved} does not exist" in raised.value.text


def test_the_500_limit_answers_like_mailchimp(client, list_id, people):
    segment = client.lists.create_segment(list_id, {"name": "Big", "static_segment": []})
    with pytest.raises(ApiClientError) as raised:
        client.lists.batch_segment_members({"members_to_remove": [f"m{n}@ziggo.test" for n in range(501)]},
                                           list_id, segment["id"])
    assert '"title":"Invalid Resource"' in raised.value.text
    assert "please provide at most 500 items in members_to_add field or members_to_remove field" in raised.value.text


def test_a_segment_is_renamed_but_not_onto_another_name(client, list_id):
    first = client.lists.create_segment(list_id, {"name": "One", "static_segment": []})
    client.lists.create_segment(list_id, {"name": "Two", "static_segment": []})
    assert client.lists.update_segment(list_id, first["id"], {"name": "Uno"})["name"] == "Uno"
    with pytest.raises(ApiClientError) as raised:
        client.lists.update_segment(list_id, first["id"], {"name": "two"})
    assert raised.value.status_code == 400
