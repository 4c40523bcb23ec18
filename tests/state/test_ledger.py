"""The event ledger: each event recorded once, and recorded together with the cursor that covers it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import event, func, insert, select

from sync.state.engine import make_engine
from sync.state.ledger import LEDGER, LedgerEvent, event_key, record_events

OCCURRED = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
CURSOR = "mailchimp:newsletter:email-activity:campaign-42"


def opened(key: str, contact_id: str | None = "c1") -> LedgerEvent:
    return LedgerEvent(key, "mailchimp", "newsletter", "open", OCCURRED, contact_id)


def ledger_rows(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(LEDGER)).scalar_one()


def test_event_keys_are_stable_sha256_of_the_identity():
    key = event_key("mailchimp", "campaign-42", "ann@example.org", "open", "2026-05-04T12:00:00+00:00")

    assert len(key) == 64 and int(key, 16) >= 0
    assert key == event_key("mailchimp", "campaign-42", "ann@example.org", "open", "2026-05-04T12:00:00+00:00")
    assert key != event_key("mailchimp", "campaign-42", "ann@example.org", "click", "2026-05-04T12:00:00+00:00")


def test_keys_repeated_in_one_batch_are_recorded_once(store, engine):
    added = store.record_events([opened("k1"), opened("k2"), opened("k1"), opened("k3", contact_id=None)])

    assert added == {"k1", "k2", "k3"}
    assert ledger_rows(engine) == 3


def test_keys_already_in_the_ledger_are_skipped(store, engine):
    store.record_events([opened("k1"), opened("k2")], run_id=1)

    added = store.record_events([opened("k2"), opened("k3"), opened("k1")], run_id=2)

    assert added == {"k3"}
    assert ledger_rows(engine) == 3
    with engine.connect() as conn:
        assert conn.execute(select(LEDGER.c.run_id).where(LEDGER.c.event_key == "k2")).scalar_one() == 1


def test_large_batches_with_repeats_across_chunks_are_recorded_once(store, engine):
    keys = [event_key("spotler", n) for n in range(1200)]
    store.record_events(opened(key) for key in keys[:300])

    added = store.record_events(opened(key) for key in keys + keys[::-1])

    assert added == set(keys[300:])
    assert ledger_rows(engine) == 1200


def test_unseen_keys_are_those_not_yet_recorded(store):
    store.record_events([opened("k1"), opened("k2")])

    assert store.unseen_event_keys(["k1", "k3", "k3", "k2", "k4"]) == {"k3", "k4"}
    assert store.unseen_event_keys([]) == set()


def test_a_key_recorded_by_another_process_mid_batch_is_skipped(store, engine):
    if engine.dialect.name == "sqlite":
        pytest.skip("SQLite lets one writer in at a time, so no other process can record a key mid-batch")
    ours = make_engine(store.url)
    raced = []

    @event.listens_for(ours, "before_cursor_execute")
    def another_process_records_k2_first(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith("INSERT INTO event_ledger") and not raced:
            raced.append(True)
            with engine.begin() as other:
                other.execute(insert(LEDGER).values(
                    event_key="k2", provider="mailchimp", audience="newsletter", contact_id="c1", kind="open",
                    occurred_at=OCCURRED, imported_at=OCCURRED, run_id=99,
                ))

    with ours.begin() as conn:
        added = record_events(conn, [opened("k1"), opened("k2"), opened("k3")], run_id=1, now=OCCURRED)
    ours.dispose()

    assert raced and added == {"k1", "k3"}
    with engine.connect() as conn:
        rows = {row.event_key: row.run_id for row in conn.execute(select(LEDGER.c.event_key, LEDGER.c.run_id))}
    assert rows == {"k1": 1, "k2": 99, "k3": 1}


def test_ledger_rows_and_cursor_commit_together(store):
    with store.transaction() as tx:
        assert tx.record_events([opened("k1"), opened("k2")]) == {"k1", "k2"}
        tx.set_cursor(CURSOR, "2026-05-04T12:00:00+00:00", ["k2"])

    assert store.unseen_event_keys(["k1", "k2"]) == set()
    assert store.get_cursor(CURSOR).boundary_keys == {"k2"}


def test_a_failure_inside_the_transaction_leaves_neither_ledger_rows_nor_cursor(store):
    store.set_cursor(CURSOR, "2026-05-01T00:00:00+00:00")

    with pytest.raises(RuntimeError, match="CRM write failed"):
        with store.transaction() as tx:
            tx.record_events([opened("k1"), opened("k2")])
            tx.set_cursor(CURSOR, "2026-05-04T12:00:00+00:00", ["k2"])
            raise RuntimeError("CRM write failed")

    assert store.unseen_event_keys(["k1", "k2"]) == {"k1", "k2"}
    assert store.get_cursor(CURSOR).value == "2026-05-01T00:00:00+00:00"
