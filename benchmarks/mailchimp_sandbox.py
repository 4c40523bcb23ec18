"""Benchmark the Mailchimp sandbox in the shape of the push benchmark: 100,000 members in batches of 500,
9 requests in flight, through the official SDK. Then page the audience back and time single PUTs.

    .venv/bin/python benchmarks/mailchimp_sandbox.py [--members 100000] [--batch 500] [--workers 9]

Prints figures only; it asserts nothing about time.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import mailchimp_marketing

from sync.sandbox.mailchimp import MailchimpSandbox, subscriber_hash


def _client(sandbox: MailchimpSandbox) -> mailchimp_marketing.Client:
    client = mailchimp_marketing.Client()
    client.set_config({"api_key": sandbox.api_key, "timeout": 120})
    client.api_client.host = sandbox.base_url
    return client


def _batch(start: int, size: int) -> dict:
    return {"update_existing": True, "members": [
        {"email_address": f"member{n}@ziggo.test", "status": "subscribed",
         "merge_fields": {"FNAME": f"First{n}", "LNAME": f"Last{n}", "SCORE": n % 1000}}
        for n in range(start, start + size)]}


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--workers", type=int, default=9)
    args = parser.parse_args()

    with MailchimpSandbox() as sandbox:
        list_id = sandbox.create_audience("benchmark")
        client = _client(sandbox)
        client.lists.add_list_merge_field(list_id, {"name": "Score", "type": "number", "tag": "SCORE"})
        rss_before = _rss_mb()

        def push(start: int) -> tuple[float, int]:
            began = time.perf_counter()
            result = _client(sandbox).lists.batch_list_members(list_id, _batch(start, args.batch))
            return time.perf_counter() - began, result["total_created"] + result["total_updated"]

        starts = range(0, args.members, args.batch)
        began = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.workers) as pool:
            outcomes = list(pool.map(push, starts))
        wall = time.perf_counter() - began
        latencies = sorted(seconds for seconds, _ in outcomes)
        written = sum(count for _, count in outcomes)
        print(f"batch push: {written:,} members in {len(outcomes)} requests of {args.batch}, "
              f"{args.workers} in flight: {wall:.2f} s wall, {written / wall:,.0f} members/s, "
              f"{len(outcomes) / wall:.1f} requests/s")
        print(f"  per request: median {_ms(statistics.median(latencies))}, "
              f"p95 {_ms(latencies[int(len(latencies) * 0.95) - 1])}, max {_ms(latencies[-1])}")
        print(f"  peak in flight {sandbox.peak_concurrency}, 429s {sandbox.status_count(429)}, "
              f"audience size {sandbox.member_count(list_id):,}, "
              f"max RSS {rss_before:.0f} -> {_rss_mb():.0f} MB (sandbox and client in one process)")

        again = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.workers) as pool:
            list(pool.map(push, starts))
        print(f"batch re-push (all updates): {time.perf_counter() - again:.2f} s wall")

        page_times = []
        seen = 0
        began = time.perf_counter()
        for offset in range(0, args.members, 1000):
            page_began = time.perf_counter()
            seen += len(client.lists.get_list_members_info(list_id, count=1000, offset=offset)["members"])
            page_times.append(time.perf_counter() - page_began)
        print(f"page back {seen:,} members, count=1000: {time.perf_counter() - began:.2f} s; "
              f"first page {_ms(page_times[0])}, last page {_ms(page_times[-1])}")
        trimmed = ["members.id", "members.email_address", "members.status", "members.last_changed", "total_items"]
        began = time.perf_counter()
        for offset in range(0, args.members, 1000):
            client.lists.get_list_members_info(list_id, count=1000, offset=offset, fields=trimmed)
        print(f"page back with fields= (id, email, status, last_changed): {time.perf_counter() - began:.2f} s")
        began = time.perf_counter()
        client.lists.get_list_members_info(list_id, count=1000, offset=args.members - 1000, status="subscribed")
        print(f"  last page with status=subscribed: {_ms(time.perf_counter() - began)}")

        puts = 2000
        began = time.perf_counter()
        for n in range(puts):
            email = f"single{n}@ziggo.test"
            client.lists.set_list_member(list_id, subscriber_hash(email), {
                "email_address": email, "status_if_new": "subscribed", "merge_fields": {"FNAME": "S"}})
        elapsed = time.perf_counter() - began
        print(f"single PUT, one client, new connection per call (SDK): {puts / elapsed:,.0f} requests/s, "
              f"{_ms(elapsed / puts)} each")


if __name__ == "__main__":
    main()
