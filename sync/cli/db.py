"""`crm-sync db`: the state store's schema."""

from __future__ import annotations

import click

from sync.cli.context import App, pass_app
from sync.dburl import display_url
from sync.state.migrate import current_revision, upgrade_schema


@click.group()
def db() -> None:
    """Manage the state store's schema."""


@db.command("upgrade")
@pass_app
def upgrade(app: App) -> None:
    """Create or upgrade the state store's schema (also done on every start)."""
    url = app.settings.state.url.get_secret_value()
    upgrade_schema(url)
    click.echo(f"State store {display_url(url)} is at revision {current_revision(url)}.")
