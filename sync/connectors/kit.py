"""A provider kit: everything provider-specific that generic code needs, behind one interface.

Each provider folder exports ``KIT`` from its ``kit.py`` (sync/connectors/mailchimp/kit.py,
sync/connectors/spotler/kit.py) and sync/connectors/provider_registry.py lists them. The runner, the settings, the CLI
and the demo reach a provider only through its kit: building the connector, checking the mapping against the
account's fields, the member count, ownership tags, the marker of a marketer's segments, the engagement streams of
a pull, the field limit of `mapping check`, and the demo sandbox. Adding a provider is a new folder and one
registry line.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, TypeVar

if TYPE_CHECKING:
    from sync.connectors.crm import ContactReads
    from sync.connectors.provider import FieldPlan, OwnerTag, ProviderAudience
    from sync.connectors.segments import SegmentMarker
    from sync.demo.providers import DemoProvider
    from sync.mapping.model import AudienceMapping
    from sync.provider_fields import FieldReport
    from sync.pull.importer import EventImporter
    from sync.push.stream import AudienceJob
    from sync.records import CrmField
    from sync.settings import AudienceSettings, Settings
    from sync.state.store import StateStore


AudienceT = TypeVar("AudienceT", bound="ProviderAudience")  # the provider's own connector class


@dataclass
class FieldSetup:
    """One audience's connector, with the mapping checked against the account's fields.

    ``job`` is the audience's job as the provider needs it (its payload builder, followed date formats);
    ``shape`` is what of the provider's fields the values depend on (it is part of the push fingerprint).
    """

    provider: ProviderAudience
    job: AudienceJob
    field_plan: FieldPlan
    member_count: int
    shape: object = None


class ProviderKit(Protocol[AudienceT]):
    """What generic code asks of a provider; ``AudienceT`` is its connector (each kit declares ``KIT`` with it,
    so mypy checks the kit against this protocol)."""

    name: str  # the registry key, the `provider:` setting and the settings section
    title: str  # for people: "Spotler Mail+"
    short_title: str  # in CRM history entries: "E-mail address cleaned by Spotler"
    max_fields: int | None  # the most fields an audience can hold (`mapping check`); None: no known limit

    def check_audience(self, audience: AudienceSettings) -> None:
        """Raise ValueError when an audience's settings do not fit this provider."""
        ...

    def prepare(self, settings: Settings, audience: AudienceSettings, job: AudienceJob, crm: ContactReads,
                store: StateStore) -> FieldSetup:
        """Connect to the audience and check the mapping against its fields (conflicts are in the plan)."""
        ...

    def recount(self, provider: AudienceT, store: StateStore, audience_name: str) -> int | None:
        """The member count after unanswered writes were looked up, when it changes with them; else None."""
        ...

    def create_fields(self, provider: AudienceT, plan: FieldPlan) -> None:
        """Create the fields the plan lists before anything is written."""
        ...

    def owner_tag(self, provider: AudienceT, audience: AudienceSettings) -> OwnerTag | None:
        """The tag created members get, when the provider marks them with one."""
        ...

    def segment_marker(self, provider: AudienceT, audience: AudienceSettings) -> SegmentMarker:
        """The marker of crm-sync's segments in the audience (sync/connectors/segments.py); raises
        MarkingUnsupported, saying what the provider lacks and what to do instead, when it cannot mark one."""
        ...

    def open_pull(self, settings: Settings, audience: AudienceSettings) -> AudienceT:
        """The connector a pull reads through (checked to exist before anything is read)."""
        ...

    def pull(self, settings: Settings, provider: AudienceT, importer: EventImporter, run_start: datetime,
             window_start: datetime) -> None:
        """Run every engagement stream of the audience through ``importer``."""
        ...

    def field_report(self, settings: Settings, name: str, mapping: AudienceMapping,
                     crm_fields: list[CrmField]) -> FieldReport:
        """The mapping against the account's real fields (`mapping check --online`)."""
        ...

    def demo(self, settings: Settings, audience: str) -> AbstractContextManager[DemoProvider]:
        """Start a sandbox with a demo account and point a copy of ``settings`` at it; stop it afterwards."""
        ...
