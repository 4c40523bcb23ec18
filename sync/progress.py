"""Progress for long jobs: a live bar with counts on a terminal, a few plain lines in logs.

``progress`` follows one count; ``progress_board`` follows several named counts of one job (a push's
contacts planned, members sent and batches answered; a pull's campaigns or feeds), each as its own bar,
or in logs as a line per ~10% of a count with a known total, and at least every ``every_seconds`` while
a count keeps moving.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

log = logging.getLogger(__name__)

# Called with (done, total) as work advances.
ProgressCallback = Callable[[int, int], None]
# Called with (what, done, total or None when unknown, note) as one of a job's counts advances.
Tracker = Callable[[str, int, "int | None", str], None]
LOG_EVERY_SECONDS = 30.0
COLUMNS = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())


@contextmanager
def progress(description: str, total: int, interactive: bool | None = None) -> Iterator[ProgressCallback]:
    """Yield a callback that reports progress; a bar when interactive, else a line per ~10%."""
    with progress_board(description, interactive) as track:
        yield lambda done, total_now: track("", done, total_now, "")


@dataclass
class _Logged:
    """What the log last said about one count."""

    next_done: int = 0
    at: float | None = None
    done: int = -1


@contextmanager
def progress_board(title: str, interactive: bool | None = None, every_seconds: float = LOG_EVERY_SECONDS,
                   clock: Callable[[], float] = time.monotonic) -> Iterator[Tracker]:
    """Yield a ``Tracker``: a bar per count on a terminal (stderr), else log lines (see the module docstring)."""
    if interactive is None:
        interactive = sys.stderr.isatty()
    if interactive:
        with Progress(*COLUMNS, console=Console(stderr=True), transient=False) as bar:
            tasks: dict[str, TaskID] = {}

            def show(what: str, done: int, total: int | None, note: str) -> None:
                description = " ".join(part for part in (f"{title}:" if what or note else title, what, note) if part)
                if what not in tasks:
                    tasks[what] = bar.add_task(description, total=total)
                bar.update(tasks[what], completed=done, total=total, description=description)
            yield show
        return
    logged: dict[str, _Logged] = {}

    def write(what: str, done: int, total: int | None, note: str) -> None:
        seen = logged.setdefault(what, _Logged())
        now = clock()
        finished = total is not None and done >= total and seen.done < done
        stepped = total is not None and total > 0 and done >= seen.next_done
        overdue = seen.at is not None and done != seen.done and now - seen.at >= every_seconds
        if not (seen.at is None or finished or stepped or overdue):
            return
        count = f"{done:,}/{total:,}" if total is not None else f"{done:,}"
        log.info("%s", " ".join(part for part in (f"{title}:", what, count, note) if part))
        seen.at, seen.done = now, done
        if total:
            seen.next_done = done + max(1, total // 10)

    yield write
