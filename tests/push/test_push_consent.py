"""Consent is never invented and an unsubscribe is always honoured: with every provider (``any_world``),
and the Mailchimp-only rules (compliance states, re-opt-in, merge-field types) with ``world``."""

from __future__ import annotations

import pytest

from sync.addresses import normalise_email
from sync.errors import ConfigError
from sync.push.executor import SafetyStop
from sync.runner import push_audience
from tests.push.world import eligible


def pushed_contact(world, **extra):
    """A contact that is a member after the first push and shares its address with nobody."""
    members = world.members()
    rows = world.contacts()
    for row in rows:
        email = (row["email"] or "").strip().lower()
        if (eligible(row) and email in members
                and sum(1 for r in rows if (r["email"] or "").strip().lower() == email) == 1):
            return row, email
    raise AssertionError("no pushed contact")


def test_an_update_never_resubscribes_someone_who_unsubscribed_in_the_provider(any_world):
    world = any_world
    push_audience(world.settings, "newsletter")
    row, email = pushed_contact(world)
    world.view.unsubscribe(email)
    world.edit_contact(row["id"], last_name="Changed-After-Unsubscribe")
    push_audience(world.settings, "newsletter")
    member = world.members()[email]
    assert member["status"] == "unsubscribed"
    assert member["fields"]["LNAME"] == "Changed-After-Unsubscribe"


def test_a_crm_opt_out_unsubscribes_even_with_leave_policy_keep(any_world):
    world = any_world
    push_audience(world.settings, "newsletter")
    row, email = pushed_contact(world)
    world.edit_contact(row["id"], email_opt_out=True)
    report = push_audience(world.settings, "newsletter")
    assert report.summary.actions["unsubscribe"] == 1
    assert world.members()[email]["status"] == "unsubscribed"
    world.view.reset_traffic()
    push_audience(world.settings, "newsletter")
    assert world.writes() == 0  # honoured once, not sent again


def test_lost_consent_follows_the_leave_policy(any_world):
    world = any_world
    push_audience(world.settings, "newsletter")
    row, email = pushed_contact(world)
    world.edit_contact(row["id"], email_opt_in=False)
    kept = push_audience(world.settings, "newsletter")
    assert kept.summary.reasons["kept_consent_withdrawn"] == 1
    assert world.members()[email]["status"] == "subscribed"
    archived = push_audience(world.with_audience(leave_policy="archive"), "newsletter")
    assert archived.summary.actions["archive"] == 1
    members = world.members()
    if world.provider == "spotler":  # anonymised: no contact has the address any more
        assert email not in members
    else:
        assert members[email]["status"] == "archived"


def test_only_members_crm_sync_added_are_archived(any_world):
    world = any_world
    row = next(r for r in world.contacts() if eligible(r))
    email = row["email"].strip().lower()
    world.view.add_existing(email)  # already at the provider before crm-sync came
    push_audience(world.settings, "newsletter")
    assert not world.state(row["id"]).owned
    if world.provider == "mailchimp":
        assert email not in set(world.sandbox.segment_emails(world.list_id, "crm-sync"))
    world.edit_contact(row["id"], deleted=True)
    report = push_audience(world.with_audience(leave_policy="archive"), "newsletter")
    assert report.summary.reasons["not_owned"] == 1 and report.summary.actions["archive"] == 0
    assert world.members()[email]["status"] == "subscribed"


