"""The `crm-sync` command: thin verbs that parse options, call one function and print."""

from __future__ import annotations

from sync.cli import db, demo, mapping, push, schedule, segment, status, why
from sync.cli.app import cli, run

for _verb in (db.db, demo.demo, mapping.mapping, push.plan, push.push, push.pull, push.run, schedule.schedule,
              segment.segment, status.status, why.why):
    cli.add_command(_verb)


def main() -> None:
    """Console entry point of `crm-sync`."""
    run(cli)
