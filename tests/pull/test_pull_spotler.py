"""What only the Spotler pull has: account-wide feeds read by change date in pages, records that appear late,
and unsubscribes derived from permission bits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sync.runner import pull_audience, push_audience
from tests.pull.history import flags, history
from tests.push.world import eligible


def pushed_rows(world) -> list[dict]:
    push_audience(world.settings, "newsletter")
    members = world.members()
    return [r for r in world.contacts() if eligible(r) and r["email"].strip().lower() in members]


def with_spotler(world, **options):
    return world.settings.model_copy(update={"spotler": world.settings.spotler.model_copy(update=options)})


def test_small_pages_follow_next_to_the_end_and_import_everything_once(spotler_world):
    world = spotler_world
    rows = pushed_rows(world)
    sent = datetime.now(UTC) - timedelta(hours=3)
    mailing = world.view.send_campaign("Paged", sent)
    for row in rows[:25]:
        world.view.record_open(mailing, row["email"].strip().lower(), sent + timedelta(minutes=10))
    whole = pull_audience(with_spotler(world, page_size=1000), "newsletter")
    recipients = len(world.members("subscribed"))
    assert whole.events_imported == recipients + 25  # every recipient's "sent" and the 25 opens

    world.view.send_campaign("Paged again", sent + timedelta(minutes=1))
    world.sandbox.reset_traffic()
    paged = pull_audience(with_spotler(world, page_size=7), "newsletter")
    assert paged.events_imported == recipients
    # At least every page of the new sends (the window re-reads its last second(s): the ledger drops repeats).
    assert world.sandbox.request_count(method="GET", path_contains="mailing-interaction/sent") >= recipients // 7 + 1
    assert pull_audience(with_spotler(world, page_size=7), "newsletter").events_imported == 0


def test_a_record_that_appears_late_with_an_earlier_change_date_is_still_imported_once(spotler_world):
    world = spotler_world
    settings = with_spotler(world, feed_lag_seconds=60)
    rows = pushed_rows(world)
    sent = datetime.now(UTC) - timedelta(hours=3)
    world.sandbox.run_clock_behind(120)  # the sends are older than the lag: the first pull reads them
    mailing = world.view.send_campaign("Late", sent)
    world.sandbox.run_clock_behind(2)
    assert pull_audience(settings, "newsletter").events_imported == len(world.members("subscribed"))
    reader = rows[0]
    # Mail+ writes an open whose change date lies before the end of the window the last pull already read.
    world.sandbox.record_open(mailing, str(reader["id"]), at=sent + timedelta(minutes=5),
                              changed_at=datetime.now(UTC) - timedelta(seconds=90))
    late = pull_audience(settings, "newsletter")
    assert late.events_imported == 1
    entry = {row[0]: row for row in history(world.crm_url)}[f"spotler:newsletter:{mailing}:contact:{reader['id']}"]
    assert entry[4] == "Late: delivered, opened once"
    assert pull_audience(settings, "newsletter").events_imported == 0


def test_permission_bits_switched_off_are_unsubscribes_only_for_contacts_crm_sync_keeps(spotler_world):
    world = spotler_world
    rows = pushed_rows(world)
    leaver = rows[0]
    world.view.unsubscribe(leaver["email"].strip().lower())
    stranger = world.sandbox.add_contact("form.signup@ziggo.test", external_id="web-77", permissions={1: True})
    world.sandbox.unsubscribe("web-77", bits=[1])
    world.sandbox.unsubscribe(str(rows[1]["id"]), bits=[2])  # another bit: still subscribed to this audience
    report = pull_audience(world.settings, "newsletter")
    crm_flags = flags(world.crm_url)
    assert crm_flags[leaver["id"]][0] is True and crm_flags[rows[1]["id"]][0] is False
    left = [row for row in history(world.crm_url) if row[3] == "email_unsubscribe"]
    assert [row[1] for row in left] == [leaver["id"]]
    assert report.unmatched == 0 and stranger
