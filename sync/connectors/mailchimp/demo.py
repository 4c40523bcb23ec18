"""The Mailchimp demo account for `crm-sync demo run`: a sandbox with one fresh audience."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sync.demo.providers import DemoProvider
from sync.sandbox.mailchimp import MailchimpSandbox
from sync.sandbox.views import MailchimpView
from sync.settings import AudienceSettings, MailchimpSettings, Settings


@contextmanager
def demo_account(settings: Settings, audience: str) -> Iterator[DemoProvider]:
    """Start a Mailchimp sandbox with an audience for ``audience`` and point a copy of ``settings`` at it."""
    with MailchimpSandbox() as mailchimp:
        list_id = mailchimp.create_audience(f"crm-sync demo {audience}")
        demo = settings.model_copy(update={
            "mailchimp": MailchimpSettings(api_key=mailchimp.api_key, base_url=mailchimp.base_url),
            "audiences": {audience: AudienceSettings(audience_id=list_id)},
        })
        yield DemoProvider(demo, MailchimpView(mailchimp, list_id), mailchimp.base_url)
