"""The same segment through each CRM's port: the embedded SQL CRM and the vtiger and EspoCRM fakes (the
worlds of tests/crms, never the live CRMs)."""

from __future__ import annotations

import os

import pytest

from sync.addresses import normalise_email
from sync.segments.select import select_recipients
from sync.settings import Settings
from tests.crms.worlds import SHARED, espocrm_fake_world, sql_world, vtiger_fake_world

WORLDS = {"sql": sql_world, "vtiger-fake": lambda _: vtiger_fake_world(),
          "espocrm-fake": lambda _: espocrm_fake_world()}


@pytest.mark.parametrize("kind", list(WORLDS))
def test_same_recipients_on_every_crm(kind, tmp_path, monkeypatch):
    for name in [name for name in os.environ if name.startswith("CRM_SYNC_") and not name.startswith("CRM_SYNC_TEST_")]:
        monkeypatch.delenv(name)
    with WORLDS[kind](tmp_path) as world:
        (tmp_path / "segments.yaml").write_text(
            "segments:\n  everyone:\n    audience: newsletter\n    steps:\n"
            f"      - include: {{field: {world.email}, contains: '@CRM-SYNC.dev'}}\n"
            f"      - exclude: {{field: {world.first_name}, equals: \"'; DROP TABLE x; --\"}}\n")
        settings = Settings(crm=world.crm, segments_file=tmp_path / "segments.yaml",
                            audiences={"newsletter": {"audience_id": "x", "consent_field": world.consent_field}})
        selection = select_recipients(settings, "everyone")
        emails = {normalise_email(candidate.email) for candidate in selection.email_recipients}
        assert emails == set(world.emails().values())
        assert len(selection.email_recipients) == len(emails)  # one member for the shared address
        assert dict(selection.reasons()) == {"shared_email": 1}
        shared = [candidate.contact_id for candidate in selection.candidates if candidate.email == SHARED]
        assert len(shared) == 2 and selection.step_counts == [7, 7]
