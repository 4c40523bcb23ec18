"""``StateStore``: the one place crm-sync remembers runs, member state, cursors, the event ledger and locks.

The SQL lives in one module per responsibility (runs, members, cursors, ledger, lock); this class opens
connections and transactions around it and turns database failures into ``ConnectionFailed``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from types import TracebackType

from sqlalchemy import Connection
from sqlalchemy.engine import URL

from sync.dburl import display_url
from sync.errors import ConfigError
from sync.records import ActivityRecord
from sync.state import cursors, history, intents, ledger, lock, members, runs, segments
from sync.state.cursors import CursorRow
from sync.state.engine import make_engine, translate_errors
from sync.state.intents import IntentRow
from sync.state.ledger import LedgerEvent, LedgerRow
from sync.state.lock import Lock, LockHolder
from sync.state.members import MemberOutcome, MemberStateRow
from sync.state.migrate import current_revision, head_revision, upgrade_schema
from sync.state.runs import PushMode, RunKind, RunOutcome, RunRow
from sync.state.segments import SegmentMarkRow
from sync.state.sql import chunked
from sync.state.types import utc_now

Clock = Callable[[], datetime]
MEMBER_PAGE_SIZE = 1000


class StateTransaction:
    """State-store writes that commit together, e.g. ledger rows and the cursor covering them."""

    def __init__(self, conn: Connection, url: str | URL, clock: Clock):
        self._conn = conn
        self._url = url
        self._clock = clock

    def get_cursor(self, name: str) -> CursorRow | None:
        """The cursor called ``name``, or None before its first read."""
        with translate_errors(self._url, f"reading cursor {name!r}"):
            return cursors.get_cursor(self._conn, name)

    def set_cursor(self, name: str, value: str, boundary_keys: Iterable[str] = ()) -> None:
        """Create or move a cursor; ``boundary_keys`` are the keys already seen at exactly ``value``."""
        with translate_errors(self._url, f"saving cursor {name!r}"):
            cursors.set_cursor(self._conn, name, value, boundary_keys, self._clock())

    def unseen_event_keys(self, keys: Iterable[str]) -> set[str]:
        """The keys among ``keys`` that are not in the event ledger yet."""
        with translate_errors(self._url, "reading the event ledger"):
            return ledger.unseen_event_keys(self._conn, keys)

    def record_events(self, events: Iterable[LedgerEvent], run_id: int | None = None) -> set[str]:
        """Add events to the ledger, skipping known and repeated keys; returns the keys that were new."""
        with translate_errors(self._url, "writing the event ledger"):
            return ledger.record_events(self._conn, events, run_id, self._clock())

    def history_entries(self, keys: Iterable[str]) -> dict[str, tuple[dict, datetime, datetime]]:
        """(details, first_at, last_at) of the CRM history entries kept for these external keys."""
        with translate_errors(self._url, "reading history entries"):
            return history.history_entries(self._conn, keys)

    def save_history_entries(self, records: Iterable[ActivityRecord]) -> None:
        """Keep the details of these CRM history entries (``sync/state/history.py``)."""
        with translate_errors(self._url, "writing history entries"):
            history.save_history_entries(self._conn, records, self._clock())

    def member_states(self, audience: str, contact_ids: Iterable[str]) -> dict[str, MemberStateRow]:
        """Stored state of the given contacts in ``audience``, by contact id; unknown contacts are absent."""
        with translate_errors(self._url, "reading member state"):
            return members.member_states(self._conn, audience, contact_ids)

    def contacts_by_provider_id(self, audience: str, provider_ids: Iterable[str]) -> dict[str, str]:
        """The contact id each provider member id stands for in ``audience``."""
        with translate_errors(self._url, "reading member state"):
            return members.contacts_by_provider_id(self._conn, audience, provider_ids)

    def save_member_outcomes(self, audience: str, outcomes: Iterable[MemberOutcome]) -> int:
        """Upsert one member-state row per outcome (see ``MemberOutcome``); returns how many were written."""
        with translate_errors(self._url, "writing member state"):
            return members.save_member_outcomes(self._conn, audience, outcomes, self._clock())

    def record_intents(self, audience: str, rows: Iterable[IntentRow]) -> None:
        """Store the writes about to be sent (replacing older intents of the same contacts)."""
        with translate_errors(self._url, "writing push intents"):
            intents.record_intents(self._conn, audience, rows, self._clock())

    def settle_intents(self, audience: str, contact_ids: Iterable[str]) -> None:
        """Forget the intents of these contacts: their answers are recorded in this transaction."""
        with translate_errors(self._url, "settling push intents"):
            intents.settle_intents(self._conn, audience, contact_ids)


class StateStore:
    """The state store at a database URL. Use ``open_state`` to get one with its schema up to date."""

    def __init__(self, url: str | URL, *, clock: Clock = utc_now):
        self.url = url
        self._engine = make_engine(url)
        self._clock = clock

    def __repr__(self) -> str:
        return f"StateStore({display_url(self.url)!r})"

    def close(self) -> None:
        """Close every pooled connection."""
        self._engine.dispose()

    def __enter__(self) -> StateStore:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[StateTransaction]:
        """One database transaction: everything done through the yielded object commits, or none of it.

        Inside it, use the yielded object rather than the store: on SQLite a second connection waits for
        this transaction to end.
        """
        with translate_errors(self.url, "opening a transaction"):
            conn = self._engine.connect()
        try:
            with translate_errors(self.url, "opening a transaction"):
                outer = conn.begin()
            yield StateTransaction(conn, self.url, self._clock)
            with translate_errors(self.url, "committing a transaction"):
                outer.commit()
        finally:
            conn.close()  # rolls back whatever was not committed

    # Runs

    def start_run(self, kind: RunKind | str, audience: str | None = None) -> int:
        """Record a run as started; returns its id for ``finish_run``."""
        with translate_errors(self.url, "starting a run"), self._engine.begin() as conn:
            return runs.start_run(conn, kind, audience, self._clock())

    def finish_run(
        self, run_id: int, outcome: RunOutcome | str, counts: Mapping[str, int], error: str | None = None
    ) -> None:
        """Record how a run ended: outcome, counts (created, updated, skipped, failed, ...) and any error."""
        with translate_errors(self.url, f"finishing run {run_id}"), self._engine.begin() as conn:
            runs.finish_run(conn, run_id, outcome, counts, error, self._clock())

    def mark_running_interrupted(self) -> int:
        """Mark runs left ``running`` by a dead process as ``interrupted`` (hold the run lock to call this)."""
        with translate_errors(self.url, "marking interrupted runs"), self._engine.begin() as conn:
            return runs.mark_running_interrupted(conn, self._clock())

    def set_push_mode(self, run_id: int, mode: PushMode | str, fingerprint: str) -> None:
        """Record whether push ``run_id`` is full or incremental, and the configuration it runs with."""
        with translate_errors(self.url, f"recording run {run_id}"), self._engine.begin() as conn:
            runs.set_push_mode(conn, run_id, mode, fingerprint)

    def last_completed_push(self, audience: str, mode: PushMode | None = None) -> RunRow | None:
        """The latest completed push of ``audience`` (of ``mode`` when given), or None."""
        with translate_errors(self.url, "reading runs"), self._engine.connect() as conn:
            return runs.last_completed_push(conn, audience, mode)

    def recent_runs(self, limit: int = 20) -> list[RunRow]:
        """The most recently started runs, newest first."""
        with translate_errors(self.url, "reading runs"), self._engine.connect() as conn:
            return runs.recent_runs(conn, limit)

    # Members

    def member_states(self, audience: str, contact_ids: Iterable[str]) -> dict[str, MemberStateRow]:
        """Stored state of the given contacts in ``audience`` (one query per 500 ids)."""
        with self.transaction() as tx:
            return tx.member_states(audience, contact_ids)

    def contacts_by_provider_id(self, audience: str, provider_ids: Iterable[str]) -> dict[str, str]:
        """The contact id each provider member id stands for in ``audience``."""
        with self.transaction() as tx:
            return tx.contacts_by_provider_id(audience, provider_ids)

    def save_member_outcomes(self, audience: str, outcomes: Iterable[MemberOutcome]) -> int:
        """Upsert member state, committing every 500 outcomes, so ``outcomes`` may be a long stream."""
        written = 0
        for chunk in chunked(outcomes):
            with self.transaction() as tx:
                written += tx.save_member_outcomes(audience, chunk)
        return written

    def record_intents(self, audience: str, rows: Iterable[IntentRow]) -> None:
        """Store the writes about to be sent, in one transaction, before their request goes out."""
        with self.transaction() as tx:
            tx.record_intents(audience, rows)

    def unsettled_intents(self, audience: str) -> list[IntentRow]:
        """Intents of ``audience`` whose answer was never recorded (the push that sent them died or failed)."""
        with translate_errors(self.url, "reading push intents"), self._engine.connect() as conn:
            return intents.unsettled_intents(conn, audience)

    def record_answers(self, audience: str, outcomes: Iterable[MemberOutcome], settled: Iterable[str]) -> None:
        """Save outcomes and forget the intents of ``settled`` contacts, all in one transaction."""
        with self.transaction() as tx:
            tx.save_member_outcomes(audience, outcomes)
            tx.settle_intents(audience, settled)

    def active_member_count(self, audience: str) -> int:
        """Members of ``audience`` that still receive mail, per the state store (for providers without a count)."""
        with translate_errors(self.url, "reading member state"), self._engine.connect() as conn:
            return members.active_member_count(conn, audience)

    def iter_member_states(self, audience: str) -> Iterator[MemberStateRow]:
        """Every member of ``audience`` in contact-id order, read a page at a time (no long-held cursor)."""
        after: str | None = None
        while True:
            with translate_errors(self.url, "reading member state"), self._engine.connect() as conn:
                page = members.member_state_page(conn, audience, after, MEMBER_PAGE_SIZE)
            yield from page
            if len(page) < MEMBER_PAGE_SIZE:
                return
            after = page[-1].contact_id

    def member_states_by_email(self, email: str) -> list[MemberStateRow]:
        """Rows in every audience whose stored (last pushed) address is ``email``, compared in lower case."""
        with translate_errors(self.url, "reading member state"), self._engine.connect() as conn:
            return members.member_states_by_email(conn, email)

    def recent_failures(self, reasons: Iterable[str], limit: int = 20) -> list[MemberStateRow]:
        """Up to ``limit`` members whose reason code is one of ``reasons``, in every audience, newest first."""
        with translate_errors(self.url, "reading member state"), self._engine.connect() as conn:
            return members.recent_failures(conn, reasons, limit)

    def contacts_with_reasons(self, audience: str, reasons: Iterable[str]) -> list[str]:
        """Ids of the contacts of ``audience`` whose reason code is one of ``reasons``."""
        with translate_errors(self.url, "reading member state"), self._engine.connect() as conn:
            return members.contacts_with_reasons(conn, audience, reasons)

    def failure_counts(self, reasons: Iterable[str]) -> dict[str, int]:
        """Per audience, how many members have one of ``reasons`` as their reason code."""
        with translate_errors(self.url, "reading member state"), self._engine.connect() as conn:
            return members.failure_counts(conn, reasons)

    def warning_counts(self) -> dict[str, Counter]:
        """Per audience, how many members had each (field, problem) left out or cleaned in their last push."""
        with translate_errors(self.url, "reading member state"), self._engine.connect() as conn:
            return members.warning_counts(conn)

    # Cursors and the event ledger

    def get_cursor(self, name: str) -> CursorRow | None:
        """The cursor called ``name``, or None before its first read."""
        with self.transaction() as tx:
            return tx.get_cursor(name)

    def set_cursor(self, name: str, value: str, boundary_keys: Iterable[str] = ()) -> None:
        """Move a cursor on its own; use ``transaction()`` to move it together with ledger rows."""
        with self.transaction() as tx:
            tx.set_cursor(name, value, boundary_keys)

    def unseen_event_keys(self, keys: Iterable[str]) -> set[str]:
        """The keys among ``keys`` that are not in the event ledger yet."""
        with self.transaction() as tx:
            return tx.unseen_event_keys(keys)

    def history_entries(self, keys: Iterable[str]) -> dict[str, tuple[dict, datetime, datetime]]:
        """(details, first_at, last_at) of the CRM history entries kept for these external keys."""
        with self.transaction() as tx:
            return tx.history_entries(keys)

    def record_events(self, events: Iterable[LedgerEvent], run_id: int | None = None) -> set[str]:
        """Add events to the ledger on their own; returns the keys that were new."""
        with self.transaction() as tx:
            return tx.record_events(events, run_id)

    def events_for_contact(self, audience: str, contact_id: str, limit: int = 20) -> list[LedgerRow]:
        """Up to ``limit`` events imported for one contact of ``audience``, the latest occurrence first."""
        with translate_errors(self.url, "reading the event ledger"), self._engine.connect() as conn:
            return ledger.events_for_contact(conn, audience, contact_id, limit)

    def event_counts_for_contact(self, audience: str, contact_id: str) -> dict[str, int]:
        """How many events of each kind were imported for one contact of ``audience``."""
        with translate_errors(self.url, "reading the event ledger"), self._engine.connect() as conn:
            return ledger.event_counts_for_contact(conn, audience, contact_id)

    # Marketers' segments (sync/state/segments.py)

    def segment_mark(self, audience: str, segment: str) -> SegmentMarkRow | None:
        """The provider segment ``segment`` is kept as in ``audience``, or None before its first push."""
        with translate_errors(self.url, "reading segment marks"), self._engine.connect() as conn:
            return segments.segment_mark(conn, audience, segment)

    def save_segment_mark(self, audience: str, segment: str, segment_id: str, provider_name: str) -> None:
        """Remember the provider segment ``segment`` is kept as."""
        with translate_errors(self.url, "writing segment marks"), self._engine.begin() as conn:
            segments.save_segment_mark(conn, audience, segment, segment_id, provider_name, self._clock())

    def marked_keys(self, audience: str, segment: str) -> set[str]:
        """The member keys crm-sync may have put in the segment."""
        with translate_errors(self.url, "reading segment members"), self._engine.connect() as conn:
            return segments.marked_keys(conn, audience, segment)

    def change_marked_keys(self, audience: str, segment: str, added: Iterable[str] = (),
                           removed: Iterable[str] = ()) -> None:
        """Record keys that may now be in the segment, and forget keys confirmed out of it, in one transaction."""
        with translate_errors(self.url, "writing segment members"), self._engine.begin() as conn:
            segments.add_marked_keys(conn, audience, segment, added)
            segments.remove_marked_keys(conn, audience, segment, removed)

    # Locks

    def acquire_lock(self, name: str, ttl_seconds: float) -> Lock | None:
        """Take the lock called ``name`` (taking over a holder silent for longer than its TTL), or None."""
        return lock.acquire_lock(self._engine, self.url, name, ttl_seconds)

    def lock_holder(self, name: str) -> LockHolder | None:
        """Who holds the lock called ``name``, or None."""
        return lock.lock_holder(self._engine, self.url, name)


def open_state(url: str | URL, *, upgrade: bool = True, clock: Clock = utc_now) -> StateStore:
    """Open the state store at ``url``, first creating or upgrading its schema.

    With ``upgrade=False`` (for read-only commands) the schema is only checked, and ``ConfigError`` says
    to run ``crm-sync db upgrade`` when it is missing or behind.
    """
    if upgrade:
        upgrade_schema(url)
    else:
        found, wanted = current_revision(url), head_revision()
        if found != wanted:
            state = "has no schema yet" if found is None else f"has schema revision {found}"
            raise ConfigError(
                f"state store {display_url(url)} {state}; this crm-sync needs {wanted}: run `crm-sync db upgrade`"
            )
    return StateStore(url, clock=clock)
