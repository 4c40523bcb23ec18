"""The CRM port: everything crm-sync reads from and writes to a CRM, whatever kind of CRM it is.

The push reads contacts as a stream (all of them, one target list's, those changed since a time, or some by
id), each carrying its list memberships and its organisation's mailing lock, and the fields the CRM offers.
The pull writes history entries upserted by external key and sets e-mail flags, finding contacts by their
normalised address. Ids are the CRM's own, as text; times are aware UTC datetimes.

A connector implements ``CrmPort``; ``sync/connectors/crm_registry.py`` opens the one ``crm.kind`` names.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Protocol, runtime_checkable

from sync.records import ActivityRecord, ContactFlags, CrmContact, CrmField
from sync.segments.model import Condition  # plain records, importing nothing from the connectors


class AddressLookup(Protocol):
    """Contacts by address: the push ties contacts that share one, the pull finds whom an event is about."""

    def contacts_by_email(self, emails: Iterable[str], include_deleted: bool = False) -> dict[str, list[str]]:
        """Contact ids per normalised address (``sync/addresses.py``); deleted ones too with ``include_deleted``."""
        ...


class ContactReads(AddressLookup, Protocol):
    """What the push reads."""

    def describe_fields(self) -> list[CrmField]:
        """The contact and organisation fields the CRM offers, custom ones included, with their types."""
        ...

    def target_lists(self) -> list[tuple[str, str]]:
        """(id, name) of every target list."""
        ...

    def iter_contacts(self, chunk_size: int = 1000, list_id: str | None = None) -> Iterator[CrmContact]:
        """Every contact (of one target list with ``list_id``), deleted ones flagged, in a stable order, read
        ``chunk_size`` at a time."""
        ...

    def count_contacts(self, list_id: str | None = None) -> int:
        """How many contacts ``iter_contacts`` with the same ``list_id`` yields."""
        ...

    def changed_contact_ids(self, since: datetime, limit: int) -> list[str] | None:
        """Ids of the contacts changed at or after ``since`` (their own or their organisation's change); None
        when more than ``limit`` changed."""
        ...

    def contacts_by_ids(self, contact_ids: Iterable[str], chunk_size: int = 1000) -> Iterator[CrmContact]:
        """The contacts with these ids that still exist."""
        ...

    def shared_emails(self) -> set[str]:
        """Normalised addresses more than one contact has (deleted ones included): the household rule decides
        these before any of their contacts is planned."""
        ...

    def schema_fingerprint(self) -> str:
        """A hash of how contacts are read (a change makes the next push a full one)."""
        ...


class HistoryWrites(AddressLookup, Protocol):
    """What the pull reads and writes.

    History entries are upserted by their external key: writing a key again updates the CRM's entry in place
    (or leaves it, when nothing changed), even when crm-sync crashed before it recorded the first write. How an
    entry came to be (the events folded into it) is crm-sync's own state, kept in the state store.
    """

    history_per_event: bool
    """True when the CRM's history is a log of single events (EspoCRM's campaign log): the pull then writes one
    entry per event instead of one per contact and campaign."""

    def existing_contacts(self, contact_ids: Iterable[str]) -> set[str]:
        """The ids among ``contact_ids`` the CRM still has."""
        ...

    def contact_owners(self, contact_ids: Iterable[str]) -> dict[str, tuple[str | None, str]]:
        """Per contact: its organisation id and display name."""
        ...

    def write_activities(self, records: Iterable[ActivityRecord]) -> int:
        """Upsert history entries by external key; how many were inserted or changed. A record naming an
        unknown contact raises RecordError."""
        ...

    def set_flags(self, flags: Iterable[ContactFlags]) -> int:
        """Set e-mail opt-out / invalid flags (never opt-in); how many contacts changed."""
        ...

    def history_of(self, contact_id: str) -> list[tuple[str, str, str, datetime]]:
        """(kind, subject, body, last time) of one contact's history entries, newest first."""
        ...


@runtime_checkable
class KeptHistory(Protocol):
    """A CRM that keeps crm-sync's details with its history entries (the SQL CRM): entries written before the
    state store kept them are read back from the CRM."""

    def activities_by_key(self, keys: Iterable[str]) -> dict[str, tuple[dict, datetime, datetime]]:
        """(details, first_at, last_at) of the history entries already written, by external key."""
        ...


@runtime_checkable
class FilteredReads(Protocol):
    """A CRM that filters contacts by a segment condition in its own query (the SQL CRM, with bound
    parameters; EspoCRM, with its ``where``): a segment then reads only the contacts that may meet its include
    steps."""

    def iter_contacts_matching(self, condition: Condition, chunk_size: int = 1000) -> Iterator[CrmContact]:
        """Every contact that may meet ``condition``, in ``iter_contacts``' order: a superset (what the CRM
        cannot filter exactly counts as met, and the caller evaluates the condition again), never one less."""
        ...


class CrmPort(ContactReads, HistoryWrites, Protocol):
    """A connected CRM. Close it, or use it with ``with``."""

    def close(self) -> None: ...

    def __enter__(self) -> CrmPort: ...

    def __exit__(self, *exc_info: object) -> None: ...
