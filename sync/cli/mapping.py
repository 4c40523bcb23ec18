"""`crm-sync mapping`: validate the field-mapping file."""

from __future__ import annotations

import click

from sync.cli.context import App, pass_app
from sync.connectors.crm_sql import open_crm
from sync.errors import ProblemsFound
from sync.mapping.check import check_mapping
from sync.mapping.load import load_mapping


@click.group()
def mapping() -> None:
    """Work with the field-mapping file."""


@mapping.command("check")
@click.option("--mapping", "mapping_path", type=click.Path(), default=None,
              help="Mapping file to check (default: the mapping_file setting).")
@pass_app
def check(app: App, mapping_path: str | None) -> None:
    """Validate the mapping file and check it against the CRM's real fields."""
    from pathlib import Path

    path = Path(mapping_path) if mapping_path else app.settings.mapping_file
    loaded = load_mapping(path)
    crm_settings = app.settings.crm
    with open_crm(crm_settings.url.get_secret_value(), crm_settings.schema_file) as crm:
        crm_fields = crm.describe_fields()
    problems = check_mapping(loaded, crm_fields)
    if problems:
        raise ProblemsFound(problems)
    audiences = len(loaded.audiences)
    fields = sum(len(audience.fields) for audience in loaded.audiences.values())
    click.echo(f"{path}: OK ({audiences} audience(s), {fields} field(s), checked against {len(crm_fields)} CRM fields)")
