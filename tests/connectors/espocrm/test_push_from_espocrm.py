"""A push from the fake EspoCRM to the Mailchimp sandbox through the runner: EspoCRM's fields mapped (custom ones
included), consent read from the checkbox field the audience names, opted-out and invalid addresses left out,
one member per shared address, and an opt-out written by the pull read back by the next push."""

from __future__ import annotations

import os

from sync.records import ContactFlags
from sync.runner import push_audience
from sync.sandbox.mailchimp import MailchimpSandbox
from sync.settings import Settings

MAPPING = """
audiences:
  newsletter:
    fields:
      FNAME: { source: firstName, type: text, trim: true }
      LNAME: { source: lastName, type: text, trim: true }
      TIER:  { source: cLoyaltyTier, type: dropdown }
      SINCE: { source: cMemberSince, type: date, date_format: DD/MM/YYYY }
"""


def test_a_push_reads_espocrm_contacts_with_their_consent(fake, tmp_path, monkeypatch):
    for name in [name for name in os.environ if name.startswith("CRM_SYNC_") and not name.startswith("CRM_SYNC_TEST_")]:
        monkeypatch.delenv(name)
    store = fake.sandbox.store
    store.fields["Contact"]["cNewsletter"] = {"type": "bool", "isCustom": True}
    renamed = {lower: f"{lower.split('@')[0]}@ziggo.test" for lower in store.addresses}  # Mailchimp takes these
    store.addresses = {renamed[lower]: {**item, "emailAddress": renamed[lower]}
                       for lower, item in store.addresses.items()}
    for record in store.records["Contact"].values():
        record["cNewsletter"] = record["id"] != fake.ids["Zoë"]  # Zoë never gave consent
        record["_addresses"] = [renamed[lower] for lower in record["_addresses"]]
    (tmp_path / "mapping.yaml").write_text(MAPPING)
    with MailchimpSandbox() as mailchimp:
        list_id = mailchimp.create_audience("Newsletter")
        settings = Settings(
            crm={"kind": "espocrm", "base_url": fake.base_url, "api_key": fake.api_key},
            state={"url": f"sqlite:///{tmp_path / 'state.db'}"}, mapping_file=tmp_path / "mapping.yaml",
            mailchimp={"api_key": mailchimp.api_key, "base_url": mailchimp.base_url, "feed_lag_seconds": 0},
            audiences={"newsletter": {"audience_id": list_id, "consent_field": "cNewsletter",
                                      "target_list": "Newsletter Subscribers"}})
        push_audience(settings, "newsletter")
        members = {member["email_address"]: member for member in mailchimp.members(list_id)}
        # the list's nine, less Søren and Siobhán (opted out), Björn (invalid) and Zoë (no consent); Chloé and
        # Marc share one member
        assert set(members) == {"jose.muller@ziggo.test", "francois.lefevre@ziggo.test", "ana.nunez@ziggo.test",
                                "famille.dubois@ziggo.test"}
        jose = members["jose.muller@ziggo.test"]["merge_fields"]
        assert (jose["FNAME"], jose["TIER"], jose["SINCE"]) == ("José", "Gold", "14/03/2019")
        assert push_audience(settings, "newsletter").written == 0  # nothing changed: nothing sent again
        fake.crm().set_flags([ContactFlags(fake.ids["José"], email_opt_out=True)])  # as a pull would
        push_audience(settings, "newsletter", force=True)  # 1 of 4 members is over the safety threshold
        assert mailchimp.member(list_id, "jose.muller@ziggo.test")["status"] == "unsubscribed"
