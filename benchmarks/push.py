"""Push benchmark: requests made, contacts per second and peak memory for a Mailchimp push.

    .venv/bin/python benchmarks/push.py [--contacts 100000] [--baseline-sample 10000]

Phases, each against a Mailchimp sandbox running in its own process (so its CPU is not counted here):
1. full push of a fresh demo CRM into an empty audience;
2. re-run with nothing changed;
3. re-run with 1% of the contacts changed;
4. the naive way, for comparison: one PUT request per contact, sequentially, into a second audience
   (on a sample of contacts, extrapolated to all of them; the sample size is printed).
Peak memory is the process's peak resident set (VmHWM), reset before each phase.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import mailchimp_marketing
from sqlalchemy import create_engine, select, update

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sync.audience_plan import stream_plans  # noqa: E402
from sync.connectors.mailchimp import subscriber_hash  # noqa: E402
from sync.democrm.generate import create_demo_crm  # noqa: E402
from sync.democrm.schema import crm_tables  # noqa: E402
from sync.jobs import prepared, push_audience  # noqa: E402
from sync.plan import Action  # noqa: E402
from sync.settings import Settings  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def reset_peak_memory() -> None:
    Path("/proc/self/clear_refs").write_text("5")


def peak_memory_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def start_sandbox() -> tuple[subprocess.Popen, dict]:
    child = subprocess.Popen([sys.executable, "-m", "sync.sandbox.mailchimp", "--audience", "Benchmark"],
                             cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    return child, json.loads(child.stdout.readline())


def change_one_percent(crm_url: str) -> int:
    contacts = crm_tables().contacts
    engine = create_engine(crm_url)
    with engine.begin() as connection:
        ids = [row[0] for row in connection.execute(select(contacts.c.id).where(contacts.c.id % 100 == 7))]
        connection.execute(update(contacts).where(contacts.c.id % 100 == 7)
                           .values(first_name=contacts.c.first_name + "-x"))
    engine.dispose()
    return len(ids)


def phase(name: str, settings: Settings, contacts: int) -> dict:
    reset_peak_memory()
    started = time.perf_counter()
    report = push_audience(settings, "newsletter")
    seconds = time.perf_counter() - started
    row = {"phase": name, "requests": report.requests, "write_requests": report.write_requests,
           "written": report.written, "seconds": round(seconds, 2),
           "contacts_per_second": round(contacts / seconds), "peak_memory_mb": round(peak_memory_mb(), 1)}
    print(f"{name:<28} requests {row['requests']:>6}  writes {row['write_requests']:>6}  written {row['written']:>7}"
          f"  {row['seconds']:>7.2f}s  {row['contacts_per_second']:>7} contacts/s  peak {row['peak_memory_mb']} MB",
          flush=True)
    return row


def naive_baseline(settings: Settings, sample: int) -> dict:
    """One PUT per contact, one after another, into a fresh audience: what most simple integrations do."""
    child, sandbox = start_sandbox()
    try:
        return _naive(settings, sandbox, sample)
    finally:
        child.stdin.close()
        child.wait(timeout=30)


def _naive(settings: Settings, sandbox: dict, sample: int) -> dict:
    client = mailchimp_marketing.Client()
    client.set_config({"api_key": sandbox["api_key"], "timeout": 30})
    client.api_client.host = sandbox["base_url"]
    list_id = sandbox["list_id"]
    with prepared(settings, "newsletter") as ready:
        writes = [plan for plan, _ in stream_plans(ready.job, ready.crm, ready.store)
                  if plan.action in (Action.CREATE, Action.UPDATE, Action.UNCHANGED)]
    eligible = len(writes)
    started = time.perf_counter()
    done = 0
    for plan in writes[:sample]:
        try:
            client.lists.set_list_member(list_id, subscriber_hash(plan.email), {
                "email_address": plan.email, "status_if_new": "subscribed", "merge_fields": {}})
        except Exception:  # noqa: BLE001 - a fake address is refused; it still cost a request
            pass
        done += 1
    seconds = time.perf_counter() - started
    rate = done / seconds
    print(f"{'one request per contact':<28} requests {eligible:>6} (measured on {done}: {rate:.0f} requests/s, "
          f"so {eligible / rate:.0f}s for all {eligible})", flush=True)
    return {"phase": "one request per contact", "requests": eligible, "measured_on": done,
            "requests_per_second": round(rate), "extrapolated_seconds": round(eligible / rate)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--baseline-sample", type=int, default=10_000)
    parser.add_argument("--workdir", type=Path, default=None)
    arguments = parser.parse_args()
    workdir = arguments.workdir or Path(tempfile.mkdtemp(prefix="crm-sync-bench-"))
    crm_url = f"sqlite:///{workdir / f'crm-{arguments.contacts}.db'}"
    if not (workdir / f"crm-{arguments.contacts}.db").exists():
        started = time.perf_counter()
        create_demo_crm(crm_url, contacts=arguments.contacts, seed=42)
        print(f"demo CRM with {arguments.contacts} contacts created in {time.perf_counter() - started:.1f}s")
    (workdir / "state.db").unlink(missing_ok=True)
    child, sandbox = start_sandbox()
    try:
        settings = Settings(
            crm={"url": crm_url}, state={"url": f"sqlite:///{workdir / 'state.db'}"},
            mapping_file=REPO / "config" / "mapping.yaml",
            mailchimp={"api_key": sandbox["api_key"], "base_url": sandbox["base_url"]},
            audiences={"newsletter": {"audience_id": sandbox["list_id"]}},
        )
        n = arguments.contacts
        rows = [phase("full push", settings, n), phase("re-run, nothing changed", settings, n)]
        changed = change_one_percent(crm_url)
        rows.append(phase(f"re-run, {changed} changed (1%)", settings, n))
        rows.append(naive_baseline(settings, arguments.baseline_sample))
        full = rows[0]
        print(f"\ntarget full push: requests <= ceil(N/500) + c = {math.ceil(n / 500)} + c; "
              f"measured {full['requests']} (of which writes {full['write_requests']})")
        print(json.dumps(rows))
    finally:
        child.stdin.close()
        child.wait(timeout=30)


if __name__ == "__main__":
    main()
