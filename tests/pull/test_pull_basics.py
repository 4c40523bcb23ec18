"""Pulling engagement back: campaign entries, bounces, unsubscribes, flags, and a re-pull importing nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sync.runner import pull_audience, push_audience
from sync.sandbox.engagement import EngagementPlan, engage
from tests.pull.history import flags, history
from tests.push.world import eligible


def engaged_world(world):
    """Push, send a campaign, and have a few members open, click (twice in one second), bounce and unsubscribe."""
    push_audience(world.settings, "newsletter")
    members = world.members()
    rows = [r for r in world.contacts() if eligible(r) and r["email"].strip().lower() in members]
    sent = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=5)
    view = world.view
    campaign = view.send_campaign("Newsletter May", sent)
    opener, clicker, bouncer, leaver = (r["email"].strip().lower() for r in rows[:4])
    for minutes in (5, 6, 7):
        view.record_open(campaign, opener, sent + timedelta(minutes=minutes))
    view.record_click(campaign, clicker, "https://shop.test/sale", sent + timedelta(minutes=9))
    view.record_click(campaign, clicker, "https://shop.test/new", sent + timedelta(minutes=9))
    view.record_bounce(campaign, bouncer, "hard", sent + timedelta(minutes=1))
    view.record_unsubscribe(campaign, leaver, sent + timedelta(minutes=30))
    return campaign, rows[:4]


def test_pull_writes_campaign_entries_and_flags(any_world):
    world = any_world
    campaign, (opener, clicker, bouncer, leaver) = engaged_world(world)
    report = pull_audience(world.settings, "newsletter")
    entries = {row[0]: row for row in history(world.crm_url)}
    opened = entries[f"{world.provider}:newsletter:{campaign}:contact:{opener['id']}"]
    assert opened[4] == "Newsletter May: delivered, opened 3 times"
    clicked = entries[f"{world.provider}:newsletter:{campaign}:contact:{clicker['id']}"]
    if world.provider == "mailchimp":
        assert "clicked 2 links" in clicked[4] and "https://shop.test/sale" in clicked[5]
    else:  # Spotler's account-wide click feed does not name the link
        assert clicked[4] == "Newsletter May: delivered, clicked 2 times"
    bounced = [row for row in entries.values() if row[1] == bouncer["id"] and row[3] == "email_bounce"]
    assert len(bounced) == 1 and bounced[0][4] == "Hard bounce: Newsletter May"
    left = [row for row in entries.values() if row[1] == leaver["id"] and row[3] == "email_unsubscribe"]
    assert len(left) == 1
    if world.provider == "mailchimp":
        assert "Too many e-mails" in left[0][5]
    crm_flags = flags(world.crm_url)
    assert crm_flags[leaver["id"]][0] is True
    assert crm_flags[bouncer["id"]][1] is True and "hard bounce" in crm_flags[bouncer["id"]][2]
    assert crm_flags[bouncer["id"]][0] is False  # a bounce is not an unsubscribe (Spotler closes its channel)
    assert not [row for row in entries.values() if row[1] == bouncer["id"] and row[3] == "email_unsubscribe"]
    assert crm_flags[opener["id"]][:2] == (False, False)
    assert report.events_imported > 0 and report.unmatched == 0


def test_a_re_pull_imports_nothing_and_changes_nothing(any_world):
    world = any_world
    engaged_world(world)
    pull_audience(world.settings, "newsletter")
    before = history(world.crm_url)
    again = pull_audience(world.settings, "newsletter")
    assert again.events_imported == 0 and again.entries_written == 0
    assert history(world.crm_url) == before


def test_flags_written_by_the_pull_do_not_make_the_push_send_them_back(any_world):
    world = any_world
    engaged_world(world)
    pull_audience(world.settings, "newsletter")
    world.view.reset_traffic()
    report = push_audience(world.settings, "newsletter")
    assert world.writes() == 0, report.summary.actions
    assert report.summary.actions.get("unsubscribe", 0) == 0


def test_new_events_update_the_campaign_entry_in_place(any_world):
    world = any_world
    campaign, (opener, *_rest) = engaged_world(world)
    pull_audience(world.settings, "newsletter")
    world.view.record_open(campaign, opener["email"].strip().lower(), datetime.now(UTC))  # after the last pull
    pull_audience(world.settings, "newsletter")
    entries = [row for row in history(world.crm_url) if row[0].endswith(f"contact:{opener['id']}")]
    assert len(entries) == 1 and entries[0][4] == "Newsletter May: delivered, opened 4 times"


def test_organisations_get_one_entry_per_campaign_listing_their_contacts(any_world):
    world = any_world
    campaign, _ = engaged_world(world)
    pull_audience(world.settings, "newsletter")
    members = world.members()
    by_org = {}
    for row in world.contacts():
        if row["organisation_id"] and (row["email"] or "").strip().lower() in members:
            by_org.setdefault(row["organisation_id"], []).append(row)
    assert by_org
    entries = {row[0]: row for row in history(world.crm_url)}
    organisation_id, contacts = next(iter(by_org.items()))
    entry = entries[f"{world.provider}:newsletter:{campaign}:organisation:{organisation_id}"]
    assert entry[2] == organisation_id and entry[4] == f"Newsletter May: sent to {len(contacts)} contact(s)"
    assert all(contact["last_name"] in entry[5] for contact in contacts)


def test_an_unsubscribe_outside_any_campaign_is_honoured(world):
    push_audience(world.settings, "newsletter")
    members = world.members()
    row = next(r for r in world.contacts() if eligible(r) and r["email"].strip().lower() in members)
    world.sandbox.unsubscribe(world.list_id, row["email"].strip().lower(), reason="Via the preference centre")
    report = pull_audience(world.settings, "newsletter")
    assert report.campaigns == 0 and report.events_imported == 1
    assert flags(world.crm_url)[row["id"]][0] is True
    [entry] = [r for r in history(world.crm_url) if r[1] == row["id"]]
    assert entry[3] == "email_unsubscribe" and "Via the preference centre" in entry[5]
    assert world.state(row["id"]).provider_status == "unsubscribed"


def test_per_event_history_writes_one_entry_per_event(world):
    campaign, (opener, *_rest) = engaged_world(world)
    pull_audience(world.with_audience(history="event"), "newsletter")
    opens = [r for r in history(world.crm_url) if r[1] == opener["id"] and r[3] == "email_open"]
    assert len(opens) == 3 and all(r[4] == "Opened: Newsletter May" for r in opens)
    assert not any(r[0].endswith(f"contact:{opener['id']}") for r in history(world.crm_url))


def test_generated_engagement_is_imported_event_for_event(any_world):
    world = any_world
    push_audience(world.settings, "newsletter")
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=4)
    plan = EngagementPlan(start, campaigns=2, opens=2, clicks=1, bounce_every=15, unsubscribe_every=15, seed=3)
    expected = engage(world.view, plan)
    assert expected["events"]["bounce"] and expected["events"]["unsubscribe"]
    report = pull_audience(world.settings, "newsletter")
    assert report.events_imported == expected["total_events"] and report.unmatched == 0
    assert pull_audience(world.settings, "newsletter").events_imported == 0
