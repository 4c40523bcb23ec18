from __future__ import annotations

import os

import pytest

from sync.demo.crm.generate import create_demo_crm
from sync.sandbox.mailchimp import MailchimpSandbox
from sync.sandbox.spotler import SpotlerSandbox
from tests.providers import (
    DEMO_SPOTLER_PROPERTIES,
    PROVIDERS,
    MailchimpView,
    SpotlerView,
)
from tests.push.world import World, make_settings


@pytest.fixture
def sandbox():
    with MailchimpSandbox() as running:
        yield running
        assert running.internal_errors == []


def _clean_environment(monkeypatch) -> None:
    for name in list(os.environ):
        if name.startswith("CRM_SYNC_") and not name.startswith("CRM_SYNC_TEST_"):
            monkeypatch.delenv(name)


def _demo_crm(tmp_path) -> tuple[str, str]:
    crm_url = f"sqlite:///{tmp_path / 'crm.db'}"
    create_demo_crm(crm_url, contacts=300, seed=11)
    return crm_url, f"sqlite:///{tmp_path / 'state.db'}"


@pytest.fixture
def world(tmp_path, sandbox, monkeypatch):
    """The demo CRM and a Mailchimp audience (for Mailchimp-only behaviour)."""
    _clean_environment(monkeypatch)
    crm_url, state_url = _demo_crm(tmp_path)
    list_id = sandbox.create_audience("Newsletter")
    return World(make_settings(tmp_path, sandbox, list_id, crm_url, state_url), sandbox, list_id, crm_url,
                 state_url, MailchimpView(sandbox, list_id))


@pytest.fixture
def spotler_world(tmp_path, monkeypatch):
    """The demo CRM and a Spotler Mail+ account with the properties config/mapping.yaml names."""
    _clean_environment(monkeypatch)
    crm_url, state_url = _demo_crm(tmp_path)
    with SpotlerSandbox(properties=DEMO_SPOTLER_PROPERTIES) as spotler:
        # Changes are stamped 2 s late and the pull reads up to 1 s before it started (feed_lag_seconds): a
        # pull right after a change sees it, and a change right after a pull is in the next window.
        spotler.run_clock_behind(2)
        yield World(make_settings(tmp_path, spotler, None, crm_url, state_url), spotler, None, crm_url, state_url,
                    SpotlerView(spotler))
        assert spotler.internal_errors == []


@pytest.fixture(params=PROVIDERS)
def any_world(request):
    """The demo CRM and each provider in turn: the scenarios every provider must pass."""
    return request.getfixturevalue("world" if request.param == "mailchimp" else "spotler_world")


def summary(terminalreporter) -> None:
    """How much the incremental-push property tried (tests/push/test_incremental.py); printed at the end of the
    session by tests/conftest.py (the one conftest a pytest-xdist controller loads)."""
    from tests.push.test_incremental import TRIED

    if TRIED:
        terminalreporter.section("incremental-push property")
        terminalreporter.write_line(", ".join(f"{name} {count}" for name, count in sorted(TRIED.items())))
