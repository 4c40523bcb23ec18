"""A pull from the Mailchimp sandbox into the fake and the live EspoCRM through the runner: per-event campaign
log records, flags on the shared address, account Notes, and a re-pull that writes nothing."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sync.runner import pull_audience
from sync.sandbox.mailchimp import MailchimpSandbox
from sync.settings import Settings

REPO = Path(__file__).resolve().parents[3]


def test_a_pull_writes_the_campaign_log_once(espo_rw, tmp_path, monkeypatch):
    espo = espo_rw
    for name in [name for name in os.environ if name.startswith("CRM_SYNC_") and not name.startswith("CRM_SYNC_TEST_")]:
        monkeypatch.delenv(name)
    with MailchimpSandbox() as mailchimp:
        list_id = mailchimp.create_audience("Newsletter")
        for address in ("jose.muller@example.com", "famille.dubois@example.org", "francois.lefevre@example.org",
                        "mehmet.yilmaz@example.com"):
            mailchimp.add_member(list_id, address)
        sent = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
        campaign = mailchimp.send_campaign(list_id, "Winter Sale", send_time=sent)
        mailchimp.record_open(campaign, "jose.muller@example.com", sent + timedelta(minutes=5))
        mailchimp.record_click(campaign, "jose.muller@example.com", "https://shop.example.org/winter",
                               sent + timedelta(minutes=6))
        mailchimp.record_bounce(campaign, "francois.lefevre@example.org", "hard", sent + timedelta(minutes=1))
        mailchimp.record_unsubscribe(campaign, "famille.dubois@example.org", at=sent + timedelta(minutes=30))
        settings = Settings(
            crm={"kind": "espocrm", "base_url": espo.base_url, "api_key": espo.api_key},
            state={"url": f"sqlite:///{tmp_path / 'state.db'}"}, mapping_file=REPO / "config" / "mapping.yaml",
            mailchimp={"api_key": mailchimp.api_key, "base_url": mailchimp.base_url, "feed_lag_seconds": 0},
            audiences={"newsletter": {"audience_id": list_id}})
        report = pull_audience(settings, "newsletter")
        assert report.events_imported > 0 and report.unmatched == 0
        log = espo.search("CampaignLogRecord", [], orderBy="actionDate", order="asc")["list"]
        actions = {(row["parentId"], row["action"]) for row in log}
        jose, francois = espo.ids["José"], espo.ids["François"]
        assert {(jose, "Opened"), (jose, "Clicked"), (francois, "Bounced")} <= actions
        # the unsubscribe is logged on the one contact the event is placed on; the flag reaches both
        assert len({(espo.ids["Chloé"], "Opted Out"), (espo.ids["Marc"], "Opted Out")} & actions) == 1
        assert {row["campaignName"] for row in log if row["data"]["kind"] != "email_cleaned"} == {
            "Mailchimp: Winter Sale"}
        cleaned = [row for row in log if row["data"]["kind"] == "email_cleaned"]  # the member list's, no campaign
        assert [(row["parentId"], row["action"], row["stringAdditionalData"]) for row in cleaned] == [
            (espo.ids["François"], "Bounced", "Hard")]
        contacts = {row["id"]: row for row in espo.search("Contact", [])["list"]}
        assert contacts[espo.ids["Chloé"]]["emailAddressIsOptedOut"] is True
        assert contacts[espo.ids["Marc"]]["emailAddressIsOptedOut"] is True
        assert contacts[espo.ids["François"]]["emailAddressIsInvalid"] is True
        assert contacts[espo.ids["José"]]["emailAddressIsOptedOut"] is False
        muller = espo.accounts["Müller"]
        notes = espo.search("Note", [{"type": "equals", "attribute": "parentId", "value": muller}])["list"]
        assert len([note for note in notes if "Winter Sale" in (note["post"] or "")]) == 1
        again = pull_audience(settings, "newsletter", since=sent - timedelta(hours=1))
        assert again.events_imported == 0
        assert len(espo.search("CampaignLogRecord", [])["list"]) == len(log)
