"""Fixtures for the state-store tests: an upgraded store on every backend, and a plain engine beside it."""

from __future__ import annotations

import pytest

from sync.state.engine import make_engine
from sync.state.store import open_state


@pytest.fixture
def store(database_url):
    """A state store with its schema created, on each backend."""
    state = open_state(database_url)
    yield state
    state.close()


@pytest.fixture
def engine(store):
    """A second engine on the same database, for looking at rows the way another process would."""
    other = make_engine(store.url)
    yield other
    other.dispose()
