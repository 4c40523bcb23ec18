"""Engines for the state store: URL checks, per-backend settings, errors without secrets.

Supported backends: SQLite (a file), PostgreSQL and MariaDB/MySQL. On SQLite SQLAlchemy emits
``BEGIN IMMEDIATE`` itself (the sqlite3 driver's own transaction handling skips BEGIN for DDL and
SAVEPOINT), so DDL is transactional, savepoints work and writers queue on the busy timeout instead of
failing with "database is locked" halfway through a transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, exc, make_url, text
from sqlalchemy.engine import URL

from sync.dburl import display_url, driver_message, refused_options
from sync.errors import ConfigError, ConnectionFailed
from sync.state.types import MYSQL_DIALECTS, utc_now

SUPPORTED_BACKENDS = ("sqlite", "postgresql", *MYSQL_DIALECTS)
SQLITE_BUSY_TIMEOUT_SECONDS = 30


def parse_url(url: str | URL) -> URL:
    """Parse and check a state-store URL; ``ConfigError`` (a setting to fix, exit 3) says what is wrong with it."""
    try:
        parsed = url if isinstance(url, URL) else make_url(url)
    except (exc.ArgumentError, ValueError):
        raise ConfigError(
            f"state store URL {display_url(url)!r} is not a database URL; "
            "expected e.g. sqlite:///data/state.db or postgresql+psycopg://user:password@host/dbname"
        ) from None
    if parsed.get_backend_name() not in SUPPORTED_BACKENDS:
        raise ConfigError(
            f"state store URL {display_url(parsed)}: backend {parsed.get_backend_name()!r} is not supported; "
            "use sqlite, postgresql or mysql/mariadb"
        )
    return parsed


def make_engine(url: str | URL) -> Engine:
    """An engine for the state store at ``url``; nothing is connected yet.

    For a SQLite file the parent folder is created, so a default such as ``sqlite:///data/state.db``
    works on a fresh checkout.
    """
    parsed = parse_url(url)
    backend = parsed.get_backend_name()
    options: dict[str, Any] = {}
    if backend == "sqlite":
        _create_sqlite_folder(parsed)
        options["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_SECONDS}
    else:
        # READ COMMITTED on both servers, so the store behaves the same on PostgreSQL and MariaDB.
        options.update(pool_pre_ping=True, isolation_level="READ COMMITTED")
    if parsed.get_driver_name() == "psycopg":
        # psycopg prepares a statement after 5 runs and PostgreSQL may then keep a generic plan made
        # while a table was empty: `key IN (500 parameters)` turned into a 500-way compare per row,
        # 20x slower on a 20,000-row ledger (benchmarks/state_store.py). Plan every query afresh.
        options["connect_args"] = {"prepare_threshold": None}
    try:
        engine = create_engine(parsed, **options)
    except exc.NoSuchModuleError:
        raise ConfigError(
            f"state store URL {display_url(parsed)}: no SQLAlchemy dialect for {parsed.drivername!r}"
        ) from None
    except ImportError as missing:
        raise ConfigError(
            f"state store URL {display_url(parsed)}: its database driver is not installed ({missing}); "
            "install crm-sync[postgres] or crm-sync[mysql]"
        ) from None
    if backend == "sqlite":
        event.listen(engine, "connect", _sqlite_leave_transactions_to_sqlalchemy)
        event.listen(engine, "begin", _sqlite_begin_immediate)
    return engine


def connect(engine: Engine, url: str | URL) -> Connection:
    """A connection; options in the URL the driver cannot use (``?charset=bogus``) are a ConfigError."""
    with refused_options(url, "state store"):
        return engine.connect()


@contextmanager
def translate_errors(url: str | URL, doing: str) -> Iterator[None]:
    """Turn "cannot reach or use the database" errors into ``ConnectionFailed`` naming the URL.

    Only the driver's own message is kept: SQLAlchemy's full text carries the SQL parameters, which may
    hold e-mail addresses.
    """
    try:
        yield
    except (exc.OperationalError, exc.InterfaceError) as failure:
        raise ConnectionFailed(
            f"state store {display_url(url)}: {doing} failed: {driver_message(failure, url)}"
        ) from None
    except exc.DatabaseError as failure:
        if type(failure) is not exc.DatabaseError:  # integrity and programming errors are bugs, not the database
            raise
        raise ConnectionFailed(  # e.g. SQLite's "file is not a database"
            f"state store {display_url(url)}: {doing} failed: {driver_message(failure, url)}"
        ) from None


def database_now(conn: Connection) -> datetime:
    """The database server's current UTC time, so machines with skewed clocks agree on lock expiry.

    A SQLite file is only shared by processes on one machine, so its clock is the local one.
    """
    dialect = conn.dialect.name
    if dialect == "postgresql":
        value = conn.execute(text("SELECT CURRENT_TIMESTAMP")).scalar_one()
    elif dialect in MYSQL_DIALECTS:
        value = conn.execute(text("SELECT UTC_TIMESTAMP(6)")).scalar_one()
    else:
        return utc_now()
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _create_sqlite_folder(url: URL) -> None:
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    folder = Path(database).expanduser().parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as failure:
        raise ConnectionFailed(
            f"state store {display_url(url)}: cannot create folder {folder}: {failure.strerror}"
        ) from None


def _sqlite_leave_transactions_to_sqlalchemy(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None


def _sqlite_begin_immediate(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")
