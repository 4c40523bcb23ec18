"""Writes an earlier push sent but never recorded: look each member up, record what the provider holds.

Every write is announced in the state store (a push intent) before its request goes out, and the intent
is settled in the transaction that records the answer. An intent still there at the start of a push
means the answer was lost (the process was killed, or the request failed after the provider may have
applied it). Before anything is planned, each such member is looked up at the provider (both addresses
of an e-mail change) and its live state recorded, so the planner decides on what the provider holds:
a member the provider accepted is no longer "never pushed", and its opt-out unsubscribes it.

Only what the lookup proves is recorded: the member's id, address and status. The payload hash is left
unknown (the next push sends the fields again, which never changes a subscription), and ownership is
never claimed from a lookup (a create may have landed on a member the provider already had).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime

from sync.connectors.provider import MemberRef, MemberResult, ProviderAudience
from sync.push.rules import LEAVES, REOPTIN_ASKED, Action, MemberPlan, normalise_email
from sync.state.intents import IntentRow
from sync.state.members import MemberOutcome, MemberStateRow
from sync.state.sql import chunked
from sync.state.store import StateStore

log = logging.getLogger(__name__)

LOOKUP_CHUNK = 100
LEAVE_ACTIONS = frozenset(action.value for action in LEAVES)
GONE = "not found at the provider when a write whose answer was lost was looked up"


def intent_for(plan: MemberPlan) -> IntentRow:
    """The intent announcing the write ``plan`` is about to make."""
    return IntentRow(plan.contact_id, plan.action.value, plan.email, plan.previous_email, plan.reason,
                     plan.payload_hash)


def resolve_unsettled(audience: str, provider: ProviderAudience, store: StateStore) -> set[str]:
    """Look up every member with an unsettled intent and record what the provider holds.

    Returns the contacts that could not be looked up (the provider refused the read): the push must not
    write to them this time. A lookup that fails outright (unreachable, retries given up) ends the run
    before anything is planned.
    """
    pending = store.unsettled_intents(audience)
    if not pending:
        return set()
    unresolved: set[str] = set()
    states = store.member_states(audience, [intent.contact_id for intent in pending])
    for chunk in chunked(pending, LOOKUP_CHUNK):
        refs = {intent.contact_id: lookup_refs(intent, states.get(intent.contact_id)) for intent in chunk}
        answers: dict[str, list[MemberResult]] = defaultdict(list)
        for result in provider.lookup([ref for group in refs.values() for ref in group]):
            answers[result.contact_id or ""].append(result)
        outcomes, settled = [], []
        now = datetime.now(UTC)
        for intent in chunk:
            found = answers[intent.contact_id]
            if any(not result.ok and result.reason_code != "not_found" for result in found):
                unresolved.add(intent.contact_id)
                log.warning("audience %s: contact %s: an unanswered %s could not be looked up; no write for it "
                            "this run", audience, intent.contact_id, intent.action)
                continue
            outcome = provider_truth(intent, states.get(intent.contact_id), found, now)
            if outcome is not None:
                outcomes.append(outcome)
            settled.append(intent.contact_id)
        store.record_answers(audience, outcomes, settled)
    log.info("audience %s: %d unanswered writes looked up at the provider, %d could not be",
             audience, len(pending) - len(unresolved), len(unresolved))
    return unresolved


def lookup_refs(intent: IntentRow, state: MemberStateRow | None) -> list[MemberRef]:
    """The addresses to look the contact up at: the one written to, the one left and the one last recorded."""
    refs: list[MemberRef] = []
    for email in (intent.email, intent.previous_email, state.email if state else None):
        if email and normalise_email(email) not in {normalise_email(ref.email) for ref in refs}:
            refs.append(MemberRef(intent.contact_id, email))
    return refs


def provider_truth(intent: IntentRow, state: MemberStateRow | None, found: Sequence[MemberResult],
                   now: datetime) -> MemberOutcome | None:
    """What to record for a contact whose write went unanswered, given the lookups of its addresses.

    None when there is nothing to record (the provider has no member and the state store no row).
    """
    live = _member_held(intent, [result for result in found if result.ok])
    if live is None:
        return _gone(intent, state)
    if intent.action in LEAVE_ACTIONS:
        return MemberOutcome(intent.contact_id, provider_status=live.status, reason_code=intent.reason_code)
    return MemberOutcome(intent.contact_id, email=normalise_email(live.email), provider_id=live.provider_id,
                         payload_hash=None, payload=dict(state.payload or {}) if state else None,
                         provider_status=live.status, owned=bool(state and state.owned), pushed_at=now,
                         reason_code=REOPTIN_ASKED if intent.action == Action.REOPTIN.value else None)


def _member_held(intent: IntentRow, live: list[MemberResult]) -> MemberResult | None:
    """The member that stands for the contact. Two members (both addresses of an e-mail change taken)
    mean the move did not happen: the member at the address it left is still the contact's."""
    distinct = {result.provider_id: result for result in live}
    if len(distinct) <= 1:
        return next(iter(distinct.values()), None)
    keep = intent.previous_email if intent.action == Action.CHANGE_EMAIL.value else intent.email
    return next((r for r in live if normalise_email(r.email) == normalise_email(keep)), live[0])


def _gone(intent: IntentRow, state: MemberStateRow | None) -> MemberOutcome | None:
    if state is None:
        return None  # never a member, and the write did not make one
    if state.provider_id is None:
        return MemberOutcome(intent.contact_id)  # clears the "unconfirmed" mark; nothing was created
    return MemberOutcome(intent.contact_id, provider_status="archived", last_error=GONE)
