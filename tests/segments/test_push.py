"""`segment push`: a marketer's selection pushed to the provider (Mailchimp and Spotler sandboxes over loopback),
kept there as crm-sync's segment, recorded in the CRM history, and kept in step when scheduled."""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import MetaData, Table, create_engine, func, select, update

from sync.cli.push import run_all
from sync.connectors.segments import SegmentLeaveStop
from sync.connectors.sql.crm import open_crm
from sync.demo.crm.generate import create_demo_crm
from sync.demo.crm.schema import crm_tables
from sync.errors import EXIT_OK, EXIT_RECORDS_REJECTED, ConfigError
from sync.push.rules import is_active
from sync.runner import push_audience
from sync.sandbox.mailchimp import MailchimpSandbox
from sync.sandbox.spotler import SpotlerSandbox
from sync.segments.push import keep_in_step, push_segment, refuse_unfit
from sync.segments.recipients import write_export
from sync.segments.select import select_recipients
from sync.state.store import open_state
from tests.providers import DEMO_SPOTLER_PROPERTIES
from tests.push.world import World, edit_contact, make_settings

SEGMENTS = """\
segments:
  spenders:
    audience: newsletter
    mailing: Thank you 2027
    steps:
      - include: {field: lifetime_value, gte: 900}
    organisation_field: organisation_name
  spenders-kept:
    audience: newsletter
    scheduled: true
    steps:
      - include: {field: lifetime_value, gte: 900}
  nobody:
    audience: newsletter
    steps:
      - include: {field: lifetime_value, gt: 100000000}
  by-post:
    audience: newsletter
    mailing: Catalogue
    steps:
      - include: {field: lifetime_value, gte: 900}
    channel_field: preferred_contact
    channel_values: {email: [E-mail], post: [Post]}
    post_fields: [street, postal_code, city, country]
"""


def _world(tmp_path: Path, sandbox, list_id: str | None) -> World:
    crm_url, state_url = f"sqlite:///{tmp_path / 'crm.db'}", f"sqlite:///{tmp_path / 'state.db'}"
    create_demo_crm(crm_url, contacts=300, seed=11)
    (tmp_path / "segments.yaml").write_text(SEGMENTS)
    settings = make_settings(tmp_path, sandbox, list_id, crm_url, state_url).model_copy(
        update={"segments_file": tmp_path / "segments.yaml"})
    return World(settings, sandbox, list_id, crm_url, state_url)


@pytest.fixture(params=["mailchimp", "spotler"])
def world(request, tmp_path, monkeypatch) -> Iterator[World]:
    for name in [name for name in os.environ if name.startswith("CRM_SYNC_") and not name.startswith("CRM_SYNC_TEST_")]:
        monkeypatch.delenv(name)
    if request.param == "mailchimp":
        with MailchimpSandbox() as sandbox:
            yield _world(tmp_path, sandbox, sandbox.create_audience("Newsletter"))
            assert sandbox.internal_errors == []
    else:
        with SpotlerSandbox(properties=DEMO_SPOTLER_PROPERTIES) as sandbox:
            yield _world(tmp_path, sandbox, None)
            assert sandbox.internal_errors == []


def in_segment(world: World, segment: str) -> set[str]:
    """The provider segment's members as normalised addresses, read from the sandbox (not through crm-sync)."""
    if isinstance(world.sandbox, MailchimpSandbox):
        return {email.strip().lower() for email in world.sandbox.segment_emails(world.list_id, f"crm-sync: {segment}")}
    with open_state(world.state_url) as store:
        mark = store.segment_mark("newsletter", segment)
    found = world.sandbox.audience(mark.segment_id) if mark else None
    emails = {str(row["id"]): (row["email"] or "").strip().lower() for row in world.contacts()}
    return {emails[contact_id] for contact_id in found["contacts"]} if found else set()


def set_value(world: World, contact_id: int | str, **custom) -> None:
    """Change custom fields of one contact with plain SQL, moving its modification time as the CRM does."""
    tables = crm_tables()
    engine = create_engine(world.crm_url)
    with engine.begin() as connection:
        columns = {row.name: row.column_name for row in connection.execute(
            select(tables.custom_fields.c.name, tables.custom_fields.c.column_name))}
        table = Table("contacts_cf", MetaData(), autoload_with=connection)
        connection.execute(update(table).where(table.c.contact_id == int(contact_id))
                           .values({columns[name]: value for name, value in custom.items()}))
    engine.dispose()
    edit_contact(world.crm_url, int(contact_id))


def write_rows(path: Path, rows: list[dict]) -> None:
    with path.open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def addresses(candidates) -> set[str]:
    return {candidate.email for candidate in candidates}


def entries(world: World, contact_id: str) -> list[tuple[str, str]]:
    with open_crm(world.crm_url) as crm:
        return [(kind, subject) for kind, subject, _, _ in crm.history_of(contact_id) if kind == "segment_added"]


def activity_count(world: World) -> int:
    engine = create_engine(world.crm_url)
    with engine.connect() as connection:
        count = connection.execute(select(func.count()).select_from(crm_tables().activities)).scalar_one()
    engine.dispose()
    return count


def pushed(world: World, name: str, **options):
    selection = select_recipients(world.settings, name, options.pop("recipients", None))
    refuse_unfit(selection, None)
    return selection, push_segment(world.settings, selection, **options)


