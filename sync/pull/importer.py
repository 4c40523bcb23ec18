"""The engagement pull: provider events into the CRM's history and flags, exactly once.

The write protocol, per page of events (docs/pull.md explains why a crash anywhere is safe):
1. drop the events whose key is already in the ledger;
2. place each event (sync/pull/placement.py); one that no live contact can take is recorded with the reason
   and never blocks the others;
3. write the CRM: history entries (idempotent: upserted by key, and campaign entries fold new events into the
   details kept for them, which remember the events they count) and flags (idempotent: they only ever set);
4. in one state-store transaction: the events into the ledger, the campaign entries' details, member statuses;
5. only when a whole stream is read: its cursor, never past the run's upper bound (run start - lag).
The provider-specific pulls are sync/connectors/mailchimp/streams.py and sync/connectors/spotler/streams.py.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sync.connectors.crm import HistoryWrites, KeptHistory
from sync.paging import ListKeptMoving
from sync.pull.history import (
    CampaignEntry,
    Event,
    campaign_entry_key,
    event_record,
    flags_for,
)
from sync.pull.placement import (
    UNMATCHED,
    Placement,
    needs_address_lookup,
    with_addresses,
)
from sync.records import ActivityRecord, ContactFlags
from sync.state.ledger import LedgerEvent
from sync.state.members import MemberOutcome
from sync.state.store import StateStore

log = logging.getLogger(__name__)

Checkpoint = Callable[[str], None]
# Told the report so far, the step being read (a campaign, a feed), how many steps are done and how many there are.
PullProgress = Callable[["PullReport", str, int, int], None]
OWN_ENTRY = frozenset({"bounce", "unsubscribe", "cleaned"})  # also get an entry of their own
FLAGGING = frozenset({"bounce", "unsubscribe", "cleaned"})  # may change the contact's flags
FOLDED_KIND = "email_campaign"  # entries that new events fold into: their details are kept in the state store


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
    unapplied: dict[str, int] = field(default_factory=dict)  # events recorded without effect, by reason

    def counts(self) -> dict[str, int]:
        counts = {name: value for name, value in vars(self).items() if isinstance(value, int)}
        return counts | {f"unapplied_{reason}": count for reason, count in sorted(self.unapplied.items())}

    def note_unapplied(self, reason: str) -> None:
        self.unapplied[reason] = self.unapplied.get(reason, 0) + 1
        self.unmatched += reason in UNMATCHED


@dataclass
class EventImporter:
    """Imports pages of events into the CRM and the ledger (steps 1 to 3 of the protocol)."""

    audience: str
    crm: HistoryWrites
    store: StateStore
    report: PullReport
    per_event: bool = False
    run_id: int | None = None
    checkpoint: Checkpoint = lambda name: None
    on_progress: PullProgress | None = None
    _step: tuple[str, int, int] = field(default=("", 0, 0), init=False, repr=False)

    def step(self, label: str, done: int, total: int) -> None:
        """Note that step ``done + 1`` of ``total`` (``label``: a campaign, a feed) is read next."""
        self._step = (label, done, total)
        self._tell()

    def _tell(self) -> None:
        if self.on_progress is not None:
            self.on_progress(self.report, *self._step)

    def import_page(self, events: list[Event]) -> None:
        self.report.events_read += len(events)
        unseen = self.store.unseen_event_keys(event.key for event in events)
        fresh = list({event.key: event for event in events if event.key in unseen}.values())
        if not fresh:
            self._tell()
            return
        member_contacts = self.store.contacts_by_provider_id(self.audience, {e.email_id for e in fresh})
        states = self.store.member_states(self.audience, set(member_contacts.values()))
        live = self.crm.existing_contacts(set(member_contacts.values()))
        fresh = with_addresses(fresh, member_contacts, states)
        crm_contacts = self.crm.contacts_by_email(needs_address_lookup(fresh, member_contacts, live, FLAGGING))
        records, flags, statuses, ledger = self._changes(fresh, Placement(member_contacts, states, live,
                                                                          crm_contacts))
        self.report.entries_written += self.crm.write_activities(records)
        self.checkpoint("activities_written")
        self.report.flags_changed += self.crm.set_flags(flags)
        self.checkpoint("crm_written")
        self._record(ledger, statuses, [record for record in records if record.kind == FOLDED_KIND])

    def import_stream(self, name: str, pages: Iterable[list[Event]]) -> bool:
        """Import every page of one stream; False (logged) when its list kept moving under the reads, so the
        caller leaves the stream's cursor where it was and the next run reads it again."""
        try:
            for events in pages:
                self.import_page(events)
        except ListKeptMoving as error:
            log.warning("%s: %s; it is read again next run", name, error)
            return False
        return True

    def set_aside(self, events: list[Event], reason: str, contacts: dict[str, str]) -> None:
        """Record events that must change nothing (crm-sync's own writes coming back) with the reason;
        ``contacts`` names the contact of each provider id where known."""
        self.report.events_read += len(events)
        unseen = self.store.unseen_event_keys(event.key for event in events)
        ledger = []
        for event in {event.key: event for event in events if event.key in unseen}.values():
            self.report.note_unapplied(reason)
            ledger.append(LedgerEvent(event.key, event.provider, self.audience, event.action, event.occurred_at,
                                      contacts.get(event.email_id), reason))
        self._record(ledger, [])

    def _record(self, ledger: list[LedgerEvent], statuses: list[MemberOutcome],
                entries: list[ActivityRecord] | None = None) -> None:
        if not ledger:
            return
        with self.store.transaction() as tx:
            tx.record_events(ledger, self.run_id)
            tx.save_member_outcomes(self.audience, statuses)
            tx.save_history_entries(entries or [])
        self.report.events_imported += len(ledger)
        self.checkpoint("ledger_written")
        self._tell()

    def _changes(self, events: list[Event], placed: Placement
                 ) -> tuple[list[ActivityRecord], list[ContactFlags], list[MemberOutcome], list[LedgerEvent]]:
        by_entry: dict[str, list[Event]] = defaultdict(list)
        records: list[ActivityRecord] = []
        flags: list[ContactFlags] = []
        statuses: dict[str, MemberOutcome] = {}
        ledger = []
        for event in events:
            contact_id, reason = placed.contact(event)
            ledger.append(LedgerEvent(event.key, event.provider, self.audience, event.action, event.occurred_at,
                                      contact_id, reason))
            if reason is not None:
                self.report.note_unapplied(reason)
            if contact_id is None or reason in UNMATCHED:
                continue
            if reason is None:  # history only for a bounce on a previous address
                flags += flags_for(event, placed.flagged(event, contact_id))
                if event.action in ("unsubscribe", "cleaned") or (event.action == "bounce"
                                                                  and event.bounce_type != "soft"):
                    status = "unsubscribed" if event.action == "unsubscribe" else "cleaned"
                    statuses[contact_id] = MemberOutcome(contact_id, provider_status=status,
                                                         reason_code=f"{status}_in_provider")
            if self.per_event or event.action in OWN_ENTRY:
                records.append(event_record(event, contact_id))
            if not self.per_event and event.action in ("sent", "open", "click", "bounce"):
                by_entry[campaign_entry_key(self.audience, event.campaign_id, contact_id, event.provider)].append(event)
        records += self._campaign_entries(by_entry)
        records += self._organisation_entries(events, placed)
        return records, flags, list(statuses.values()), ledger

    def _campaign_entries(self, by_entry: dict[str, list[Event]]) -> list[ActivityRecord]:
        existing = self._kept(by_entry)
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

    def _organisation_entries(self, events: list[Event], placed: Placement) -> list[ActivityRecord]:
        sent = defaultdict(set)
        for event in events:
            if event.action == "sent":
                contact_id, reason = placed.contact(event)
                if contact_id and reason not in UNMATCHED:
                    sent[(event.campaign_id, event.campaign_title, event.occurred_at)].add(contact_id)
        if not sent:
            return []
        provider = events[0].provider
        owners = self.crm.contact_owners({c for contacts in sent.values() for c in contacts})
        by_org: dict[tuple, dict[str, str]] = defaultdict(dict)
        for (campaign_id, title, when), contacts in sent.items():
            for contact_id in contacts:
                organisation_id, name = owners.get(contact_id, (None, ""))
                if organisation_id:
                    by_org[(campaign_id, title, when, organisation_id)][contact_id] = name or contact_id
        keys = {(f"{provider}:{self.audience}:{c}:organisation:{o}"): (c, t, w, o) for c, t, w, o in by_org}
        existing = self._kept(keys)
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


    def _kept(self, keys: Iterable[str]) -> dict[str, tuple[dict, datetime, datetime]]:
        """What the entries with these keys already count: from the state store, or for entries written before
        it kept them, from a CRM that keeps them itself."""
        wanted = set(keys)
        kept = self.store.history_entries(wanted)
        missing = wanted - set(kept)
        if missing and isinstance(self.crm, KeptHistory):
            kept |= self.crm.activities_by_key(missing)
        return kept


def pull_window_start(run_start: datetime, days: int, since: datetime | None) -> datetime:
    """Campaigns sent after this are pulled: the backfill date when given, else ``days`` before the run."""
    return since if since is not None else run_start - timedelta(days=days)

