"""What `crm-sync status` shows: the recent runs, the contacts that failed (newest first) with totals per reason,
and field warnings per audience. Reads the state store only."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sync.push.rules import REJECTION_REASONS
from sync.settings import Settings
from sync.state.members import MemberStateRow
from sync.state.runs import RunRow
from sync.state.store import open_state


@dataclass
class StatusView:
    """Recent runs, recent failures, failure totals per reason, and field warnings per audience."""

    runs: list[RunRow]
    failures: list[MemberStateRow]
    failure_totals: dict[str, int]
    warnings: dict[str, Counter]

    def as_dict(self) -> dict[str, object]:
        """JSON-ready, for `crm-sync status --json`."""
        return {"runs": [run.as_dict() for run in self.runs],
                "failures": [_failure_dict(row) for row in self.failures],
                "failure_totals": self.failure_totals,
                "field_warnings": {audience: [{"field": tag, "problem": problem, "contacts": n}
                                              for (tag, problem), n in sorted(counts.items())]
                                   for audience, counts in sorted(self.warnings.items())}}


def read_status(settings: Settings, run_limit: int, failure_limit: int) -> StatusView:
    """The state store's recent runs (up to ``run_limit``) and failures (up to ``failure_limit``; 0: none)."""
    store = open_state(settings.state.url.get_secret_value())
    try:
        runs = store.recent_runs(run_limit)
        # Failed: the provider refused them, or their data cannot be sent. Consent skips (no_consent,
        # opted_out, ...) are decisions, not failures, and are left out.
        failures = store.recent_failures(REJECTION_REASONS, failure_limit) if failure_limit else []
        failures.sort(key=newest_first)
        return StatusView(runs, failures, store.failure_counts(REJECTION_REASONS), store.warning_counts())
    finally:
        store.close()


def newest_first(row: MemberStateRow) -> tuple[float, int, str]:
    """Failures by time, newest first; those recorded at the same moment (one batch) by contact id, as
    numbers are ordered (9 before 10), as the state store's query orders them."""
    return (-row.updated_at.timestamp(), len(row.contact_id), row.contact_id)


def _failure_dict(row: MemberStateRow) -> dict[str, object]:
    return {"audience": row.audience, "contact_id": row.contact_id, "email": row.email,
            "reason_code": row.reason_code, "last_error": row.last_error,
            "updated_at": row.updated_at.isoformat()}
