"""Pure: one provider member for several CRM contacts that share an e-mail address.

The rule, in order:
1. If any live contact with the address opted out, that contact represents the address: one person
   asking to stop is enough for the whole mailbox.
2. Otherwise a live contact with e-mail consent; among several, the one already pushed to this audience
   (so the member does not flip between contacts), then the most recently modified, then the lowest id.
3. If none has consent, the same tie-breaks among the live contacts (the plan then skips or leaves).
Deleted contacts represent the address only when every contact with it is deleted.
The others are recorded as merged into the chosen one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sync.plan import consent_given
from sync.records import CrmContact
from sync.state.members import MemberStateRow


def choose_member(
    contacts: Sequence[CrmContact], states: Mapping[str, MemberStateRow], consent_field: str
) -> tuple[CrmContact, list[CrmContact]]:
    """Split contacts sharing one address into the one that becomes the member and the merged rest."""
    live = [contact for contact in contacts if not contact.deleted] or list(contacts)
    opted_out = [contact for contact in live if contact.consent.email_opt_out]
    consenting = [contact for contact in live if consent_given(contact, consent_field) is True]
    pool = opted_out or consenting or live

    def preference(contact: CrmContact) -> tuple:
        state = states.get(contact.id)
        already_pushed = state is not None and state.provider_id is not None
        return (not already_pushed, -contact.modified_at.timestamp(), _id_order(contact.id))

    winner = min(pool, key=preference)
    return winner, [contact for contact in contacts if contact is not winner]


def _id_order(contact_id: str) -> tuple[int, str]:
    return (int(contact_id), "") if contact_id.isdigit() else (0, contact_id)
