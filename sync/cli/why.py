"""`crm-sync why EMAIL`: one address's sync state in each configured audience, and its imported events.

Reads the CRM (which live contacts have the address) and the state store (what was pushed for them,
what the provider answered, which events were imported); writes nothing and calls no provider.
An address nobody has is an answer, not an error: the command exits 0 either way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import click

from sync.addresses import normalise_email
from sync.cli.context import App, pass_app
from sync.connectors.sql.crm import open_crm
from sync.push.rules import PAYLOAD_REASONS, REJECTION_REASONS, TERMINAL_REASONS
from sync.runner import audience_names
from sync.settings import Settings
from sync.state.ledger import LedgerRow
from sync.state.members import MemberStateRow
from sync.state.store import open_state


@dataclass
class ContactState:
    """One contact in one audience: its stored state (None if no push has seen it) and its events."""

    audience: str
    contact_id: str
    in_crm: bool  # a live CRM contact has the address now (else only the state store remembers it)
    state: MemberStateRow | None
    events: list[LedgerRow] = field(default_factory=list)
    event_counts: dict[str, int] = field(default_factory=dict)

    @property
    def verdict(self) -> str:
        """One sentence saying where this contact stands and why."""
        state = self.state
        if state is None:
            return (f"not in the state store: no push of {self.audience} has seen this contact yet (added after "
                    f"the last push, or the audience was never pushed); `crm-sync plan --audience {self.audience}` "
                    "shows what the next push would do")
        reason = f"{state.reason_code}: {state.last_error}" if state.last_error else state.reason_code
        if state.merged_into:
            return (f"not a member of its own: shares its address with contact {state.merged_into}, which stands "
                    f"for it in the audience ({state.reason_code})")
        if state.reason_code in REJECTION_REASONS:
            again = ("tried again once the CRM address changes" if state.reason_code in TERMINAL_REASONS else
                     "tried again once a CRM value it was about changes" if state.reason_code in PAYLOAD_REASONS
                     else "tried again by the next push")
            kept = f"; the provider keeps what was pushed on {state.pushed_at:%Y-%m-%d}" if state.pushed_at else ""
            return f"failed: {reason} ({again}){kept}"
        if state.provider_id is None:
            return f"not pushed: {reason}" if reason else "not pushed"
        status = f"member, {state.provider_status or 'status unknown'}"
        return f"{status} ({reason})" if reason else status

    def as_dict(self) -> dict[str, object]:
        """JSON-ready: the verdict, the stored state (or None), event counts and the latest events."""
        return {
            "contact_id": self.contact_id,
            "in_crm": self.in_crm,
            "verdict": self.verdict,
            "state": None if self.state is None else self.state.as_dict(),
            "events": {"total": sum(self.event_counts.values()), "by_kind": self.event_counts,
                       "latest": [_event_dict(event) for event in self.events]},
        }


@dataclass
class EmailReport:
    """Everything crm-sync knows about one address, per configured audience."""

    email: str
    crm_contact_ids: list[str]
    audiences: dict[str, list[ContactState]]

    @property
    def known(self) -> bool:
        """Whether the CRM or the state store knows the address at all."""
        return bool(self.crm_contact_ids) or any(self.audiences.values())

    def as_dict(self) -> dict[str, object]:
        """JSON-ready, for `crm-sync why --json`."""
        return {"email": self.email, "known": self.known, "crm_contact_ids": self.crm_contact_ids,
                "audiences": {name: [contact.as_dict() for contact in contacts]
                              for name, contacts in self.audiences.items()}}


def explain_email(settings: Settings, email: str, audience: str | None = None, event_limit: int = 20) -> EmailReport:
    """The CRM contacts with ``email`` and, per configured audience, their stored state and latest events.

    Contacts are those the CRM has with the address now, then any the state store last pushed with it
    (deleted in the CRM since, or whose address changed).
    """
    address = normalise_email(email)
    if address is None:
        raise ValueError("explain_email needs an e-mail address")
    names = audience_names(settings, audience)
    with open_crm(settings.crm.url.get_secret_value(), settings.crm.schema_file) as crm:
        crm_ids = crm.contacts_by_email([address]).get(address, [])
    audiences: dict[str, list[ContactState]] = {}
    with open_state(settings.state.url.get_secret_value(), upgrade=False) as store:
        by_address = store.member_states_by_email(address)
        for name in names:
            stored = {row.contact_id: row for row in by_address if row.audience == name}
            stored.update(store.member_states(name, crm_ids))
            contact_ids = crm_ids + [contact_id for contact_id in stored if contact_id not in crm_ids]
            audiences[name] = [
                ContactState(name, contact_id, contact_id in crm_ids, stored.get(contact_id),
                             store.events_for_contact(name, contact_id, event_limit) if event_limit else [],
                             store.event_counts_for_contact(name, contact_id))
                for contact_id in contact_ids
            ]
    return EmailReport(address, crm_ids, audiences)


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
        print_report(report)


def print_report(report: EmailReport) -> None:
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
            click.echo(f"    {warning['field']:<16} {warning['problem']}: {warning['detail']} (from {warning['sources']})")


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


def _event_dict(event: LedgerRow) -> dict[str, object]:
    return {"kind": event.kind, "occurred_at": event.occurred_at.isoformat(),
            "imported_at": event.imported_at.isoformat(), "run_id": event.run_id,
            "unapplied_reason": event.unapplied_reason}
