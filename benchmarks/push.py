"""Push benchmark: seconds, requests, ratio to Mailchimp's own limit, and peak memory, for pushes of a demo CRM.

    .venv/bin/python benchmarks/push.py [--sizes 20000,100000] [--latency-ms 200 --per-member-ms 4]
                                        [--nightly-sizes 100000] [--memory-sizes 10000] [--baseline-sample 2000]

Every phase runs against a Mailchimp sandbox in its own process (its CPU is not counted here). With a latency
the sandbox answers each request after ``latency + per_member x members carried`` while holding one of its 10
connections, the model of the real API: N members then need at least N/500 batch requests, and with 9 in flight
about ``N/500/9 x (latency + 500 x per_member)`` seconds. That is the provider's limit; each full push prints its
ratio to it (1.0 = as fast as Mailchimp allows). Phases per size:
1. full push of a fresh demo CRM into an empty audience, next to one PUT per contact with 10 threads (measured
   on a sample, extrapolated to every eligible contact; the sample is printed);
2. the nightly runs, without latency (they write little: what they cost is reading the CRM): nothing changed
   (incremental, and with --full), then 1% of the contacts changed (requests should be ceil(changed/500) + a
   small constant), with the contacts each run read;
3. peak memory of a full push, then of a ``--full`` push with nothing changed, per ``--memory-sizes``
   (VmHWM, reset before each phase).
Prints figures only; it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import mailchimp_marketing
from sqlalchemy import create_engine, func, select, update

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sync.connectors.mailchimp.audience import subscriber_hash
from sync.demo.crm.generate import create_demo_crm
from sync.demo.crm.schema import crm_tables
from sync.push.rules import Action
from sync.push.stream import stream_plans
from sync.runner import prepared, push_audience
from sync.settings import Settings

REPO = Path(__file__).resolve().parents[1]
BATCH = 500
IN_FLIGHT = 9


def reset_peak_memory() -> None:
    Path("/proc/self/clear_refs").write_text("5")


def peak_memory_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Sandbox:
    """A Mailchimp sandbox process with the given latency; ``settings`` point crm-sync at it."""

    def __init__(self, latency_ms: float, per_member_ms: float):
        self.latency, self.per_member = latency_ms / 1000, per_member_ms / 1000
        self.child = subprocess.Popen(
            [sys.executable, "-m", "sync.sandbox.mailchimp", "--audience", "Benchmark",
             "--latency-ms", str(latency_ms), "--per-member-ms", str(per_member_ms)],
            cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.info = json.loads(self.child.stdout.readline())

    def settings(self, crm_url: str, state_url: str) -> Settings:
        return Settings(crm={"url": crm_url}, state={"url": state_url},
                        mapping_file=REPO / "config" / "mapping.yaml",
                        mailchimp={"api_key": self.info["api_key"], "base_url": self.info["base_url"]},
                        audiences={"newsletter": {"audience_id": self.info["list_id"]}})

    def limit_seconds(self, members: int, tagged: bool = False) -> float:
        """The provider's limit: batches of 500, 9 in flight, each taking latency + 500 x per-member; with
        ``tagged``, the same again for adding the created members to the ownership tag (500 a request)."""
        return (2 if tagged else 1) * members / BATCH / IN_FLIGHT * (self.latency + BATCH * self.per_member)

    def close(self) -> None:
        self.child.stdin.close()
        self.child.wait(timeout=60)

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def demo_crm(workdir: Path, contacts: int) -> str:
    path = workdir / f"crm-{contacts}.db"
    url = f"sqlite:///{path}"
    if not path.exists():
        started = time.perf_counter()
        create_demo_crm(url, contacts=contacts, seed=42)
        print(f"demo CRM with {contacts:,} contacts created in {time.perf_counter() - started:.1f}s", flush=True)
    return url


def change_one_percent(crm_url: str) -> int:
    """Change the first name of 1% of the contacts, moving their modification time as the CRM does."""
    contacts = crm_tables().contacts
    engine = create_engine(crm_url)
    with engine.begin() as connection:
        changed = connection.execute(select(func.count()).where(contacts.c.id % 100 == 7)).scalar_one()
        connection.execute(update(contacts).where(contacts.c.id % 100 == 7).values(
            first_name=contacts.c.first_name + "-x", modified_at=datetime.now(UTC).replace(tzinfo=None)))
    engine.dispose()
    return changed


def bare_read_seconds(crm_url: str) -> float:
    """A plain SQL read of every contact row: what reading the CRM costs at the least."""
    engine = create_engine(crm_url)
    started = time.perf_counter()
    with engine.connect() as connection:
        for _ in connection.execute(select(crm_tables().contacts)).yield_per(5000):
            pass
    seconds = time.perf_counter() - started
    engine.dispose()
    return seconds


def phase(name: str, settings: Settings, sandbox: Sandbox | None = None, **options) -> dict:
    reset_peak_memory()
    started = time.perf_counter()
    report = push_audience(settings, "newsletter", **options)
    seconds = time.perf_counter() - started
    members = report.summary.actions["create"] + report.summary.actions["update"]
    read = sum(report.summary.actions.values())
    row = {"phase": name, "seconds": round(seconds, 2), "contacts_read": read, "requests": report.requests,
           "write_requests": report.write_requests, "written": report.written, "members_written": members,
           "peak_memory_mb": round(peak_memory_mb(), 1)}
    ratio = ""
    if sandbox is not None and members:
        row["limit_seconds"] = round(sandbox.limit_seconds(members), 2)
        row["ratio_to_limit"] = round(row["limit_seconds"] / seconds, 2)
        row["ratio_with_tags"] = round(sandbox.limit_seconds(members, tagged=True) / seconds, 2)
        ratio = (f"  limit {row['limit_seconds']:>6.2f}s  ratio {row['ratio_to_limit']:.2f}"
                 f" ({row['ratio_with_tags']:.2f} counting the tag requests)")
    print(f"  {name:<30} {row['seconds']:>8.2f}s  read {read:>8,}  requests {row['requests']:>6}"
          f"  writes {row['write_requests']:>6}"
          f"  written {row['written']:>7}{ratio}  peak {row['peak_memory_mb']} MB", flush=True)
    return row


def one_put_per_contact(settings: Settings, sandbox: Sandbox, sample: int, threads: int = 10) -> dict:
    """What simple integrations do: one PUT per contact (here with 10 threads), into a fresh audience."""
    with prepared(settings, "newsletter") as ready:
        emails = [plan.email for plan, _ in stream_plans(ready.job, ready.crm, ready.store)
                  if plan.action in (Action.CREATE, Action.UPDATE, Action.UNCHANGED)]
    with Sandbox(sandbox.latency * 1000, sandbox.per_member * 1000) as fresh:  # an empty audience, same latency
        client = mailchimp_marketing.Client()
        client.set_config({"api_key": fresh.info["api_key"], "timeout": 60})
        client.api_client.host = fresh.info["base_url"]
        return _put_each(client, fresh.info["list_id"], emails, sample, threads)


def _put_each(client, list_id: str, emails: list[str], sample: int, threads: int) -> dict:
    def put(email: str) -> None:
        try:
            client.lists.set_list_member(list_id, subscriber_hash(email),
                                         {"email_address": email, "status_if_new": "subscribed"})
        except Exception:  # noqa: BLE001 - a refused address still cost its request
            pass

    measured = emails[:sample]
    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(put, measured))
    seconds = time.perf_counter() - started
    extrapolated = seconds / max(len(measured), 1) * len(emails)
    print(f"  {'one PUT per contact, 10 threads':<30} {extrapolated:>8.2f}s  requests {len(emails):>6}  (measured "
          f"on {len(measured)}: {seconds:.1f}s, extrapolated to all {len(emails)})", flush=True)
    return {"phase": "one PUT per contact, 10 threads", "seconds": round(extrapolated, 2), "requests": len(emails),
            "measured_on": len(measured), "measured_seconds": round(seconds, 2)}


def full_push(workdir: Path, contacts: int, args: argparse.Namespace) -> list[dict]:
    crm_url = demo_crm(workdir, contacts)
    (workdir / "state.db").unlink(missing_ok=True)
    print(f"\n{contacts:,} contacts, latency {args.latency_ms} ms + {args.per_member_ms} ms per member", flush=True)
    with Sandbox(args.latency_ms, args.per_member_ms) as sandbox:
        settings = sandbox.settings(crm_url, f"sqlite:///{workdir / 'state.db'}")
        rows = [phase("full push", settings, sandbox)]
        rows.append(one_put_per_contact(settings, sandbox, args.baseline_sample))
    speedup = rows[1]["seconds"] / rows[0]["seconds"]
    print(f"  full push is {speedup:.0f}x faster than one PUT per contact", flush=True)
    rows[0]["speedup_over_one_put_per_contact"] = round(speedup, 1)
    return rows


def nightly(workdir: Path, contacts: int, args: argparse.Namespace) -> list[dict]:
    """The nightly runs, without latency (they write little or nothing: what they cost is reading the CRM)."""
    crm_url = demo_crm(workdir, contacts)
    (workdir / "state.db").unlink(missing_ok=True)
    print(f"\nnightly runs over {contacts:,} contacts, no latency (bare SQL read of every contact row: "
          f"{bare_read_seconds(crm_url):.2f}s)", flush=True)
    with Sandbox(0, 0) as sandbox:
        settings = sandbox.settings(crm_url, f"sqlite:///{workdir / 'state.db'}")
        rows = [phase("first (full) push", settings), phase("nothing changed", settings),
                phase("nothing changed, --full", settings, full=True)]
        changed = change_one_percent(crm_url)
        rows.append(phase(f"{changed:,} changed (1%)", settings))
        print(f"  target for 1%: requests <= ceil({changed}/500) + c = {math.ceil(changed / BATCH)} + c", flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="20000,100000", help="contacts of the full-push comparisons")
    parser.add_argument("--nightly-sizes", default="100000", help="contacts of the nightly-run phases")
    parser.add_argument("--memory-sizes", default="10000", help="contacts of the peak-memory phases")
    parser.add_argument("--latency-ms", type=float, default=200.0)
    parser.add_argument("--per-member-ms", type=float, default=4.0)
    parser.add_argument("--baseline-sample", type=int, default=2000)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="crm-sync-bench-"))

    def sizes(text: str) -> list[int]:
        return [int(size) for size in text.split(",") if size]

    rows = []
    for contacts in sizes(args.sizes):
        rows += full_push(workdir, contacts, args)
    for contacts in sizes(args.nightly_sizes):
        rows += nightly(workdir, contacts, args)
    for contacts in sizes(args.memory_sizes):
        crm_url = demo_crm(workdir, contacts)
        (workdir / "state.db").unlink(missing_ok=True)
        print(f"\npeak memory, {contacts:,} contacts, no latency", flush=True)
        with Sandbox(0, 0) as sandbox:
            settings = sandbox.settings(crm_url, f"sqlite:///{workdir / 'state.db'}")
            rows.append(phase("full push", settings))
            rows.append(phase("nothing changed, --full", settings, full=True))
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
