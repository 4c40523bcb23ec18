"""The mapping against a provider account's real fields, for `crm-sync mapping check --online`.

Mailchimp merge fields the mapping needs are created by the push; Spotler properties cannot be created
through its API, so the report lists the ones a marketer must add in Mail+, with their types.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeVar

from sync.connectors.mailchimp.audience import MailchimpAudience
from sync.connectors.mailchimp.fields import plan_merge_fields
from sync.connectors.spotler.audience import SpotlerAudience
from sync.connectors.spotler.mapping import plan_properties
from sync.mapping.model import AudienceMapping
from sync.records import CrmField
from sync.settings import MailchimpSettings, Settings, SpotlerSettings

ProviderSettings = TypeVar("ProviderSettings", MailchimpSettings, SpotlerSettings)
CHECK_RETRY_SECONDS = 30.0  # a check someone waits for gives up sooner than a nightly run


@dataclass
class FieldReport:
    """One audience's mapping against its provider account."""

    audience: str
    provider: str
    existing: int = 0
    to_create: list[str] = field(default_factory=list)  # Mailchimp: made by the push
    notes: list[str] = field(default_factory=list)  # where the push follows the account, not the mapping
    to_make_by_hand: list[str] = field(default_factory=list)  # Spotler: "name (type) for TAG"
    not_sent: list[str] = field(default_factory=list)  # mapping fields without a Spotler property
    conflicts: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.conflicts


def field_report(settings: Settings, name: str, mapping: AudienceMapping, crm_fields: list[CrmField]) -> FieldReport:
    """Ask the audience's provider for its fields and compare them with the mapping."""
    audience = settings.audiences[name]
    report = FieldReport(name, audience.provider)
    if audience.provider == "spotler":
        provider = SpotlerAudience(_quick(settings.spotler), audience.permission_bits)
        account = provider.properties()
        plan = plan_properties(mapping, account, name, audience.permission_bits)
        report.existing = len(account.types)
        report.to_make_by_hand = [f"{p.name} ({p.fits[0]}) for {p.tag}" + (f".{p.part}" if p.part else "")
                                  for p in plan.missing]
        report.not_sent = plan.unmapped
        report.conflicts = plan.conflicts
        return report
    mailchimp = MailchimpAudience(_quick(settings.mailchimp), audience.audience_id or "")
    mailchimp.describe()
    existing = mailchimp.merge_fields()
    plan = plan_merge_fields(mapping, existing, {f.name: f for f in crm_fields}, name)
    report.existing = len(existing)
    report.to_create = [f"{f.tag} ({f.type})" for f in plan.to_create]
    report.notes = plan.notes()
    report.conflicts = plan.conflicts
    return report


def _quick(provider_settings: ProviderSettings) -> ProviderSettings:
    return provider_settings.model_copy(
        update={"retry_seconds": min(provider_settings.retry_seconds, CHECK_RETRY_SECONDS)})
