"""The Spotler Mail+ kit (sync/connectors/kit.py): one contact database per account, consent as the audience's
permission bits, properties made by hand in Mail+ (never by the push), members counted from the state store
(Mail+ has no per-audience count), marketers' segments as Mail+ audiences, and the account-wide feeds pulled."""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sync.connectors.crm import ContactReads
from sync.connectors.kit import FieldSetup, ProviderKit
from sync.connectors.provider import FieldPlan, OwnerTag
from sync.connectors.spotler.audience import SpotlerAudience
from sync.connectors.spotler.feeds import SpotlerFeeds
from sync.connectors.spotler.mapping import build_properties, plan_properties
from sync.connectors.spotler.segments import SpotlerSegments
from sync.connectors.spotler.streams import SpotlerPuller
from sync.mapping.model import AudienceMapping
from sync.provider_fields import FieldReport, quick
from sync.pull.importer import EventImporter
from sync.push.stream import AudienceJob
from sync.records import CrmField
from sync.settings import AudienceSettings, Settings
from sync.state.store import StateStore

if TYPE_CHECKING:
    from sync.demo.providers import DemoProvider

class SpotlerKit:
    """Spotler Mail+ for generic code."""

    name = "spotler"
    title = "Spotler Mail+"
    short_title = "Spotler"
    max_fields: int | None = None  # Mail+ documents no limit on contact properties

    def check_audience(self, audience: AudienceSettings) -> None:
        if not audience.permission_bits:
            raise ValueError("a Spotler audience needs permission_bits: the bit(s) that mean consent, e.g. [1]")
        if audience.reoptin:
            raise ValueError("Spotler has no re-opt-in confirmation mail: switching a permission bit back on would "
                             "re-subscribe someone who unsubscribed; set reoptin: false")

    def prepare(self, settings: Settings, audience: AudienceSettings, job: AudienceJob, crm: ContactReads,
                store: StateStore) -> FieldSetup:
        """Check the mapping against the account's properties; the job then formats values for their types
        (the shape returned too: a property of another type changes the values)."""
        provider = SpotlerAudience(settings.spotler, audience.permission_bits)
        plan = plan_properties(job.mapping, provider.properties(), job.name, job.settings.permission_bits)
        mapping = job.mapping
        job = replace(job, build=lambda contact: build_properties(contact, mapping, plan))
        member_count = store.active_member_count(job.name)  # Mail+ has no per-audience count
        return FieldSetup(provider, job, FieldPlan(conflicts=plan.conflicts), member_count,
                          {"types": plan.types, "entries": plan.entries})

    def recount(self, provider: SpotlerAudience, store: StateStore, audience_name: str) -> int | None:
        return store.active_member_count(audience_name)  # counted from the state store: count the resolved too

    def create_fields(self, provider: SpotlerAudience, plan: FieldPlan) -> None:
        """Nothing: Mail+ properties are made by hand, and a property plan never lists any to create."""

    def owner_tag(self, provider: SpotlerAudience, audience: AudienceSettings) -> OwnerTag | None:
        return None  # ownership is in the state store only

    def segment_marker(self, provider: SpotlerAudience, audience: AudienceSettings) -> SpotlerSegments:
        """Audiences (Automation and eCommerce tiers), 2500 contacts a request; members by externalId."""
        return SpotlerSegments(provider, audience.ownership_tag)

    def open_pull(self, settings: Settings, audience: AudienceSettings) -> SpotlerAudience:
        return SpotlerAudience(settings.spotler, audience.permission_bits)

    def pull(self, settings: Settings, provider: SpotlerAudience, importer: EventImporter, run_start: datetime,
             window_start: datetime) -> None:
        SpotlerPuller(importer, SpotlerFeeds(provider, importer.audience), run_start, window_start,
                      timedelta(seconds=settings.spotler.feed_lag_seconds)).run()

    def field_report(self, settings: Settings, name: str, mapping: AudienceMapping,
                     crm_fields: list[CrmField]) -> FieldReport:
        """Properties a marketer must add in Mail+ (with their types), fields not sent, and conflicts."""
        audience = settings.audiences[name]
        report = FieldReport(name, audience.provider)
        provider = SpotlerAudience(quick(settings.spotler), audience.permission_bits)
        account = provider.properties()
        plan = plan_properties(mapping, account, name, audience.permission_bits)
        report.existing = len(account.types)
        report.to_make_by_hand = [f"{p.name} ({p.fits[0]}) for {p.tag}" + (f".{p.part}" if p.part else "")
                                  for p in plan.missing]
        report.not_sent = plan.unmapped
        report.conflicts = plan.conflicts
        return report

    def demo(self, settings: Settings, audience: str) -> AbstractContextManager[DemoProvider]:
        from sync.connectors.spotler.demo import demo_account  # the sandbox is loaded for the demo only

        return demo_account(settings, audience)


KIT: ProviderKit[SpotlerAudience] = SpotlerKit()
