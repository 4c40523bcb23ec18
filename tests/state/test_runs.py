"""Runs: started, finished, listed newest first with their duration."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from sync.state.runs import RunKind, RunOutcome
from sync.state.store import open_state


class TickingClock:
    """A clock that moves on by a fixed step each time it is read."""

    def __init__(self, start: datetime, step: timedelta):
        self.now, self.step = start, step

    def __call__(self) -> datetime:
        current = self.now
        self.now += self.step
        return current


def test_a_run_round_trips_with_counts_error_and_duration(database_url):
    clock = TickingClock(datetime(2026, 3, 1, 9, 0, 0, 123456, tzinfo=UTC), timedelta(minutes=5, microseconds=7))
    with open_state(database_url, clock=clock) as store:
        run_id = store.start_run(RunKind.PUSH, "newsletter")
        store.finish_run(run_id, RunOutcome.PARTIAL, {"created": 3, "updated": 2, "failed": 1},
                         error="1 record rejected")

        [run] = store.recent_runs()

    assert run.id == run_id
    assert (run.kind, run.audience, run.outcome) == (RunKind.PUSH, "newsletter", RunOutcome.PARTIAL)
    assert dict(run.counts) == {"created": 3, "updated": 2, "failed": 1}
    assert run.error == "1 record rejected"
    assert run.started_at == datetime(2026, 3, 1, 9, 0, 0, 123456, tzinfo=UTC)
    assert run.duration == timedelta(minutes=5, microseconds=7)
    assert json.loads(json.dumps(run.as_dict())) == {
        "id": run_id, "kind": "push", "audience": "newsletter", "started_at": "2026-03-01T09:00:00.123456+00:00",
        "finished_at": "2026-03-01T09:05:00.123463+00:00", "duration_seconds": 300.000007, "outcome": "partial",
        "counts": {"created": 3, "updated": 2, "failed": 1}, "error": "1 record rejected", "mode": None,
    }


def test_recent_runs_lists_newest_first_up_to_the_limit(store):
    ids = [store.start_run(kind) for kind in ("pull", "push", "run", "push")]
    store.finish_run(ids[0], "ok", {"imported": 10})

    recent = store.recent_runs(limit=3)

    assert [run.id for run in recent] == [ids[3], ids[2], ids[1]]
    assert [run.kind for run in recent] == [RunKind.PUSH, RunKind.RUN, RunKind.PUSH]
    assert [run.id for run in store.recent_runs()] == ids[::-1]


def test_a_run_still_going_is_running_without_duration(store):
    run_id = store.start_run("pull", None)

    [run] = store.recent_runs()

    assert (run.id, run.outcome, run.finished_at, run.duration, dict(run.counts)) == (
        run_id, RunOutcome.RUNNING, None, None, {}
    )


def test_finishing_needs_a_final_outcome_and_a_known_run(store):
    run_id = store.start_run("push", "newsletter")

    with pytest.raises(ValueError, match="final outcome"):
        store.finish_run(run_id, "running", {})
    with pytest.raises(ValueError, match="no run with id"):
        store.finish_run(run_id + 1000, "ok", {})
    with pytest.raises(ValueError):
        store.finish_run(run_id, "fine", {})
    with pytest.raises(ValueError):
        store.start_run("sync")
