"""Alembic environment for the state store; there is no alembic.ini, see ``sync.state.migrate``.

``upgrade_schema`` hands in an open connection that is already inside a transaction and holds the
migration lock; Alembic then runs every step inside that one transaction. For other commands (e.g.
``command.revision(alembic_config(url), autogenerate=True)``) the URL is taken from the config.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from sync.errors import ConfigError
from sync.state.engine import make_engine
from sync.state.migrate import VERSION_TABLE, migration_options
from sync.state.models import Base


def run_migrations(connection: Connection) -> None:
    context.configure(connection=connection, **migration_options(Base.metadata))
    with context.begin_transaction():
        context.run_migrations()


def run() -> None:
    if context.is_offline_mode():
        raise ConfigError("offline (--sql) migrations are not supported; apply them with upgrade_schema "
                          f"({VERSION_TABLE})")
    config = context.config
    connection = config.attributes.get("connection")
    if connection is not None:
        run_migrations(connection)
        return
    engine = make_engine(config.attributes["url"])
    try:
        with engine.connect() as connection, connection.begin():
            run_migrations(connection)
    finally:
        engine.dispose()


run()
