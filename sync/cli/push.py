"""`crm-sync plan`, `push`, `pull` and `run`: keep the provider audiences and the CRM in step."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from datetime import UTC, datetime

import click

from sync.cli.context import App, pass_app
from sync.cli.summaries import print_plan, print_pull, print_push, print_segment_push
from sync.errors import (
    EXIT_OK,
    EXIT_RECORDS_REJECTED,
    EXIT_RUN_FAILED,
    CrmSyncError,
    worst_exit_code,
)
from sync.progress import progress_board
from sync.run_record import record_failed_run
from sync.runlock import run_lock
from sync.runner import audience_names, plan_audience, pull_audience, push_audience
from sync.segments.push import keep_in_step, scheduled_segments
from sync.settings import Settings

log = logging.getLogger(__name__)

audience_option = click.option("--audience", default=None, help="Only this configured audience.")
wait_option = click.option("--wait", is_flag=True,
                           help="If another run is active, wait for it instead of exiting (exit code 6).")
full_option = click.option("--full", is_flag=True,
                           help="Read every CRM contact, not only those changed since the last push (catches "
                                "deletes and changes the CRM cannot date; done every full_every_days anyway).")


@click.command()
@audience_option
@click.option("--limit", default=20, show_default=True, type=click.IntRange(min=0),
              help="Per-contact changes to show (0: all).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@full_option
@pass_app
def plan(app: App, audience: str | None, limit: int, as_json: bool, full: bool) -> None:
    """Show what a push would do, per action and per contact, and which kind of push it would be. Writes
    nothing."""
    summaries = [plan_audience(app.settings, name, sample_limit=limit, full=full)
                 for name in audience_names(app.settings, audience)]
    if as_json:
        click.echo(json.dumps([summary.as_dict() for summary in summaries], indent=2, default=str))
        return
    for summary in summaries:
        print_plan(summary)


@click.command()
@audience_option
@click.option("--force", is_flag=True, help="Go ahead even above the unsubscribe/archive safety threshold.")
@full_option
@wait_option
@pass_app
def push(app: App, audience: str | None, force: bool, full: bool, wait: bool) -> None:
    """Push every configured audience (or one) to the provider: only what changed."""
    with run_lock(app.settings.state.url.get_secret_value(), wait, ttl_seconds=app.settings.lock_ttl_seconds):
        sys.exit(_push_all(app.settings, audience, force, full))


@click.command()
@audience_option
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Backfill: campaigns sent since this date (default: the audience's pull_window_days).")
@wait_option
@pass_app
def pull(app: App, audience: str | None, since: datetime | None, wait: bool) -> None:
    """Pull opens, clicks, bounces and unsubscribes into the CRM's history and flags."""
    with run_lock(app.settings.state.url.get_secret_value(), wait, ttl_seconds=app.settings.lock_ttl_seconds):
        sys.exit(_pull_all(app.settings, audience, since.replace(tzinfo=UTC) if since else None))


@click.command()
@audience_option
@click.option("--force", is_flag=True, help="Go ahead even above the unsubscribe/archive safety threshold.")
@full_option
@wait_option
@pass_app
def run(app: App, audience: str | None, force: bool, full: bool, wait: bool) -> None:
    """What the scheduler calls: push, keep scheduled segments in step, then pull."""
    sys.exit(run_all(app.settings, audience, force, wait, full))


def run_all(settings: Settings, audience: str | None, force: bool = False, wait: bool = False,
            full: bool = False) -> int:
    """Push then pull every configured audience (or one) under the run lock; returns the worst exit code.

    Every audience's push and pull is attempted even when another one failed.
    """
    with run_lock(settings.state.url.get_secret_value(), wait, ttl_seconds=settings.lock_ttl_seconds):
        return worst_exit_code(_push_all(settings, audience, force, full), _keep_segments(settings, audience, force),
                               _pull_all(settings, audience, None))


def _push_all(settings: Settings, audience: str | None, force: bool, full: bool = False) -> int:
    def push_one(name: str) -> int:
        with progress_board(f"push {name}") as track:
            report = push_audience(settings, name, force=force, on_progress=track, full=full)
        print_push(report)
        return EXIT_RECORDS_REJECTED if report.rejected else EXIT_OK
    return _each_audience(settings, audience, "push", push_one)


def _keep_segments(settings: Settings, audience: str | None, force: bool) -> int:
    """Keep every scheduled segment (``scheduled: true`` in the segments file) in step at its provider."""
    def keep_all(name: str) -> int:
        codes = [EXIT_OK]
        for segment in scheduled_segments(settings, name):
            try:
                report = keep_in_step(settings, segment, name, force)
            except CrmSyncError as error:  # one segment's failure (e.g. its safety threshold) spares the others
                log.error("segment %s: %s", segment, error, extra={"exit_code": error.exit_code})
                codes.append(error.exit_code)
                continue
            print_segment_push(report)
            codes.append(EXIT_RECORDS_REJECTED if report.not_marked or report.entry_failures else EXIT_OK)
        return worst_exit_code(*codes)
    return _each_audience(settings, audience, "segment", keep_all)


def _pull_all(settings: Settings, audience: str | None, since: datetime | None) -> int:
    def pull_one(name: str) -> int:
        with progress_board(f"pull {name}") as track:
            report = pull_audience(settings, name, since=since, on_progress=track)
        print_pull(report)
        return EXIT_OK
    return _each_audience(settings, audience, "pull", pull_one)


def _each_audience(settings: Settings, audience: str | None, verb: str, work: Callable[[str], int]) -> int:
    """Run ``work`` for every audience; one that fails is reported and the others still run. A command
    that cannot start (no such audience) is recorded as a failed run too."""
    try:
        names = audience_names(settings, audience)
    except CrmSyncError as error:
        record_failed_run(settings, verb, None, error)
        raise
    codes = []
    for name in names:
        try:
            codes.append(work(name))
        except CrmSyncError as error:
            log.error("audience %s: %s failed: %s", name, verb, error, extra={"exit_code": error.exit_code})
            codes.append(error.exit_code)
        except Exception as error:  # a bug in one audience's run must not cost the others theirs
            log.error("audience %s: %s failed with an internal error: %s: %s (run with -v for details)", name,
                      verb, type(error).__name__, error, exc_info=log.isEnabledFor(logging.DEBUG))
            codes.append(EXIT_RUN_FAILED)
    return worst_exit_code(*codes)
