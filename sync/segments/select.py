"""A segment's recipients, read from the CRM through its port: what `segment preview` shows and the push sends.

Only the port is used (``describe_fields``, ``target_lists``, ``iter_contacts``, ``shared_emails``,
``contact_owners``), so a segment selects the same way on every CRM; conditions are evaluated in the stream
(``sync/segments/conditions.py``), none is pushed down into a CRM's query yet.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

from sync.addresses import normalise_email
from sync.connectors.crm import CrmPort
from sync.connectors.crm_registry import open_crm
from sync.errors import ConfigError
from sync.mapping.model import closest
from sync.segments.load import load_segments
from sync.segments.model import Segment
from sync.segments.recipients import apply_recipients, read_recipients
from sync.segments.selection import SegmentSelection, select_from
from sync.settings import Settings


def select_recipients(settings: Settings, name: str, recipients_file: Path | None = None,
                      today: date | None = None, audience: str | None = None) -> SegmentSelection:
    """The segment ``name`` of the settings' segments file worked out against the CRM, after the marketer's
    ``recipients_file`` when given. ``today`` (default: the UTC date) anchors ``within_days``; ``audience``
    (a configured one) replaces the segment's own."""
    with open_crm(settings.crm) as crm:
        return select_in(crm, settings, name, recipients_file, today, audience)


def select_in(crm: CrmPort, settings: Settings, name: str, recipients_file: Path | None = None,
              today: date | None = None, audience_name: str | None = None) -> SegmentSelection:
    """``select_recipients`` on an open CRM."""
    segments = load_segments(settings.segments_file, crm.describe_fields(), crm.target_lists(), settings.audiences)
    segment = segments.get(name)
    if segment is None:
        hint = closest(name, list(segments))
        raise ConfigError(f"{settings.segments_file}: no segment {name!r}; its segments: {', '.join(segments)}"
                          + (f" (did you mean '{hint}'?)" if hint else ""))
    if audience_name is not None:
        if audience_name not in settings.audiences:
            raise ConfigError(f"--audience {audience_name}: no such audience; configured: "
                              f"{', '.join(settings.audiences)}")
        segment = replace(segment, audience=audience_name)
    audience = settings.audiences[segment.audience]
    excluded = exclusion_addresses(crm, segment, settings.crm.chunk_size)
    lists = crm.target_lists()
    selection = select_from(crm.iter_contacts(settings.crm.chunk_size), segment, audience, excluded,
                            crm.shared_emails(), today or datetime.now(UTC).date(),
                            audience_list(lists, segment.audience, audience.target_list))
    owners = crm.contact_owners(candidate.contact_id for candidate in selection.candidates)
    selection.candidates = [replace(candidate, name=owners.get(candidate.contact_id, (None, ""))[1])
                            for candidate in selection.candidates]
    if recipients_file is not None:
        selection = apply_recipients(selection, read_recipients(recipients_file), str(recipients_file))
    return selection


def audience_list(lists: list[tuple[str, str]], audience: str, wanted: str | None) -> str | None:
    """The id of the audience's target list (its target_list setting names its id or name), or None."""
    if wanted is None:
        return None
    for list_id, name in lists:
        if wanted in (list_id, name):
            return list_id
    raise ConfigError(f"audiences.{audience}.target_list: the CRM has no target list {wanted!r}; its lists: "
                      f"{', '.join(name for _, name in lists)}")


def exclusion_addresses(crm: CrmPort, segment: Segment, chunk_size: int) -> set[str]:
    """The normalised addresses of every record on the segment's exclusion lists (deleted ones too)."""
    addresses: set[str] = set()
    for list_id, _ in segment.exclusion_lists:
        for contact in crm.iter_contacts(chunk_size, list_id=list_id):
            email = normalise_email(contact.email)
            if email is not None:
                addresses.add(email)
    return addresses
