"""The echo of a pull's comment: vtiger moves the contact's modifiedtime, the next incremental push writes nothing."""

from __future__ import annotations

from datetime import UTC, datetime

from sync.connectors.vtiger.crm import open_vtiger
from sync.records import ActivityRecord
from sync.runner import push_audience
from sync.sandbox.mailchimp import MailchimpSandbox
from sync.settings import Settings

MAPPING = """\
audiences:
  newsletter:
    fields:
      FNAME: { source: firstname, type: text, trim: true }
      LNAME: { source: lastname, type: text, trim: true }
"""


def test_a_comment_written_back_causes_no_provider_write(sandbox, tmp_path):
    sandbox.add_field("cf_875", "Newsletter Consent", {"name": "boolean"})
    for contact, address in (("12x117", "jose@muller-soehne.de"), ("12x118", "zoe@bloemen.nl"),
                             ("12x119", "francois@lefevre.fr")):  # the Mailchimp sandbox refuses example.*
        sandbox.update(contact, cf_875="1", email=address)
    (tmp_path / "mapping.yaml").write_text(MAPPING)
    with MailchimpSandbox() as mailchimp:
        audience = mailchimp.create_audience("Echo")
        settings = Settings(
            crm={"kind": "vtiger", "base_url": sandbox.base_url, "api_user": sandbox.username,
                 "api_key": sandbox.access_key},
            state={"url": f"sqlite:///{tmp_path / 'state.db'}"}, mapping_file=tmp_path / "mapping.yaml",
            mailchimp={"api_key": mailchimp.api_key, "base_url": mailchimp.base_url},
            audiences={"newsletter": {"audience_id": audience,
                                      "consent_field": "newsletter_consent", "safety_threshold": 1.0}})
        first = push_audience(settings, "newsletter")
        assert first.write_requests > 0 and mailchimp.member_count(audience) == 3
        with open_vtiger(sandbox.base_url, sandbox.username, sandbox.access_key) as crm:
            when = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)
            assert crm.write_activities([ActivityRecord("mailchimp:c1:12x117", "email_campaign", "Spring", "Opened.",
                                                        when, when, contact_id="12x117")]) == 1
        incremental = push_audience(settings, "newsletter")
        assert incremental.summary.scope.startswith("incremental push"), incremental.summary.scope
        assert incremental.write_requests == 0, dict(incremental.summary.actions)
        sandbox.update("12x118", firstname="Zoé")  # a real change is still pushed
        changed = push_audience(settings, "newsletter")
        assert changed.write_requests > 0, (dict(changed.summary.actions), dict(changed.summary.reasons))
        assert mailchimp.member(audience, "zoe@bloemen.nl")["merge_fields"]["FNAME"] == "Zoé"
