"""What crm-sync knows about one address (for `crm-sync why`): its CRM contacts and, per audience, their stored
state, a verdict in words and their imported events. Reads the CRM and the state store; writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sync.addresses import normalise_email
from sync.connectors.crm_registry import open_crm
from sync.push.rules import PAYLOAD_REASONS, REJECTION_REASONS, TERMINAL_REASONS
from sync.runner import audience_names
from sync.settings import Settings
from sync.state.ledger import LedgerRow
from sync.state.members import MemberStateRow
from sync.state.store import open_state


@dataclass
class ContactState:
    """One contact in one audience: its stored state (None if no push has seen it) and its events."""

    audience: str
    contact_id: str
    in_crm: bool  # a live CRM contact has the address now (else only the state store remembers it)
    state: MemberStateRow | None
    events: list[LedgerRow] = field(default_factory=list)
    event_counts: dict[str, int] = field(default_factory=dict)

    @property
    def verdict(self) -> str:
        """One sentence saying where this contact stands and why."""
        state = self.state
        if state is None:
            return (f"not in the state store: no push of {self.audience} has seen this contact yet (added after "
                    f"the last push, or the audience was never pushed); `crm-sync plan --audience {self.audience}` "
                    "shows what the next push would do")
        reason = f"{state.reason_code}: {state.last_error}" if state.last_error else state.reason_code
        if state.merged_into:
            return (f"not a member of its own: shares its address with contact {state.merged_into}, which stands "
                    f"for it in the audience ({state.reason_code})")
        if state.reason_code in REJECTION_REASONS:
            again = ("tried again once the CRM address changes" if state.reason_code in TERMINAL_REASONS else
                     "tried again once a CRM value it was about changes" if state.reason_code in PAYLOAD_REASONS
                     else "tried again by the next push")
            kept = f"; the provider keeps what was pushed on {state.pushed_at:%Y-%m-%d}" if state.pushed_at else ""
            return f"failed: {reason} ({again}){kept}"
        if state.provider_id is None:
            return f"not pushed: {reason}" if reason else "not pushed"
        status = f"member, {state.provider_status or 'status unknown'}"
        return f"{status} ({reason})" if reason else status

    def as_dict(self) -> dict[str, object]:
        """JSON-ready: the verdict, the stored state (or None), event counts and the latest events."""
        return {
            "contact_id": self.contact_id,
            "in_crm": self.in_crm,
            "verdict": self.verdict,
            "state": None if self.state is None else self.state.as_dict(),
            "events": {"total": sum(self.event_counts.values()), "by_kind": self.event_counts,
                       "latest": [_event_dict(event) for event in self.events]},
        }


@dataclass
class AddressView:
    """Everything crm-sync knows about one address, per configured audience."""

    email: str
    crm_contact_ids: list[str]
    audiences: dict[str, list[ContactState]]

    @property
    def known(self) -> bool:
        """Whether the CRM or the state store knows the address at all."""
        return bool(self.crm_contact_ids) or any(self.audiences.values())

    def as_dict(self) -> dict[str, object]:
        """JSON-ready, for `crm-sync why --json`."""
        return {"email": self.email, "known": self.known, "crm_contact_ids": self.crm_contact_ids,
                "audiences": {name: [contact.as_dict() for contact in contacts]
                              for name, contacts in self.audiences.items()}}


def explain_email(settings: Settings, email: str, audience: str | None = None, event_limit: int = 20
                  ) -> AddressView:
    """The CRM contacts with ``email`` and, per configured audience, their stored state and latest events.

    Contacts are those the CRM has with the address now, then any the state store last pushed with it
    (deleted in the CRM since, or whose address changed).
    """
    address = normalise_email(email)
    if address is None:
        raise ValueError("explain_email needs an e-mail address")
    names = audience_names(settings, audience)
    with open_crm(settings.crm) as crm:
        crm_ids = crm.contacts_by_email([address]).get(address, [])
    audiences: dict[str, list[ContactState]] = {}
    with open_state(settings.state.url.get_secret_value(), upgrade=False) as store:
        by_address = store.member_states_by_email(address)
        for name in names:
            stored = {row.contact_id: row for row in by_address if row.audience == name}
            stored.update(store.member_states(name, crm_ids))
            contact_ids = crm_ids + [contact_id for contact_id in stored if contact_id not in crm_ids]
            audiences[name] = [
                ContactState(name, contact_id, contact_id in crm_ids, stored.get(contact_id),
                             store.events_for_contact(name, contact_id, event_limit) if event_limit else [],
                             store.event_counts_for_contact(name, contact_id))
                for contact_id in contact_ids
            ]
    return AddressView(address, crm_ids, audiences)


def _event_dict(event: LedgerRow) -> dict[str, object]:
    return {"kind": event.kind, "occurred_at": event.occurred_at.isoformat(),
            "imported_at": event.imported_at.isoformat(), "run_id": event.run_id,
            "unapplied_reason": event.unapplied_reason}