def test_a_segment_push_adds_the_missing_members_marks_them_and_records_the_mailing_once(world):
    selection, report = pushed(world, "spenders")
    recipients = {c.contact_id for c in selection.email_recipients}
    assert len(recipients) > 10 and report.not_marked == {} and report.push.rejected == 0
    assert in_segment(world, "spenders") == addresses(selection.email_recipients)
    some = sorted(recipients)[0]
    assert entries(world, some) == [("segment_added", "Added to spenders for Thank you 2027")]
    organisations = {c.organisation_id for c in selection.email_recipients if c.organisation_id}
    assert report.entries_written == len(recipients) + len(organisations)
    written, count = world.writes(), activity_count(world)
    _, again = pushed(world, "spenders")
    assert (again.mark.added, again.mark.removed, again.entries_written) == (0, 0, 0)
    assert world.writes() == written and activity_count(world) == count  # nothing twice
    full = push_audience(world.settings, "newsletter")  # the audience's own push plans the same for them
    assert full.summary.scope.startswith("full")
    assert all(state.reason_code != "deleted" for state in [world.state(int(c)) for c in recipients])


def test_who_leaves_the_selection_leaves_the_segment_and_an_opt_out_is_unsubscribed_at_once(world):
    selection, _ = pushed(world, "spenders")
    first, second = sorted(selection.email_recipients, key=lambda c: c.contact_id)[:2]
    edit_contact(world.crm_url, int(first.contact_id), email_opt_out=True)
    set_value(world, second.contact_id, lifetime_value=1)
    selection, report = pushed(world, "spenders")
    assert report.mark.removed == 2 and in_segment(world, "spenders") == addresses(selection.email_recipients)
    assert not {first.email, second.email} & in_segment(world, "spenders")
    assert world.state(int(first.contact_id)).provider_status == "unsubscribed"  # honoured by this push
    assert {c.contact_id: c.reason for c in selection.candidates}[first.contact_id] == "opted_out"


def test_a_recipient_taken_out_in_the_file_is_not_marked_and_a_bad_file_pushes_nothing(world, tmp_path):
    selection = select_recipients(world.settings, "spenders")
    export = tmp_path / "spenders.csv"
    write_export(export, selection.candidates)
    with export.open(newline="") as file:
        rows = list(csv.DictReader(file))
    taken_out = selection.email_recipients[0]
    taken = taken_out.contact_id
    next(row for row in rows if row["contact_id"] == taken)["send"] = "no"
    write_rows(export, rows)
    _, report = pushed(world, "spenders", recipients=export)
    assert taken_out.email not in in_segment(world, "spenders") and report.not_marked == {}
    assert entries(world, taken) == []
    write_rows(export, [*rows, {**rows[-1], "contact_id": "999999"}])  # a row not in the selection
    writes = world.writes()
    with pytest.raises(ConfigError, match="not obeyed, nothing was pushed"):
        refuse_unfit(select_recipients(world.settings, "spenders", export), export)
    assert world.writes() == writes


def test_nobody_to_send_to_is_refused_before_anything_is_sent(world):
    with pytest.raises(ConfigError, match="nobody to send to"):
        pushed(world, "nobody")
    assert world.writes() == 0


def test_the_post_part_is_a_mail_merge_file_and_is_recorded_too(world, tmp_path):
    selection, report = pushed(world, "by-post", post_path=tmp_path / "post.csv")
    post = selection.post_recipients
    assert post and report.post_file == tmp_path / "post.csv"
    rows = (tmp_path / "post.csv").read_text().splitlines()
    assert rows[0].startswith("contact_id,name,organisation,street,postal_code,city,country")
    assert len(rows) == len(post) + 1
    assert entries(world, post[0].contact_id) == [("segment_added", "Added to by-post for Catalogue")]
    assert not in_segment(world, "by-post") & addresses(post)


def test_a_scheduled_segment_follows_the_crm_on_every_run_within_the_safety_threshold(world):
    assert run_all(world.settings, None) in (EXIT_OK, EXIT_RECORDS_REJECTED)  # the demo CRM has a fake address
    selection = select_recipients(world.settings, "spenders-kept")
    members = in_segment(world, "spenders-kept")
    assert members == addresses(selection.email_recipients) and len(members) > 10
    ids = {c.contact_id for c in selection.email_recipients}
    with open_state(world.state_url) as store:
        joiner = next(state for state in store.iter_member_states("newsletter")
                      if is_active(state) and state.contact_id not in ids)
    set_value(world, joiner.contact_id, lifetime_value=5000)
    run_all(world.settings, None)
    assert joiner.email.strip().lower() in in_segment(world, "spenders-kept")
    leaving = sorted(selection.email_recipients, key=lambda c: c.contact_id)[:len(ids) // 2]
    for candidate in leaving:
        set_value(world, candidate.contact_id, lifetime_value=1)
    settings = world.settings
    push_audience(settings, "newsletter")
    with pytest.raises(SegmentLeaveStop, match="safety threshold"):
        keep_in_step(settings, "spenders-kept", "newsletter")
    assert addresses(leaving) <= in_segment(world, "spenders-kept")  # nothing changed
    report = keep_in_step(settings, "spenders-kept", "newsletter", force=True)
    assert report.mark.removed == len(leaving) and not addresses(leaving) & in_segment(world, "spenders-kept")
    with open_state(world.state_url) as store:
        kinds = [run.kind.value for run in store.recent_runs(50)]
    assert "segment" in kinds
