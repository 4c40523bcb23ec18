"""`crm-sync demo run`: push the demo CRM into a local provider sandbox twice, send campaigns there, pull the
engagement back, and show one contact's history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sync.connectors.crm_registry import open_crm
from sync.connectors.provider_registry import DEFAULT_PROVIDER
from sync.demo.crms import demo_crm
from sync.demo.providers import DemoView, demo_provider
from sync.progress import Tracker
from sync.pull.importer import PullReport
from sync.push.executor import PushReport
from sync.runner import pull_audience, push_audience
from sync.settings import Settings, StateSettings

DEMO_AUDIENCE = "newsletter"


@dataclass
class DemoRun:
    """The two pushes and the pull of a demo run, and what a CRM user now sees on one contact."""

    provider: str
    first: PushReport
    second: PushReport
    members: int
    sample: list[tuple[str, dict]]
    base_url: str
    pulled: PullReport
    contact: str
    history: list[tuple[str, str, str, datetime]]
    crm: str = "sql"
    crm_url: str | None = None  # the fake CRM's address, when the demo CRM was one


def run_demo(settings: Settings, contacts: int, seed: int, folder: Path,
             on_progress: Tracker | None = None, provider: str = DEFAULT_PROVIDER, crm: str = "sql") -> DemoRun:
    """In ``folder``: a fresh demo CRM of kind ``crm`` (``sync/demo/crms.py``) and state store, pushed twice into
    a new sandbox of ``provider`` (the second push writes nothing); then two campaigns with some engagement
    there, pulled back into the CRM.

    The demo never touches the configured CRM or state store: it has its own, made anew each time.
    """
    folder.mkdir(parents=True, exist_ok=True)
    state_path = folder / "demo-state.db"
    state_path.unlink(missing_ok=True)
    with demo_crm(crm, folder, contacts, seed) as running:
        local = settings.model_copy(update={"crm": running.settings,
                                            "state": StateSettings(url=f"sqlite:///{state_path}")}
                                    | ({"mapping_file": running.mapping_file} if running.mapping_file else {}))
        with demo_provider(provider, local, DEMO_AUDIENCE) as sandbox:
            demo = _with_consent_field(sandbox.settings, running.consent_field)
            first = push_audience(demo, DEMO_AUDIENCE, on_progress=on_progress)
            second = push_audience(demo, DEMO_AUDIENCE)
            members = sorted(sandbox.view.members().items())
            star = _engage(sandbox.view, [email for email, member in members if member["status"] == "subscribed"])
            pulled = pull_audience(demo, DEMO_AUDIENCE)
        with open_crm(running.settings) as connected:
            contact_id = connected.contacts_by_email([star])[star.lower()][0]
            history = connected.history_of(contact_id)
    return DemoRun(provider, first, second, len(members), members[:3], sandbox.base_url, pulled,
                   f"{contact_id} <{star}>", history, crm, running.base_url)


def _with_consent_field(settings: Settings, consent_field: str | None) -> Settings:
    if consent_field is None:
        return settings
    audience = settings.audiences[DEMO_AUDIENCE].model_copy(update={"consent_field": consent_field})
    return settings.model_copy(update={"audiences": {**settings.audiences, DEMO_AUDIENCE: audience}})


def _engage(view: DemoView, emails: list[str]) -> str:
    """Send two campaigns and have some members open, click, bounce and unsubscribe; returns a busy reader."""
    now = datetime.now(UTC).replace(microsecond=0)
    may_sent, june_sent = now - timedelta(days=20), now - timedelta(days=3)
    may = view.send_campaign("Newsletter May", may_sent)
    june = view.send_campaign("Newsletter June", june_sent)
    for index, email in enumerate(emails):
        for campaign, sent in ((may, may_sent), (june, june_sent)):
            if index % 3 == 0:
                view.record_open(campaign, email, sent + timedelta(hours=1, minutes=index % 50))
            if index % 7 == 0:
                view.record_click(campaign, email, "https://shop.test/summer-sale", sent + timedelta(hours=2))
    star = emails[0]
    view.record_open(may, star, now - timedelta(days=19))
    view.record_click(may, star, "https://shop.test/new-arrivals", now - timedelta(days=19))
    view.record_bounce(june, emails[1], "hard", june_sent + timedelta(minutes=1))
    view.record_unsubscribe(june, emails[2], now - timedelta(days=2))
    return star
