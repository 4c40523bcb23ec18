"""Pure: one decision per e-mail address, for several CRM contacts that share it.

Who represents the address, in order:
1. If any live contact with the address opted out, that contact represents the address: one person
   asking to stop is enough for the whole mailbox.
2. Otherwise a live contact with e-mail consent; among several, the one whose member already has this
   address, then one already pushed to this audience (so the member does not flip between contacts),
   then the most recently modified, then the lowest id.
3. If none has consent, the same tie-breaks among the live contacts (the plan then skips or leaves).
Deleted contacts represent the address only when every contact with it is deleted.

The representative's plan is the address's decision, and it is carried out on every member the address
has, whoever holds it (``plan_household``):
* leaving (opted out, no consent, deleted, ...): every other contact whose active member is at this
  address gets the same leave, on its own member (Mailchimp: the one member of the address, addressed
  again, which is harmless; Spotler keys members by contact, so two contacts may each hold one with this
  address, and each is unsubscribed). A contact's member at another address (it moved here) is its own.
* staying: a representative with no member of its own is planned against the member the address
  already has when that one no longer receives mail (unsubscribed, cleaned, archived), so adding it can
  never bring that member back. One whose member is at another address (it moved here) takes over the
  address's active member instead of moving its own onto a taken address (the provider refuses that); its
  member at the old address is left as it is. The others are recorded as merged into the representative.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace

from sync.addresses import normalise_email
from sync.push.rules import (
    INACTIVE_STATUSES,
    MemberPlan,
    consent_given,
    is_active,
    leave_member,
    merged,
)
from sync.records import CrmContact
from sync.settings import AudienceSettings
from sync.state.members import MemberStateRow

PlanOne = Callable[[CrmContact, MemberStateRow | None], MemberPlan]
LeaveReason = Callable[[CrmContact], str | None]


def choose_member(
    contacts: Sequence[CrmContact], states: Mapping[str, MemberStateRow], consent_field: str,
    address: str | None = None,
) -> tuple[CrmContact, list[CrmContact]]:
    """Split contacts sharing one address into the one that becomes the member and the merged rest."""
    live = [contact for contact in contacts if not contact.deleted] or list(contacts)
    opted_out = [contact for contact in live if contact.consent.email_opt_out]
    consenting = [contact for contact in live if consent_given(contact, consent_field) is True]
    pool = opted_out or consenting or live

    def preference(contact: CrmContact) -> tuple:
        state = states.get(contact.id)
        already_pushed = state is not None and state.provider_id is not None
        holds_address = (state is not None and state.provider_id is not None and address is not None
                         and normalise_email(state.email) == address)
        return (not holds_address, not already_pushed, -contact.modified_at.timestamp(), id_order(contact.id))

    winner = min(pool, key=preference)
    return winner, [contact for contact in contacts if contact is not winner]


def plan_household(contacts: Sequence[CrmContact], states: Mapping[str, MemberStateRow], audience: AudienceSettings,
                   plan_one: PlanOne, leave_reason: LeaveReason) -> Iterator[tuple[MemberPlan, MemberStateRow | None]]:
    """The plans of every contact of one address, each with its stored state (see the module docstring)."""
    address = normalise_email(contacts[0].email)
    winner, others = choose_member(contacts, states, audience.consent_field, address)
    own = states.get(winner.id)
    reason = leave_reason(winner)
    at_address = [(other, states[other.id]) for other in others
                  if other.id in states and states[other.id].provider_id is not None
                  and normalise_email(states[other.id].email) == address]
    planned_against = own
    if reason is None and (own is None or own.provider_id is None):
        inactive = [state for _, state in at_address if (state.provider_status or "") in INACTIVE_STATUSES]
        if inactive:  # the address's member no longer receives mail: the winner inherits that
            planned_against = replace(inactive[0], contact_id=winner.id, owned=False)
    elif reason is None and own is not None and normalise_email(own.email) != address:
        active = [state for _, state in at_address if is_active(state)]
        if active:  # it moved to an address another contact's member has: it takes that member over (the
            planned_against = replace(active[0], contact_id=winner.id)  # provider refuses a taken address)
    yield plan_one(winner, planned_against), own
    for other in others:
        state = states.get(other.id)
        if reason is not None and is_active(state) and normalise_email(state.email) == address:
            yield leave_member(other.id, state, audience, reason, merged_into=winner.id), state
        else:
            yield merged(other, winner.id, state), state


def id_order(contact_id: str) -> tuple[int, str]:
    """Contact ids in the order a CRM with numeric ids reads them (numbers as numbers)."""
    return (int(contact_id), "") if contact_id.isdigit() else (0, contact_id)
