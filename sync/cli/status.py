"""`crm-sync status`: what the recent runs did, and which contacts failed and why."""

from __future__ import annotations

import json
import sys
from collections import Counter, defaultdict

import click
from rich.console import Console
from rich.table import Table

from sync.cli.context import App, pass_app
from sync.cli.summaries import ACTION_ORDER, OUTCOMES, outcome_text
from sync.readmodels.status import read_status
from sync.state.members import MemberStateRow
from sync.state.runs import RunRow


@click.command()
@click.option("--limit", default=20, show_default=True, type=click.IntRange(min=1), help="How many runs to show.")
@click.option("--failures", "failure_limit", default=20, show_default=True, type=click.IntRange(min=0),
              help="How many failed contacts to show, newest first (0: none).")
@click.option("--json", "as_json", is_flag=True, help='Print JSON for scripts: {"runs": [...], "failures": [...]}.')
@pass_app
def status(app: App, limit: int, failure_limit: int, as_json: bool) -> None:
    """Show the recent runs and their outcome, then the contacts that failed and why."""
    view = read_status(app.settings, limit, failure_limit)
    if as_json:
        click.echo(json.dumps(view.as_dict(), indent=2, default=str))
        return
    _print_runs(view.runs)
    _print_failures(view.failures, view.failure_totals)
    _print_warnings(view.warnings)


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
