"""`crm-sync demo run`: push the demo CRM into a local Mailchimp sandbox twice, send campaigns there, pull
the engagement back, and show one contact's history."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sync.connectors.crm_sql import open_crm
from sync.democrm.generate import create_demo_crm
from sync.jobs import pull_audience, push_audience
from sync.pull import PullReport
from sync.push import PushReport
from sync.sandbox.mailchimp import MailchimpSandbox
from sync.settings import (
    AudienceSettings,
    CrmSettings,
    MailchimpSettings,
    Settings,
    StateSettings,
)

DEMO_AUDIENCE = "newsletter"


@dataclass
class DemoRun:
    """The two pushes and the pull of a demo run, and what a CRM user now sees on one contact."""

    first: PushReport
    second: PushReport
    members: int
    sample: list[dict]
    base_url: str
    pulled: PullReport
    contact: str
    history: list[tuple[str, str, str, datetime]]


def run_demo(settings: Settings, contacts: int, seed: int, folder: Path,
             on_progress: Callable[[int, int], None] | None = None) -> DemoRun:
    """In ``folder``: a fresh demo CRM and state store, pushed twice into a new sandbox (the second push
    writes nothing); then two campaigns with some engagement there, pulled back into the CRM.

    The demo never touches the configured CRM or state store: it has its own files, made anew each time.
    """
    folder.mkdir(parents=True, exist_ok=True)
    crm_path, state_path = folder / "demo-crm.db", folder / "demo-state.db"
    crm_path.unlink(missing_ok=True)
    state_path.unlink(missing_ok=True)
    crm_url = f"sqlite:///{crm_path}"
    create_demo_crm(crm_url, contacts=contacts, seed=seed)
    with MailchimpSandbox() as sandbox:
        list_id = sandbox.create_audience("crm-sync demo newsletter")
        demo_settings = settings.model_copy(update={
            "crm": CrmSettings(url=crm_url),
            "state": StateSettings(url=f"sqlite:///{state_path}"),
            "mailchimp": MailchimpSettings(api_key=sandbox.api_key, base_url=sandbox.base_url),
            "audiences": {DEMO_AUDIENCE: AudienceSettings(audience_id=list_id)},
        })
        first = push_audience(demo_settings, DEMO_AUDIENCE, on_progress=on_progress)
        second = push_audience(demo_settings, DEMO_AUDIENCE)
        members = list(sandbox.members(list_id))
        star = _engage(sandbox, list_id, [member["email_address"] for member in members])
        pulled = pull_audience(demo_settings, DEMO_AUDIENCE)
        base_url = sandbox.base_url
    with open_crm(crm_url) as crm:
        contact_id = crm.contacts_by_email([star])[star.lower()][0]
        history = crm.history_of(contact_id)
    return DemoRun(first, second, len(members), members[:3], base_url, pulled, f"{contact_id} <{star}>",
                   history)


def _engage(sandbox: MailchimpSandbox, list_id: str, emails: list[str]) -> str:
    """Send two campaigns and have some members open, click, bounce and unsubscribe; returns a busy reader."""
    now = datetime.now(UTC).replace(microsecond=0)
    may = sandbox.send_campaign(list_id, "Newsletter May", send_time=now - timedelta(days=20))
    june = sandbox.send_campaign(list_id, "Newsletter June", send_time=now - timedelta(days=3))
    for index, email in enumerate(emails):
        for campaign, sent in ((may, now - timedelta(days=20)), (june, now - timedelta(days=3))):
            if index % 3 == 0:
                sandbox.record_open(campaign, email, at=sent + timedelta(hours=1, minutes=index % 50))
            if index % 7 == 0:
                sandbox.record_click(campaign, email, "https://shop.test/summer-sale", at=sent + timedelta(hours=2))
    star = emails[0]
    sandbox.record_open(may, star, at=now - timedelta(days=19))
    sandbox.record_click(may, star, "https://shop.test/new-arrivals", at=now - timedelta(days=19))
    sandbox.record_bounce(june, emails[1], kind="hard", at=now - timedelta(days=3) + timedelta(minutes=1))
    sandbox.record_unsubscribe(june, emails[2], reason="I get too many e-mails", at=now - timedelta(days=2))
    return star
