"""Segment push benchmark: `crm-sync segment push` of a marketer's segment over a 100,000-contact CRM.

    .venv/bin/python benchmarks/segment_push.py [--contacts 100000] [--latency-ms 200 --per-member-ms 4]

A Mailchimp sandbox process answers each request after ``latency + per_member x members carried`` (the push
benchmark's model of the real API, 10 connections). Phases, each printing seconds, CRM contacts read, provider
requests (writes), members marked, history entries written and peak memory:

1. into an empty audience: the segment's contacts are pushed by the segment push itself, then marked;
2. the same segment again, nothing changed: reads only;
3. after the nightly push of the whole audience, another segment: its members exist, so it only marks them.

Prints figures only; asserts nothing.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.push import Sandbox, demo_crm, peak_memory_mb, reset_peak_memory  # noqa: E402
from sync.runner import push_audience  # noqa: E402
from sync.segments.push import push_segment  # noqa: E402
from sync.segments.select import select_recipients  # noqa: E402

SEGMENTS = """\
segments:
  spenders:
    audience: newsletter
    mailing: Thank you 2027
    steps:
      - include: {field: lifetime_value, gte: 500}
    organisation_field: organisation_name
  nl-gold:
    audience: newsletter
    mailing: Gold in the Netherlands
    steps:
      - include:
          all:
            - {field: country, equals: NL}
            - {field: loyalty_tier, in: [gold, silver]}
"""


def phase(label: str, settings, name: str) -> None:
    reset_peak_memory()
    started = time.perf_counter()
    selection = select_recipients(settings, name)
    selected = time.perf_counter() - started
    report = push_segment(settings, selection)
    seconds = time.perf_counter() - started
    push = report.push
    print(f"  {label:<44} {seconds:>7.2f}s (select {selected:5.2f}s)  read {selection.contacts_read:>7,}  "
          f"recipients {report.email_recipients:>6,}  push requests {push.requests if push else 0:>4} "
          f"(writes {push.write_requests if push else 0:>4})  mark requests {report.mark.requests:>4} "
          f"(+{report.mark.added:,} -{report.mark.removed:,})  entries {report.entries_written:>6,}  "
          f"peak {peak_memory_mb():.0f} MB", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--latency-ms", type=float, default=200.0)
    parser.add_argument("--per-member-ms", type=float, default=4.0)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="segment-push-"))
    crm_url = demo_crm(workdir, args.contacts)
    segments = workdir / "segments.yaml"
    segments.write_text(SEGMENTS)
    print(f"{args.contacts:,} contacts, SQLite; Mailchimp sandbox with {args.latency_ms:g} ms + "
          f"{args.per_member_ms:g} ms per member, 10 connections")
    with Sandbox(args.latency_ms, args.per_member_ms) as sandbox:
        settings = sandbox.settings(crm_url, f"sqlite:///{workdir / 'state.db'}").model_copy(
            update={"segments_file": segments})
        phase("spenders, into an empty audience", settings, "spenders")
        phase("spenders again, nothing changed", settings, "spenders")
        started = time.perf_counter()
        push_audience(settings, "newsletter")
        print(f"  (the nightly push of the whole audience: {time.perf_counter() - started:.1f}s)")
        phase("nl-gold, after the nightly push", settings, "nl-gold")


if __name__ == "__main__":
    main()
