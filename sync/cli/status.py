"""`crm-sync status`: what the recent runs did."""

from __future__ import annotations

import json

import click
from rich.console import Console
from rich.table import Table

from sync.cli.context import App, pass_app
from sync.state.store import open_state


@click.command()
@click.option("--limit", default=20, show_default=True, type=click.IntRange(min=1), help="How many runs to show.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@pass_app
def status(app: App, limit: int, as_json: bool) -> None:
    """Show the recent runs and their outcome."""
    store = open_state(app.settings.state.url.get_secret_value())
    try:
        runs = store.recent_runs(limit)
    finally:
        store.close()
    if as_json:
        click.echo(json.dumps([run.as_dict() for run in runs], indent=2, default=str))
        return
    if not runs:
        click.echo("No runs yet. Start one with `crm-sync push` or `crm-sync run`.")
        return
    table = Table("run", "kind", "audience", "started (UTC)", "duration", "outcome", "counts")
    for run in runs:
        counts = ", ".join(f"{name} {value}" for name, value in sorted(run.counts.items()) if value)
        duration = f"{run.duration.total_seconds():.1f}s" if run.duration else "running"
        table.add_row(str(run.id), run.kind, run.audience or "-", f"{run.started_at:%Y-%m-%d %H:%M:%S}",
                      duration, run.outcome, counts or "-")
    Console().print(table)
