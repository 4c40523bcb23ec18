"""The `crm-sync` group: global options, settings loading and the error-to-exit-code rule."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from sync.cli.context import App
from sync.errors import EXIT_RUN_FAILED, CrmSyncError
from sync.logs import LOG_FORMATS, JsonFormatter, configure_logging, secrets_in
from sync.settings import load_settings


class _Group(click.Group):
    """Turns every crm-sync error into one message on stderr and its exit code, never a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except CrmSyncError as error:
            if _json_logs(ctx):  # the last line stays a (masked) JSON log line
                logging.getLogger("sync").error("%s", error, extra={"exit_code": error.exit_code})
            else:
                click.echo(f"error: {error}", err=True)
            sys.exit(error.exit_code)


def _json_logs(ctx: click.Context) -> bool:
    if ctx.params.get("log_format"):
        return ctx.params["log_format"] == "json"
    return isinstance(ctx.obj, App) and ctx.obj.settings.log_format == "json"


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", type=click.Path(path_type=Path), default=None,
              help="Settings file (default config/sync.yaml, or $CRM_SYNC_CONFIG).")
@click.option("--secrets-file", type=click.Path(path_type=Path), default=None,
              help="Dotenv file with secret settings (or $CRM_SYNC_SECRETS_FILE).")
@click.option("-v", "--verbose", is_flag=True, help="Log more detail; show tracebacks of internal errors.")
@click.option("--log-format", type=click.Choice(LOG_FORMATS), default=None,
              help="Log lines on stderr for people (text) or one JSON object per line (json); "
                   "default: setting log_format ($CRM_SYNC_LOG_FORMAT), else text.")
@click.version_option(package_name="crm-sync")
@click.pass_context
def cli(ctx: click.Context, config_path: Path | None, secrets_file: Path | None, verbose: bool,
        log_format: str | None) -> None:
    """Keep a CRM and an email-marketing provider in step."""
    settings = load_settings(config_path, secrets_file)
    configure_logging(log_format or settings.log_format, verbose, secrets=secrets_in(settings))
    ctx.obj = App(settings=settings)


def run(group: click.Group) -> None:
    """Run ``group`` as the console command; a bug is one plain line unless -v asks for the traceback."""
    try:
        group(prog_name="crm-sync")
    except Exception as error:
        verbose = "-v" in sys.argv or "--verbose" in sys.argv
        message = f"internal error: {type(error).__name__}: {error}" + ("" if verbose else " (run with -v for details)")
        if _json_configured():  # the line, and with -v its traceback, stay one masked JSON object
            logging.getLogger("sync").error("%s", message, exc_info=verbose, extra={"exit_code": EXIT_RUN_FAILED})
            sys.exit(EXIT_RUN_FAILED)
        if verbose:
            raise
        click.echo(message, err=True)
        sys.exit(EXIT_RUN_FAILED)


def _json_configured() -> bool:
    return any(isinstance(handler.formatter, JsonFormatter) for handler in logging.getLogger().handlers)
