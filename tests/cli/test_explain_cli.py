"""`crm-sync status` failures and `crm-sync why EMAIL` through the real console command.

The world: the demo CRM, a running Mailchimp sandbox and a state store on each backend; pushes and pulls
run in-process, the commands under test as a user would type them.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from sync.demo.crm.generate import create_demo_crm
from sync.errors import EXIT_CONFIG, EXIT_OK
from sync.runner import pull_audience, push_audience
from tests.cli.run import crm_sync, project_copy
from tests.push.conftest import sandbox  # noqa: F401  (a running Mailchimp sandbox)
from tests.push.world import World, eligible, make_settings

# What makes a contact one the push must send (see tests.push.world.eligible).
SENDABLE = {"email_opt_in": True, "email_opt_out": False, "email_invalid": False, "deleted": False,
            "organisation_id": None}


@pytest.fixture
def world(tmp_path, sandbox, database_url, monkeypatch):  # noqa: F811
    for name in list(__import__("os").environ):
        if name.startswith("CRM_SYNC_") and not name.startswith("CRM_SYNC_TEST_"):
            monkeypatch.delenv(name)
    crm_url = f"sqlite:///{tmp_path / 'crm.db'}"
    create_demo_crm(crm_url, contacts=120, seed=11)
    list_id = sandbox.create_audience("Newsletter")
    return World(make_settings(tmp_path, sandbox, list_id, crm_url, database_url), sandbox, list_id, crm_url,
                 database_url)


@pytest.fixture
def project(tmp_path):
    return project_copy(tmp_path / "project")


def cli(world: World, project, *args: str):
    """`crm-sync ARGS` configured for the world by environment variables alone."""
    return crm_sync(*args, cwd=project, env={
        "CRM_SYNC_CRM__URL": world.crm_url,
        "CRM_SYNC_STATE__URL": world.state_url,
        "CRM_SYNC_MAILCHIMP__API_KEY": world.sandbox.api_key,
        "CRM_SYNC_MAILCHIMP__BASE_URL": world.sandbox.base_url,
        "CRM_SYNC_AUDIENCES__NEWSLETTER__AUDIENCE_ID": world.list_id,
    })


def cli_json(world: World, project, *args: str):
    result = cli(world, project, *args, "--json")
    assert result.code == EXIT_OK, result.err
    return json.loads(result.out)


def sendable_rows(world: World) -> list[dict]:
    return [row for row in world.contacts() if eligible(row)]


def test_status_lists_failed_contacts_newest_first_without_consent_skips(world, project):
    first, *_ = sendable_rows(world)
    later = next(row for row in world.contacts() if row["email_opt_in"] is not True and not row["deleted"])
    world.edit_contact(first["id"], email="first.fake@example.com")
    push_audience(world.settings, "newsletter")
    world.edit_contact(later["id"], email="later.fake@example.net", **SENDABLE)  # once skipped: no consent
    push_audience(world.settings, "newsletter")

    status = cli_json(world, project, "status", "--failures", "100")

    assert [(run["kind"], run["outcome"]) for run in status["runs"]] == [("push", "partial"), ("push", "partial")]
    failures = status["failures"]
    assert failures[0]["contact_id"] == str(later["id"]) and failures[0]["reason_code"] == "invalid_address"
    assert "later.fake@example.net looks fake or invalid" in failures[0]["last_error"]
    assert str(first["id"]) in {failure["contact_id"] for failure in failures}
    assert {failure["reason_code"] for failure in failures} == {"invalid_address"}
    assert [failure["updated_at"] for failure in failures] == sorted((f["updated_at"] for f in failures), reverse=True)
    assert status["failure_totals"] == {"newsletter": len(failures)}

    newest = cli(world, project, "status", "--failures", "1")
    assert newest.code == EXIT_OK, newest.err
    assert f"Failed contacts in newsletter: {len(failures)} (the 1 newest shown)" in newest.out
    assert f"contact {later['id']}: invalid_address: later.fake@example.net looks fake" in newest.out
    assert f"contact {first['id']}:" not in newest.out and "no_consent" not in newest.out
    assert len(cli_json(world, project, "status", "--failures", "1")["failures"]) == 1


def test_why_a_rejected_contact_says_the_provider_refused_it_for_good(world, project):
    first, *_ = sendable_rows(world)
    world.edit_contact(first["id"], email="First.Fake@example.com")
    push_audience(world.settings, "newsletter")

    text = cli(world, project, "why", "first.fake@EXAMPLE.com")
    report = cli_json(world, project, "why", "first.fake@example.com")

    assert text.code == EXIT_OK, text.err
    assert f"Audience newsletter, contact {first['id']}" in text.out
    assert "failed: invalid_address: first.fake@example.com looks fake or invalid" in text.out
    assert "(tried again once the CRM address changes)" in text.out and "last pushed        never" in text.out
    assert report["known"] is True and report["crm_contact_ids"] == [str(first["id"])]
    [contact] = report["audiences"]["newsletter"]
    assert contact["in_crm"] is True and contact["state"]["provider_id"] is None
    assert contact["state"]["reason_code"] == "invalid_address" and contact["events"]["total"] == 0


def test_why_a_member_shows_what_was_pushed_and_the_events_pulled_back(world, project):
    push_audience(world.settings, "newsletter")
    members = world.members()
    reader, leaver = [row for row in sendable_rows(world) if row["email"].strip().lower() in members][:2]
    reader_email, leaver_email = (row["email"].strip().lower() for row in (reader, leaver))
    sent = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=5)
    campaign = world.sandbox.send_campaign(world.list_id, "Newsletter May", send_time=sent)
    for minutes in (5, 6, 7):
        world.sandbox.record_open(campaign, reader_email, at=sent + timedelta(minutes=minutes))
    world.sandbox.record_unsubscribe(campaign, leaver_email, reason="Too many e-mails", at=sent + timedelta(minutes=30))
    pull_audience(world.settings, "newsletter")

    report = cli_json(world, project, "why", reader_email.upper(), "--events", "2")

    [contact] = report["audiences"]["newsletter"]
    member = world.sandbox.member(world.list_id, reader_email)
    state = contact["state"]
    assert (state["provider_id"], state["provider_status"], state["owned"]) == (member["id"], "subscribed", True)
    assert state["payload"]["FNAME"] == member["merge_fields"]["FNAME"] and state["pushed_at"] is not None
    assert contact["verdict"] == "member, subscribed"
    assert contact["events"]["total"] == 4 and contact["events"]["by_kind"] == {"sent": 1, "open": 3}
    assert [(event["kind"], event["occurred_at"]) for event in contact["events"]["latest"]] == [
        ("open", (sent + timedelta(minutes=7)).isoformat()), ("open", (sent + timedelta(minutes=6)).isoformat())]

    text = cli(world, project, "why", reader_email, "--events", "2")
    assert text.code == EXIT_OK, text.err
    assert f"{reader_email}: CRM contact(s) {reader['id']}" in text.out and "member, subscribed" in text.out
    assert f"FNAME            {member['merge_fields']['FNAME']!r}" in text.out
    assert "imported events: 4 (open 3, sent 1); the 2 latest:" in text.out
    assert f"{sent + timedelta(minutes=7):%Y-%m-%d %H:%M:%S} UTC  open" in text.out

    [left] = cli_json(world, project, "why", leaver_email)["audiences"]["newsletter"]
    assert left["state"]["provider_status"] == "unsubscribed"
    assert left["state"]["reason_code"] == "unsubscribed_in_provider"
    assert left["events"]["by_kind"] == {"sent": 1, "unsubscribe": 1}


def test_why_a_shared_address_shows_the_member_and_the_contact_merged_into_it(world, project):
    one, other, *_ = sendable_rows(world)
    world.edit_contact(other["id"], email=one["email"].upper())
    push_audience(world.settings, "newsletter")

    report = cli_json(world, project, "why", one["email"])

    assert report["crm_contact_ids"] == sorted([str(one["id"]), str(other["id"])], key=int)
    contacts = {contact["contact_id"]: contact for contact in report["audiences"]["newsletter"]}
    [merged] = [contact for contact in contacts.values() if contact["state"]["merged_into"]]
    winner = contacts[merged["state"]["merged_into"]]
    assert winner["contact_id"] != merged["contact_id"] and winner["state"]["provider_status"] == "subscribed"
    assert merged["state"]["reason_code"] == "shared_email" and merged["state"]["provider_id"] is None
    text = cli(world, project, "why", one["email"])
    assert f"shares its address with contact {winner['contact_id']}, which stands for it" in text.out


def test_why_finds_a_contact_deleted_in_the_crm_by_its_pushed_address(world, project):
    push_audience(world.settings, "newsletter")
    members = world.members()
    row = next(row for row in sendable_rows(world) if row["email"].strip().lower() in members)
    world.edit_contact(row["id"], deleted=True)

    report = cli_json(world, project, "why", row["email"])

    assert report["known"] is True and report["crm_contact_ids"] == []
    [contact] = report["audiences"]["newsletter"]
    assert contact["contact_id"] == str(row["id"]) and contact["in_crm"] is False
    assert contact["state"]["provider_status"] == "subscribed"
    text = cli(world, project, "why", row["email"])
    assert f"contact {row['id']} (no live CRM contact has this address now)" in text.out


def test_why_before_the_first_push_and_for_an_unknown_address(world, project):
    assert cli(world, project, "db", "upgrade").code == EXIT_OK
    row, *_ = sendable_rows(world)

    before = cli(world, project, "why", row["email"])
    unknown = cli(world, project, "why", "nobody@nowhere.test")

    assert before.code == EXIT_OK, before.err
    assert "not in the state store: no push of newsletter has seen this contact yet" in before.out
    assert "`crm-sync plan --audience newsletter`" in before.out
    [contact] = cli_json(world, project, "why", row["email"])["audiences"]["newsletter"]
    assert contact["state"] is None and contact["in_crm"] is True
    assert unknown.code == EXIT_OK, unknown.err
    assert "No CRM contact has the address nobody@nowhere.test" in unknown.out
    assert cli_json(world, project, "why", "nobody@nowhere.test") == {
        "email": "nobody@nowhere.test", "known": False, "crm_contact_ids": [], "audiences": {"newsletter": []}}


def test_why_refuses_a_missing_schema_an_unknown_audience_and_a_blank_address(world, project):
    row, *_ = sendable_rows(world)

    no_schema = cli(world, project, "why", row["email"])
    no_audience = cli(world, project, "why", row["email"], "--audience", "letters")
    blank = cli(world, project, "why", "  ")

    assert no_schema.code == EXIT_CONFIG and "run `crm-sync db upgrade`" in no_schema.err
    assert no_audience.code == EXIT_CONFIG and "no audience called 'letters'" in no_audience.err
    assert blank.code == 2 and "give an e-mail address" in blank.err