def test_mass_unsubscribe_stops_before_writing_unless_forced(any_world):
    world = any_world
    push_audience(world.settings, "newsletter")
    members_before = world.members()
    rows = [r for r in world.contacts() if (r["email"] or "").strip().lower() in members_before]
    for row in rows[: len(rows) // 4]:
        world.edit_contact(row["id"], email_opt_out=True)
    world.view.reset_traffic()
    with pytest.raises(SafetyStop, match="more than the safety threshold of 10%"):
        push_audience(world.settings, "newsletter")
    assert world.writes() == 0
    assert world.members(status="unsubscribed") == {}
    report = push_audience(world.settings, "newsletter", force=True)
    assert report.summary.actions["unsubscribe"] == len(world.members(status="unsubscribed")) > 0


def test_terminal_rejections_are_recorded_and_not_retried(world):
    first = push_audience(world.settings, "newsletter")
    fake = [c for c, reason, _ in first.rejections if reason == "invalid_address"]
    assert fake  # the demo CRM has a few fake-looking addresses
    row, email = pushed_contact(world)
    world.sandbox.permanently_delete(world.list_id, email)
    world.edit_contact(row["id"], first_name="Again")
    report = push_audience(world.settings, "newsletter")
    assert (str(row["id"]), "forgotten_email") in {(c, r) for c, r, _ in report.rejections}
    assert world.state(row["id"]).reason_code == "forgotten_email"
    world.sandbox.reset_traffic()
    again = push_audience(world.settings, "newsletter", full=True)  # every contact read: none is sent again
    assert world.writes() == 0 and again.rejected == 0
    assert again.summary.reasons["forgotten_email"] == 1
    assert again.summary.reasons["invalid_address"] == len(fake)


def test_an_email_change_moves_the_member(any_world):
    world = any_world
    push_audience(world.settings, "newsletter")
    row, email = pushed_contact(world)
    count = len(world.members())
    world.edit_contact(row["id"], email="moved.address@ziggo.test")
    report = push_audience(world.settings, "newsletter")
    assert report.summary.actions["change_email"] == 1
    members = world.members()
    assert "moved.address@ziggo.test" in members and email not in members
    assert len(members) == count


def test_contacts_sharing_an_email_become_one_member(any_world):
    world = any_world
    rows = [r for r in world.contacts() if eligible(r)][:2]
    world.edit_contact(rows[1]["id"], email=rows[0]["email"].upper())
    push_audience(world.settings, "newsletter")
    states = {row["id"]: world.state(row["id"]) for row in rows}
    winners = [cid for cid, state in states.items() if state.provider_id]
    merged = [state for state in states.values() if state.merged_into]
    assert len(winners) == 1 and len(merged) == 1 and merged[0].merged_into == str(winners[0])
    assert rows[0]["email"].strip().lower() in world.members()


def test_a_bad_value_costs_only_that_field_and_the_contact_still_syncs(world):
    row = next(r for r in world.contacts() if eligible(r) and r["street"] and r["city"] and r["postal_code"])
    push_audience(world.settings, "newsletter")
    address = normalise_email(row["email"])
    held = world.members()[address]["fields"]["ADDRESS"]
    world.edit_contact(row["id"], street="Only a street", city=None, postal_code=None, region=None,
                       first_name="Renamed")  # not a complete address any more, and a new first name
    report = push_audience(world.settings, "newsletter")
    assert report.counts()["field_warnings"] == report.summary.warnings[("ADDRESS", "incomplete_address")] >= 1
    state = world.state(row["id"])
    assert state.reason_code is None and [w["problem"] for w in state.warnings] == ["incomplete_address"]
    assert "ADDRESS (from street" not in (state.last_error or "") and "city (city)" in state.warnings[0]["detail"]
    member = world.members()[address]["fields"]
    assert member["FNAME"] == "Renamed"  # the contact is still synced
    assert member["ADDRESS"] == held  # the bad field is left out, never cleared


def test_a_type_conflict_with_an_existing_field_is_a_clear_error(world):
    world.sandbox.create_audience  # noqa: B018  (audience exists already)
    import mailchimp_marketing

    client = mailchimp_marketing.Client()
    client.set_config({"api_key": world.sandbox.api_key})
    client.api_client.host = world.sandbox.base_url
    client.lists.add_list_merge_field(world.list_id, {"tag": "TIER", "name": "Tier", "type": "text"})
    world.sandbox.reset_traffic()
    with pytest.raises(ConfigError,
                       match="merge field TIER is of type text in Mailchimp but the mapping says dropdown"):
        push_audience(world.settings, "newsletter")
    assert world.writes() == 0


def test_reoptin_asks_an_unsubscribed_member_once_and_only_when_enabled(world):
    push_audience(world.settings, "newsletter")
    row, email = pushed_contact(world)
    world.sandbox.unsubscribe(world.list_id, email)
    world.edit_contact(row["id"], first_name="Learns-Status")
    push_audience(world.settings, "newsletter")  # the update's answer tells us the member unsubscribed
    assert world.state(row["id"]).provider_status == "unsubscribed"
    world.sandbox.reset_traffic()
    assert push_audience(world.settings, "newsletter").summary.reasons["unsubscribed_in_provider"] == 1
    assert world.writes() == 0
    asked = push_audience(world.with_audience(reoptin=True), "newsletter")
    assert asked.summary.actions["reoptin"] == 1
    assert world.members()[email]["status"] == "pending"
    world.sandbox.reset_traffic()
    push_audience(world.with_audience(reoptin=True), "newsletter")
    assert world.writes() == 0  # never a second confirmation mail
