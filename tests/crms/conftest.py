"""Each scenario runs once per CRM: the embedded SQL CRM, the fake vtiger and EspoCRM, and the live ones
(``tests/live/crms.py``: skipped when they do not run, except under CI). Live worlds are restored to their seed
first and share an xdist group, so one test at a time changes a live CRM."""

from __future__ import annotations

import pytest

from sync.sandbox.mailchimp import MailchimpSandbox
from tests.crms.worlds import espocrm_fake_world, espocrm_live_world, sql_world, vtiger_fake_world, vtiger_live_world

WORLDS = {
    "sql": lambda tmp_path: sql_world(tmp_path),
    "vtiger-fake": lambda tmp_path: vtiger_fake_world(),
    "vtiger-live": lambda tmp_path: vtiger_live_world(),
    "vtiger-db-live": lambda tmp_path: vtiger_live_world(from_database=True),
    "espocrm-fake": lambda tmp_path: espocrm_fake_world(),
    "espocrm-live": lambda tmp_path: espocrm_live_world(),
}
LIVE_GROUPS = {"vtiger-live": "live-vtiger", "vtiger-db-live": "live-vtiger", "espocrm-live": "live-espocrm"}


def pytest_collection_modifyitems(items):
    for item in items:
        callspec = getattr(item, "callspec", None)
        kind = callspec.params.get("world") if callspec else None
        if kind in LIVE_GROUPS:
            item.add_marker(pytest.mark.xdist_group(LIVE_GROUPS[kind]))


@pytest.fixture(params=list(WORLDS))
def world(request, tmp_path):
    with WORLDS[request.param](tmp_path) as prepared:
        yield prepared


@pytest.fixture
def mailchimp():
    with MailchimpSandbox() as sandbox:
        yield sandbox
        assert sandbox.internal_errors == []
