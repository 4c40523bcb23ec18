"""Incremental pushes: which kind of push to run, and the plans of only the contacts that changed.

A push is *full* (every CRM contact read, planned and compared) when asked for (``--full``), when no full
push of the audience has completed yet, when the last one is ``full_every_days`` old, when the mapping, the
audience's settings or the CRM's schema description changed since it (their fingerprint differs), or when so
many contacts changed that reading them all is as cheap. Otherwise it is *incremental*: it reads the contacts
changed since the last completed push started (less an overlap for clocks and late commits; a contact read
twice plans as unchanged, its payload hash being the same), the contacts the state store says need another try,
and every contact the household rule ties to them: all contacts, deleted ones too, at the current and the
previous address of each. Those are planned exactly as a full push would plan them. Deletes and changes the
CRM cannot date (a row removed outright) are caught by the next full push.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from sync.addresses import normalise_email
from sync.connectors.crm import ContactReads
from sync.push.households import id_order, plan_household
from sync.push.rules import MemberPlan
from sync.push.stream import AudienceJob, MemberStates
from sync.records import CrmContact
from sync.state.members import MemberStateRow
from sync.state.runs import PushMode, RunRow


@dataclass(frozen=True)
class PushScope:
    """Which kind of push, why, and (incremental) since when contacts are read."""

    mode: PushMode
    reason: str
    since: datetime | None = None
    contact_ids: tuple[str, ...] = ()  # incremental: the changed contacts and those due another try

    def describe(self) -> str:
        return f"{self.mode.value} push: {self.reason}"


def fingerprint(*parts: object) -> str:
    """A stable hash of the configuration a push runs with (JSON-serialisable parts, in order)."""
    canonical = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def choose_mode(now: datetime, last_full: RunRow | None, last_completed: RunRow | None, config: str,
                full_every_days: int, overlap: timedelta, asked_full: bool) -> PushScope:
    """Full or incremental (see the module docstring); pure."""
    if asked_full:
        return PushScope(PushMode.FULL, "asked for with --full")
    if last_full is None or last_completed is None:
        return PushScope(PushMode.FULL, "no full push of this audience has completed yet")
    age = now - last_full.started_at
    if age >= timedelta(days=full_every_days):
        return PushScope(PushMode.FULL, f"the last full push ({last_full.started_at:%Y-%m-%d %H:%M} UTC) is "
                                        f"{age.days} days old (full_every_days: {full_every_days})")
    if last_full.fingerprint != config:
        return PushScope(PushMode.FULL, "the mapping, the audience's settings or the CRM schema description "
                                        "changed since the last full push")
    since = last_completed.started_at - overlap
    return PushScope(PushMode.INCREMENTAL, f"contacts changed since {since:%Y-%m-%d %H:%M:%S} UTC", since)


def stream_changed_plans(job: AudienceJob, crm: ContactReads, store: MemberStates, contact_ids: Iterable[str]
                         ) -> Iterator[tuple[MemberPlan, MemberStateRow | None]]:
    """The plans of ``contact_ids`` and of every contact sharing a current or previous address with one of
    them, each with its stored state; the same plans a full push makes for them."""
    contacts = {contact.id: contact for contact in crm.contacts_by_ids(contact_ids, job.chunk_size)}
    states = store.member_states(job.name, list(contacts))
    found = [normalise_email(contact.email) for contact in contacts.values()]
    found += [normalise_email(state.email) for state in states.values()]
    addresses = {address for address in found if address is not None}
    partners = crm.contacts_by_email(sorted(addresses), include_deleted=True)
    more = sorted({cid for ids in partners.values() for cid in ids} - set(contacts))
    contacts.update((contact.id, contact) for contact in crm.contacts_by_ids(more, job.chunk_size))
    states.update(store.member_states(job.name, more))
    by_address: dict[str | None, list[CrmContact]] = defaultdict(list)
    for contact in contacts.values():
        by_address[normalise_email(contact.email)].append(contact)
    for address, unordered in by_address.items():
        group = sorted(unordered, key=lambda contact: id_order(contact.id))  # as a full push reads them
        if address is None or len(group) == 1:
            for contact in group:
                yield job.plan(contact, states.get(contact.id)), states.get(contact.id)
        else:
            group_states = {contact.id: states[contact.id] for contact in group if contact.id in states}
            yield from plan_household(group, group_states, job.settings, job.plan, job.leave_reason)
