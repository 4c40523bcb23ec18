"""The Mailchimp kit (sync/connectors/kit.py): one audience (list) per audience setting, merge fields the push
creates, members it created marked with the ownership tag, marketers' segments as static segments, and campaign
reports and the member list pulled."""

from __future__ import annotations

import logging
from contextlib import AbstractContextManager
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sync.connectors.crm import ContactReads
from sync.connectors.kit import FieldSetup, ProviderKit
from sync.connectors.mailchimp.audience import MailchimpAudience
from sync.connectors.mailchimp.fields import MAX_MERGE_FIELDS, follow_formats, plan_merge_fields
from sync.connectors.mailchimp.reports import MailchimpReports
from sync.connectors.mailchimp.segments import MailchimpSegments
from sync.connectors.mailchimp.streams import MailchimpPuller
from sync.connectors.provider import FieldPlan, OwnerTag
from sync.mapping.model import AudienceMapping
from sync.provider_fields import FieldReport, quick
from sync.pull.importer import EventImporter
from sync.push.stream import AudienceJob
from sync.records import CrmField
from sync.settings import AudienceSettings, Settings
from sync.state.store import StateStore

if TYPE_CHECKING:
    from sync.demo.providers import DemoProvider

log = logging.getLogger(__name__)


class MailchimpKit:
    """Mailchimp for generic code."""

    name = "mailchimp"
    title = "Mailchimp"
    short_title = "Mailchimp"
    max_fields: int | None = MAX_MERGE_FIELDS

    def check_audience(self, audience: AudienceSettings) -> None:
        if not audience.audience_id:
            raise ValueError("a Mailchimp audience needs audience_id (the list id)")

    def prepare(self, settings: Settings, audience: AudienceSettings, job: AudienceJob, crm: ContactReads,
                store: StateStore) -> FieldSetup:
        """The merge fields against the mapping; the job follows the date formats existing fields have."""
        provider = MailchimpAudience(settings.mailchimp, audience.audience_id or "")  # checked: check_audience
        member_count = provider.describe()["member_count"]
        crm_fields = {crm_field.name: crm_field for crm_field in crm.describe_fields()}
        field_plan = plan_merge_fields(job.mapping, provider.merge_fields(), crm_fields, job.name)
        job = replace(job, mapping=follow_formats(job.mapping, field_plan.followed_formats))
        return FieldSetup(provider, job, field_plan, member_count)

    def recount(self, provider: MailchimpAudience, store: StateStore, audience_name: str) -> int | None:
        return None  # the audience's own count, taken when prepared

    def create_fields(self, provider: MailchimpAudience, plan: FieldPlan) -> None:
        for provider_field in plan.to_create:
            provider.create_merge_field(provider_field)
            log.info("created merge field %s (%s)", provider_field.tag, provider_field.type)

    def owner_tag(self, provider: MailchimpAudience, audience: AudienceSettings) -> OwnerTag | None:
        return OwnerTag(audience.ownership_tag, provider)

    def segment_marker(self, provider: MailchimpAudience, audience: AudienceSettings) -> MailchimpSegments:
        """Static segments named ``<ownership_tag>: NAME``, changed 500 addresses a request."""
        return MailchimpSegments(provider, audience.ownership_tag)

    def open_pull(self, settings: Settings, audience: AudienceSettings) -> MailchimpAudience:
        provider = MailchimpAudience(settings.mailchimp, audience.audience_id or "")
        provider.describe()  # a missing audience is a configuration error before anything is read
        return provider

    def pull(self, settings: Settings, provider: MailchimpAudience, importer: EventImporter, run_start: datetime,
             window_start: datetime) -> None:
        reports = MailchimpReports(provider, importer.audience, settings.mailchimp.report_page_size)
        MailchimpPuller(importer, reports, run_start, window_start,
                        timedelta(seconds=settings.mailchimp.feed_lag_seconds)).run()

    def field_report(self, settings: Settings, name: str, mapping: AudienceMapping,
                     crm_fields: list[CrmField]) -> FieldReport:
        """Merge fields the push will create, date formats it follows, and conflicts."""
        audience = settings.audiences[name]
        report = FieldReport(name, audience.provider)
        mailchimp = MailchimpAudience(quick(settings.mailchimp), audience.audience_id or "")
        mailchimp.describe()
        existing = mailchimp.merge_fields()
        plan = plan_merge_fields(mapping, existing, {f.name: f for f in crm_fields}, name)
        report.existing = len(existing)
        report.to_create = [f"{f.tag} ({f.type})" for f in plan.to_create]
        report.notes = plan.notes()
        report.conflicts = plan.conflicts
        return report

    def demo(self, settings: Settings, audience: str) -> AbstractContextManager[DemoProvider]:
        from sync.connectors.mailchimp.demo import demo_account  # the sandbox is loaded for the demo only

        return demo_account(settings, audience)


KIT: ProviderKit[MailchimpAudience] = MailchimpKit()
