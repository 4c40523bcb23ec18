"""`crm-sync schedule`: run every audience on a schedule, in the foreground (systemd, a container)."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from sync.cli.context import App, pass_app
from sync.cli.push import run_all
from sync.errors import CrmSyncError
from sync.scheduler import build_scheduler
from sync.settings import load_settings

log = logging.getLogger(__name__)


@click.command()
@click.option("--run-now", is_flag=True, help="Also run once right away, then on the schedule.")
@pass_app
def schedule(app: App, run_now: bool) -> None:
    """Run push then pull on the schedule (default nightly at 02:00) until stopped."""
    context = click.get_current_context().find_root()
    job_kwargs = {"config_path": _path(context.params.get("config_path")),
                  "secrets_file": _path(context.params.get("secrets_file"))}
    scheduler = build_scheduler(app.settings.schedule, app.settings.state.url.get_secret_value(), scheduled_run,
                                job_kwargs, run_now)
    click.echo(f"crm-sync scheduler: '{app.settings.schedule.cron}' ({app.settings.schedule.timezone}); "
               "stop with Ctrl-C or SIGTERM")
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        scheduler.shutdown(wait=False)


def scheduled_run(config_path: str | None, secrets_file: str | None) -> None:
    """The scheduled job: load the settings afresh (files may have changed) and run every audience."""
    try:
        settings = load_settings(Path(config_path) if config_path else None,
                                 Path(secrets_file) if secrets_file else None)
        code = run_all(settings, None)
        log.info("scheduled run finished with exit code %d", code)
    except CrmSyncError as error:  # one failed night must not stop the scheduler
        log.error("scheduled run failed: %s", error)


def _path(value: object) -> str | None:
    """A path as the scheduler's job store keeps it (text)."""
    return str(Path(str(value))) if value else None
