"""`crm-sync why EMAIL`: one address's sync state in each configured audience, and its imported events.

Reads the CRM (which live contacts have the address) and the state store (what was pushed for them,
what the provider answered, which events were imported); writes nothing and calls no provider.
An address nobody has is an answer, not an error: the command exits 0 either way.
"""

from __future__ import annotations

import json

import click

from sync.addresses import normalise_email
from sync.cli.context import App, pass_app
from sync.readmodels.why import AddressView, ContactState, explain_email
from sync.state.members import MemberStateRow


@click.command()
@click.argument("email")
@click.option("--audience", default=None, help="Only this configured audience.")
@click.option("--events", "event_limit", default=20, show_default=True, type=click.IntRange(min=0),
              help="How many imported events to list per contact, latest first (0: counts only).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@pass_app
def why(app: App, email: str, audience: str | None, event_limit: int, as_json: bool) -> None:
    """Explain one address: its CRM contacts, their state per audience, their imported events.

    Exits 0 also when no contact has the address (the output says so; in JSON, "known" is false).
    """
    if normalise_email(email) is None:
        raise click.BadParameter("give an e-mail address", param_hint="EMAIL")
    report = explain_email(app.settings, email, audience, event_limit)
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2, default=str))
    else:
        print_view(report)


def print_view(report: AddressView) -> None:
    """The report for people: per audience and contact, the verdict, then the details behind it."""
    if not report.known:
        click.echo(f"No CRM contact has the address {report.email}, and crm-sync holds no state for it in "
                   f"{', '.join(report.audiences)}.")
        return
    ids = ", ".join(report.crm_contact_ids) or "none (only the state store remembers this address)"
    click.echo(f"{report.email}: CRM contact(s) {ids}")
    for name, contacts in report.audiences.items():
        for contact in contacts:
            gone = "" if contact.in_crm else " (no live CRM contact has this address now)"
            click.echo(f"\nAudience {name}, contact {contact.contact_id}{gone}")
            click.echo(f"  {contact.verdict}")
            if contact.state is not None:
                _print_state(contact.state)
            _print_events(contact)


def _print_state(state: MemberStateRow) -> None:
    """The stored fields that are set; a contact never pushed has no provider fields to show."""
    lines = [
        ("provider status", state.provider_status),
        ("provider id", state.provider_id),
        ("pushed address", state.email),
        ("last pushed", f"{state.pushed_at:%Y-%m-%d %H:%M:%S} UTC" if state.pushed_at else "never"),
        ("added by crm-sync", "yes" if state.owned else "no"),
        ("reason code", state.reason_code),
        ("last error", state.last_error),
        ("merged into", state.merged_into),
        ("state updated", f"{state.updated_at:%Y-%m-%d %H:%M:%S} UTC"),
    ]
    for label, value in lines:
        if value is not None:
            click.echo(f"  {label:<18} {value}")
    if state.payload:
        click.echo("  last pushed fields:")
        for tag, value in state.payload.items():
            click.echo(f"    {tag:<16} {value!r}")
    if state.warnings:
        click.echo("  field warnings (fix the value in the CRM; the next push sends it):")
        for warning in state.warnings:
            click.echo(f"    {warning['field']:<16} {warning['problem']}: {warning['detail']} "
                       f"(from {warning['sources']})")


def _print_events(contact: ContactState) -> None:
    total = sum(contact.event_counts.values())
    if not total:
        click.echo("  imported events: none")
        return
    kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(contact.event_counts.items()))
    latest = f"; the {len(contact.events)} latest:" if contact.events else ""
    click.echo(f"  imported events: {total} ({kinds}){latest}")
    for event in contact.events:
        note = f"  (not applied: {event.unapplied_reason})" if event.unapplied_reason else ""
        click.echo(f"    {event.occurred_at:%Y-%m-%d %H:%M:%S} UTC  {event.kind}{note}")
