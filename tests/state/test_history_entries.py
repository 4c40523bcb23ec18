"""History entry details: kept by external key (any length), replaced on a rewrite, committed with the ledger."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sync.records import ActivityRecord
from sync.state.ledger import LedgerEvent

FIRST = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
LATER = datetime(2026, 5, 6, 8, 30, tzinfo=UTC)
LONG_KEY = "mailchimp:" + "a" * 100 + ":campaign-42:contact:" + "7" * 300


def entry(key: str, opens: int, last_at: datetime = FIRST) -> ActivityRecord:
    return ActivityRecord(key, "email_campaign", "Spring: opened", "", FIRST, last_at, contact_id="c1",
                          details={"campaign_id": "42", "opens": opens, "folded": ["k" * 16] * opens})


def test_details_come_back_by_external_key_whatever_its_length(store):
    with store.transaction() as tx:
        tx.save_history_entries([entry(LONG_KEY, 1), entry("short", 2)])

    kept = store.history_entries([LONG_KEY, "short", "unknown"])

    assert set(kept) == {LONG_KEY, "short"}
    details, first_at, last_at = kept[LONG_KEY]
    assert details["opens"] == 1 and first_at == FIRST and last_at == FIRST


def test_a_rewrite_replaces_the_details(store):
    with store.transaction() as tx:
        tx.save_history_entries([entry("k", 1)])
    with store.transaction() as tx:
        tx.save_history_entries([entry("k", 3, LATER), entry("k", 3, LATER)])

    details, _, last_at = store.history_entries(["k"])["k"]
    assert details["opens"] == 3 and last_at == LATER


def test_details_are_committed_with_the_ledger_or_not_at_all(store):
    with pytest.raises(RuntimeError), store.transaction() as tx:
        tx.record_events([LedgerEvent("e1", "mailchimp", "newsletter", "open", FIRST, "c1")])
        tx.save_history_entries([entry("k", 1)])
        raise RuntimeError("crash before commit")

    assert store.history_entries(["k"]) == {}
    assert store.unseen_event_keys(["e1"]) == {"e1"}
