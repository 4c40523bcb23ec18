"""Every request the push and the Mailchimp pull make, checked against Mailchimp's official spec by Prism
(proxy mode, --errors).

With --errors Prism refuses a non-conforming request with 422 instead of forwarding it, and turns a
non-conforming sandbox answer into a 500; either would fail these pushes or show up in Prism's log.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sync.demo.crm.generate import create_demo_crm
from sync.runner import plan_audience, pull_audience, push_audience
from sync.sandbox.mailchimp import MailchimpSandbox
from tests.contract.prism import prism_proxy
from tests.push.world import World, eligible, make_settings


@pytest.fixture
def world_behind_prism(tmp_path):
    crm_url, state_url = f"sqlite:///{tmp_path / 'crm.db'}", f"sqlite:///{tmp_path / 'state.db'}"
    create_demo_crm(crm_url, contacts=250, seed=3)
    with MailchimpSandbox() as sandbox, prism_proxy(sandbox.base_url) as proxy:
        list_id = sandbox.create_audience("Contract push")
        settings = make_settings(tmp_path, sandbox, list_id, crm_url, state_url)
        settings.mailchimp.base_url = proxy.url
        yield World(settings, sandbox, list_id, crm_url, state_url), proxy
        assert sandbox.internal_errors == []


def test_every_push_request_conforms_to_the_spec(world_behind_prism):
    world, proxy = world_behind_prism
    plan_audience(world.settings, "newsletter")
    first = push_audience(world.settings, "newsletter")
    assert first.written > 100
    assert {reason for _, reason, _ in first.rejections} <= {"invalid_address"}
    members = world.members()
    rows = [r for r in world.contacts() if eligible(r) and r["email"].strip().lower() in members]
    world.edit_contact(rows[0]["id"], first_name="Changed")                       # batch update
    world.edit_contact(rows[1]["id"], email="contract.moved@ziggo.test")          # PUT on the old hash
    world.edit_contact(rows[2]["id"], email_opt_out=True)                         # GET, then PATCH status
    world.edit_contact(rows[3]["id"], deleted=True)                               # GET, then archive (DELETE)
    second = push_audience(world.with_audience(leave_policy="archive"), "newsletter")
    assert (second.summary.actions["update"], second.summary.actions["change_email"],
            second.summary.actions["unsubscribe"], second.summary.actions["archive"]) == (1, 1, 1, 1)
    assert second.rejected == 0 and second.written == 4
    log = proxy.log()
    assert "Violation" not in log and "returned 422" not in log, log[-3000:]  # (a port may contain 422)
    assert world.sandbox.request_count() >= first.requests  # everything reached the sandbox through Prism


def test_every_pull_request_conforms_to_the_spec(world_behind_prism):
    """The pull's reads: campaigns, reports by anchored offsets, the member list by keyset (before_last_changed)."""
    world, proxy = world_behind_prism
    push_audience(world.settings, "newsletter")
    members = world.members()
    emails = [r["email"].strip().lower() for r in world.contacts()
              if eligible(r) and r["email"].strip().lower() in members][:6]
    sent = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    campaign = world.sandbox.send_campaign(world.list_id, "Contract pull", send_time=sent)
    world.sandbox.record_open(campaign, emails[0], at=sent + timedelta(minutes=3))
    world.sandbox.record_unsubscribe(campaign, emails[1], at=sent + timedelta(minutes=4))
    for email in emails[2:]:  # outside any campaign, all in one second: the keyset reads that second alone
        world.sandbox.unsubscribe(world.list_id, email, at=sent + timedelta(minutes=5))
    settings = world.settings.model_copy(update={
        "mailchimp": world.settings.mailchimp.model_copy(update={"report_page_size": 2})})
    pulled = pull_audience(settings, "newsletter")
    assert pulled.events_imported > len(emails) and pulled.unmatched == 0
    log = proxy.log()
    assert "Violation" not in log and "returned 422" not in log, log[-3000:]
