"""The model test's own record of what happened, and what it implies: pure, no I/O.

The model keeps only what the invariants need: the CRM user's own edits, the provider-side acts with the step
(``seq``) they happened at, and the engagement events recorded. The checks compare it with what the CRM and
the provider hold; each returns violations as text, naming the invariant:

(a) nobody unsubscribed or cleaned at the provider is ever subscribed again;
(b) every CRM opt-out (household rule included) is unsubscribed at the provider after a completed push;
(c) every provider unsubscribe (by the person) is a CRM opt-out after the next completed pull;
(d) every engagement event is in the CRM history exactly once: never twice, and after a completed pull not lost;
(e) consent is never invented: a subscribed address was held by a contact with e-mail consent;
(f) no invented opt-outs or invalid flags: an opt-out crm-sync sets comes from the person's unsubscribe, an
    invalid flag from a hard bounce (or cleaning) of the address the contact has now;
(g) a push without --force never unsubscribes or archives more than ``safety_threshold`` of the audience,
    whatever the CRM does while it runs.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from tests.model.crm import HistoryRow, Row
from tests.model.provider import GONE, SUBSCRIBED


class Violation(AssertionError):
    """An invariant does not hold; each invariant has its own class, so hypothesis reports each separately."""


class Resubscribed(Violation):
    """(a)"""


class OptOutNotHonoured(Violation):
    """(b)"""


class UnsubscribeNotImported(Violation):
    """(c)"""


class EventNotExactlyOnce(Violation):
    """(d)"""


class ConsentInvented(Violation):
    """(e)"""


class FlagInvented(Violation):
    """(f)"""


class ThresholdPassed(Violation):
    """(g)"""


class RunFailed(Violation):
    """(L): a run with no injected crash or flood of faults failed."""


PLACED_ACTIONS = ("open", "click", "bounce")  # events checked for loss (sent, unsubscribe: see (c) and dups)


def norm(email: str | None) -> str:
    return (email or "").strip().lower()


@dataclass(frozen=True)
class EventKey:
    """An engagement event as the CRM history shows it (``history: event``)."""

    action: str
    campaign: str
    at: datetime  # naive UTC, whole seconds
    url: str
    kind: str


@dataclass
class Recorded:
    """An event the test caused at the provider; ``visible``: when the provider shows it (tests/model/clock.py)."""

    seq: int
    key: EventKey
    address: str
    spotler_id: str | None
    visible: datetime


@dataclass
class PersonUnsubscribe:
    seq: int
    address: str
    spotler_id: str | None
    holders: set[int]
    visible: datetime


@dataclass(frozen=True)
class Pulled:
    """A completed pull: the step it started at, and the latest provider moment it must have read."""

    seq: int
    horizon: datetime

    def owes(self, seq: int, visible: datetime) -> bool:
        return seq < self.seq and visible <= self.horizon


@dataclass
class Model:
    provider: str
    user_opt_out: dict[int, bool] = field(default_factory=dict)   # the CRM user's own opt-out edits
    opt_out_cleared: dict[int, int] = field(default_factory=dict)  # contact -> seq of the user's last clear
    held: dict[int, set[str]] = field(default_factory=dict)        # contact -> every address it ever had
    consented: set[str] = field(default_factory=set)               # addresses held by a contact with consent
    erased: set[int] = field(default_factory=set)
    bounced: set[str] = field(default_factory=set)                 # hard bounces, cleanings, channel closes
    unsubscribed_by_person: set[str] = field(default_factory=set)  # addresses and Spotler ids
    pending: list[PersonUnsubscribe] = field(default_factory=list)
    events: list[Recorded] = field(default_factory=list)
    gone: set[str] = field(default_factory=set)                    # member identities seen unsubscribed/cleaned

    def note_contact(self, contact_id: int, email: str | None, consent: bool | None) -> None:
        self.held.setdefault(contact_id, set()).add(norm(email))
        if consent is True:
            self.consented.add(norm(email))

    def holders(self, rows: dict[int, Row], address: str) -> set[int]:
        return {c for c, row in rows.items() if norm(row.email) == address and not row.deleted}

    def touched(self, address: str, visible: datetime) -> None:
        """The provider changed the member again: lists by change date show it at its latest change, so an
        earlier unsubscribe of it is owed only by a pull that sees that change."""
        for unsubscribe in self.pending:
            if unsubscribe.address == address:
                unsubscribe.visible = max(unsubscribe.visible, visible)

    def unimported(self, rows: dict[int, Row], address: str) -> bool:
        """Whether a person's unsubscribe of ``address`` is not in the CRM yet (archiving the member in Mailchimp
        would then hide it from every listing: the model does not ask the impossible)."""
        return any(not any(rows[c].opt_out for c in (u.holders | self.holders(rows, address)) if c in rows)
                   for u in self.pending if u.address == address)


# -- checks after every step -----------------------------------------------------------------------------------

def never_resubscribed(model: Model, members: dict[str, str]) -> list[str]:
    """(a) over member identities (Mailchimp: the address; Spotler: externalId). A member the provider no
    longer has at all (moved away, anonymised) is forgotten: a later one is a new member."""
    found = [f"(a) {who} was unsubscribed/cleaned at the provider and is subscribed again"
             for who, status in members.items() if who in model.gone and status == SUBSCRIBED]
    model.gone = {who for who in model.gone if who in members} | {w for w, s in members.items() if s in GONE}
    return found


def consent_never_invented(model: Model, statuses: dict[str, str]) -> list[str]:
    """(e)"""
    return [f"(e) {address} is subscribed but no CRM contact with it ever gave consent"
            for address, status in statuses.items() if status == SUBSCRIBED and address not in model.consented]


def flags_justified(model: Model, rows: dict[int, Row]) -> list[str]:
    """(f)"""
    found = []
    for contact_id, row in rows.items():
        if row.opt_out and not model.user_opt_out.get(contact_id):
            reasons = model.held.get(contact_id, set()) | {str(contact_id)}
            if not reasons & model.unsubscribed_by_person:
                found.append(f"(f) contact {contact_id} was opted out by crm-sync, but nobody with its "
                             f"address(es) {sorted(model.held.get(contact_id, ()))} unsubscribed at the provider")
        if row.invalid and norm(row.email) not in model.bounced:
            found.append(f"(f) contact {contact_id} is marked invalid, but its address {norm(row.email)} never "
                         "bounced or was cleaned")
    return found


def no_duplicate_events(model: Model, history: list[HistoryRow]) -> list[str]:
    """(d), the "never twice" half: no event is in the history more often than it happened."""
    expected = Counter(recorded.key for recorded in model.events)
    seen = Counter(event_key(row, model.provider) for row in history if row.details.get("action") in PLACED_ACTIONS)
    found = [f"(d) {key} is in the CRM history {count} times, happened {expected[key]} times"
             for key, count in seen.items() if count > expected[key]]
    sent = Counter((row.details.get("campaign_id"), row.contact_id) for row in history
                   if row.details.get("action") == "sent")
    found += [f"(d) 'sent' of campaign {c} is in contact {who}'s history {n} times" for (c, who), n in sent.items()
              if n > 1]
    return found


# -- checks after a completed run --------------------------------------------------------------------------------

def opt_outs_unsubscribed(rows: dict[int, Row], statuses: dict[str, str], by_id: dict[str, str]) -> list[str]:
    """(b), after a completed push: every live opted-out contact's address (and Spotler: its contact) is not
    subscribed; the household rule is the same check, as contacts sharing an address share the member."""
    found = []
    for contact_id, row in rows.items():
        if row.deleted or not row.opt_out or not norm(row.email):
            continue
        if statuses.get(norm(row.email)) == SUBSCRIBED:
            found.append(f"(b) contact {contact_id} opted out in the CRM, but {norm(row.email)} is still "
                         "subscribed after a completed push")
        elif by_id.get(str(contact_id)) == SUBSCRIBED:
            found.append(f"(b) contact {contact_id} opted out in the CRM, but its Spotler contact is still "
                         "subscribed after a completed push")
    return found


def threshold_kept(before: dict[str, str], after: dict[str, str], threshold: float, moves_vanish: bool) -> list[str]:
    """(g), for a completed push without --force, over member identities (Mailchimp: addresses, where an
    address that is gone was moved by an e-mail change; Spotler: externalIds, where gone means anonymised)."""
    subscribed = [who for who, status in before.items() if status == SUBSCRIBED]
    left = [who for who in subscribed if after.get(who) != SUBSCRIBED and (who in after or not moves_vanish)]
    if len(left) > threshold * max(len(subscribed), 1):
        return [f"(g) a push without --force took {len(left)} of {len(subscribed)} subscribed members out "
                f"({sorted(left)}), more than the safety threshold of {threshold:.0%}"]
    return []


def unsubscribes_imported(model: Model, rows: dict[int, Row], pulled: Pulled) -> list[str]:
    """(c), after a completed pull that owes the unsubscribe (started after it, and late enough to see it): a contact
    that held the address then or holds it now (or, Spotler, whose contact it was) has the CRM opt-out. Checked once
    per unsubscribe; skipped when the CRM user cleared one of those contacts' opt-out since (their later decision
    wins)."""
    found, later = [], []
    for unsubscribe in model.pending:
        if not pulled.owes(unsubscribe.seq, unsubscribe.visible):
            later.append(unsubscribe)
            continue
        candidates = unsubscribe.holders | model.holders(rows, unsubscribe.address)
        if unsubscribe.spotler_id:
            candidates.add(int(unsubscribe.spotler_id))
        candidates = {c for c in candidates if c in rows}
        if not candidates or any(model.opt_out_cleared.get(c, -1) > unsubscribe.seq for c in candidates):
            continue
        if not any(rows[c].opt_out for c in candidates):
            found.append(f"(c) {unsubscribe.address} unsubscribed at the provider (step {unsubscribe.seq}), but "
                         f"after a completed pull none of contacts {sorted(candidates)} is opted out")
    model.pending = later
    return found


def events_imported(model: Model, rows: dict[int, Row], history: list[HistoryRow], pulled: Pulled) -> list[str]:
    """(d), the "not lost" half, after a completed pull: every open, click and bounce it owes (recorded
    before it started, and old enough for its lag) is in the history, if its contact can be placed (the address is
    held by a live contact, and no contact that held it or owned the Spotler contact was erased)."""
    seen = Counter(event_key(row, model.provider) for row in history if row.details.get("action") in PLACED_ACTIONS)
    expected: Counter[EventKey] = Counter()
    for recorded in model.events:
        if pulled.owes(recorded.seq, recorded.visible) and placeable(model, rows, recorded):
            expected[recorded.key] += 1
    return [f"(d) {key} happened {count} time(s) before a completed pull, is in the CRM history {seen[key]} "
            "time(s)" for key, count in expected.items() if seen[key] < count]


def placeable(model: Model, rows: dict[int, Row], recorded: Recorded) -> bool:
    if not model.holders(rows, recorded.address):
        return False
    if recorded.spotler_id and int(recorded.spotler_id) in model.erased:
        return False
    return not any(recorded.address in model.held.get(c, ()) for c in model.erased)


def event_key(row: HistoryRow, provider: str) -> EventKey:
    d = row.details
    at = row.first_at.replace(tzinfo=None, microsecond=0) if isinstance(row.first_at, datetime) else row.first_at
    return EventKey(d.get("action", ""), d.get("campaign_id", ""), at,
                    "" if provider == "spotler" else d.get("url", "") or "", (d.get("bounce_type") or "").lower())
