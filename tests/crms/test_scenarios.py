"""The end-to-end scenarios, the same for every CRM: push, a quiet re-push, changes and a changed address,
pull with flags, the echo of crm-sync's own writes, a shared address, and a pull stopped half-way."""

from __future__ import annotations

import signal
import time

import pytest

from sync.errors import EXIT_OK
from sync.runner import pull_audience, push_audience
from sync.sandbox.mailchimp import MailchimpSandbox
from sync.segments.push import push_segment
from sync.segments.select import select_recipients
from tests.cli.run import crm_sync, start
from tests.crms.scenario import AUDIENCE, engage, env_for, kinds, opens, settings_for
from tests.crms.worlds import SHARED, World
from tests.pull.crash import Crash, crash_at


def subscribed(mailchimp: MailchimpSandbox, audience_id: str) -> dict[str, dict]:
    return {m["email_address"]: m for m in mailchimp.members(audience_id) if m["status"] == "subscribed"}


def test_push_then_a_quiet_rerun_then_only_what_changed(world: World, mailchimp, tmp_path):
    audience_id = mailchimp.create_audience(world.name)
    settings = settings_for(world, mailchimp, audience_id, tmp_path)

    first = push_audience(settings, AUDIENCE)
    assert set(subscribed(mailchimp, audience_id)) == set(world.emails().values())  # the shared address once
    assert push_audience(settings, AUDIENCE).write_requests == 0

    renamed, moved = world.contact_ids[0], world.contact_ids[1]
    world.edit(renamed, **{world.first_name: "Renée"})
    world.edit(moved, **{world.email: "moved.person1@crm-sync.dev"})
    changed = push_audience(settings, AUDIENCE)
    assert changed.summary.scope.startswith("incremental"), changed.summary.scope
    members = subscribed(mailchimp, audience_id)
    assert members[world.emails()[renamed]]["merge_fields"]["FNAME"] == "Renée"
    assert "moved.person1@crm-sync.dev" in members and "person1@crm-sync.dev" not in members
    assert len(members) == len(set(world.emails().values()))  # moved, not added
    assert first.write_requests > 0


def test_pull_history_flags_and_no_echo(world: World, mailchimp, tmp_path):
    audience_id = mailchimp.create_audience(world.name)
    settings = settings_for(world, mailchimp, audience_id, tmp_path)
    push_audience(settings, AUDIENCE)
    who = engage(world, mailchimp, audience_id)

    report = pull_audience(settings, AUDIENCE)
    assert report.events_imported > 0
    with world.port() as crm:
        before = {cid: crm.history_of(cid) for cid in world.contact_ids}
        contacts = {c.id: c for c in crm.contacts_by_ids(world.contact_ids)}
    assert opens(before[who["opener"]]) == 2
    assert any("shop.crm-sync.dev/sale" in f"{subject} {body}" for _, subject, body, _ in before[who["clicker"]])
    assert "email_bounce" in kinds(before[who["bouncer"]])
    assert contacts[who["leaver"]].consent.email_opt_out is True
    assert contacts[who["opener"]].consent.email_opt_out is False

    again = pull_audience(settings, AUDIENCE)
    assert again.events_imported == 0 and again.entries_written == 0
    with world.port() as crm:
        assert {cid: crm.history_of(cid) for cid in world.contact_ids} == before
    echo = push_audience(settings, AUDIENCE)  # the CRM's timestamps moved with our writes: nothing to send
    assert echo.write_requests == 0, dict(echo.summary.actions)


def test_an_unsubscribe_of_a_shared_address_opts_out_every_contact_with_it(world: World, mailchimp, tmp_path):
    audience_id = mailchimp.create_audience(world.name)
    settings = settings_for(world, mailchimp, audience_id, tmp_path)
    push_audience(settings, AUDIENCE)
    mailchimp.unsubscribe(audience_id, SHARED)

    pull_audience(settings, AUDIENCE)
    sharing = [cid for cid, email in world.emails().items() if email == SHARED]
    with world.port() as crm:
        assert len(sharing) == 2
        assert all(c.consent.email_opt_out for c in crm.contacts_by_ids(sharing))
    assert push_audience(settings, AUDIENCE).write_requests == 0
    assert mailchimp.member(audience_id, SHARED)["status"] == "unsubscribed"  # never re-subscribed


