"""`crm-sync segment check`, `segment preview NAME` and `segment push NAME`: a marketer's segments checked,
worked out, counted, sampled, exported, and pushed to the provider after the marketer confirmed."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from sync.cli.context import App, pass_app
from sync.cli.push import wait_option
from sync.cli.summaries import print_segment_push
from sync.connectors.crm_registry import open_crm
from sync.errors import EXIT_CONFIG, EXIT_OK, EXIT_RECORDS_REJECTED
from sync.progress import progress_board
from sync.runlock import run_lock
from sync.segments.history import mailing_title
from sync.segments.load import load_segments
from sync.segments.model import describe
from sync.segments.push import push_segment, refuse_unfit
from sync.segments.recipients import status, write_export, write_post_export
from sync.segments.select import select_recipients
from sync.segments.selection import SegmentSelection


@click.group()
def segment() -> None:
    """Marketers' segments (the segments_file setting): preview, export, review, push."""


@segment.command()
@pass_app
def check(app: App) -> None:
    """Validate the segments file against the CRM's fields, target lists and the configured audiences."""
    with open_crm(app.settings.crm) as crm:
        segments = load_segments(app.settings.segments_file, crm.describe_fields(), crm.target_lists(),
                                 app.settings.audiences)
    click.echo(f"{app.settings.segments_file}: OK ({len(segments)} segment(s): {', '.join(segments)})")


@segment.command()
@click.argument("name")
@click.option("--export", "export_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write one CSV row per selected contact (organisation, contact, address, channel, send, "
                   "reason, status); edit the send column and pass it back with --recipients.")
@click.option("--recipients", "recipients_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="An edited export: rows with send 'no' are taken out. It never adds anyone or sends to a "
                   "contact the rules leave out.")
