"""Throughput of the state store on each backend: prints figures, asserts nothing.

    .venv/bin/python benchmarks/state_store.py [--rows 20000] [--server URL ...]

SQLite (a temporary file) always runs. Each ``--server`` URL (e.g.
``postgresql+psycopg://postgres@127.0.0.1:5432/test``) gets a throw-away database created beside the
one named and dropped afterwards. Defaults to the CRM_SYNC_TEST_*_URL variables the tests use.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, make_url, text

from sync.dburl import display_url
from sync.state.ledger import LedgerEvent, event_key
from sync.state.members import MemberOutcome
from sync.state.migrate import upgrade_schema
from sync.state.store import StateStore, open_state

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@contextmanager
def throwaway_database(server_url: str) -> Iterator[str]:
    name = f"crmsync_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            force = " WITH (FORCE)" if admin.dialect.name == "postgresql" else ""
            conn.execute(text(f"DROP DATABASE IF EXISTS {name}{force}"))
        admin.dispose()


def timed(label: str, count: int, unit: str, action: Callable[[], object]) -> None:
    started = time.perf_counter()
    action()
    seconds = time.perf_counter() - started
    print(f"  {label:<44} {count:>7} {unit:<8} {seconds:8.3f} s  {count / seconds:>10,.0f} {unit}/s")


def outcome(n: int, version: int) -> MemberOutcome:
    return MemberOutcome(
        f"contact-{n:07d}", email=f"member{n}@example.org", provider_id=f"{n:032x}",
        payload_hash=f"{version:08d}{n:056d}", payload={"FNAME": "Ann", "LNAME": f"Member {n}", "V": version},
        provider_status="subscribed", owned=True, pushed_at=NOW,
    )


def peak_memory_while_iterating(store: StateStore) -> tuple[int, float]:
    tracemalloc.start()
    count = sum(1 for _ in store.iter_member_states("bench"))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return count, peak / 1e6


def bench(url: str, rows: int) -> None:
    print(f"\n{display_url(url)}")
    started = time.perf_counter()
    upgrade_schema(url)
    created = time.perf_counter() - started
    started = time.perf_counter()
    store = open_state(url)
    print(f"  schema: create {created:.3f} s, upgrade when current {time.perf_counter() - started:.3f} s")
    ids = [f"contact-{n:07d}" for n in range(rows)]
    keys = [event_key("mailchimp", "campaign", n, "open") for n in range(rows)]
    events = [LedgerEvent(key, "mailchimp", "bench", "open", NOW, f"contact-{n:07d}") for n, key in enumerate(keys)]
    try:
        timed("save_member_outcomes (insert)", rows, "rows",
              lambda: store.save_member_outcomes("bench", (outcome(n, 1) for n in range(rows))))
        timed("save_member_outcomes (update in place)", rows, "rows",
              lambda: store.save_member_outcomes("bench", (outcome(n, 2) for n in range(rows))))
        timed("member_states (500 ids per query)", rows, "rows", lambda: store.member_states("bench", ids))
        timed("iter_member_states (pages of 1000)", rows, "rows",
              lambda: sum(1 for _ in store.iter_member_states("bench")))
        count, peak_mb = peak_memory_while_iterating(store)
        print(f"  iter_member_states peak Python memory: {peak_mb:.1f} MB for {count} rows (tracemalloc)")
        timed("unseen_event_keys (empty ledger)", rows, "keys", lambda: store.unseen_event_keys(keys))
        timed("record_events + set_cursor (new keys)", rows, "events", lambda: record_with_cursor(store, events))
        timed("record_events (all keys known)", rows, "events", lambda: store.record_events(events))
        timed("acquire_lock + release", 200, "locks", lambda: lock_cycles(store, 200))
    finally:
        store.close()


def record_with_cursor(store: StateStore, events: list[LedgerEvent]) -> None:
    with store.transaction() as tx:
        tx.record_events(events)
        tx.set_cursor("mailchimp:bench:email-activity", NOW.isoformat(), [events[-1].event_key])


def lock_cycles(store: StateStore, times: int) -> None:
    for _ in range(times):
        lock = store.acquire_lock("bench", ttl_seconds=60)
        assert lock is not None
        lock.release()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--server", action="append", default=None, help="server URL to create a throw-away database on")
    args = parser.parse_args()
    servers = args.server
    if servers is None:
        servers = [os.environ[name] for name in ("CRM_SYNC_TEST_POSTGRES_URL", "CRM_SYNC_TEST_MARIADB_URL")
                   if os.environ.get(name)]
    with tempfile.TemporaryDirectory() as folder:
        bench(f"sqlite:///{Path(folder) / 'state.db'}", args.rows)
    for server in servers:
        with throwaway_database(server) as url:
            bench(url, args.rows)


if __name__ == "__main__":
    main()
