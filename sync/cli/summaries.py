"""Printing the summaries of a plan, a push, a pull and a segment push for people."""

from __future__ import annotations

import click

from sync.pull.importer import PullReport
from sync.push.executor import PushReport
from sync.push.stream import PlanSummary
from sync.segments.push import SegmentPushReport

ACTION_ORDER = ("create", "update", "change_email", "reoptin", "unchanged", "unsubscribe", "archive", "merged", "skip")
TO_SEND = ("create", "update", "change_email", "reoptin", "unsubscribe", "archive")
# What became of each planned write, unsubscribe and archive; together they add up to the plan's ones to send.
OUTCOMES = (("written", "written"), ("rejected", "rejected"), ("not_found", "no member found"),
            ("opt_outs_found", "found unsubscribed"), ("found_left", "found cleaned or archived"),
            ("held_back", "held back (earlier write unknown)"))


def outcome_text(counts: dict[str, int], failed: bool = False) -> str:
    """A push's outcomes against its plan: "598 to send: written 593, rejected 5". A failed push also says
    how many it did not send; the plan's other counts (unchanged, merged, skip) are sent nowhere."""
    planned = sum(counts.get(action, 0) for action in TO_SEND)
    parts = [f"{label} {counts.get(key, 0):,}" for key, label in OUTCOMES
             if counts.get(key) or key in ("written", "rejected")]
    unsent = planned - sum(counts.get(key, 0) for key, _ in OUTCOMES)
    if failed and unsent > 0:
        parts.append(f"not sent {unsent:,}")
    return f"{planned:,} to send: {', '.join(parts)}"


def print_plan(summary: PlanSummary) -> None:
    """Counts per action, skip reasons, merge fields to create, then per-contact changes."""
    click.echo(f"Audience {summary.audience}: plan ({summary.scope})" if summary.scope
               else f"Audience {summary.audience}: plan")
    _print_counts(summary)
    if summary.changes:
        click.echo("  changes:")
        for plan in summary.changes:
            target = f" -> {plan.merged_into}" if plan.merged_into else ""
            reason = f" ({plan.reason})" if plan.reason else ""
            click.echo(f"    contact {plan.contact_id} <{plan.email}>: {plan.action.value}{reason}{target}")
            for tag, (old, new) in plan.changes.items():
                click.echo(f"        {tag}: {old!r} -> {new!r}")
    hidden = summary.sampled_actions - len(summary.changes)
    if hidden > 0:
        click.echo(f"    … and {hidden:,} more (`crm-sync plan --limit 0` shows all, `--json` for scripts)")
    if summary.warning_sample:
        click.echo("  field warnings (the contact is synced without that field's value):")
        for contact_id, text in summary.warning_sample:
            click.echo(f"    contact {contact_id}: {text}")
        hidden = summary.warning_count - len(summary.warning_sample)
        if hidden > 0:
            click.echo(f"    … and {hidden:,} more")


def print_push(report: PushReport) -> None:
    """The run summary of one audience's push."""
    click.echo(f"Audience {report.audience}: pushed ({report.summary.scope})" if report.summary.scope
               else f"Audience {report.audience}: pushed")
    _print_counts(report.summary)
    click.echo(f"  {outcome_text(report.counts())}; provider requests {report.requests}")
    for contact_id, reason, detail in report.rejections[:20]:
        click.echo(f"    rejected contact {contact_id}: {reason}: {detail}")
    if len(report.rejections) > 20:
        click.echo(f"    … and {len(report.rejections) - 20} more (see `crm-sync status`)")


def print_pull(report: PullReport) -> None:
    """The run summary of one audience's pull."""
    click.echo(f"Audience {report.audience}: pulled {report.campaigns} campaign(s); {report.events_read} events "
               f"read, {report.events_imported} new, {report.entries_written} history entries written, "
               f"{report.flags_changed} contacts' flags changed, {report.unmatched} events for unknown "
               f"addresses, {report.requests} requests")
    if report.unapplied:
        reasons = ", ".join(f"{reason} {count}" for reason, count in sorted(report.unapplied.items()))
        click.echo(f"  recorded without effect: {reasons} (see `crm-sync why EMAIL`)")


def _print_counts(summary: PlanSummary) -> None:
    reasons = summary.action_reasons()
    for action in ACTION_ORDER:
        if summary.actions.get(action):
            click.echo(f"  {action:<14} {summary.actions[action]:>9,}")
            for reason, count in reasons.get(action, {}).items():  # under their action: they add up to it
                click.echo(f"    {reason:<28} {count:>7,}")
    if summary.fields_to_create:
        click.echo(f"  merge fields to create: {', '.join(summary.fields_to_create)}")
    if summary.warnings:
        click.echo(f"  field warnings {summary.warning_count:>9,}")
        for (tag, problem), count in sorted(summary.warnings.items(), key=lambda item: (-item[1], item[0])):
            click.echo(f"    {tag}: {problem:<22} {count:>7,}")


def print_segment_push(report: SegmentPushReport) -> None:
    """What a segment push did."""
    if report.push is not None:
        print_push(report.push)
    made = " (created)" if report.segment_created else ""
    click.echo(f"Segment {report.segment}: provider segment {report.provider_segment!r}{made}: "
               f"{report.marked:,} of {report.email_recipients:,} e-mail recipients in it; "
               f"{report.mark.added:,} joined, {report.mark.removed:,} left, {report.mark.requests:,} requests")
    for contact_id, why in sorted(report.not_marked.items())[:20]:
        click.echo(f"    not in the segment: contact {contact_id}: {why}")
    if len(report.not_marked) > 20:
        click.echo(f"    … and {len(report.not_marked) - 20:,} more")
    click.echo(f"  CRM history: {report.entries_written:,} entries written"
               + (f", {len(report.entry_failures):,} refused" if report.entry_failures else ""))
    for failure in report.entry_failures[:20]:
        click.echo(f"    not recorded: {failure}")
    if report.post_file is not None:
        click.echo(f"  post part: {report.post_recipients:,} row(s) written to {report.post_file}")
