"""Contact writes (``POST contact``, ``PUT contact/{id}``, ``POST contact/list``): one contact at a time.

Each write ends in one ``ContactResponseCode``; anything but ``OK`` changes nothing. Known behaviour: ``update``
false inserts, true upserts; ``purge`` true clears every property not sent, false merges; ``""``/``null`` clears a
property; a set property changes only the bits sent. Inferred behaviour (no source confirms it):

* Checks run in this order: property values (``PROPERTY_INVALID``), identity, global opt-out (``CONTACT_OPTOUT``).
* Insert of an existing externalId, or of an e-mail address a live contact already has: ``CONTACT_ALREADY_EXISTS``
  (Mail+ de-duplicates on e-mail).
* Upsert of an unknown externalId whose e-mail belongs to a live contact *without* an externalId: that contact
  takes the externalId and is updated (de-duplication merge). If a contact with *another* externalId has the
  address: ``CONTACT_ALREADY_EXISTS`` naming it. Changing the e-mail of an existing externalId is an update, even
  to an address another contact has.
* A contact always keeps an e-mail address: a new contact without one, or a write that would clear it, is
  ``PROPERTY_INVALID``. With ``purge``, set properties not sent are cleared too (every bit off); in a set that
  is sent, only the bits sent change, with or without ``purge``.
* ``lastChanged`` moves only when something changed; a write repeating the stored values leaves it alone.
* A globally opted-out contact refuses every write with ``CONTACT_OPTOUT``; a de-duplication merge into one does too.
* ``testGroup`` (boolean) is writable and not affected by ``purge``; other read-only fields are ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sync.sandbox.spotler.state import Contact, SpotlerState
from sync.sandbox.spotler.values import InvalidProperty, parse_properties

OK = "OK"
PROPERTY_INVALID = "PROPERTY_INVALID"
ALREADY_EXISTS = "CONTACT_ALREADY_EXISTS"
UNKNOWN = "CONTACT_UNKNOWN"
OPTOUT = "CONTACT_OPTOUT"
ERROR = "ERROR"


@dataclass(frozen=True, slots=True)
class Outcome:
    """The result of one contact write: a ``ContactResponseCode`` and a message (empty when OK)."""

    code: str
    message: str = ""


class _Refused(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.outcome = Outcome(code, message)


def write_contact(state: SpotlerState, sent: dict[str, Any], *, update: bool, purge: bool,
                  existing_only: bool = False) -> Outcome:
    """Apply one contact of a write request. ``sent`` has a string ``externalId``; ``existing_only`` is PUT."""
    external_id = sent["externalId"]
    try:
        if state.write_failures[external_id] > 0:
            state.write_failures[external_id] -= 1
            raise _Refused(ERROR, f"Contact {external_id} could not be saved (scripted failure)")
        parsed = _parse(state, sent)
        contact = _target(state, external_id, parsed.get("email"), update=update, existing_only=existing_only)
        if contact is not None and contact.opted_out:
            raise _Refused(OPTOUT, f"Contact {external_id} has opted out of all mailings")
        _apply(state, contact, external_id, parsed, sent.get("testGroup"), purge)
    except _Refused as refused:
        return refused.outcome
    return Outcome(OK)


def _parse(state: SpotlerState, sent: dict[str, Any]) -> dict[str, Any]:
    test_group = sent.get("testGroup")
    if test_group is not None and not isinstance(test_group, bool):
        raise _Refused(PROPERTY_INVALID, f"testGroup must be true or false; got {test_group!r}")
    try:
        return parse_properties(state.catalogue, sent.get("properties") or {})
    except InvalidProperty as error:
        raise _Refused(PROPERTY_INVALID, str(error)) from None


def _target(state: SpotlerState, external_id: str, email: str | None, *, update: bool,
            existing_only: bool) -> Contact | None:
    """The contact this write changes: an existing one, a de-duplication match, or None for a new contact."""
    existing = state.by_external.get(external_id)
    if existing is not None:
        if not update and not existing_only:
            raise _Refused(ALREADY_EXISTS, f"Contact with externalId {external_id} already exists")
        return existing
    if existing_only:
        raise _Refused(UNKNOWN, f"Contact with externalId {external_id} not found")
    if email is None:
        raise _Refused(PROPERTY_INVALID, "Property is invalid: email is required for a new contact")
    holders = state.holders(email)
    if holders and not update:
        raise _Refused(ALREADY_EXISTS, f"A contact with e-mail address {email} already exists")
    for holder in holders:
        if holder.external_id is not None:
            raise _Refused(ALREADY_EXISTS, f"E-mail address {email} already belongs to the contact with "
                                           f"externalId {holder.external_id}")
    return holders[0] if holders else None


def _apply(state: SpotlerState, contact: Contact | None, external_id: str, parsed: dict[str, Any],
           test_group: bool | None, purge: bool) -> None:
    old_values = {} if contact is None else contact.values
    old_sets = {} if contact is None else contact.sets
    values = {} if purge else dict(old_values)
    sets = {prop.name: dict.fromkeys(prop.entries, False) if (purge and prop.name not in parsed) or contact is None
            else dict(old_sets[prop.name]) for prop in state.catalogue.sets}
    for name, value in parsed.items():
        if name in sets:
            sets[name].update(dict.fromkeys(sets[name], False) if value is None else value)
        elif value is None:
            values.pop(name, None)
        else:
            values[name] = value
    if "email" not in values:
        raise _Refused(PROPERTY_INVALID, "Property is invalid: email cannot be cleared")
    if contact is None:
        contact = state.new_contact(external_id)
    elif (values == old_values and sets == old_sets and contact.external_id == external_id
          and test_group in (None, contact.test_group)):
        return  # nothing changes: lastChanged stays
    else:
        state.attach(contact, external_id)
        state.touch(contact)
    state.set_values(contact, values)
    contact.sets = sets
    if test_group is not None:
        contact.test_group = test_group
