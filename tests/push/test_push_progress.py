"""The push follows its phases: contacts planned, then members sent and batches answered, up to the plan's totals."""

from __future__ import annotations

from sync.jobs import push_audience
from tests.push.world import eligible


def _series(calls: list[tuple], what: str) -> list[tuple[int, int | None]]:
    return [(done, total) for name, done, total, _ in calls if name == what]


def _batch_size(world) -> int:
    return (world.settings.spotler if world.provider == "spotler" else world.settings.mailchimp).batch_size


def test_the_writing_phase_reports_members_sent_and_batches_answered_out_of_the_plan(any_world):
    world = any_world
    calls: list[tuple] = []
    first = push_audience(world.settings, "newsletter", on_progress=lambda *call: calls.append(call))
    planned, sent = _series(calls, "contacts planned"), _series(calls, "members sent")
    assert planned[-1] == (300, 300)
    creates = first.summary.actions["create"]
    assert sent[0] == (0, creates) and sent[-1] == (creates, creates) == (first.written + first.rejected, creates)
    assert [done for done, _ in sent] == sorted(done for done, _ in sent)
    batches = _series(calls, "batches answered")
    assert batches[-1][0] == batches[-1][1] == -(-creates // _batch_size(world))

    members = world.members()
    leaving = [row for row in world.contacts() if eligible(row) and row["email"].strip().lower() in members][:30]
    for row in leaving:
        world.edit_contact(row["id"], email_opt_out=True)
    calls.clear()
    second = push_audience(world.settings, "newsletter", force=True, on_progress=lambda *call: calls.append(call))
    unsubscribes = second.summary.actions["unsubscribe"]
    assert unsubscribes >= 30 and _series(calls, "members sent")[-1] == (unsubscribes, unsubscribes)
    assert _series(calls, "batches answered")[-1] == (-(-unsubscribes // 25),) * 2  # 25 unsubscribes a batch
    notes = [note for name, _, _, note in calls if name == "batches answered"]
    assert notes[-1] == f"({second.requests:,} provider requests so far)"


def test_a_push_with_nothing_to_send_only_plans(any_world):
    world = any_world
    push_audience(world.settings, "newsletter")
    calls: list[tuple] = []
    push_audience(world.settings, "newsletter", on_progress=lambda *call: calls.append(call))
    assert {name for name, *_ in calls} == {"contacts planned"} and calls[-1][1:3] == (300, 300)
