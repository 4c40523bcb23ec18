"""The sandbox's in-memory account: contacts with their indexes, mailings, interactions and bounces.

Plain data guarded by one re-entrant lock that request handlers and control methods hold for a whole operation.
Contacts are keyed by ``encryptedId``; ``by_external`` and ``by_email`` (lower-cased address of live contacts)
are kept in step by the methods here, so callers change ids and addresses only through them.
"""

from __future__ import annotations

import secrets
import string
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sync.sandbox.spotler.catalogue import Catalogue
from sync.sandbox.spotler.times import Clock

FEEDS = ("sent", "opened", "clicked", "bounced")
_ALPHABET = string.ascii_letters + string.digits


def new_encrypted_id() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(24))


@dataclass(slots=True, eq=False)
class Contact:
    """One Mail+ contact. ``values`` holds the non-set properties that have a value; ``sets`` every set
    property's bits. ``opted_out`` is the global opt-out; ``email_channel`` False also after bounces."""

    encrypted_id: str
    external_id: str | None
    created: datetime
    last_changed: datetime
    values: dict[str, Any] = field(default_factory=dict)
    sets: dict[str, dict[int, bool]] = field(default_factory=dict)
    email_channel: bool = True
    opted_out: bool = False
    anonymised: bool = False
    test_group: bool = False
    soft_bounce_streak: int = 0

    @property
    def email_key(self) -> str | None:
        email = self.values.get("email")
        return email.strip().lower() if isinstance(email, str) else None


@dataclass(slots=True)
class Interaction:
    """One row of a ``mailing-interaction`` feed."""

    id: int
    feed: str
    external_id: str
    contact: Contact
    mailing_id: str
    date: datetime
    change_date: datetime
    trend_report_id: int | None = None
    bounce_type: str | None = None  # HARD / SOFT (bounced)
    link_id: int | None = None  # clicked


@dataclass(slots=True)
class Mailing:
    """A sent newsletter. ``events`` holds its interactions by feed; ``stopped`` the contacts its bounces
    stopped mailing to; ``unsubscribes`` the contacts who unsubscribed from it."""

    encrypted_id: str
    name: str
    subject: str
    sent_at: datetime
    bit: int
    trend_report_id: int | None
    links: list[dict[str, Any]] = field(default_factory=list)
    events: dict[str, list[Interaction]] = field(default_factory=lambda: {feed: [] for feed in FEEDS})
    stopped: set[str] = field(default_factory=set)
    unsubscribes: set[str] = field(default_factory=set)


class SpotlerState:
    """Everything one sandbox account holds."""

    def __init__(self, catalogue: Catalogue):
        self.lock = threading.RLock()
        self.clock = Clock()
        self.catalogue = catalogue
        self.contacts: dict[str, Contact] = {}
        self.by_external: dict[str, Contact] = {}
        self.by_email: dict[str, dict[str, Contact]] = {}
        self.mailings: dict[str, Mailing] = {}
        self.interactions: dict[str, list[Interaction]] = {feed: [] for feed in FEEDS}
        self.write_failures: Counter[str] = Counter()
        self.audiences: dict[str, Any] = {}  # externalId -> sync.sandbox.spotler.audiences.Audience
        self.audiences_allowed = True  # False: a Professional account, where /audience answers 403

    def now(self) -> datetime:
        return self.clock.now()

    def new_contact(self, external_id: str | None) -> Contact:
        """A fresh, empty contact with the EMAIL channel on and every set bit off, already indexed."""
        now = self.now()
        contact = Contact(new_encrypted_id(), None, now, now,
                          sets={prop.name: dict.fromkeys(prop.entries, False) for prop in self.catalogue.sets})
        self.contacts[contact.encrypted_id] = contact
        self.attach(contact, external_id)
        return contact

    def attach(self, contact: Contact, external_id: str | None) -> None:
        """Give ``contact`` this externalId (None detaches it)."""
        if contact.external_id is not None:
            self.by_external.pop(contact.external_id, None)
        contact.external_id = external_id
        if external_id is not None:
            self.by_external[external_id] = contact

    def set_values(self, contact: Contact, values: dict[str, Any]) -> None:
        """Replace the contact's non-set properties, keeping the e-mail index in step."""
        old_key, contact.values = contact.email_key, values
        if old_key != contact.email_key:
            if old_key is not None:
                self.by_email.get(old_key, {}).pop(contact.encrypted_id, None)
            if contact.email_key is not None and not contact.anonymised:
                self.by_email.setdefault(contact.email_key, {})[contact.encrypted_id] = contact

    def holders(self, email: str) -> list[Contact]:
        """Live contacts with this e-mail address (case-insensitive), oldest first."""
        return list(self.by_email.get(email.strip().lower(), {}).values())

    def find(self, external_id_or_email: str) -> Contact | None:
        """A contact by externalId, else the oldest live contact with that e-mail address."""
        found = self.by_external.get(external_id_or_email)
        if found is None:
            holders = self.holders(external_id_or_email)
            found = holders[0] if holders else None
        return found

    def touch(self, contact: Contact) -> None:
        contact.last_changed = self.now()

    def next_interaction_id(self, feed: str) -> int:
        return len(self.interactions[feed]) + 1
