"""`crm-sync demo`: an embedded demo CRM to try crm-sync without any account."""

from __future__ import annotations

import click

from sync.cli.context import App, pass_app
from sync.dburl import display_url
from sync.democrm.generate import create_demo_crm
from sync.progress import progress


@click.group()
def demo() -> None:
    """Try crm-sync on an embedded demo CRM."""


@demo.command("init")
@click.option("--contacts", default=1000, show_default=True, type=click.IntRange(min=1),
              help="How many contacts to create.")
@click.option("--seed", default=42, show_default=True, help="Same seed, same CRM.")
@click.option("--crm-url", default=None, help="SQLAlchemy URL of the CRM database (default: the crm.url setting).")
@click.option("--replace", is_flag=True, help="Drop an existing demo CRM in that database first.")
@pass_app
def init(app: App, contacts: int, seed: int, crm_url: str | None, replace: bool) -> None:
    """Create a realistic demo CRM database (SQLite by default)."""
    url = crm_url or app.settings.crm.url.get_secret_value()
    with progress("Creating demo CRM", total=contacts) as report:
        summary = create_demo_crm(url, contacts=contacts, seed=seed, progress=report, replace=replace)
    click.echo(f"Demo CRM ready at {display_url(url)}")
    for name, value in summary.as_rows():
        click.echo(f"  {name:<24} {value:>10,}")
