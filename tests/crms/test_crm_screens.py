"""What a CRM user sees after a pull, in the CRM's own screens: the live EspoCRM's campaign and contact pages
and the live vtiger's contact page, in headless Chromium. The screenshots are kept in ``test-artifacts/``
(``CRM_SYNC_TEST_ARTIFACTS``)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from sync.runner import pull_audience, push_audience
from tests.crms.scenario import AUDIENCE, engage, settings_for
from tests.crms.worlds import espocrm_live_world, vtiger_live_world
from tests.live.crms import crm_page, require

ARTIFACTS = Path(os.environ.get("CRM_SYNC_TEST_ARTIFACTS", "test-artifacts"))


def espo_campaign_id(world, name: str) -> str:
    where = [{"type": "equals", "attribute": "name", "value": name}]
    answer = requests.get(f"{world.crm['base_url']}/api/v1/Campaign", timeout=30,
                          params={"searchParams": json.dumps({"where": where, "select": ["id"]})},
                          headers={"X-Api-Key": world.crm["api_key"]})
    answer.raise_for_status()
    found = answer.json()["list"]
    assert len(found) == 1, found
    return str(found[0]["id"])


def pushed_engaged_pulled(world, mailchimp, folder: Path) -> dict[str, str]:
    """Push the world, engage a campaign (``tests/crms/scenario.py``), pull it back; who did what."""
    audience_id = mailchimp.create_audience(world.name)
    settings = settings_for(world, mailchimp, audience_id, folder)
    push_audience(settings, AUDIENCE)
    who = engage(world, mailchimp, audience_id)
    pull_audience(settings, AUDIENCE)
    return who


@pytest.mark.xdist_group("live-espocrm")
def test_espocrm_shows_the_pulled_engagement_on_the_campaign_and_the_contact(mailchimp, tmp_path):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with espocrm_live_world() as world:
        who = pushed_engaged_pulled(world, mailchimp, tmp_path)
        with world.port() as crm:
            names = {c.id: f"{c.fields['firstName']} {c.fields['lastName']}" for c in crm.contacts_by_ids(who.values())}

        campaign = crm_page("espocrm", f"Campaign/view/{espo_campaign_id(world, 'Mailchimp: Spring Newsletter')}",
                             ARTIFACTS / "espocrm-campaign.png")
        log = campaign[campaign.index("\nLog\n"):campaign.index("Statistics")]
        for action in ("Opened", "Clicked", "Bounced", "Opted Out"):  # the newest five rows; Sent rows follow
            assert action in log, action
        assert all(name in log for name in names.values()), (names, log[:2000])
        counters = " ".join(campaign[campaign.index("Statistics"):].split())
        assert "Sent 5 Clicked 1 (20%) Opted Out 1 (20%) Bounced 1 (20%)" in counters, counters

        with campaign_log_panel_on_contacts():  # as the README tells EspoCRM's admin to do
            contact = crm_page("espocrm", f"Contact/view/{who['opener']}", ARTIFACTS / "espocrm-contact.png")
        panel = contact[contact.index("Campaign Log"):]
        assert panel.count("Opened") == 2 and "Mailchimp: Spring Newsletter" in panel, panel[:2000]


@pytest.mark.xdist_group("live-vtiger")
def test_vtiger_shows_the_pulled_engagement_as_comments_on_the_contact(mailchimp, tmp_path):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with vtiger_live_world() as world:
        who = pushed_engaged_pulled(world, mailchimp, tmp_path)

        record = who["bouncer"].split("x")[1]
        page = crm_page("vtiger", f"module=Contacts&view=Detail&record={record}", ARTIFACTS / "vtiger-contact.png")
        comments = page[page.index("Recent Comments"):]
        assert "Hard bounce: Spring Newsletter" in comments and "[crm-sync email_bounce" in comments, comments[:2000]


@contextmanager
def campaign_log_panel_on_contacts() -> Iterator[None]:
    """EspoCRM's Layout Manager: Contacts › Relationships › add "Campaign Log" (kept in a file, not the database,
    so it is put back afterwards)."""
    env = require("espocrm")
    url = f"{env['LIVE_ESPOCRM_API_URL']}/Contact/layout/relationships"
    admin = (env["LIVE_ESPOCRM_ADMIN_USER"], env["LIVE_ESPOCRM_ADMIN_PASSWORD"])
    before = requests.get(url, auth=admin, timeout=30).json()
    requests.put(url, auth=admin, json=["campaignLogRecords", *before], timeout=30).raise_for_status()
    try:
        yield
    finally:
        requests.put(url, auth=admin, json=before, timeout=30).raise_for_status()
