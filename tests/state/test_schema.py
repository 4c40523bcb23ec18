"""Schema creation and upgrade through Alembic, and models and migrations agreeing, on every backend."""

from __future__ import annotations

import multiprocessing

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData, String, func, inspect, select, table, text

from sync.errors import ConfigError
from sync.state.engine import make_engine
from sync.state.migrate import (
    VERSION_TABLE,
    current_revision,
    head_revision,
    migration_options,
    upgrade_schema,
)
from sync.state.models import Base
from sync.state.store import open_state
from tests.state import workers

STATE_TABLES = {"runs", "member_state", "cursors", "event_ledger", "run_lock", "push_intents", "history_entries",
                "segment_marks", "segment_members"}


def schema_differences(url: str, metadata: MetaData) -> list:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return compare_metadata(MigrationContext.configure(conn, opts=migration_options(metadata)), metadata)
    finally:
        engine.dispose()


def test_upgrade_creates_every_table_from_nothing(database_url):
    assert current_revision(database_url) is None

    upgrade_schema(database_url)

    engine = make_engine(database_url)
    with engine.connect() as conn:
        assert set(inspect(conn).get_table_names()) == STATE_TABLES | {VERSION_TABLE}
    engine.dispose()
    assert current_revision(database_url) == head_revision()


def test_upgrading_again_changes_nothing_and_keeps_data(store, engine):
    run_id = store.start_run("push", "newsletter")

    upgrade_schema(store.url)
    upgrade_schema(store.url)

    with engine.connect() as conn:
        versions = conn.execute(select(func.count()).select_from(table(VERSION_TABLE))).scalar_one()
    assert versions == 1
    assert current_revision(store.url) == head_revision()
    assert [run.id for run in store.recent_runs()] == [run_id]


def test_models_and_migrations_agree(store):
    assert schema_differences(store.url, Base.metadata) == []


def test_the_agreement_check_notices_a_difference(store):
    # The check above is only worth something if a real difference shows up.
    changed = MetaData(naming_convention=Base.metadata.naming_convention)
    for model_table in Base.metadata.tables.values():
        model_table.to_metadata(changed)
    changed.tables["cursors"].c["name"].type = String(150)

    differences = schema_differences(store.url, changed)

    assert [(diff[0][0], diff[0][2], diff[0][3]) for diff in differences] == [("modify_type", "cursors", "name")]


def test_processes_upgrading_at_once_all_succeed(database_url):
    context = multiprocessing.get_context("spawn")
    start, results = context.Barrier(3), context.Queue()
    processes = [context.Process(target=workers.race_to_upgrade, args=(database_url, start, results)) for _ in range(3)]
    for process in processes:
        process.start()
    errors = [results.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(timeout=60)

    assert errors == [None, None, None]
    assert current_revision(database_url) == head_revision()


def test_read_only_open_of_an_empty_store_says_to_upgrade(database_url):
    with pytest.raises(ConfigError, match="has no schema yet.*crm-sync db upgrade"):
        open_state(database_url, upgrade=False)


def test_read_only_open_of_a_current_store_works(store):
    with open_state(store.url, upgrade=False) as again:
        assert again.recent_runs() == []


def test_a_schema_from_a_newer_crm_sync_is_refused_clearly(store, engine):
    with engine.begin() as conn:
        conn.execute(text(f"UPDATE {VERSION_TABLE} SET version_num = '9999'"))

    with pytest.raises(ConfigError, match="cannot upgrade its schema.*newer crm-sync"):
        upgrade_schema(store.url)
