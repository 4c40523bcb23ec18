"""The engagement pull: provider events into the CRM's history and flags, exactly once.

The write protocol, per page of events (docs/pull.md explains why a crash anywhere is safe):
1. drop the events whose key is already in the ledger;
2. write the CRM: history entries (idempotent: keyed, and campaign entries remember the events they
   count) and flags (idempotent: they only ever set);
3. in one state-store transaction: the events into the ledger, member statuses;
4. only when a whole stream is read: its cursor, never past the run's start time.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sync.addresses import normalise_email
from sync.connectors.crm_sql import SqlCrm
from sync.connectors.mailchimp_reports import MailchimpReports, iso, parse_time
from sync.engagement import (
    CampaignEntry,
    Event,
    campaign_entry_key,
    event_record,
    flags_for,
)
from sync.records import ActivityRecord, ContactFlags
from sync.state.ledger import LedgerEvent
from sync.state.members import MemberOutcome
from sync.state.store import StateStore

Checkpoint = Callable[[str], None]
OWN_ENTRY = frozenset({"bounce", "unsubscribe", "cleaned"})  # also get an entry of their own
FLAGGING = frozenset({"bounce", "unsubscribe", "cleaned"})  # may change the contact's flags
BOUNDARY_OVERLAP = timedelta(seconds=1)  # re-read the boundary second; the ledger drops what was seen


@dataclass
class PullReport:
    """What one audience's pull did."""

    audience: str
    campaigns: int = 0
    events_read: int = 0
    events_imported: int = 0
    entries_written: int = 0
    flags_changed: int = 0
    unmatched: int = 0
    requests: int = 0

    def counts(self) -> dict[str, int]:
        return {name: value for name, value in vars(self).items() if isinstance(value, int)}


@dataclass
class EventImporter:
    """Imports pages of events into the CRM and the ledger (steps 1 to 3 of the protocol)."""

    audience: str
    crm: SqlCrm
    store: StateStore
    report: PullReport
    per_event: bool = False
    run_id: int | None = None
    checkpoint: Checkpoint = lambda name: None

    def import_page(self, events: list[Event]) -> None:
        self.report.events_read += len(events)
        unseen = self.store.unseen_event_keys(event.key for event in events)
        fresh = list({event.key: event for event in events if event.key in unseen}.values())
        if not fresh:
            return
        member_contacts = self.store.contacts_by_provider_id(self.audience, {e.email_id for e in fresh})
        fresh = self._with_addresses(fresh, member_contacts)
        # The CRM is asked by address only where needed: members crm-sync did not push, and events that set
        # flags (every contact with the address gets them). Most events resolve through the state store.
        crm_contacts = self.crm.contacts_by_email(
            {e.email for e in fresh if e.email and (e.email_id not in member_contacts or e.action in FLAGGING)})
        records, flags, statuses, ledger = self._changes(fresh, member_contacts, crm_contacts)
        self.report.entries_written += self.crm.write_activities(records)
        self.checkpoint("activities_written")
        self.report.flags_changed += self.crm.set_flags(flags)
        self.checkpoint("crm_written")
        with self.store.transaction() as tx:
            tx.record_events(ledger, self.run_id)
            tx.save_member_outcomes(self.audience, statuses)
        self.report.events_imported += len(ledger)
        self.checkpoint("ledger_written")

    def _with_addresses(self, events: list[Event], member_contacts: dict[str, str]) -> list[Event]:
        """Events that name no address (Spotler's feeds name only the contact) get the one last pushed."""
        nameless = {member_contacts[e.email_id] for e in events if not e.email and e.email_id in member_contacts}
        if not nameless:
            return events
        states = self.store.member_states(self.audience, nameless)
        emails = {provider_id: states[contact].email for provider_id, contact in member_contacts.items()
                  if contact in states and states[contact].email}
        return [event if event.email else replace(event, email=emails.get(event.email_id, "")) for event in events]

    def _changes(self, events: list[Event], member_contacts: dict[str, str], crm_contacts: dict[str, list[str]]
                 ) -> tuple[list[ActivityRecord], list[ContactFlags], list[MemberOutcome], list[LedgerEvent]]:
        by_entry: dict[str, list[Event]] = defaultdict(list)
        records: list[ActivityRecord] = []
        flags: list[ContactFlags] = []
        statuses: dict[str, MemberOutcome] = {}
        ledger = []
        for event in events:
            address_contacts = crm_contacts.get(normalise_email(event.email) or "", [])
            contact_id = member_contacts.get(event.email_id) or next(iter(address_contacts), None)
            ledger.append(LedgerEvent(event.key, event.provider, self.audience, event.action, event.occurred_at,
                                      contact_id))
            if contact_id is None:
                self.report.unmatched += 1
                continue
            flags += flags_for(event, address_contacts or [contact_id])
            if event.action in ("unsubscribe", "cleaned") or (event.action == "bounce" and event.bounce_type != "soft"):
                status = "unsubscribed" if event.action == "unsubscribe" else "cleaned"
                statuses[contact_id] = MemberOutcome(contact_id, provider_status=status,
                                                     reason_code=f"{status}_in_provider")
            if self.per_event or event.action in OWN_ENTRY:
                records.append(event_record(event, contact_id))
            if not self.per_event and event.action in ("sent", "open", "click", "bounce"):
                by_entry[campaign_entry_key(self.audience, event.campaign_id, contact_id, event.provider)].append(event)
        records += self._campaign_entries(by_entry)
        records += self._organisation_entries(events, member_contacts, crm_contacts)
        return records, flags, list(statuses.values()), ledger

    def _campaign_entries(self, by_entry: dict[str, list[Event]]) -> list[ActivityRecord]:
        existing = self.crm.activities_by_key(by_entry)
        records = []
        for key, events in by_entry.items():
            first = events[0]
            if key in existing:
                details, first_at, last_at = existing[key]
                entry = CampaignEntry.from_details(details, first_at, last_at)
            else:
                entry = CampaignEntry(first.campaign_id, first.campaign_title)
            for event in events:
                entry.fold(event)
            records.append(entry.record(key, key.rsplit(":", 1)[1]))
        return records

    def _organisation_entries(self, events: list[Event], member_contacts: dict[str, str],
                              crm_contacts: dict[str, list[str]]) -> list[ActivityRecord]:
        sent = defaultdict(set)
        provider = events[0].provider if events else "mailchimp"
        for event in events:
            if event.action == "sent":
                contact_id = member_contacts.get(event.email_id) or next(
                    iter(crm_contacts.get(normalise_email(event.email) or "", [])), None)
                if contact_id:
                    sent[(event.campaign_id, event.campaign_title, event.occurred_at)].add(contact_id)
        if not sent:
            return []
        owners = self.crm.contact_owners({c for contacts in sent.values() for c in contacts})
        by_org: dict[tuple, dict[str, str]] = defaultdict(dict)
        for (campaign_id, title, when), contacts in sent.items():
            for contact_id in contacts:
                organisation_id, name = owners.get(contact_id, (None, ""))
                if organisation_id:
                    by_org[(campaign_id, title, when, organisation_id)][contact_id] = name or contact_id
        keys = {(f"{provider}:{self.audience}:{c}:organisation:{o}"): (c, t, w, o) for c, t, w, o in by_org}
        existing = self.crm.activities_by_key(keys)
        records = []
        for key, (campaign_id, title, when, organisation_id) in keys.items():
            names = dict(existing.get(key, ({},))[0].get("contacts", {}))
            names.update(by_org[(campaign_id, title, when, organisation_id)])
            listing = ", ".join(sorted(names.values()))
            records.append(ActivityRecord(
                key, "email_campaign", f"{title}: sent to {len(names)} contact(s)"[:200],
                f"{title} was sent to: {listing}", when, when, organisation_id=organisation_id,
                details={"campaign_id": campaign_id, "title": title, "contacts": names}))
        return records


