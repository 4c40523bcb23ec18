"""`crm-sync demo`: an embedded demo CRM to try crm-sync without any account."""

from __future__ import annotations

from pathlib import Path

import click

from sync.cli.context import App, pass_app
from sync.cli.summaries import print_pull, print_push
from sync.connectors.provider_registry import DEFAULT_PROVIDER, provider_title
from sync.dburl import display_url
from sync.demo.crm.generate import create_demo_crm
from sync.demo.crms import DEMO_CRMS
from sync.demo.providers import DEMO_PROVIDERS
from sync.demo.run import run_demo
from sync.progress import progress, progress_board


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


@demo.command("run")
@click.option("--contacts", default=1000, show_default=True, type=click.IntRange(min=1),
              help="Contacts in the demo CRM.")
@click.option("--seed", default=42, show_default=True, help="Same seed, same CRM.")
@click.option("--provider", type=click.Choice(DEMO_PROVIDERS), default=DEFAULT_PROVIDER, show_default=True,
              help="Which provider's sandbox to push into.")
@click.option("--crm", type=click.Choice(DEMO_CRMS), default="sql", show_default=True,
              help="Which CRM holds the demo people: the embedded SQL CRM, or a local fake EspoCRM or vtiger.")
@pass_app
def run(app: App, contacts: int, seed: int, provider: str, crm: str) -> None:
    """Push a fresh demo CRM into a local provider sandbox, pull engagement back, show what happened."""
    folder = Path("data")
    with progress_board("Pushing the demo CRM") as report_progress:
        result = run_demo(app.settings, contacts, seed, folder, report_progress, provider, crm)
    if result.crm_url:
        click.echo(f"Fake {crm} at {result.crm_url} (stopped again), filled with the demo CRM's people.")
    click.echo(f"{provider_title(provider)} sandbox at {result.base_url} (stopped again); demo CRM and state kept in "
               f"{folder}/demo-crm.db and {folder}/demo-state.db\n")
    print_push(result.first)
    click.echo("")
    click.echo(f"Second push, nothing changed in the CRM: {result.second.written} written, "
               f"{result.second.requests} requests (reads only: the plan found "
               f"{result.second.summary.actions['unchanged']} members unchanged).")
    click.echo(f"\nThe sandbox audience now has {result.members} members, for example:")
    for email, member in result.sample:
        shown = [(tag, value) for tag, value in member["fields"].items() if tag not in ("email", "permissions")]
        fields = ", ".join(f"{tag}={value!r}" for tag, value in shown[:6])
        click.echo(f"  {email} [{member['status']}] {fields}")
    click.echo("\nTwo campaigns were sent in the sandbox and members opened, clicked, bounced and unsubscribed.")
    print_pull(result.pulled)
    click.echo(f"\nWhat a CRM user now sees on contact {result.contact}:")
    for kind, subject, body, when in result.history:
        click.echo(f"  {when:%Y-%m-%d %H:%M}  [{kind}] {subject}")
        for line in body.splitlines()[1:]:
            click.echo(f"                    {line}")
    click.echo(f"\nTry `crm-sync plan` against your own {provider_title(provider)} account next "
               "(see README: Configuration).")
