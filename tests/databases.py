"""Fresh, throw-away databases for tests on SQLite, PostgreSQL and MariaDB.

PostgreSQL and MariaDB run only where their server URL is set:
``CRM_SYNC_TEST_POSTGRES_URL`` (e.g. ``postgresql+psycopg://postgres@127.0.0.1:5432/test``) and
``CRM_SYNC_TEST_MARIADB_URL`` (e.g. ``mysql+pymysql://root@127.0.0.1:3306/test``).
Each test gets its own database, created on that server and dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text

SERVER_ENV = {
    "postgresql": "CRM_SYNC_TEST_POSTGRES_URL",
    "mariadb": "CRM_SYNC_TEST_MARIADB_URL",
}
BACKENDS = ["sqlite", "postgresql", "mariadb"]


@contextmanager
def fresh_database(backend: str, tmp_path: Path) -> Iterator[str]:
    """Yield the URL of a new empty database on ``backend``; skip when the server is not configured."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    env = SERVER_ENV[backend]
    server_url = os.environ.get(env)
    if not server_url:
        pytest.skip(f"{backend} tests need {env} (a server URL); .ci/run sets it")
    name = f"crmsync_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {name}"))
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            if backend == "postgresql":
                conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            else:
                conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        admin.dispose()
