"""A segment's recipients, read from the CRM through its port: what `segment preview` shows and the push sends.

Only the port is used (``describe_fields``, ``target_lists``, ``iter_contacts``, ``shared_emails``,
``contact_owners``), so a segment selects the same way on every CRM; conditions are evaluated in the stream
(``sync/segments/conditions.py``). A CRM that filters server-side (``FilteredReads``: the SQL CRM, with bound
parameters; EspoCRM, with its ``where``) is asked only for the contacts that may meet an include step
(``sync/segments/prefilter.py``), and then for every contact at the shared addresses of those selected, so the
household rule decides as before; the stream still evaluates every condition, so the selection is the same
either way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

from sync.addresses import normalise_email
from sync.connectors.crm import CrmPort, FilteredReads
from sync.connectors.crm_registry import open_crm
from sync.errors import ConfigError
from sync.mapping.model import closest
from sync.records import CrmContact
from sync.segments.load import load_segments
from sync.segments.model import Segment
from sync.segments.prefilter import include_condition
from sync.segments.recipients import apply_recipients, read_recipients
from sync.segments.selection import SegmentSelection, select_from
from sync.settings import AudienceSettings, Settings


def select_recipients(settings: Settings, name: str, recipients_file: Path | None = None,
                      today: date | None = None, pushdown: bool = True, audience: str | None = None
                      ) -> SegmentSelection:
    """The segment ``name`` of the settings' segments file worked out against the CRM, after the marketer's
    ``recipients_file`` when given. ``today`` (default: the UTC date) anchors ``within_days``; ``pushdown``
    False reads every contact even from a CRM that can filter; ``audience`` (a configured one) replaces the
    segment's own."""
    with open_crm(settings.crm) as crm:
        return select_in(crm, settings, name, recipients_file, today, pushdown, audience)


def select_in(crm: CrmPort, settings: Settings, name: str, recipients_file: Path | None = None,
              today: date | None = None, pushdown: bool = True, audience: str | None = None
              ) -> SegmentSelection:
    """``select_recipients`` on an open CRM."""
    segments = load_segments(settings.segments_file, crm.describe_fields(), crm.target_lists(), settings.audiences)
    segment = segments.get(name)
    if segment is None:
        hint = closest(name, list(segments))
        raise ConfigError(f"{settings.segments_file}: no segment {name!r}; its segments: {', '.join(segments)}"
                          + (f" (did you mean '{hint}'?)" if hint else ""))
    if audience is not None:
        if audience not in settings.audiences:
            raise ConfigError(f"--audience {audience}: no such audience; configured: {', '.join(settings.audiences)}")
        segment = replace(segment, audience=audience)
    selection = select_segment(crm, segment, settings.audiences[segment.audience], settings.crm.chunk_size,
                               today or datetime.now(UTC).date(), pushdown)
    owners = crm.contact_owners(candidate.contact_id for candidate in selection.candidates)
    selection.candidates = [replace(candidate, name=owners.get(candidate.contact_id, (None, ""))[1])
                            for candidate in selection.candidates]
    if recipients_file is not None:
        selection = apply_recipients(selection, read_recipients(recipients_file), str(recipients_file))
    return selection


def select_segment(crm: CrmPort, segment: Segment, audience: AudienceSettings, chunk_size: int, today: date,
                   pushdown: bool = True) -> SegmentSelection:
    """The segment's steps and rules worked out over the CRM's contacts (without names or a recipients file):
    only those that may meet an include step when the CRM filters and ``pushdown``, else all of them."""
    excluded = exclusion_addresses(crm, segment, chunk_size)
    target_list_id = audience_list(crm.target_lists(), segment.audience, audience.target_list)
    shared = crm.shared_emails()
    if not (pushdown and isinstance(crm, FilteredReads)):
        return select_from(crm.iter_contacts(chunk_size), segment, audience, excluded, shared, today,
                           target_list_id)
    contacts = crm.iter_contacts_matching(include_condition(segment.steps, today), chunk_size)
    return select_from(contacts, segment, audience, excluded, shared, today, target_list_id,
                       lambda streamed: everyone_at(crm, streamed, chunk_size))


def everyone_at(crm: CrmPort, streamed: Mapping[str, list[CrmContact]], chunk_size: int
                ) -> dict[str, list[CrmContact]]:
    """Every contact at each address of ``streamed`` (deleted ones too): those the stream had, and the others
    read by id."""
    ids_at = crm.contacts_by_email(streamed, include_deleted=True)
    by_id = {contact.id: contact for contacts in streamed.values() for contact in contacts}
    missing = {contact_id for ids in ids_at.values() for contact_id in ids} - by_id.keys()
    by_id.update((contact.id, contact) for contact in crm.contacts_by_ids(missing, chunk_size))
    return {address: [by_id[contact_id] for contact_id in ids_at[address] if contact_id in by_id]
            if address in ids_at else contacts for address, contacts in streamed.items()}


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
