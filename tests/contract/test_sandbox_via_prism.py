"""Contract tests: SDK traffic to the Mailchimp sandbox through a validating Prism proxy.

Conforming calls must pass through unchanged (so the sandbox's answers also conform to the official spec:
Prism turns a non-conforming response into a 500), and requests that break the spec must be stopped by Prism
with 422 before they reach the sandbox.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import mailchimp_marketing
import pytest
import requests
from mailchimp_marketing.api_client import ApiClientError

from sync.sandbox.mailchimp import MailchimpSandbox, subscriber_hash
from tests.contract.prism import PrismProxy, prism_proxy

ANN = "ann@ziggo.test"
UNPROCESSABLE = "https://stoplight.io/prism/errors#UNPROCESSABLE_ENTITY"


@pytest.fixture(scope="module")
def behind_prism() -> Iterator[tuple[MailchimpSandbox, PrismProxy]]:
    with MailchimpSandbox() as sandbox, prism_proxy(sandbox.base_url) as proxy:
        yield sandbox, proxy
        assert sandbox.internal_errors == []


@pytest.fixture
def sandbox(behind_prism) -> MailchimpSandbox:
    return behind_prism[0]


@pytest.fixture
def proxy(behind_prism) -> PrismProxy:
    return behind_prism[1]


@pytest.fixture
def client(sandbox, proxy) -> mailchimp_marketing.Client:
    client = mailchimp_marketing.Client()
    client.set_config({"api_key": sandbox.api_key, "timeout": 30})
    client.api_client.host = proxy.url
    return client


@pytest.fixture
def list_id(sandbox) -> str:
    return sandbox.create_audience("Contract test audience")


def _violations(error: ApiClientError) -> list[dict]:
    problem = json.loads(error.text) if isinstance(error.text, str) else error.text
    assert problem["type"] == UNPROCESSABLE, problem
    return problem["validation"]


def test_conforming_member_calls_pass_through(client, list_id, sandbox):
    sandbox.reset_traffic()
    member = client.lists.set_list_member(list_id, subscriber_hash(ANN), {
        "email_address": ANN, "status_if_new": "subscribed", "merge_fields": {"FNAME": "Ann"}})
    assert member["id"] == subscriber_hash(ANN)
    assert sandbox.member(list_id, ANN)["merge_fields"]["FNAME"] == "Ann"
    assert sandbox.request_count("PUT", route="/lists/{list_id}/members/{subscriber_hash}") == 1
    assert client.lists.update_list_member(list_id, subscriber_hash(ANN), {"vip": True})["vip"] is True
    assert client.lists.get_list_member(list_id, subscriber_hash(ANN))["status"] == "subscribed"
    assert client.lists.get_list_members_info(list_id, count=1000)["total_items"] == 1
    tagged = client.lists.update_list_member_tags(list_id, subscriber_hash(ANN),
                                                  {"tags": [{"name": "VIP", "status": "active"}]})
    assert tagged.status_code == 204
    assert client.lists.get_list_member_tags(list_id, subscriber_hash(ANN))["tags"][0]["name"] == "VIP"
    assert client.lists.delete_list_member(list_id, subscriber_hash(ANN)).status_code == 204


def test_delete_permanent_passes_without_a_body_but_the_sdk_sends_null(client, proxy, list_id, sandbox):
    """Prism quirk: the SDK posts the body ``null`` to delete-permanent, whose spec has no request body, so
    Prism answers 422 (code 415) although Mailchimp accepts it. The same call without a body passes."""
    sandbox.add_member(list_id, ANN)
    with pytest.raises(ApiClientError) as raised:
        client.lists.delete_list_member_permanent(list_id, subscriber_hash(ANN))
    assert [v["code"] for v in _violations(raised.value)] == [415]
    url = f"{proxy.url}/lists/{list_id}/members/{subscriber_hash(ANN)}/actions/delete-permanent"
    response = requests.post(url, auth=("user", sandbox.api_key), timeout=30)
    assert response.status_code == 204
    assert sandbox.member(list_id, ANN) is None


def test_conforming_account_list_and_merge_field_calls_pass_through(client, list_id):
    assert client.ping.get() == {"health_status": "Everything's Chimpy!"}
    assert client.root.get_root()["account_name"] == "crm-sync sandbox"
    assert list_id in [audience["id"] for audience in client.lists.get_all_lists()["lists"]]
    assert client.lists.get_list(list_id)["id"] == list_id
    created = client.lists.add_list_merge_field(
        list_id, {"name": "Tier", "type": "dropdown", "options": {"choices": ["gold", "silver"]}})
    assert created["tag"] == "TIER"
    assert client.lists.get_list_merge_fields(list_id, count=1000)["total_items"] == 6  # 5 defaults and TIER


def test_conforming_batch_and_segment_calls_pass_through(client, list_id, sandbox):
    result = client.lists.batch_list_members(list_id, {"update_existing": True, "members": [
        {"email_address": f"m{n}@ziggo.test", "status": "subscribed"} for n in range(5)
    ] + [{"email_address": "someone@example.com", "status": "subscribed"}]})
    assert (result["total_created"], result["error_count"]) == (5, 1)
    segment = client.lists.create_segment(list_id, {"name": "Five", "static_segment": []})
    changed = client.lists.batch_segment_members(
        {"members_to_add": [f"m{n}@ziggo.test" for n in range(5)]}, list_id, segment["id"])
    assert changed["total_added"] == 5
    assert client.lists.get_segment_members_list(list_id, segment["id"])["total_items"] == 5
    assert client.lists.list_segments(list_id)["total_items"] == 1
    assert sandbox.member_count(list_id) == 5


def test_conforming_campaign_and_report_calls_pass_through(client, list_id, sandbox):
    sandbox.add_member(list_id, ANN)
    campaign_id = sandbox.send_campaign(list_id, "Contract news")
    sandbox.record_open(campaign_id, ANN)
    sandbox.record_unsubscribe(campaign_id, ANN)
    assert campaign_id in [c["id"] for c in client.campaigns.list(list_id=list_id)["campaigns"]]
    assert client.reports.get_email_activity_for_campaign(campaign_id)["emails"][0]["activity"][0]["action"] == "open"
    assert client.reports.get_unsubscribed_list_for_campaign(campaign_id)["total_items"] == 1
    assert client.reports.get_campaign_recipients(campaign_id)["sent_to"][0]["open_count"] == 1


def test_sandbox_business_errors_pass_through_unchanged(client, list_id):
    with pytest.raises(ApiClientError) as raised:
        client.lists.set_list_member(list_id, subscriber_hash("someone@example.com"), {
            "email_address": "someone@example.com", "status_if_new": "subscribed"})
    assert raised.value.status_code == 400
    problem = json.loads(raised.value.text)
    assert problem["title"] == "Invalid Resource"
    assert "looks fake or invalid" in problem["detail"]


def test_put_member_without_status_if_new_is_stopped_by_prism(client, list_id, sandbox):
    sandbox.reset_traffic()
    with pytest.raises(ApiClientError) as raised:
        client.lists.set_list_member(list_id, subscriber_hash(ANN), {"email_address": ANN})
    assert raised.value.status_code == 422
    messages = [v["message"] for v in _violations(raised.value)]
    assert any("status_if_new" in message for message in messages), messages
    assert sandbox.request_count() == 0, "Prism must not forward an invalid request"


def test_count_above_1000_is_stopped_by_prism(proxy, list_id, sandbox):
    sandbox.reset_traffic()
    response = requests.get(f"{proxy.url}/lists/{list_id}/members", params={"count": 5000},
                            auth=("user", sandbox.api_key), timeout=30)
    assert response.status_code == 422
    assert response.headers["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["type"] == UNPROCESSABLE
    assert body["validation"][0]["location"] == ["query", "count"]
    assert sandbox.request_count() == 0


def test_a_response_that_breaks_the_spec_becomes_a_500(proxy, list_id, sandbox):
    """Proves the pass-through tests above can fail: Prism checks the sandbox's answers too."""
    sandbox.faults.fail_next(1, status=200, body="html")
    response = requests.get(f"{proxy.url}/lists/{list_id}", auth=("user", sandbox.api_key), timeout=30)
    assert response.status_code == 500
    body = response.json()
    assert body["type"] == "https://stoplight.io/prism/errors#VIOLATIONS"
    assert body["validation"][0]["location"] == ["response"]


def test_bodyless_429_turns_into_a_500_behind_prism(proxy, list_id, sandbox):
    """Prism quirk: with --errors a 429 without a body (Mailchimp's connection-limit answer) violates the spec's
    media types and reaches the client as 500 VIOLATIONS; a 429 with a problem body passes unchanged."""
    sandbox.faults.throttle_next(1)
    bare = requests.get(f"{proxy.url}/lists/{list_id}", auth=("user", sandbox.api_key), timeout=30)
    assert (bare.status_code, bare.json()["type"]) == (500, "https://stoplight.io/prism/errors#VIOLATIONS")
    sandbox.faults.throttle_next(1, with_body=True)
    with_body = requests.get(f"{proxy.url}/lists/{list_id}", auth=("user", sandbox.api_key), timeout=30)
    assert (with_body.status_code, with_body.json()["title"]) == (429, "Too Many Requests")
