"""The push follows its one pass: contacts read out of those it reads, and members sent as batches are answered."""

from __future__ import annotations

from sync.runner import push_audience
from tests.push.world import eligible


def _series(calls: list[tuple], what: str) -> list[tuple[int, int | None]]:
    return [(done, total) for name, done, total, _ in calls if name == what]


def _batch_size(world) -> int:
    return (world.settings.spotler if world.provider == "spotler" else world.settings.mailchimp).batch_size


def test_one_pass_reports_contacts_read_and_members_sent_as_they_are_answered(any_world):
    world = any_world
    calls: list[tuple] = []
    first = push_audience(world.settings, "newsletter", on_progress=lambda *call: calls.append(call))
    assert _series(calls, "contacts read")[-1] == (300, 300)
    sent = _series(calls, "members sent")
    creates = first.summary.actions["create"]
    assert sent[-1] == (creates, None) and creates == first.written + first.rejected  # the total is known at the end
    assert [done for done, _ in sent] == sorted(done for done, _ in sent)
    notes = [note for name, _, _, note in calls if name == "members sent"]
    assert notes[-1].startswith(f"{-(-creates // _batch_size(world))} batches answered, ")

    members = world.members()
    leaving = [row for row in world.contacts() if eligible(row) and row["email"].strip().lower() in members][:30]
    for row in leaving:
        world.edit_contact(row["id"], email_opt_out=True)
    calls.clear()
    second = push_audience(world.settings, "newsletter", force=True, on_progress=lambda *call: calls.append(call))
    unsubscribes = second.summary.actions["unsubscribe"]
    assert unsubscribes >= 30 and _series(calls, "members sent")[-1] == (unsubscribes, None)
    notes = [note for name, _, _, note in calls if name == "members sent"]
    assert notes[-1].startswith(f"{-(-unsubscribes // 25)} batches answered, ")  # 25 unsubscribes a batch
    assert _series(calls, "contacts read")[-1][1] < 300  # an incremental push reads the changed contacts


def test_a_push_with_nothing_changed_reads_nothing_and_sends_nothing(any_world):
    world = any_world
    push_audience(world.settings, "newsletter")
    calls: list[tuple] = []
    push_audience(world.settings, "newsletter", on_progress=lambda *call: calls.append(call))
    assert calls == [("contacts read", 0, 0, "")]
