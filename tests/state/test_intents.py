"""Push intents in the state store, on every backend: the 0002 migration, recording, settling with outcomes."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import inspect

from sync.state.engine import make_engine
from sync.state.intents import IntentRow
from sync.state.members import MemberOutcome
from sync.state.migrate import (
    alembic_config,
    current_revision,
    head_revision,
    upgrade_schema,
)
from sync.state.store import StateStore

CHANGE = IntentRow("7", "change_email", "new@example.test", "old@example.test", None, "hash-7")


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return set(inspect(conn).get_table_names())
    finally:
        engine.dispose()


def test_upgrading_a_0001_store_to_intents_keeping_its_rows_and_downgrades_cleanly(database_url):
    command.upgrade(alembic_config(database_url), "0001")
    assert current_revision(database_url) == "0001" and "push_intents" not in _tables(database_url)
    old = StateStore(database_url)
    run_id = old.start_run("push", "newsletter")
    old.close()

    upgrade_schema(database_url)

    assert current_revision(database_url) == head_revision()
    assert "push_intents" in _tables(database_url)
    with StateStore(database_url) as store:
        assert [run.id for run in store.recent_runs()] == [run_id]
        store.record_intents("newsletter", [CHANGE])
        assert store.unsettled_intents("newsletter") == [CHANGE]
    command.downgrade(alembic_config(database_url), "0001")
    assert "push_intents" not in _tables(database_url) and "runs" in _tables(database_url)


def test_intents_are_per_audience_replaced_per_contact_and_settled_with_the_outcome(store):
    store.record_intents("newsletter", [CHANGE, IntentRow("8", "create", "eight@example.test")])
    store.record_intents("other", [IntentRow("7", "unsubscribe", "old@example.test", reason_code="opted_out")])
    store.record_intents("newsletter", [IntentRow("8", "update", "eight@example.test", payload_hash="h")])

    assert store.unsettled_intents("newsletter") == [CHANGE, IntentRow("8", "update", "eight@example.test",
                                                                       payload_hash="h")]
    store.record_answers("newsletter", [MemberOutcome("8", email="eight@example.test", last_error="x")], ["8"])

    assert store.unsettled_intents("newsletter") == [CHANGE]
    assert store.member_states("newsletter", ["8"])["8"].last_error == "x"
    assert [intent.contact_id for intent in store.unsettled_intents("other")] == ["7"]


def test_outcomes_and_settling_commit_together_or_not_at_all(store):
    store.record_intents("newsletter", [CHANGE])
    def settled_then_crash():
        yield "7"
        raise RuntimeError("killed while settling")

    outcome = MemberOutcome("7", email="new@example.test", last_error="fine")
    with pytest.raises(RuntimeError):  # the settle dies after the outcome was written: both roll back
        store.record_answers("newsletter", [outcome], settled_then_crash())

    assert store.unsettled_intents("newsletter") == [CHANGE]
    assert store.member_states("newsletter", ["7"]) == {}
