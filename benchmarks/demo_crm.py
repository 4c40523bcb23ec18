"""Benchmark the demo CRM: create N contacts, then stream them all through the SQL CRM connector.

Prints seconds to create, contacts created per second, database size, then for a full
``iter_contacts`` pass: contacts per second and peak Python memory (tracemalloc, a second pass).

    .venv/bin/python benchmarks/demo_crm.py                       # 1,000,000 contacts, temporary SQLite file
    .venv/bin/python benchmarks/demo_crm.py 100000 --url postgresql+psycopg://postgres@127.0.0.1/bench --replace
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import sqlalchemy
from sqlalchemy import create_engine, make_url, text

from sync.connectors.sql.crm import open_crm
from sync.dburl import display_url
from sync.demo.crm.generate import CHUNK_SIZE, create_demo_crm
from sync.errors import CrmSyncError


def database_bytes(url: str) -> int | None:
    """On-disk size of the database: file size, pg_database_size, or InnoDB's (estimated) table sizes."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return os.path.getsize(parsed.database)
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            if backend == "postgresql":
                return connection.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
            if backend in ("mysql", "mariadb"):
                connection.execute(text("ANALYZE TABLE contacts, contacts_cf, target_list_members, organisations"))
                return int(connection.execute(text(
                    "SELECT SUM(data_length + index_length) FROM information_schema.tables "
                    "WHERE table_schema = DATABASE()")).scalar_one())
    finally:
        engine.dispose()
    return None


def stream(url: str, chunk_size: int) -> tuple[int, float]:
    started = time.perf_counter()
    with open_crm(url) as crm:
        count = sum(1 for _ in crm.iter_contacts(chunk_size=chunk_size))
    return count, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("contacts", nargs="?", type=int, default=1_000_000)
    parser.add_argument("--url", help="database URL (default: a temporary SQLite file)")
    parser.add_argument("--replace", action="store_true", help="drop demo CRM tables already at --url")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--insert-chunk", type=int, default=CHUNK_SIZE, help="rows per INSERT batch")
    parser.add_argument("--read-chunk", type=int, default=1000, help="contacts per iter_contacts query")
    parser.add_argument("--no-tracemalloc", action="store_true", help="skip the memory-measuring second pass")
    args = parser.parse_args()

    workdir = None
    url = args.url
    if url is None:
        workdir = tempfile.TemporaryDirectory(prefix="crm-sync-bench-")
        url = f"sqlite:///{Path(workdir.name) / 'crm.db'}"
    print(f"python {platform.python_version()}, sqlalchemy {sqlalchemy.__version__}, {platform.machine()}, "
          f"{os.cpu_count()} cpu(s)")
    print(f"database: {display_url(url)}")
    try:
        started = time.perf_counter()
        summary = create_demo_crm(url, contacts=args.contacts, seed=args.seed,
                                  replace=args.replace or workdir is not None, chunk_size=args.insert_chunk)
        created = time.perf_counter() - started
        print(f"create: {summary.contacts:,} contacts ({summary.list_memberships:,} list memberships, "
              f"{summary.organisations:,} organisations) in {created:.1f} s = "
              f"{summary.contacts / created:,.0f} contacts/s")
        size = database_bytes(url)
        if size is not None:
            print(f"database size: {size / 1e6:,.1f} MB ({size / summary.contacts:,.0f} bytes per contact)")

        count, seconds = stream(url, args.read_chunk)
        print(f"iter_contacts (chunk {args.read_chunk}): {count:,} contacts in {seconds:.1f} s = "
              f"{count / seconds:,.0f} contacts/s")
        if not args.no_tracemalloc:
            tracemalloc.start()
            count, seconds = stream(url, args.read_chunk)
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            print(f"iter_contacts peak Python memory (tracemalloc): {peak / 1e6:.1f} MB "
                  f"(pass took {seconds:.1f} s under tracing)")
        print(f"process max RSS (whole run, incl. creation): "
              f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    except CrmSyncError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    finally:
        if workdir is not None:
            workdir.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
