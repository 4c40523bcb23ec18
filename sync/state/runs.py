"""Runs: one row per push, pull or combined run, for ``crm-sync status``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import Connection, insert, select, update

from sync.state.models import AUDIENCE_LENGTH, Run, table_of


class RunKind(StrEnum):
    """What a run does."""

    PUSH = "push"
    PULL = "pull"
    RUN = "run"
    SEGMENT = "segment"  # a marketer's segment pushed and marked (sync/segments/push.py)


class PushMode(StrEnum):
    """How much of the CRM a push reads."""

    FULL = "full"  # every contact
    INCREMENTAL = "incremental"  # those changed since the last completed push


COMPLETED = ("ok", "partial")


class RunOutcome(StrEnum):
    """How a run ended; ``running`` until it does."""

    RUNNING = "running"
    OK = "ok"
    PARTIAL = "partial"
    FAILED = "failed"
    INTERRUPTED = "interrupted"


@dataclass(frozen=True, slots=True)
class RunRow:
    """One run as stored; ``counts`` holds created, updated, unchanged, skipped, failed, ..."""

    id: int
    kind: RunKind
    audience: str | None
    started_at: datetime
    finished_at: datetime | None
    outcome: RunOutcome
    counts: Mapping[str, int]
    error: str | None
    mode: PushMode | None = None
    fingerprint: str | None = None

    @property
    def duration(self) -> timedelta | None:
        """How long the run took; None while it is still running."""
        return None if self.finished_at is None else self.finished_at - self.started_at

    def as_dict(self) -> dict[str, object]:
        """The run as JSON-ready values (ISO 8601 times, duration in seconds)."""
        duration = self.duration
        return {
            "id": self.id,
            "kind": self.kind.value,
            "audience": self.audience,
            "started_at": self.started_at.isoformat(),
            "finished_at": None if self.finished_at is None else self.finished_at.isoformat(),
            "duration_seconds": None if duration is None else duration.total_seconds(),
            "outcome": self.outcome.value,
            "counts": dict(self.counts),
            "error": self.error,
            "mode": None if self.mode is None else self.mode.value,
        }


def start_run(conn: Connection, kind: RunKind | str, audience: str | None, now: datetime) -> int:
    """Record a run as started and return its id."""
    if audience is not None and len(audience) > AUDIENCE_LENGTH:
        raise ValueError(f"audience name {audience[:40]!r}... is longer than {AUDIENCE_LENGTH} characters")
    result = conn.execute(
        insert(Run).values(
            kind=RunKind(kind).value,
            audience=audience,
            started_at=now,
            outcome=RunOutcome.RUNNING.value,
            counts={},
        )
    )
    key = result.inserted_primary_key
    if key is None:
        raise RuntimeError("the state store returned no id for the new run")
    return int(key[0])


def finish_run(
    conn: Connection,
    run_id: int,
    outcome: RunOutcome | str,
    counts: Mapping[str, int],
    error: str | None,
    now: datetime,
) -> None:
    """Record how run ``run_id`` ended; ``outcome`` cannot be ``running``."""
    final = RunOutcome(outcome)
    if final is RunOutcome.RUNNING:
        raise ValueError(f"run {run_id}: finish_run needs a final outcome, not 'running'")
    result = conn.execute(
        update(Run)
        .where(Run.id == run_id)
        .values(finished_at=now, outcome=final.value, counts={str(k): int(v) for k, v in counts.items()}, error=error)
    )
    if result.rowcount != 1:
        raise ValueError(f"no run with id {run_id} in the state store")


def mark_running_interrupted(conn: Connection, now: datetime) -> int:
    """Mark every run still ``running`` as ``interrupted``; returns how many. Call it holding the run lock."""
    return conn.execute(
        update(Run).where(Run.outcome == RunOutcome.RUNNING.value)
        .values(finished_at=now, outcome=RunOutcome.INTERRUPTED.value, error="stopped before it finished")
    ).rowcount


def recent_runs(conn: Connection, limit: int) -> list[RunRow]:
    """The ``limit`` most recently started runs, newest first."""
    rows = conn.execute(select(table_of(Run)).order_by(Run.id.desc()).limit(limit))
    return [_to_row(row) for row in rows]


def set_push_mode(conn: Connection, run_id: int, mode: PushMode | str, fingerprint: str) -> None:
    """Record which kind of push run ``run_id`` is, and the configuration's fingerprint."""
    conn.execute(update(Run).where(Run.id == run_id).values(mode=PushMode(mode).value, fingerprint=fingerprint))


def last_completed_push(conn: Connection, audience: str, mode: PushMode | None = None) -> RunRow | None:
    """The latest push of ``audience`` that completed (ok or partial), of ``mode`` when given."""
    query = select(table_of(Run)).where(Run.kind == RunKind.PUSH.value, Run.audience == audience,
                                        Run.outcome.in_(COMPLETED), Run.mode.is_not(None))
    if mode is not None:
        query = query.where(Run.mode == PushMode(mode).value)
    row = conn.execute(query.order_by(Run.id.desc()).limit(1)).first()
    return None if row is None else _to_row(row)


def _to_row(row) -> RunRow:
    return RunRow(id=row.id, kind=RunKind(row.kind), audience=row.audience, started_at=row.started_at,
                  finished_at=row.finished_at, outcome=RunOutcome(row.outcome), counts=dict(row.counts),
                  error=row.error, mode=None if row.mode is None else PushMode(row.mode), fingerprint=row.fingerprint)
