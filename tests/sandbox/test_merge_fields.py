"""Merge fields: paging defaults, tag rules, the 30-field limit, options, update and delete."""

from __future__ import annotations

import pytest
import requests
from mailchimp_marketing.api_client import ApiClientError

from tests.sandbox.conftest import problem_of


def _add_text_fields(client, list_id, how_many):
    for number in range(how_many):
        client.lists.add_list_merge_field(list_id, {"name": f"Custom {number}", "type": "text"})


def test_count_defaults_to_10_and_1000_returns_all(client, list_id):
    _add_text_fields(client, list_id, 12)
    default_page = client.lists.get_list_merge_fields(list_id)
    assert len(default_page["merge_fields"]) == 10
    assert default_page["total_items"] == 17  # 12 and the 5 defaults
    everything = client.lists.get_list_merge_fields(list_id, count=1000)
    assert len(everything["merge_fields"]) == 17
    tail = client.lists.get_list_merge_fields(list_id, count=10, offset=10)
    assert [f["tag"] for f in tail["merge_fields"]] == [f["tag"] for f in everything["merge_fields"][10:]]


def test_count_above_1000_is_refused(sandbox, list_id):
    response = requests.get(f"{sandbox.base_url}/lists/{list_id}/merge-fields", params={"count": 1001},
                            auth=("user", sandbox.api_key), timeout=5)
    assert response.status_code == 400
    assert "1000" in response.json()["detail"]


def test_new_audience_has_the_default_fields(client, list_id):
    fields = client.lists.get_list_merge_fields(list_id, count=1000)["merge_fields"]
    assert [(f["tag"], f["type"]) for f in fields] == [
        ("FNAME", "text"), ("LNAME", "text"), ("ADDRESS", "address"), ("PHONE", "phone"), ("BIRTHDAY", "birthday")]
    assert fields[-1]["options"]["date_format"] == "MM/DD"  # Mailchimp's default


def test_tag_is_derived_from_the_name_when_absent(client, list_id):
    created = client.lists.add_list_merge_field(list_id, {"name": "Customer number!", "type": "number"})
    assert created["tag"] == "CUSTOMERNU"
    clash = client.lists.add_list_merge_field(list_id, {"name": "Customer number 2", "type": "text"})
    assert clash["tag"] == f"MMERGE{clash['merge_id']}"


def test_tag_longer_than_10_characters_is_refused(client, list_id):
    with pytest.raises(ApiClientError) as raised:
        client.lists.add_list_merge_field(list_id, {"name": "Long", "type": "text", "tag": "ELEVENCHARS"})
    problem = problem_of(raised.value)
    assert raised.value.status_code == 400
    assert problem["errors"][0]["field"] == "tag"


def test_duplicate_tag_is_refused(client, list_id):
    with pytest.raises(ApiClientError) as raised:
        client.lists.add_list_merge_field(list_id, {"name": "First name again", "type": "text", "tag": "FNAME"})
    assert raised.value.status_code == 400
    assert "FNAME" in problem_of(raised.value)["detail"]


def test_the_31st_merge_field_is_refused(client, list_id, sandbox):
    _add_text_fields(client, list_id, 25)  # plus the 5 defaults makes 30
    with pytest.raises(ApiClientError) as raised:
        client.lists.add_list_merge_field(list_id, {"name": "One too many", "type": "text"})
    assert raised.value.status_code == 400
    assert "30" in problem_of(raised.value)["detail"]
    assert len(sandbox.merge_fields(list_id)) == 30


def test_options_are_kept(client, list_id):
    date = client.lists.add_list_merge_field(
        list_id, {"name": "Joined", "type": "date", "tag": "JOINED", "options": {"date_format": "DD/MM/YYYY"}})
    birthday = client.lists.add_list_merge_field(list_id, {"name": "Birthday", "type": "birthday"})
    dropdown = client.lists.add_list_merge_field(
        list_id, {"name": "Tier", "type": "dropdown", "options": {"choices": ["gold", "silver"]}})
    assert date["options"]["date_format"] == "DD/MM/YYYY"
    assert birthday["options"]["date_format"] == "MM/DD"
    assert dropdown["options"]["choices"] == ["gold", "silver"]
    again = client.lists.get_list_merge_field(list_id, date["merge_id"])
    assert again["options"]["date_format"] == "DD/MM/YYYY"


def test_dropdown_without_choices_is_refused(client, list_id):
    with pytest.raises(ApiClientError) as raised:
        client.lists.add_list_merge_field(list_id, {"name": "Tier", "type": "dropdown"})
    assert problem_of(raised.value)["errors"][0]["field"] == "options.choices"


def test_update_and_delete(client, list_id, sandbox):
    created = client.lists.add_list_merge_field(list_id, {"name": "Shoe size", "type": "number", "tag": "SHOE"})
    updated = client.lists.update_list_merge_field(list_id, created["merge_id"], {"name": "Shoe size EU",
                                                                                  "required": True})
    assert (updated["name"], updated["required"], updated["type"]) == ("Shoe size EU", True, "number")
    response = client.lists.delete_list_merge_field(list_id, created["merge_id"])
    assert response.status_code == 204
    assert "SHOE" not in sandbox.merge_fields(list_id)
    with pytest.raises(ApiClientError) as raised:
        client.lists.get_list_merge_field(list_id, created["merge_id"])
    assert raised.value.status_code == 404


def test_type_cannot_change(client, list_id):
    created = client.lists.add_list_merge_field(list_id, {"name": "Score", "type": "number"})
    with pytest.raises(ApiClientError) as raised:
        client.lists.update_list_merge_field(list_id, created["merge_id"], {"name": "Score", "type": "text"})
    assert raised.value.status_code == 400
