"""Contact changes made "from Mail+'s side" by control methods: sign-ups, unsubscribes and global opt-outs.

They apply the API's property rules (raising ``ValueError``) but not its write codes; each moves ``lastChanged``
when it changes something.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sync.sandbox.spotler.state import Contact, SpotlerState
from sync.sandbox.spotler.values import parse_properties


def add_contact(state: SpotlerState, email: str, external_id: str | None, properties: Mapping[str, Any] | None,
                permissions: Mapping[int, bool] | None) -> Contact:
    """A contact that existed before crm-sync (a sign-up form, an import in the UI)."""
    if external_id is not None and external_id in state.by_external:
        raise ValueError(f"a contact with externalId {external_id!r} already exists")
    if state.holders(email):
        raise ValueError(f"a contact with e-mail address {email!r} already exists")
    sent = {**(properties or {}), "email": email}
    if permissions:
        sent["permissions"] = [{"bit": bit, "enabled": enabled} for bit, enabled in permissions.items()]
    parsed = parse_properties(state.catalogue, sent)  # InvalidProperty is a ValueError
    if parsed["email"] is None:
        raise ValueError("a contact needs an e-mail address")
    contact = state.new_contact(external_id)
    values = {}
    for name, value in parsed.items():
        if name in contact.sets:
            contact.sets[name].update(value or {})
        elif value is not None:
            values[name] = value
    state.set_values(contact, values)
    return contact


def find(state: SpotlerState, external_id_or_email: str) -> Contact:
    """A live contact by externalId or e-mail address; ``LookupError`` when there is none."""
    contact = state.find(external_id_or_email)
    if contact is None:
        raise LookupError(f"this sandbox has no contact {external_id_or_email!r}")
    return contact


def unsubscribe(state: SpotlerState, contact: Contact, bits: list[int] | None) -> bool:
    """Permission bits off (all when ``bits`` is None), as a permission-based unsubscribe package does.
    True when a bit changed."""
    permissions = contact.sets["permissions"]
    unknown = set(bits or ()) - set(permissions)
    if unknown:
        raise ValueError(f"this sandbox has no permission bit(s) {sorted(unknown)}")
    changed = any(permissions[bit] for bit in (permissions if bits is None else bits))
    for bit in permissions if bits is None else bits:
        permissions[bit] = False
    if changed:
        state.touch(contact)
    return changed


def opt_out_globally(state: SpotlerState, contact: Contact) -> None:
    """Unsubscribe from all mailings: the EMAIL channel off, and every later API write refused."""
    if not contact.opted_out or contact.email_channel:
        contact.opted_out = True
        contact.email_channel = False
        state.touch(contact)
