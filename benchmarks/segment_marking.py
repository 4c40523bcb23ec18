"""Segment marking benchmark: a Mailchimp static segment of 100,000 members marked 500 a request, 9 in flight.

    .venv/bin/python benchmarks/segment_marking.py [--members 100000] [--latency-ms 200 --per-member-ms 4]

The sandbox answers each request after ``latency + per_member x addresses carried`` while holding one of its
10 connections (the push benchmark's model of the real API). Marking N members needs at least N/500 requests,
and with 9 in flight about ``N/500/9 x (latency + 500 x per_member)`` seconds: the provider's limit, to which
each phase prints its ratio (1.0 = as fast as Mailchimp allows). Phases: the first marking of an empty segment;
the re-run with nothing changed (reads only); 1% leaving and 1% joining. Reading the segment takes its first page,
then the other pages in parallel. Prints figures only; asserts nothing.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sync.connectors.mailchimp.audience import MailchimpAudience
from sync.connectors.mailchimp.segments import MailchimpSegments
from sync.connectors.segments import converge
from sync.sandbox.mailchimp import MailchimpSandbox
from sync.sandbox.mailchimp.server import Latency
from sync.settings import MailchimpSettings

IN_FLIGHT = 9
CHUNK = 500
ROUTE = "/lists/{list_id}/segments/{segment_id}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--latency-ms", type=float, default=200.0)
    parser.add_argument("--per-member-ms", type=float, default=4.0)
    args = parser.parse_args()
    latency = Latency(args.latency_ms / 1000, args.per_member_ms / 1000)
    everyone = [f"member{n:07d}@ziggo.test" for n in range(args.members)]
    with MailchimpSandbox(latency=latency) as sandbox:
        list_id = sandbox.create_audience("segment benchmark")
        for email in everyone:
            sandbox.add_member(list_id, email)
        settings = MailchimpSettings(api_key=sandbox.api_key, base_url=sandbox.base_url, concurrency=IN_FLIGHT)
        marker = MailchimpSegments(MailchimpAudience(settings, list_id), "crm-sync")
        ref = marker.ensure_segment("Benchmark")
        one_percent = max(1, args.members // 100)
        print(f"{args.members:,} members, latency {args.latency_ms:g} ms + {args.per_member_ms:g} ms per address, "
              f"{IN_FLIGHT} in flight (Mailchimp allows 10 connections)")
        print(f"{'phase':<28}{'seconds':>9}{'writes':>8}{'reads':>7}{'added':>9}{'removed':>9}{'peak':>6}"
              f"{'limit s':>9}{'ratio':>7}")
        changed = everyone[one_percent:] + [f"new{n:07d}@ziggo.test" for n in range(one_percent)]
        for email in changed[-one_percent:]:
            sandbox.add_member(list_id, email)
        for phase, wanted in (("first marking", everyone), ("re-run, nothing changed", everyone),
                              ("1% leave, 1% join", changed)):
            sandbox.reset_traffic()
            started = time.perf_counter()
            report = converge(marker, ref, wanted)
            seconds = time.perf_counter() - started
            writes = sandbox.request_count("POST", route=ROUTE)
            reads = sandbox.request_count("GET")
            carried = report.added + report.removed
            per_request = latency.base + latency.per_member * min(CHUNK * 2, max(1, carried / max(writes, 1)))
            read_rounds = (1 + math.ceil((reads - 1) / IN_FLIGHT)) if reads else 0  # first page, then the rest
            limit = read_rounds * (latency.base + latency.per_member) + math.ceil(writes / IN_FLIGHT) * per_request
            print(f"{phase:<28}{seconds:>9.1f}{writes:>8}{reads:>7}{report.added:>9,}{report.removed:>9,}"
                  f"{sandbox.peak_concurrency:>6}{limit:>9.1f}{seconds / limit if limit else 0:>7.2f}", flush=True)
        held = len(sandbox.segment_emails(list_id, ref.provider_name))
        print(f"429s: {sandbox.status_count(429)}; the segment holds {held:,}")


if __name__ == "__main__":
    main()