class Puller:
    """Runs the streams of one audience in order, moving each cursor only when its stream is done."""

    def __init__(self, importer: EventImporter, reports: MailchimpReports, run_start: datetime,
                 window_start: datetime):
        self.importer = importer
        self.reports = reports
        self.run_start = run_start
        self.window_start = window_start
        self.store = importer.store
        self.prefix = f"mailchimp:{importer.audience}"

    def run(self) -> PullReport:
        campaigns = self.reports.campaigns(self.window_start)
        self.importer.report.campaigns = len(campaigns)
        for campaign in campaigns:
            self._by_offset(f"{self.prefix}:sent-to:{campaign.id}", lambda o, c=campaign: self.reports.sent_to(c, o))
            self._by_time(f"{self.prefix}:activity:{campaign.id}",
                          lambda since, c=campaign: self.reports.email_activity(c, since))
            self._by_offset(f"{self.prefix}:unsubscribed:{campaign.id}",
                            lambda o, c=campaign: self.reports.unsubscribes(c, o))
        for status in ("unsubscribed", "cleaned"):
            self._by_time(f"{self.prefix}:members:{status}", lambda since, s=status: self.reports.status_changes(s, since))
        return self.importer.report

    def _by_offset(self, name: str, pages: Callable[[int], Iterator[tuple[int, list[Event]]]]) -> None:
        """Append-only lists: the cursor is the offset reached, saved after every page."""
        cursor = self.store.get_cursor(name)
        for offset, events in pages(int(cursor.value) if cursor else 0):
            self.importer.import_page(events)
            self.store.set_cursor(name, str(offset))
            self.importer.checkpoint("cursor_written")

    def _by_time(self, name: str, pages: Callable[[datetime | None], Iterable[tuple[int, list[Event]]]]) -> None:
        """Streams not ordered by time: the cursor moves to the newest event only after the whole stream."""
        cursor = self.store.get_cursor(name)
        since = parse_time(cursor.value) - BOUNDARY_OVERLAP if cursor else None
        newest = None
        for _, events in pages(since):
            self.importer.import_page(events)
            for event in events:
                if newest is None or event.occurred_at > newest:
                    newest = event.occurred_at
        if newest is not None:
            value = min(newest, self.run_start)
            if cursor is None or value > parse_time(cursor.value):
                self.store.set_cursor(name, iso(value))
        self.importer.checkpoint("cursor_written")


def pull_window_start(run_start: datetime, days: int, since: datetime | None) -> datetime:
    """Campaigns sent after this are pulled: the backfill date when given, else ``days`` before the run."""
    return since if since is not None else run_start - timedelta(days=days)

