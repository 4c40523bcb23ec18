"""Datetimes come back timezone-aware in UTC and are stored as UTC on every backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import text

from sync.state.ledger import LedgerEvent
from sync.state.members import MemberOutcome
from sync.state.store import open_state

AMSTERDAM_SUMMER = timezone(timedelta(hours=2))
LOCAL_MOMENT = datetime(2026, 7, 1, 14, 30, 15, 654321, tzinfo=AMSTERDAM_SUMMER)
SAME_MOMENT_IN_UTC = datetime(2026, 7, 1, 12, 30, 15, 654321, tzinfo=UTC)


def as_utc_wall_time(raw: object) -> datetime:
    """A raw column value read without SQLAlchemy's types, as naive UTC wall time."""
    if isinstance(raw, str):  # SQLite keeps text
        return datetime.fromisoformat(raw)
    assert isinstance(raw, datetime)
    return raw if raw.tzinfo is None else raw.astimezone(UTC).replace(tzinfo=None)


def test_every_timestamp_comes_back_aware_in_utc(database_url):
    with open_state(database_url, clock=lambda: LOCAL_MOMENT) as store:
        run_id = store.start_run("push", "newsletter")
        store.finish_run(run_id, "ok", {})
        store.save_member_outcomes("newsletter", [MemberOutcome("c1", pushed_at=LOCAL_MOMENT)])
        store.set_cursor("mailchimp:newsletter:members", "2026-07-01T12:30:15+00:00")
        store.record_events([LedgerEvent("k1", "mailchimp", "newsletter", "open", LOCAL_MOMENT)])

        [run] = store.recent_runs()
        member = store.member_states("newsletter", ["c1"])["c1"]
        cursor = store.get_cursor("mailchimp:newsletter:members")
        lock = store.acquire_lock("push:newsletter", ttl_seconds=60)
        holder = store.lock_holder("push:newsletter")

    values = [run.started_at, run.finished_at, member.pushed_at, member.updated_at, cursor.updated_at]
    assert all(value == SAME_MOMENT_IN_UTC and value.tzinfo is UTC for value in values)
    lock_times = [holder.acquired_at, holder.heartbeat_at, holder.expires_at]
    assert all(value.tzinfo is UTC for value in lock_times)
    assert holder.expires_at - holder.acquired_at == timedelta(seconds=60)
    assert lock is not None


def test_timestamps_are_stored_as_utc_wall_time(store, engine):
    with open_state(store.url, clock=lambda: LOCAL_MOMENT) as local_store:
        local_store.start_run("pull")
        local_store.record_events([LedgerEvent("k1", "mailchimp", "newsletter", "open", LOCAL_MOMENT)])

    with engine.connect() as conn:
        started = conn.execute(text("SELECT started_at FROM runs")).scalar_one()
        occurred, imported = conn.execute(text("SELECT occurred_at, imported_at FROM event_ledger")).one()

    expected = SAME_MOMENT_IN_UTC.replace(tzinfo=None)
    assert [as_utc_wall_time(value) for value in (started, occurred, imported)] == [expected] * 3


def test_naive_datetimes_are_refused_before_they_reach_the_database():
    naive = datetime(2026, 7, 1, 14, 30)
    with pytest.raises(ValueError, match="naive datetime"):
        MemberOutcome("c1", pushed_at=naive)
    with pytest.raises(ValueError, match="naive datetime"):
        LedgerEvent("k1", "mailchimp", "newsletter", "open", naive)