@click.option("--post-export", "post_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the post part (channel post) as a mail-merge CSV with the segment's post_fields.")
@click.option("--sample", default=10, show_default=True, type=click.IntRange(min=0),
              help="How many recipients to show.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@pass_app
def preview(app: App, name: str, export_path: Path | None, recipients_path: Path | None, post_path: Path | None,
            sample: int, as_json: bool) -> None:
    """Show what segment NAME selects: counts after each step, left out per reason, a sample.

    Exits 3 when the recipients file has problems (each is listed with its line; none is obeyed).
    """
    selection = select_recipients(app.settings, name, recipients_path)
    exported = write_export(export_path, selection.candidates) if export_path else None
    posted = (write_post_export(post_path, selection.post_recipients, selection.segment.post_fields,
                                selection.post_values) if post_path else None)
    if as_json:
        click.echo(json.dumps(as_dict(selection, sample), indent=2))
    else:
        print_preview(selection, sample)
        if exported is not None:
            click.echo(f"\nwrote {exported:,} row(s) to {export_path}: set send to 'no' to take a recipient out, "
                       f"then `crm-sync segment preview {name} --recipients {export_path}`")
        if posted is not None:
            click.echo(f"wrote the post part, {posted:,} row(s), to {post_path}")
    for problem in selection.file_problems:
        click.echo(f"problem: {problem}", err=True)
    if selection.file_problems:
        click.echo(f"error: {len(selection.file_problems)} row(s) of {recipients_path} not obeyed (see above); "
                   "fix the file, or export again", err=True)
        sys.exit(EXIT_CONFIG)


def as_dict(selection: SegmentSelection, sample: int) -> dict:
    """The preview for scripts."""
    segment = selection.segment
    return {
        "segment": segment.name, "audience": segment.audience, "mailing": segment.mailing,
        "contacts_read": selection.contacts_read,
        "steps": [{"step": index + 1, "action": step.action, "condition": describe(step.condition),
                   "line": step.line, "selected": count}
                  for index, (step, count) in enumerate(zip(segment.steps, selection.step_counts, strict=True))],
        "candidates": len(selection.candidates),
        "email": len(selection.email_recipients), "post": len(selection.post_recipients),
        "left_out": dict(sorted(selection.reasons().items())),
        "sample": [{"contact_id": c.contact_id, "email": c.email, "name": c.name, "channel": c.channel.value,
                    "organisation_id": c.organisation_id, "organisation": c.organisation, "status": status(c)}
                   for c in _sample(selection, sample)],
        "recipients_file_problems": selection.file_problems,
    }


def print_preview(selection: SegmentSelection, sample: int) -> None:
    """The preview for people."""
    segment = selection.segment
    mailing = f", mailing {segment.mailing!r}" if segment.mailing else ""
    click.echo(f"Segment {segment.name} (audience {segment.audience}{mailing}): "
               f"{selection.contacts_read:,} CRM contacts read")
    for index, (step, count) in enumerate(zip(segment.steps, selection.step_counts, strict=True)):
        click.echo(f"  {step.describe(index)}")
        click.echo(f"    selected after it {count:>20,}" + (f"   (line {step.line})" if step.line else ""))
    email, post = len(selection.email_recipients), len(selection.post_recipients)
    left_out = len(selection.candidates) - email - post
    click.echo(f"  e-mail recipients {email:>22,}")
    if post or segment.channel_field:
        click.echo(f"  post recipients {post:>24,}")
    click.echo(f"  left out {left_out:>31,}")
    for reason, count in sorted(selection.reasons().items(), key=lambda item: (-item[1], item[0])):
        click.echo(f"    {reason:<28} {count:>9,}")
    if not email and not post:
        click.echo("  nobody to send to: the steps select no contact the rules allow (check the conditions with "
                   "--export)")
        return
    shown = _sample(selection, sample)
    if shown:
        click.echo(f"  sample ({len(shown)} of {email + post:,}):")
        for candidate in shown:
            where = f" ({candidate.organisation})" if candidate.organisation else ""
            to = f"<{candidate.email}>" if not candidate.by_post else "by post"
            click.echo(f"    contact {candidate.contact_id:<10} {to} {candidate.name}{where}")


def _sample(selection: SegmentSelection, size: int) -> list:
    return [candidate for candidate in selection.candidates if candidate.send][:size]


@segment.command()
@click.argument("name")
@click.option("--audience", default=None, help="Push to this configured audience instead of the segment's own.")
@click.option("--recipients", "recipients_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="An edited export of `segment preview --export`: rows with send 'no' are taken out. Rows not in "
                   "the selection or with a changed address refuse the push; the rules always apply.")
@click.option("--post-export", "post_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write the post part as a mail-merge CSV (default: segment-NAME-post.csv).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation (for scripts).")
@click.option("--force", is_flag=True, help="Go ahead even above the unsubscribe/archive safety threshold.")
@wait_option
@pass_app
def push(app: App, name: str, audience: str | None, recipients_path: Path | None, post_path: Path | None,
         yes: bool, force: bool, wait: bool) -> None:
    """Push segment NAME: show the preview, ask, push the recipients the audience lacks, keep them as a segment
    at the provider (crm-sync's, named 'crm-sync: NAME'), record the mailing in the CRM history, and write the
    post part as a mail-merge CSV."""
    settings = app.settings
    with run_lock(settings.state.url.get_secret_value(), wait, ttl_seconds=settings.lock_ttl_seconds):
        selection = select_recipients(settings, name, recipients_path, audience=audience)
        print_preview(selection, sample=10)
        refuse_unfit(selection, recipients_path)
        segment = selection.segment
        post_to = post_path or Path(f"segment-{_file_name(name)}-post.csv")
        email, post = len(selection.email_recipients), len(selection.post_recipients)
        question = (f"Push {email:,} e-mail recipient(s) to audience {segment.audience} and make them the "
                    f"provider segment for {name!r}" + (f", {post:,} by post to {post_to}" if post else "")
                    + f"; record '{mailing_title(segment.name, segment.mailing)}' in their CRM history?")
        if not yes:
            click.confirm(question, abort=True)
        with progress_board(f"segment {name}") as track:
            report = push_segment(settings, selection, force=force, post_path=post_to, on_progress=track)
    print_segment_push(report)
    sys.exit(EXIT_RECORDS_REJECTED if report.not_marked or report.entry_failures else EXIT_OK)


def _file_name(name: str) -> str:
    return "".join(char if char.isalnum() or char in "-_" else "-" for char in name)[:80] or "segment"


