"""Shared fixtures: throw-away databases on every configured backend."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings

from tests.databases import BACKENDS, fresh_database


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path):
    """URL of an empty database, once per backend (SQLite always; PostgreSQL/MariaDB when configured)."""
    with fresh_database(request.param, tmp_path) as url:
        yield url


# Profiles of the model-based test (tests/model): a bounded one for CI, and `--hypothesis-profile=long`.
# Registered here so hypothesis's own option finds them when it loads a profile at start-up.
# The CI profile is derandomized: the same examples every run, so a red CI is a reproducible failure, never a
# draw; `--hypothesis-profile=long` (random) and `--hypothesis-seed` explore new histories.
settings.register_profile("model-ci", max_examples=12, stateful_step_count=30, deadline=None, derandomize=True,
                          suppress_health_check=list(HealthCheck))
settings.register_profile("long", max_examples=150, stateful_step_count=60, deadline=None,
                          suppress_health_check=list(HealthCheck))
