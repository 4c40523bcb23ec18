"""`crm-sync status`: what the recent runs did, and which contacts failed and why."""

from __future__ import annotations

import json
import sys
from collections import Counter, defaultdict

import click
from rich.console import Console
from rich.table import Table

from sync.cli.context import App, pass_app
from sync.cli.report import ACTION_ORDER, OUTCOMES, outcome_text
from sync.push.rules import REJECTION_REASONS
from sync.state.members import MemberStateRow
from sync.state.runs import RunRow
from sync.state.store import open_state

# Reason codes of contacts that failed: the provider refused them, or their data cannot be sent. Consent
# skips (no_consent, opted_out, ...) are decisions, not failures, and are left out.

@click.command()
@click.option("--limit", default=20, show_default=True, type=click.IntRange(min=1), help="How many runs to show.")
@click.option("--failures", "failure_limit", default=20, show_default=True, type=click.IntRange(min=0),
              help="How many failed contacts to show, newest first (0: none).")
@click.option("--json", "as_json", is_flag=True, help='Print JSON for scripts: {"runs": [...], "failures": [...]}.')
@pass_app
def status(app: App, limit: int, failure_limit: int, as_json: bool) -> None:
    """Show the recent runs and their outcome, then the contacts that failed and why."""
    store = open_state(app.settings.state.url.get_secret_value())
    try:
        runs = store.recent_runs(limit)
        failures = store.recent_failures(REJECTION_REASONS, failure_limit) if failure_limit else []
        failures.sort(key=newest_first)
        totals = store.failure_counts(REJECTION_REASONS)
        warnings = store.warning_counts()
    finally:
        store.close()
    if as_json:
        click.echo(json.dumps({"runs": [run.as_dict() for run in runs],
                               "failures": [_failure_dict(row) for row in failures],
                               "failure_totals": totals,
                               "field_warnings": {audience: [{"field": tag, "problem": problem, "contacts": n}
                                                             for (tag, problem), n in sorted(counts.items())]
                                                  for audience, counts in sorted(warnings.items())}},
                              indent=2, default=str))
        return
    _print_runs(runs)
    _print_failures(failures, totals)
    _print_warnings(warnings)


def _print_runs(runs: list[RunRow]) -> None:
    if not runs:
        click.echo("No runs yet. Start one with `crm-sync push` or `crm-sync run`.")
        return
    table = Table("run", "kind", "audience", "started (UTC)", "duration", "outcome", "counts")
    for run in runs:
        duration = f"{run.duration.total_seconds():.1f}s" if run.duration else "running"
        table.add_row(str(run.id), run.kind, run.audience or "-", f"{run.started_at:%Y-%m-%d %H:%M:%S}",
                      duration, run.outcome, counts_text(run))
    if sys.stdout.isatty():
        Console().print(table)
    else:  # a pipe, a log file, cron mail: rich would cut the columns to 80 characters
        for column in table.columns:
            column.overflow, column.no_wrap = "fold", True
        Console(width=100_000, no_color=True).print(table)
    for run in runs:  # a reason may be long: in full, below the table
        if run.error:
            click.echo(f"\nRun {run.id} ({run.kind} {run.audience or 'of no audience'}) {run.outcome}: {run.error}")


def counts_text(run: RunRow) -> str:
    """A run's counts for people. A push's plan (per action) and what became of the contacts it had to
    send are labelled apart, so they are never added up; other counts as stored."""
    counts = dict(run.counts)
    if run.kind != "push" or not counts:
        return ", ".join(f"{name} {value:,}" for name, value in sorted(counts.items()) if value) or "-"
    plan = ", ".join(f"{action} {counts[action]:,}" for action in ACTION_ORDER if counts.get(action))
    parts = [f"{run.mode.value} push" if run.mode else "", f"plan: {plan or 'nothing'}"]
    if "written" in counts:
        parts.append(outcome_text(counts, failed=run.outcome == "failed"))
    if counts.get("requests"):
        parts.append(f"requests {counts['requests']:,} ({counts.get('write_requests', 0):,} writes)")
    known = {*ACTION_ORDER, *(key for key, _ in OUTCOMES), "requests", "write_requests"}
    parts += [f"{name} {value:,}" for name, value in sorted(counts.items()) if value and name not in known]
    return "; ".join(part for part in parts if part)


def _print_failures(failures: list[MemberStateRow], totals: dict[str, int]) -> None:
    """Per audience, the newest failed contacts shown; the total says how many there are in all."""
    shown: dict[str, list[MemberStateRow]] = defaultdict(list)
    for row in failures:
        shown[row.audience].append(row)
    for audience in sorted(totals):
        rows = shown.get(audience, [])
        click.echo(f"\nFailed contacts in {audience}: {totals[audience]}"
                   + (f" (the {len(rows)} newest shown)" if len(rows) < totals[audience] else ""))
        for row in rows:
            address = f" <{row.email}>" if row.email else ""
            click.echo(f"  {row.updated_at:%Y-%m-%d %H:%M:%S}  contact {row.contact_id}{address}: {row.reason_code}: "
                       f"{row.last_error or '-'}")
    if totals:
        click.echo("\n`crm-sync why EMAIL` explains one contact.")


def _print_warnings(warnings: dict[str, Counter]) -> None:
    """Per audience and field, how many contacts were synced without (or with a cleaned) value."""
    for audience, counts in sorted(warnings.items()):
        click.echo(f"\nField warnings in {audience} (contacts synced without the field's value, or with control "
                   f"characters removed): {sum(counts.values())}")
        for (tag, problem), count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
            click.echo(f"  {tag}: {problem}: {count}")
    if warnings:
        click.echo("\n`crm-sync why EMAIL` shows one contact's warnings and values.")


def newest_first(row: MemberStateRow) -> tuple[float, int, str]:
    """Failures by time, newest first; those recorded at the same moment (one batch) by contact id, as
    numbers are ordered (9 before 10), as the state store's query orders them."""
    return (-row.updated_at.timestamp(), len(row.contact_id), row.contact_id)


def _failure_dict(row: MemberStateRow) -> dict[str, object]:
    return {"audience": row.audience, "contact_id": row.contact_id, "email": row.email,
            "reason_code": row.reason_code, "last_error": row.last_error,
            "updated_at": row.updated_at.isoformat()}
