"""Progress for long jobs: a live bar with counts on a terminal, a few plain lines in logs."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

log = logging.getLogger(__name__)

# Called with (done, total) as work advances.
ProgressCallback = Callable[[int, int], None]


@contextmanager
def progress(description: str, total: int, interactive: bool | None = None) -> Iterator[ProgressCallback]:
    """Yield a callback that reports progress; a bar when interactive, else a line per ~10%."""
    if interactive is None:
        interactive = sys.stderr.isatty()
    if interactive:
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, transient=False) as bar:
            task = bar.add_task(description, total=total)
            yield lambda done, total_now: bar.update(task, completed=done, total=total_now)
        return
    next_report = [0]

    def report(done: int, total_now: int) -> None:
        if total_now and (done >= next_report[0] or done == total_now):
            log.info("%s: %d/%d", description, done, total_now)
            next_report[0] = done + max(1, total_now // 10)

    yield report
