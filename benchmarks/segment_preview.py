"""Benchmark `segment preview`: the example segments over N demo CRM contacts.

Creates the demo CRM (or reuses one with --url and --keep), then works out each segment of
config/segments.example.yaml, and a selective one (top-spenders: lifetime_value at least 5,000), through the CRM
port and writes the export CSV. Prints seconds, contacts per second and peak Python memory (tracemalloc) per
segment, with the conditions pushed down into the CRM's query and without (--pushdown on/off: only one).

    .venv/bin/python benchmarks/segment_preview.py                # 100,000 contacts, temporary SQLite file
    .venv/bin/python benchmarks/segment_preview.py 100000 --url postgresql+psycopg://postgres@127.0.0.1/bench
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from sqlalchemy import inspect

from sync.dburl import display_url, open_engine
from sync.demo.crm.generate import create_demo_crm
from sync.segments.recipients import write_export
from sync.segments.select import select_recipients
from sync.settings import Settings

EXAMPLE = Path(__file__).resolve().parents[1] / "config" / "segments.example.yaml"
SELECTIVE = """
  top-spenders:
    audience: newsletter
    steps:
      - include: {field: lifetime_value, gte: 5000}
"""


def has_crm(url: str) -> bool:
    engine = open_engine(url, "benchmark CRM")
    try:
        return "contacts" in inspect(engine).get_table_names()
    finally:
        engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("contacts", nargs="?", type=int, default=100_000)
    parser.add_argument("--url", default=None, help="CRM database URL (default: a temporary SQLite file)")
    parser.add_argument("--keep", action="store_true", help="reuse the demo CRM at --url when it exists")
    parser.add_argument("--pushdown", choices=("both", "on", "off"), default="both",
                        help="conditions pushed down into the CRM's query, evaluated in the stream only, or both")
    args = parser.parse_args()
    modes = {"both": (False, True), "on": (True,), "off": (False,)}[args.pushdown]
    with tempfile.TemporaryDirectory() as folder:
        url = args.url or f"sqlite:///{Path(folder) / 'crm.db'}"
        if not (args.keep and has_crm(url)):
            started = time.perf_counter()
            create_demo_crm(url, contacts=args.contacts, seed=42, replace=True)
            print(f"demo CRM: {args.contacts:,} contacts created in {time.perf_counter() - started:.1f} s "
                  f"({display_url(url)})")
        segments_file = Path(folder) / "segments.yaml"
        segments_file.write_text(EXAMPLE.read_text(encoding="utf-8").rstrip() + "\n" + SELECTIVE, encoding="utf-8")
        settings = Settings(crm={"url": url}, segments_file=segments_file,
                            audiences={"newsletter": {"audience_id": "benchmark"}})
        print(f"python {platform.python_version()}, {platform.machine()}")
        for name in ("spring-promo", "big-spenders", "top-spenders"):
            for pushdown in modes:
                started = time.perf_counter()
                selection = select_recipients(settings, name, pushdown=pushdown)
                rows = write_export(Path(folder) / f"{name}.csv", selection.candidates)
                seconds = time.perf_counter() - started
                tracemalloc.start()  # a second pass for memory: tracing slows Python down
                again = select_recipients(settings, name, pushdown=pushdown)
                write_export(Path(folder) / f"{name}.csv", again.candidates)
                _, peak = tracemalloc.get_traced_memory()
                tracemalloc.stop()
                print(f"{name} ({'pushed down' if pushdown else 'in the stream'}): {selection.contacts_read:,} "
                      f"contacts read, {rows:,} candidates exported, {len(selection.email_recipients):,} e-mail and "
                      f"{len(selection.post_recipients):,} post recipients in {seconds:.2f} s "
                      f"({selection.contacts_read / seconds:,.0f} contacts/s), "
                      f"peak Python memory {peak / 2**20:.1f} MiB", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
