"""`crm-sync mapping`: validate the field-mapping file."""

from __future__ import annotations

import click

from sync.cli.context import App, pass_app
from sync.connectors.crm_registry import open_crm
from sync.connectors.provider_registry import PROVIDER_NAMES, kit, provider_title
from sync.errors import ConfigError, ProblemsFound
from sync.mapping.check import ConfiguredAudience, check_audiences, check_mapping
from sync.mapping.load import load_mapping
from sync.mapping.model import MappingFile
from sync.provider_fields import field_report
from sync.runner import audience_names


@click.group()
def mapping() -> None:
    """Work with the field-mapping file."""


@mapping.command("check")
@click.option("--mapping", "mapping_path", type=click.Path(), default=None,
              help="Mapping file to check (default: the mapping_file setting).")
@click.option("--online", is_flag=True,
              help="Also ask each configured audience's provider for its fields: what the push will create "
                   "(Mailchimp), what must be added by hand in Mail+ (Spotler), and conflicts.")
@pass_app
def check(app: App, mapping_path: str | None, online: bool) -> None:
    """Validate the mapping file and check it against the CRM's real fields."""
    from pathlib import Path

    path = Path(mapping_path) if mapping_path else app.settings.mapping_file
    loaded = load_mapping(path)
    with open_crm(app.settings.crm) as crm:
        crm_fields = crm.describe_fields()
    configured = {name: ConfiguredAudience(audience.mapping or name, audience.provider, audience.consent_field)
                  for name, audience in app.settings.audiences.items()}
    max_fields = {name: limit for name in PROVIDER_NAMES if (limit := kit(name).max_fields) is not None}
    problems = check_mapping(loaded, crm_fields) + check_audiences(loaded, configured, max_fields, crm_fields)
    if problems:
        raise ProblemsFound(problems)
    audiences = len(loaded.audiences)
    fields = sum(len(audience.fields) for audience in loaded.audiences.values())
    click.echo(f"{path}: OK ({audiences} audience(s), {fields} field(s), checked against {len(crm_fields)} CRM fields)")
    if online:
        _check_online(app, loaded, crm_fields)


def _check_online(app: App, loaded: MappingFile, crm_fields: list) -> None:
    failed = []
    for name in audience_names(app.settings, None):
        section = app.settings.audiences[name].mapping or name
        if section not in loaded.audiences:
            raise ConfigError(f"{loaded.file}: no audience section {section!r} for audience {name}")
        report = field_report(app.settings, name, loaded.audiences[section], crm_fields)
        click.echo(f"\naudience {name} ({report.provider}): {report.existing} field(s) in the account")
        for line in report.to_create:
            click.echo(f"  will be created by the push: {line}")
        for line in report.notes:
            click.echo(f"  note: {line}")
        for line in report.to_make_by_hand:
            click.echo(f"  must be added in Mail+ (Contacts > Properties): {line}")
        if report.not_sent:
            click.echo(f"  not sent to {provider_title(report.provider, short=True)} (no {report.provider}: property): "
                       f"{', '.join(report.not_sent)}")
        for line in report.conflicts:
            click.echo(f"  problem: {line}")
        if not report.ok:
            failed.append(name)
    if failed:
        raise ConfigError(f"the provider fields of {', '.join(failed)} do not fit the mapping (see above)")
