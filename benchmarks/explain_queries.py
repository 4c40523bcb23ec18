"""Latency of the reads behind `crm-sync status` (failures) and `crm-sync why`: prints figures, asserts nothing.

    .venv/bin/python benchmarks/explain_queries.py [--members 200000] [--events 500000] [--server URL ...]

Fills a state store with ``--members`` member rows in two audiences (1 in 100 a rejection) and
``--events`` ledger events spread over the first tenth of the contacts, then times each query (best of
five). SQLite (a temporary file) always runs; each ``--server`` URL gets a throw-away database beside the
one named. Defaults to the CRM_SYNC_TEST_*_URL variables the tests use.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from state_store import throwaway_database

from sync.dburl import display_url
from sync.push.rules import REJECTION_REASONS
from sync.state.ledger import LedgerEvent
from sync.state.members import MemberOutcome
from sync.state.store import StateStore, open_state

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
AUDIENCES = ("newsletter", "customers")
REJECTIONS = tuple(sorted(REJECTION_REASONS))


def member(n: int) -> MemberOutcome:
    if n % 100 == 0:
        return MemberOutcome(f"{n:07d}", last_error="looks fake or invalid", reason_code="invalid_address")
    if n % 100 == 1:
        return MemberOutcome(f"{n:07d}", reason_code="no_consent")
    return MemberOutcome(f"{n:07d}", email=f"member{n}@example.org", provider_id=f"{n:032x}", payload_hash="h",
                         payload={"FNAME": "Ann", "LNAME": f"Member {n}"}, provider_status="subscribed", owned=True,
                         pushed_at=NOW)


def event(n: int, contacts: int) -> LedgerEvent:
    contact = n % max(contacts // 10, 1)
    return LedgerEvent(f"event-{n:09d}", "mailchimp", AUDIENCES[0], ("sent", "open", "click")[n % 3],
                       NOW + timedelta(seconds=n), f"{contact:07d}")


def best_of(label: str, action: Callable[[], object], times: int = 5) -> None:
    seconds = []
    for _ in range(times):
        started = time.perf_counter()
        result = action()
        seconds.append(time.perf_counter() - started)
    size = len(result) if hasattr(result, "__len__") else result
    print(f"  {label:<52} {min(seconds) * 1000:9.1f} ms  ({size} rows)")


def bench(url: str, members: int, events: int) -> None:
    print(f"\n{display_url(url)}: {members} members per audience, {events} ledger events")
    store: StateStore = open_state(url)
    try:
        started = time.perf_counter()
        for audience in AUDIENCES:
            store.save_member_outcomes(audience, (member(n) for n in range(members)))
        store.record_events(event(n, members) for n in range(events))
        print(f"  (filled in {time.perf_counter() - started:.1f} s)")
        best_of("recent_failures(rejections, 20)", lambda: store.recent_failures(REJECTIONS, 20))
        best_of("failure_counts(rejections)", lambda: store.failure_counts(REJECTIONS))
        best_of("member_states_by_email (lower(email) = ?)",
                lambda: store.member_states_by_email("Member5@example.org"))
        best_of("member_states(audience, [id]) per audience",
                lambda: [store.member_states(audience, ["0000005"]) for audience in AUDIENCES])
        best_of("events_for_contact(audience, id, 20)", lambda: store.events_for_contact(AUDIENCES[0], "0000005", 20))
        best_of("event_counts_for_contact(audience, id)",
                lambda: store.event_counts_for_contact(AUDIENCES[0], "0000005"))
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=200_000)
    parser.add_argument("--events", type=int, default=500_000)
    parser.add_argument("--server", action="append", default=None, help="server URL to create a throw-away database on")
    args = parser.parse_args()
    servers = args.server
    if servers is None:
        servers = [os.environ[name] for name in ("CRM_SYNC_TEST_POSTGRES_URL", "CRM_SYNC_TEST_MARIADB_URL")
                   if os.environ.get(name)]
    with tempfile.TemporaryDirectory() as folder:
        bench(f"sqlite:///{Path(folder) / 'state.db'}", args.members, args.events)
    for server in servers:
        with throwaway_database(server) as url:
            bench(url, args.members, args.events)


if __name__ == "__main__":
    main()
