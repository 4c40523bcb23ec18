"""What the scenarios share: crm-sync's settings for a world and the Mailchimp sandbox, engagement to pull,
and reading a contact's history back through the CRM port whatever its shape (an entry per campaign, or per
event)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sync.sandbox.mailchimp import MailchimpSandbox
from sync.settings import Settings
from tests.crms.worlds import World

AUDIENCE = "newsletter"


def settings_for(world: World, mailchimp: MailchimpSandbox, audience_id: str, folder: Path) -> Settings:
    mapping = folder / "mapping.yaml"
    mapping.write_text(world.mapping())
    return Settings(crm=world.crm, state={"url": f"sqlite:///{folder / 'state.db'}"}, mapping_file=mapping,
                    mailchimp={"api_key": mailchimp.api_key, "base_url": mailchimp.base_url, "report_page_size": 2,
                              "feed_lag_seconds": 0},
                    audiences={AUDIENCE: {"audience_id": audience_id, "consent_field": world.consent_field,
                                          "safety_threshold": 1.0}})


def engage(world: World, mailchimp: MailchimpSandbox, audience_id: str) -> dict[str, str]:
    """One campaign: the first contact opens twice, the second clicks, the third bounces hard, the fourth
    unsubscribes. Returns the contact id of each role."""
    ids = world.contact_ids
    emails = world.emails()
    sent = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
    campaign = mailchimp.send_campaign(audience_id, "Spring Newsletter", send_time=sent)
    mailchimp.record_open(campaign, emails[ids[0]], sent + timedelta(minutes=5))
    mailchimp.record_open(campaign, emails[ids[0]], sent + timedelta(minutes=50))
    mailchimp.record_click(campaign, emails[ids[1]], "https://shop.crm-sync.dev/sale", sent + timedelta(minutes=9))
    mailchimp.record_bounce(campaign, emails[ids[2]], "hard", sent + timedelta(minutes=1))
    mailchimp.record_unsubscribe(campaign, emails[ids[3]], at=sent + timedelta(minutes=30))
    return {"opener": ids[0], "clicker": ids[1], "bouncer": ids[2], "leaver": ids[3]}


def opens(history: list[tuple[str, str, str, datetime]]) -> int:
    """How many opens a contact's history tells, in either shape."""
    count = 0
    for kind, subject, body, _ in history:
        if kind == "email_open":
            count += 1
        found = re.search(r"opened (once|\d+ times)", f"{subject} {body}") if kind == "email_campaign" else None
        if found:
            count += 1 if found.group(1) == "once" else int(found.group(1).split()[0])
    return count


def kinds(history: list[tuple[str, str, str, datetime]]) -> list[str]:
    return sorted(kind for kind, *_ in history)


def env_for(world: World, mailchimp: MailchimpSandbox, audience_id: str, folder: Path) -> dict[str, str]:
    """The same settings as ``settings_for``, as the environment of a ``crm-sync`` process."""
    mapping = folder / "mapping.yaml"
    mapping.write_text(world.mapping())
    env = {f"CRM_SYNC_CRM__{name.upper()}": str(value) for name, value in world.crm.items()}
    return env | {"CRM_SYNC_STATE__URL": f"sqlite:///{folder / 'state.db'}", "CRM_SYNC_MAPPING_FILE": str(mapping),
                  "CRM_SYNC_MAILCHIMP__API_KEY": mailchimp.api_key, "CRM_SYNC_MAILCHIMP__BASE_URL": mailchimp.base_url,
                  "CRM_SYNC_MAILCHIMP__REPORT_PAGE_SIZE": "2", "CRM_SYNC_MAILCHIMP__FEED_LAG_SECONDS": "0",
                  "CRM_SYNC_LOCK_TTL_SECONDS": "1",
                  "CRM_SYNC_AUDIENCES__NEWSLETTER__AUDIENCE_ID": audience_id,
                  "CRM_SYNC_AUDIENCES__NEWSLETTER__CONSENT_FIELD": world.consent_field,
                  "CRM_SYNC_AUDIENCES__NEWSLETTER__SAFETY_THRESHOLD": "1.0"}
