"""Pushing the demo CRM into the Mailchimp sandbox: typed fields, only changes, consent, idempotency."""

from __future__ import annotations

from sync.runner import plan_audience, push_audience
from tests.push.world import eligible


def test_first_push_creates_every_eligible_member_with_typed_fields(world):
    report = push_audience(world.settings, "newsletter")
    members = world.members()
    rows = world.contacts()
    shared = {e for e in (r["email"].strip().lower() for r in rows if r["email"])
              if sum(1 for r in rows if (r["email"] or "").strip().lower() == e) > 1}
    must = {r["email"].strip().lower() for r in rows if eligible(r) and r["email"].strip().lower() not in shared}
    # Every plainly eligible contact is there; nobody without consent, opted out, deleted or invalid is.
    assert must <= set(members)
    allowed = {r["email"].strip().lower() for r in rows if eligible(r)}
    assert set(members) <= allowed
    assert all(member["status"] == "subscribed" for member in members.values())
    fields = world.sandbox.merge_fields(world.list_id)
    assert (fields["TIER"]["type"] == "dropdown"
            and set(fields["TIER"]["options"]["choices"]) == {"Gold", "Silver", "Bronze"})
    # A new audience has BIRTHDAY as MM/DD: its format is followed (the mapping's DD/MM is for fields it creates).
    assert (fields["BIRTHDAY"]["type"], fields["BIRTHDAY"]["options"]["date_format"]) == ("birthday", "MM/DD")
    birthdays = {r["email"].strip().lower(): r["birthday"] for r in rows if r["birthday"] and r["email"]}
    pushed = [(members[email]["fields"].get("BIRTHDAY"), birthdays[email]) for email in members
              if email in birthdays and email not in shared]
    assert pushed and all(value == f"{born:%m/%d}" for value, born in pushed)
    assert (fields["SINCE"]["type"], fields["SINCE"]["options"]["date_format"]) == ("date", "DD/MM/YYYY")
    assert fields["LTV"]["type"] == "number" and fields["ADDRESS"]["type"] == "address"
    assert report.written == len(members)
    assert report.written + report.rejected == report.summary.actions["create"]
    # The fake-looking demo addresses are refused by Mailchimp and recorded per contact, not retried.
    assert {reason for _, reason, _ in report.rejections} <= {"invalid_address"}


def test_first_push_uses_batches_of_500_and_tags_what_it_added(world):
    push_audience(world.settings, "newsletter")
    batch_posts = world.sandbox.request_count(method="POST", path=f"/3.0/lists/{world.list_id}")
    assert batch_posts == 1  # ~250 members: one batch request
    assert world.sandbox.request_count(method="PUT") == 0
    tagged = set(world.sandbox.segment_emails(world.list_id, "crm-sync"))
    assert tagged == set(world.members())


def test_rerun_without_changes_makes_no_write_request(any_world):
    world = any_world
    push_audience(world.settings, "newsletter")
    world.view.reset_traffic()
    report = push_audience(world.settings, "newsletter")
    assert world.writes() == 0 and report.written == 0
    assert report.summary.scope.startswith("incremental push") and report.summary.actions["unchanged"] == 0
    full = push_audience(world.settings, "newsletter", full=True)  # every contact read again: still no write
    assert world.writes() == 0 and full.written == 0
    assert full.summary.scope == "full push: asked for with --full" and full.summary.actions["unchanged"] > 0


def test_a_change_sends_only_that_member(any_world):
    world = any_world
    push_audience(world.settings, "newsletter")
    target = next(r for r in world.contacts() if eligible(r) and r["email"].strip().lower() in world.members())
    world.edit_contact(target["id"], first_name="Anneliese")
    world.view.reset_traffic()
    report = push_audience(world.settings, "newsletter")
    assert (report.summary.actions["update"], report.written) == (1, 1)
    assert world.writes() == 1
    assert world.members()[target["email"].strip().lower()]["fields"]["FNAME"] == "Anneliese"


def test_plan_writes_nothing_and_agrees_with_the_push(any_world):
    world = any_world
    summary = plan_audience(world.settings, "newsletter", sample_limit=5)
    assert world.writes() == 0 and world.members() == {}
    assert len(summary.changes) == 5
    # Mailchimp merge fields are made by the push; Spotler properties must already exist (checked before).
    assert ("TIER" in summary.fields_to_create) == (world.provider == "mailchimp")
    first = summary.changes[0]
    assert first.action.value == "create" and first.changes[world.view.name_of("FNAME")][0] is None
    report = push_audience(world.settings, "newsletter")
    assert dict(report.summary.actions) == dict(summary.actions)
    assert world.state(int(first.contact_id)).provider_id is not None


def test_never_asked_contacts_are_not_pushed(any_world):
    world = any_world
    never_asked = [r for r in world.contacts() if r["email_opt_in"] is None and r["email"]]
    assert never_asked
    report = push_audience(world.settings, "newsletter")
    members = world.members()
    assert not any(r["email"].strip().lower() in members for r in never_asked
                   if not any(o["email"] == r["email"] and eligible(o) for o in world.contacts()))
    assert report.summary.reasons["no_consent"] >= 1
