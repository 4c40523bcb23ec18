"""The pull follows its campaigns (Mailchimp) or feeds (Spotler), with the events read and imported so far."""

from __future__ import annotations

from sync.runner import pull_audience
from tests.pull.test_pull_basics import engaged_world


def test_the_pull_reports_each_campaign_or_feed_with_events_read_and_imported(any_world):
    world = any_world
    engaged_world(world)
    calls: list[tuple] = []
    report = pull_audience(world.settings, "newsletter", on_progress=lambda *call: calls.append(call))

    steps = 2 if world.provider == "mailchimp" else 6  # a campaign and the member changes; or six feeds
    assert {total for _, _, total, _ in calls} == {steps}
    assert [done for _, done, _, _ in calls] == sorted(done for _, done, _, _ in calls)
    assert calls[-1] == ("", steps, steps, f"{report.events_read:,} events read, {report.events_imported:,} imported")
    names = [note.split(": ")[0] for _, done, _, note in calls if done < steps]
    first = "campaign 'Newsletter May'" if world.provider == "mailchimp" else "feed sent"
    assert names[0] == first and len(set(names)) == steps
    during = [note for _, done, _, note in calls if done == 0 and note.endswith("imported")]
    assert during[-1] != f"{first}: 0 events read, 0 imported"  # it told of events while the step was read
    assert report.events_imported > 0
