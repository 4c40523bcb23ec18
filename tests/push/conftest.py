from __future__ import annotations

import pytest

from sync.democrm.generate import create_demo_crm
from sync.sandbox.mailchimp import MailchimpSandbox
from tests.push.world import World, make_settings


@pytest.fixture
def sandbox():
    with MailchimpSandbox() as running:
        yield running
        assert running.internal_errors == []


@pytest.fixture
def world(tmp_path, sandbox, monkeypatch):
    for name in list(__import__("os").environ):
        if name.startswith("CRM_SYNC_") and not name.startswith("CRM_SYNC_TEST_"):
            monkeypatch.delenv(name)
    crm_url = f"sqlite:///{tmp_path / 'crm.db'}"
    state_url = f"sqlite:///{tmp_path / 'state.db'}"
    create_demo_crm(crm_url, contacts=300, seed=11)
    list_id = sandbox.create_audience("Newsletter")
    return World(make_settings(tmp_path, sandbox, list_id, crm_url, state_url), sandbox, list_id, crm_url,
                 state_url)
