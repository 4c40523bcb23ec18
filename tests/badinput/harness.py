"""The bad-input corpus's harness: a case is data (input, expected text, exit code, what must still happen),
the real `crm-sync` runs in a subprocess with a limited address space (RLIMIT_AS), and every case that passes
feeds TOTALS.

Inputs name the workspace with ``$dir`` (its folder), ``$mc`` / ``$sp`` (the Mailchimp / Spotler sandbox URLs),
``$list`` (the Mailchimp audience id) and ``$pg`` / ``$my`` (the test PostgreSQL / MariaDB URLs); expected
texts may use the same names.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from string import Template
from typing import Any

import pytest

from sync.errors import EXIT_OK, EXIT_RUN_FAILED

ADDRESS_SPACE = 1536 * 1024 * 1024  # RLIMIT_AS of every crm-sync process the corpus starts
MAX_RSS_KB = 320 * 1024  # and what it may really use (a clean push of the corpus's CRM peaks near 95 MB)
TIMEOUT = 120  # seconds; a case that takes longer is a hang
CLEAR_EXITS = (2, 3, 4, 5, 6)  # usage, configuration, unreachable, records rejected, busy
# Limits the address space, then becomes the command (same process: wait4 reports its peak RSS). Not a
# preexec_fn: the test process runs sandbox threads, and forking with threads must exec at once.
LIMITED = ("import os, resource, sys; limit = int(sys.argv[1]); "
           "resource.setrlimit(resource.RLIMIT_AS, (limit, limit)); os.execv(sys.argv[2], sys.argv[2:])")

TOTALS: Counter[str] = Counter()  # cases, clear errors, recovered records, cases per category
STATE_TABLES = ("member_state", "push_intents", "cursors", "event_ledger")


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str
    max_rss_kb: int
    seconds: float

    @property
    def text(self) -> str:
        return self.out + self.err


@dataclass(frozen=True)
class Case:
    """One bad input. ``files`` (project-relative path -> text or bytes) and ``env`` are applied to the
    workspace; ``setup`` does the rest (faults, SQL on the CRM); ``expect`` must all appear in the output
    and ``forbid`` none; ``still`` checks what must still have happened and returns the records it saw synced
    despite the bad input. ``network``: the case may reach a provider (else not one request may)."""

    name: str
    args: tuple[str, ...] = ("push",)
    code: int = 3
    expect: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    files: Mapping[str, str | bytes] = field(default_factory=dict)
    forbid: tuple[str, ...] = ()
    setup: Callable[[Any], None] | None = None
    still: Callable[[Any, Result], int] | None = None
    network: bool = False
    marks: tuple = ()


def param(case: Case):
    return pytest.param(case, id=case.name, marks=case.marks)


def run_cli(args: list[str], cwd: Path, env: Mapping[str, str], timeout: float = TIMEOUT) -> Result:
    """`crm-sync ARGS` in a clean environment, its address space limited; its own peak RSS from wait4."""
    environment = {name: value for name, value in os.environ.items() if not name.startswith("CRM_SYNC_")}
    environment.update(env)
    command = shutil.which("crm-sync", path=str(Path(sys.executable).parent)) or "crm-sync"
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.monotonic()
        process = subprocess.Popen([sys.executable, "-c", LIMITED, str(ADDRESS_SPACE), command, *args], cwd=cwd,
                                   env=environment, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        timer = threading.Timer(timeout, process.kill)
        timer.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            timer.cancel()
        process.returncode = code = os.waitstatus_to_exitcode(status)
        seconds = time.monotonic() - started
        out.seek(0)
        err.seek(0)
        result = Result(code, out.read().decode(errors="replace"), err.read().decode(errors="replace"),
                        usage.ru_maxrss, seconds)
    assert seconds < timeout, f"crm-sync {' '.join(args)} hung: killed after {timeout} s\n{result.err[-2000:]}"
    return result


def substitute(value, names: Mapping[str, str]):
    if isinstance(value, str):
        return Template(value).safe_substitute(names)
    return value


def state_rows(state_db: Path) -> dict[str, list]:
    """Every row of the state tables that carry sync state (not the run log or the lock), sorted."""
    if not state_db.exists():
        return {}
    with sqlite3.connect(state_db) as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        return {table: sorted(map(repr, conn.execute(f"SELECT * FROM {table}")))
                for table in STATE_TABLES if table in tables}


def check_common(case: Case, result: Result, names: Mapping[str, str]) -> None:
    """What every case asserts: its exit code and texts, no internal error, and memory within the bound."""
    context = f"exit {result.code}\n--- stdout\n{result.out[-3000:]}\n--- stderr\n{result.err[-3000:]}"
    if os.environ.get("BADINPUT_SHOW"):  # writing a new case: `BADINPUT_SHOW=1 pytest -s -k NAME` shows its output
        print(f"\n[{case.name}] {context}")
    assert result.code != EXIT_RUN_FAILED, context
    assert "internal error" not in result.text and "Traceback" not in result.text, context
    assert result.code == case.code, context
    for text in case.expect:
        assert substitute(text, names) in result.text, f"missing {substitute(text, names)!r}\n{context}"
    for text in case.forbid:
        assert substitute(text, names) not in result.text, f"leaked {substitute(text, names)!r}\n{context}"
    assert result.max_rss_kb < MAX_RSS_KB, f"peak RSS {result.max_rss_kb // 1024} MB"


def count(category: str, case: Case, result: Result, recovered: int) -> None:
    """A case that passed every assertion: count it (only then) in the corpus's totals."""
    TOTALS["cases"] += 1
    TOTALS[f"category {category}"] += 1
    if result.code in CLEAR_EXITS:
        TOTALS["clear errors"] += 1
    else:
        assert result.code == EXIT_OK
    TOTALS["recovered records"] += recovered
    TOTALS["peak rss kb"] = max(TOTALS["peak rss kb"], result.max_rss_kb)
