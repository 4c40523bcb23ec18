"""Shared fixtures: throw-away databases on every configured backend."""

from __future__ import annotations

import pytest

from tests.databases import BACKENDS, fresh_database


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path):
    """URL of an empty database, once per backend (SQLite always; PostgreSQL/MariaDB when configured)."""
    with fresh_database(request.param, tmp_path) as url:
        yield url
