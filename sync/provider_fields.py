"""The mapping against a provider account's real fields, for `crm-sync mapping check --online`.

Each provider's kit fills the report (sync/connectors/<provider>/kit.py): fields the push will create where
the provider lets it (Mailchimp merge fields), fields a marketer must add by hand where it does not (Spotler
properties, with their types), and conflicts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeVar

from sync.connectors.provider_registry import kit
from sync.mapping.model import AudienceMapping
from sync.records import CrmField
from sync.settings import HttpProviderSettings, Settings

CHECK_RETRY_SECONDS = 30.0  # a check someone waits for gives up sooner than a nightly run
ProviderSettings = TypeVar("ProviderSettings", bound=HttpProviderSettings)


@dataclass
class FieldReport:
    """One audience's mapping against its provider account."""

    audience: str
    provider: str
    existing: int = 0
    to_create: list[str] = field(default_factory=list)  # made by the push (Mailchimp)
    notes: list[str] = field(default_factory=list)  # where the push follows the account, not the mapping
    to_make_by_hand: list[str] = field(default_factory=list)  # "name (type) for TAG" (Spotler)
    not_sent: list[str] = field(default_factory=list)  # mapping fields the provider is not sent
    conflicts: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.conflicts


def field_report(settings: Settings, name: str, mapping: AudienceMapping, crm_fields: list[CrmField]) -> FieldReport:
    """Ask the audience's provider for its fields and compare them with the mapping."""
    return kit(settings.audiences[name].provider).field_report(settings, name, mapping, crm_fields)


def quick(provider_settings: ProviderSettings) -> ProviderSettings:
    """``provider_settings`` for a check someone waits for: retries give up sooner."""
    return provider_settings.model_copy(
        update={"retry_seconds": min(provider_settings.retry_seconds, CHECK_RETRY_SECONDS)})
