"""Pure: which contact an engagement event belongs to, whose flags it may set, and why it goes nowhere.

An event goes to the contact crm-sync pushed as that member, while the CRM still has it; else to the
first live contact with the event's address; else nowhere, with the reason. A bounce or a cleaning is a
fact about the address it happened on: it flags only the contacts that have that address now, and none
when crm-sync moved the member to another address at or after it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from sync.addresses import normalise_email
from sync.pull.history import Event
from sync.state.members import MemberStateRow

ADDRESS_FACTS = frozenset({"bounce", "cleaned"})  # facts about one address, not about the person
# Why an event was recorded without changing a contact (the ledger's ``unapplied_reason``).
UNKNOWN_ADDRESS = "unknown_address"        # no contact crm-sync pushed, and no live contact with the address
CONTACT_NOT_IN_CRM = "contact_not_in_crm"  # the contact crm-sync pushed as this member was erased from the CRM
OWN_WRITE = "own_write"                    # crm-sync's own write coming back, not the person's act
PREVIOUS_ADDRESS = "previous_address"      # a bounce on the address the member had before crm-sync moved it
UNMATCHED = frozenset({UNKNOWN_ADDRESS, CONTACT_NOT_IN_CRM})


@dataclass(frozen=True)
class Placement:
    """The contacts of one page of events: the ones crm-sync pushed as these members (by provider id, with
    their stored ``states``; ``live`` the ones the CRM still has) and the live contacts by address."""

    member_contacts: dict[str, str]
    states: dict[str, MemberStateRow]
    live: set[str]
    crm_contacts: dict[str, list[str]]

    def contact(self, event: Event) -> tuple[str | None, str | None]:
        """The contact the event goes to, and the reason it changes nothing (None: it applies). An event of a
        contact erased from the CRM names that contact's id, to explain it later, with CONTACT_NOT_IN_CRM."""
        address_contacts = self.crm_contacts.get(normalise_email(event.email) or "", [])
        pushed = self.member_contacts.get(event.email_id)
        if pushed is not None and pushed in self.live:
            contact_id = pushed
        elif address_contacts:
            contact_id = address_contacts[0]
        else:
            return pushed, CONTACT_NOT_IN_CRM if pushed is not None else UNKNOWN_ADDRESS
        if event.action in ADDRESS_FACTS and self._moved_since(event, contact_id):
            return contact_id, PREVIOUS_ADDRESS
        return contact_id, None

    def flagged(self, event: Event, contact_id: str) -> list[str]:
        """The contacts whose flags the event sets: for a bounce or cleaning only those with the address it
        happened on; for an unsubscribe (the person's act) those, or at least the member's own contact."""
        address_contacts = self.crm_contacts.get(normalise_email(event.email) or "", [])
        if event.action in ADDRESS_FACTS:
            return address_contacts
        return address_contacts or [contact_id]

    def _moved_since(self, event: Event, contact_id: str) -> bool:
        state = self.states.get(contact_id)
        moved = state.email_changed_at if state is not None else None
        return moved is not None and self.member_contacts.get(event.email_id) == contact_id \
            and event.occurred_at <= moved


def needs_address_lookup(events: Iterable[Event], member_contacts: dict[str, str], live: set[str],
                         flagging: frozenset[str]) -> set[str]:
    """Addresses to look up in the CRM: of members crm-sync did not push (or whose contact is gone), and of
    events that set flags (every contact with the address gets them)."""
    return {e.email for e in events
            if e.email and (member_contacts.get(e.email_id) not in live or e.action in flagging)}


def with_addresses(events: list[Event], member_contacts: dict[str, str], states: dict[str, MemberStateRow]
                   ) -> list[Event]:
    """Events that name no address (Spotler's feeds name only the contact) get the one last pushed."""
    if all(event.email for event in events):
        return events
    emails = {provider_id: states[contact].email for provider_id, contact in member_contacts.items()
              if contact in states and states[contact].email}
    return [event if event.email else replace(event, email=emails.get(event.email_id) or "") for event in events]
