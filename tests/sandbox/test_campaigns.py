"""Campaigns and reports for the engagement pull: sends, opens, clicks, bounces and unsubscribes."""

from __future__ import annotations

import pytest
from mailchimp_marketing.api_client import ApiClientError

from sync.sandbox.mailchimp import subscriber_hash

ANN, PIET, KEES = "ann@ziggo.test", "piet@kpnmail.test", "kees@xs4all.test"


@pytest.fixture
def sent(sandbox, list_id):
    for email in (ANN, PIET, KEES):
        sandbox.add_member(list_id, email)
    sandbox.add_member(list_id, "quiet@ziggo.test", status="unsubscribed")
    campaign_id = sandbox.send_campaign(list_id, "November news", send_time="2026-11-01T09:00:00+00:00")
    sandbox.record_open(campaign_id, ANN, at="2026-11-01T10:00:00+00:00")
    sandbox.record_click(campaign_id, ANN, "https://bakker.nl/sale", at="2026-11-01T10:01:00+00:00")
    sandbox.record_open(campaign_id, PIET, at="2026-11-02T08:00:00+00:00")
    sandbox.record_bounce(campaign_id, KEES, "hard", at="2026-11-01T09:00:05+00:00")
    return campaign_id


def test_campaign_list_filters(client, list_id, sandbox, sent):
    later = sandbox.send_campaign(list_id, "December news", send_time="2026-12-01T09:00:00+00:00")
    every = client.campaigns.list(status="sent", list_id=list_id)
    assert [c["id"] for c in every["campaigns"]] == [sent, later]
    recent = client.campaigns.list(since_send_time="2026-11-15T00:00:00+00:00")
    assert [c["id"] for c in recent["campaigns"]] == [later]
    assert recent["campaigns"][0]["settings"]["title"] == "December news"
    assert recent["campaigns"][0]["recipients"]["recipient_count"] == 2  # Kees was cleaned by the hard bounce
    assert client.campaigns.list(list_id="otherlist")["total_items"] == 0


def test_email_activity_with_since(client, sent):
    report = client.reports.get_email_activity_for_campaign(sent)
    assert report["total_items"] == 3
    by_address = {row["email_address"]: row for row in report["emails"]}
    assert [a["action"] for a in by_address[ANN]["activity"]] == ["open", "click"]
    assert by_address[ANN]["activity"][1]["url"] == "https://bakker.nl/sale"
    assert by_address[KEES]["activity"][0] == {"action": "bounce", "type": "hard", "ip": "",
                                               "timestamp": "2026-11-01T09:00:05+00:00"}
    assert by_address[ANN]["email_id"] == subscriber_hash(ANN)
    newer = client.reports.get_email_activity_for_campaign(sent, since="2026-11-01T12:00:00+00:00")
    assert [(row["email_address"], len(row["activity"])) for row in newer["emails"]] == [(PIET, 1)]


def test_hard_bounce_cleans_the_member(sandbox, list_id, sent):
    assert sandbox.member(list_id, KEES)["status"] == "cleaned"


def test_unsubscribe_report_and_member_status(client, list_id, sandbox, sent):
    sandbox.record_unsubscribe(sent, PIET, reason="Too many emails", at="2026-11-03T07:00:00+00:00")
    report = client.reports.get_unsubscribed_list_for_campaign(sent)
    assert [(u["email_address"], u["reason"], u["timestamp"]) for u in report["unsubscribes"]] == [
        (PIET, "Too many emails", "2026-11-03T07:00:00+00:00")]
    member = client.lists.get_list_member(list_id, subscriber_hash(PIET))
    assert (member["status"], member["unsubscribe_reason"]) == ("unsubscribed", "Too many emails")
    with pytest.raises(ApiClientError) as raised:
        client.lists.set_list_member(list_id, subscriber_hash(PIET), {
            "email_address": PIET, "status_if_new": "subscribed", "status": "subscribed"})
    assert raised.value.status_code == 400


def test_sent_to_report(client, sent):
    report = client.reports.get_campaign_recipients(sent, count=2)
    assert report["total_items"] == 3
    assert len(report["sent_to"]) == 2
    everyone = {r["email_address"]: r for r in client.reports.get_campaign_recipients(sent)["sent_to"]}
    assert everyone[KEES]["status"] == "hard"
    assert (everyone[ANN]["open_count"], everyone[ANN]["last_open"]) == (1, "2026-11-01T10:00:00+00:00")
    assert "last_open" not in everyone[KEES]


def test_campaign_to_a_segment(client, list_id, sandbox, sent):
    segment = client.lists.create_segment(list_id, {"name": "Only Ann", "static_segment": [ANN]})
    campaign_id = sandbox.send_campaign(list_id, "For Ann", segment_id=segment["id"])
    assert [r["email_address"] for r in client.reports.get_campaign_recipients(campaign_id)["sent_to"]] == [ANN]


def test_unknown_campaign_is_404(client):
    with pytest.raises(ApiClientError) as raised:
        client.reports.get_email_activity_for_campaign("nosuchcampaign")
    assert raised.value.status_code == 404


def test_activity_for_a_non_recipient_is_a_control_error(sandbox, sent):
    with pytest.raises(LookupError, match="not a recipient"):
        sandbox.record_open(sent, "quiet@ziggo.test")
