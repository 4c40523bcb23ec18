"""Create or upgrade the state store's schema with Alembic, without an alembic.ini on disk."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, MetaData, text
from sqlalchemy.engine import URL

from sync.dburl import display_url
from sync.errors import ConfigError, ConnectionFailed
from sync.state.engine import connect, make_engine, translate_errors
from sync.state.types import MYSQL_DIALECTS

MIGRATIONS_FOLDER = Path(__file__).resolve().parent / "migrations"
# Our own name, so a database shared with another Alembic-managed application keeps both histories apart.
VERSION_TABLE = "crm_sync_alembic_version"
MIGRATION_LOCK_NAME = "crm_sync_state_schema"
MIGRATION_LOCK_TIMEOUT_SECONDS = 300


def alembic_config(url: str | URL | None = None, connection: Connection | None = None) -> Config:
    """An Alembic ``Config`` for the state store at ``url``, built in code.

    With ``connection`` the migrations run on it (inside its current transaction); otherwise env.py
    opens its own to ``url``. Neither is needed to inspect the revisions. Developers add a revision with
    ``alembic.command.revision(alembic_config(url), message="...", autogenerate=True)``.
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_FOLDER).replace("%", "%%"))
    if url is not None:
        config.attributes["url"] = url
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def migration_options(target_metadata: MetaData) -> dict[str, Any]:
    """Options for ``MigrationContext.configure``, shared by env.py and the models-vs-migrations check."""
    return {
        "target_metadata": target_metadata,
        "version_table": VERSION_TABLE,
        "compare_type": True,
        "render_as_batch": True,  # SQLite can only ALTER by copying a table; batch mode does that
    }


def head_revision() -> str:
    """The newest schema revision this version of crm-sync knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "sync/state/migrations/versions holds no revision"
    return head


def current_revision(url: str | URL) -> str | None:
    """The schema revision of the state store at ``url``; None when it has never been created."""
    engine = make_engine(url)
    try:
        with translate_errors(url, "reading the schema revision"), connect(engine, url) as conn:
            context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
            return context.get_current_revision()
    finally:
        engine.dispose()


def upgrade_schema(url: str | URL) -> None:
    """Create the state store's tables or bring them up to date; a no-op when already current.

    Safe to call on every start, also by several processes at once: they queue on a migration lock
    (an advisory lock on PostgreSQL, GET_LOCK on MariaDB, the write lock on SQLite), and whoever comes
    second finds the schema current.
    """
    engine = make_engine(url)
    try:
        with translate_errors(url, "upgrading the schema"), connect(engine, url) as conn:
            with _migration_lock(conn, url):
                with conn.begin():
                    command.upgrade(alembic_config(url, conn), "head")
    except CommandError as failure:
        raise ConfigError(
            f"state store {display_url(url)}: cannot upgrade its schema to {head_revision()}: {failure}; "
            "a newer crm-sync may have upgraded it"
        ) from None
    finally:
        engine.dispose()


@contextmanager
def _migration_lock(conn: Connection, url: str | URL) -> Iterator[None]:
    """Hold a server-wide lock around the migration transaction, released only after its commit."""
    dialect = conn.dialect.name
    if dialect == "postgresql":
        key = zlib.crc32(MIGRATION_LOCK_NAME.encode())
        conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
        conn.commit()
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
            conn.commit()
    elif dialect in MYSQL_DIALECTS:
        # GET_LOCK names are server-wide: include the database so separate stores do not wait on each other.
        name = f"{MIGRATION_LOCK_NAME}:{conn.engine.url.database}"[:64]
        got = conn.execute(
            text("SELECT GET_LOCK(:name, :timeout)"), {"name": name, "timeout": MIGRATION_LOCK_TIMEOUT_SECONDS}
        ).scalar()
        conn.commit()
        if got != 1:
            raise ConnectionFailed(
                f"state store {display_url(url)}: another process has been upgrading the schema for "
                f"{MIGRATION_LOCK_TIMEOUT_SECONDS}s; try again when it has finished"
            )
        try:
            yield
        finally:
            conn.execute(text("SELECT RELEASE_LOCK(:name)"), {"name": name})
            conn.commit()
    else:
        # SQLite: the migration transaction starts with BEGIN IMMEDIATE, which is the lock.
        yield
