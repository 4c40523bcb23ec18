"""`crm-sync demo run`: push the demo CRM into a local Mailchimp sandbox, twice, and show what happened."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import make_url

from sync.democrm.generate import create_demo_crm
from sync.jobs import push_audience
from sync.push import PushReport
from sync.sandbox.mailchimp import MailchimpSandbox
from sync.settings import AudienceSettings, MailchimpSettings, Settings, StateSettings

DEMO_AUDIENCE = "newsletter"


@dataclass
class DemoRun:
    """The two pushes of a demo run and a sample of what the sandbox holds afterwards."""

    first: PushReport
    second: PushReport
    members: int
    sample: list[dict]
    base_url: str


def run_demo(settings: Settings, contacts: int, seed: int, state_path: Path,
             on_progress: Callable[[int, int], None] | None = None) -> DemoRun:
    """Create the demo CRM if missing, start the sandbox, push twice (the second must write nothing)."""
    crm_url = settings.crm.url.get_secret_value()
    if not _sqlite_file_exists(crm_url):
        create_demo_crm(crm_url, contacts=contacts, seed=seed)
    state_path.unlink(missing_ok=True)  # the sandbox starts empty every time, so must the demo's state
    with MailchimpSandbox() as sandbox:
        list_id = sandbox.create_audience("crm-sync demo newsletter")
        demo_settings = settings.model_copy(update={
            "state": StateSettings(url=f"sqlite:///{state_path}"),
            "mailchimp": MailchimpSettings(api_key=sandbox.api_key, base_url=sandbox.base_url),
            "audiences": {DEMO_AUDIENCE: AudienceSettings(audience_id=list_id)},
        })
        first = push_audience(demo_settings, DEMO_AUDIENCE, on_progress=on_progress)
        second = push_audience(demo_settings, DEMO_AUDIENCE)
        members = list(sandbox.members(list_id))
        return DemoRun(first, second, len(members), members[:3], sandbox.base_url)


def _sqlite_file_exists(url: str) -> bool:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return True  # a server database: use what is there
    return bool(parsed.database) and Path(parsed.database).exists()