@pytest.mark.parametrize("point", ["activities_written", "crm_written"])
def test_a_pull_stopped_after_writing_the_crm_writes_nothing_twice(world: World, mailchimp, tmp_path, point):
    audience_id = mailchimp.create_audience(world.name)
    settings = settings_for(world, mailchimp, audience_id, tmp_path)
    push_audience(settings, AUDIENCE)
    who = engage(world, mailchimp, audience_id)

    with pytest.raises(Crash):
        pull_audience(settings, AUDIENCE, checkpoint=crash_at(point, 1))
    pull_audience(settings, AUDIENCE)
    pull_audience(settings, AUDIENCE)
    with world.port() as crm:
        histories = {cid: crm.history_of(cid) for cid in world.contact_ids}
    assert opens(histories[who["opener"]]) == 2
    for history in histories.values():
        # no entry twice (a CRM that logs single events has one entry per open: they differ in time)
        entries = [(kind, subject, when) for kind, subject, _, when in history]
        assert len(entries) == len(set(entries)), history


def test_a_pull_killed_while_writing_the_crm_resumes_exactly_once(world: World, mailchimp, tmp_path):
    audience_id = mailchimp.create_audience(world.name)
    env = env_for(world, mailchimp, audience_id, tmp_path)
    assert crm_sync("push", cwd=tmp_path, env=env).code == EXIT_OK
    who = engage(world, mailchimp, audience_id)
    mailchimp.faults.slow_next(1000, seconds=0.4, method="GET", path_contains="/reports/")

    victim = start(tmp_path, env, "pull")
    deadline = time.monotonic() + 90
    with world.port() as crm:
        while not any(crm.history_of(cid) for cid in world.contact_ids):  # the first CRM write landed
            assert victim.poll() is None and time.monotonic() < deadline, "the pull ended before it could be killed"
            time.sleep(0.1)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=10)
    mailchimp.faults.clear()
    time.sleep(1.5)  # the killed run's lock expires (lock_ttl_seconds=1)

    assert crm_sync("pull", cwd=tmp_path, env=env).code == EXIT_OK
    assert crm_sync("pull", cwd=tmp_path, env=env).code == EXIT_OK
    with world.port() as crm:
        histories = {cid: crm.history_of(cid) for cid in world.contact_ids}
        leaver = next(iter(crm.contacts_by_ids([who["leaver"]])))
    assert opens(histories[who["opener"]]) == 2
    assert "email_bounce" in kinds(histories[who["bouncer"]]) and leaver.consent.email_opt_out
    for history in histories.values():
        entries = [(kind, subject, when) for kind, subject, _, when in history]
        assert len(entries) == len(set(entries)), history


def test_a_segment_push_marks_the_selection_and_records_the_mailing_once(world: World, mailchimp, tmp_path):
    audience_id = mailchimp.create_audience(world.name)
    settings = settings_for(world, mailchimp, audience_id, tmp_path)
    segments = tmp_path / "segments.yaml"
    segments.write_text(f"segments:\n  consenting:\n    audience: {AUDIENCE}\n    mailing: Winter 2027\n"
                        f"    steps:\n      - include: {{field: {world.last_name}, empty: false}}\n")
    settings = settings.model_copy(update={"segments_file": segments})
    selection = select_recipients(settings, "consenting")
    report = push_segment(settings, selection)
    marked = set(mailchimp.segment_emails(audience_id, "crm-sync: consenting"))
    assert marked == set(world.emails().values()) and report.not_marked == {}  # the shared address once
    first = world.contact_ids[0]
    with world.port() as crm:
        entries = [entry for entry in crm.history_of(first) if entry[0] == "segment_added"]
    assert [subject for _, subject, _, _ in entries] == ["Added to consenting for Winter 2027"]
    again = push_segment(settings, select_recipients(settings, "consenting"))
    assert (again.mark.added, again.mark.removed, again.entries_written, again.push.write_requests) == (0, 0, 0, 0)
    with world.port() as crm:
        assert [entry for entry in crm.history_of(first) if entry[0] == "segment_added"] == entries
