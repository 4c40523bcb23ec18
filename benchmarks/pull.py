"""Pull benchmark: engagement events per second imported into the embedded CRM, requests made and peak memory.

    .venv/bin/python benchmarks/pull.py [--events 100000 1000000] [--page-size 1000] [--profile]
                                        [--provider mailchimp|spotler]

For each size (a target number of events): a fresh demo CRM (SQLite) is pushed into a provider sandbox running
in its own process (so its CPU is not counted here), which then sends campaigns and records engagement through
its stdin commands: per recipient and campaign a delivery, opens and a click at distinct times, and about one in
a thousand bounces or unsubscribes. The CRM is sized so that the events come out near the target; the measured
count is what is printed. Then, each in a fresh process, so that its peak memory holds that phase and nothing else:
1. the pull, importing every event into the CRM's history and flags;
2. a re-pull with nothing new, which should import 0 events.
Peak memory is that process's peak resident set (VmHWM); "RSS before" is what its imports already took. Requests
are sequential, so wall time includes the sandbox's time to answer; the pulling process's own CPU time is printed
beside it.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import math
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sync.demo.crm.generate import create_demo_crm
from sync.runner import pull_audience, push_audience
from sync.settings import Settings

REPO = Path(__file__).resolve().parents[1]
ELIGIBLE_SHARE = 0.58  # of demo CRM contacts end up subscribed (57,945 of 100,000 in benchmarks/push.py)


def reset_peak_memory() -> None:
    Path("/proc/self/clear_refs").write_text("5")


def memory_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def make_settings(workdir: Path, crm_file: Path, sandbox: dict, page_size: int, provider: str) -> Settings:
    common = {"crm": {"url": f"sqlite:///{crm_file}"}, "state": {"url": f"sqlite:///{workdir / 'state.db'}"},
              "mapping_file": REPO / "config" / "mapping.yaml"}
    if provider == "spotler":  # throttle off; the sandbox stamps changes 2 s early, so a 1 s feed lag sees them
        return Settings(**common, spotler={
            "consumer_key": sandbox["consumer_key"], "consumer_secret": sandbox["consumer_secret"],
            "base_url": sandbox["base_url"], "page_size": page_size, "requests_per_second": 0, "feed_lag_seconds": 1},
            audiences={"newsletter": {"provider": "spotler", "permission_bits": [1]}})
    return Settings(**common, mailchimp={"api_key": sandbox["api_key"], "base_url": sandbox["base_url"],
                                         "report_page_size": page_size},
                    audiences={"newsletter": {"audience_id": sandbox["list_id"]}})


# -- the measuring process -----------------------------------------------------------------------------------

def pull_phase(name: str, settings: Settings, profiler: cProfile.Profile | None) -> dict:
    reset_peak_memory()
    rss_before = memory_mb("VmRSS")
    started, cpu_started = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    report = pull_audience(settings, "newsletter")
    if profiler:
        profiler.disable()
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    return {"phase": name, "requests": report.requests, "campaigns": report.campaigns,
            "events_read": report.events_read, "events_imported": report.events_imported,
            "entries_written": report.entries_written, "flags_changed": report.flags_changed,
            "unmatched": report.unmatched, "seconds": round(seconds, 2), "cpu_seconds": round(cpu_seconds, 2),
            "events_per_second": round(report.events_imported / seconds),
            "rss_before_mb": round(rss_before, 1), "peak_memory_mb": round(memory_mb("VmHWM"), 1)}


def measure(config: dict) -> None:
    """Run in a fresh process: one phase, printed as a JSON line (then a profile, if asked)."""
    settings = make_settings(Path(config["workdir"]), Path(config["crm_file"]), config["sandbox"],
                             config["page_size"], config["provider"])
    profiler = cProfile.Profile() if config["profile"] else None
    print(json.dumps(pull_phase(config["phase"], settings, profiler)), flush=True)
    if profiler:
        text = io.StringIO()
        stats = pstats.Stats(profiler, stream=text)
        stats.sort_stats("tottime").print_stats(25)
        stats.sort_stats("cumulative").print_stats(r"sync/", 30)
        print(json.dumps({"profile": text.getvalue()}), flush=True)


# -- the driver ----------------------------------------------------------------------------------------------

def start_sandbox(provider: str) -> tuple[subprocess.Popen, dict]:
    arguments = ["--demo-properties", "--clock-behind", "2"] if provider == "spotler" else ["--audience", "Benchmark"]
    child = subprocess.Popen([sys.executable, "-m", f"sync.sandbox.{provider}", *arguments],
                             cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    return child, json.loads(child.stdout.readline())


def command(child: subprocess.Popen, body: dict) -> dict:
    child.stdin.write(json.dumps(body) + "\n")
    child.stdin.flush()
    reply = json.loads(child.stdout.readline())
    if "error" in reply:
        raise SystemExit(f"the sandbox refused {body}: {reply['error']}")
    return reply


def fresh_crm(workdir: Path, contacts: int) -> Path:
    """A copy of a pristine demo CRM (created once per size and kept in ``workdir``)."""
    pristine = workdir / f"crm-{contacts}.db"
    if not pristine.exists():
        started = time.perf_counter()
        create_demo_crm(f"sqlite:///{pristine}", contacts=contacts, seed=42)
        print(f"  demo CRM with {contacts:,} contacts created in {time.perf_counter() - started:.1f}s", flush=True)
    working = workdir / f"crm-{contacts}-run.db"
    shutil.copyfile(pristine, working)
    return working


def run_size(target: int, arguments: argparse.Namespace, workdir: Path) -> list[dict]:
    per_recipient = arguments.campaigns * (1 + arguments.opens + arguments.clicks)
    contacts = math.ceil(target / per_recipient / ELIGIBLE_SHARE)
    print(f"\n== target {target:,} events: {contacts:,} CRM contacts, {arguments.campaigns} campaigns, "
          f"{arguments.opens} opens and {arguments.clicks} click(s) per recipient", flush=True)
    crm_file = fresh_crm(workdir, contacts)
    (workdir / "state.db").unlink(missing_ok=True)
    child, sandbox = start_sandbox(arguments.provider)
    try:
        settings = make_settings(workdir, crm_file, sandbox, arguments.page_size, arguments.provider)
        started = time.perf_counter()
        pushed = push_audience(settings, "newsletter")
        print(f"  pushed {pushed.written:,} members in {time.perf_counter() - started:.1f}s", flush=True)
        start = (datetime.now(UTC) - timedelta(days=arguments.campaigns + 1)).replace(minute=0, second=0,
                                                                                      microsecond=0)
        engaged = command(child, {"engage": {"start": start.isoformat(), "campaigns": arguments.campaigns,
                                             "opens": arguments.opens, "clicks": arguments.clicks, "seed": 7}})
        print(f"  sandbox recorded {engaged['total_events']:,} events in {engaged['seconds']}s: "
              f"{engaged['events']}", flush=True)
        lines = []
        for phase in ("pull", "re-pull"):
            config = {"workdir": str(workdir), "crm_file": str(crm_file), "sandbox": sandbox, "phase": phase,
                      "provider": arguments.provider,
                      "page_size": arguments.page_size, "profile": arguments.profile and phase == "pull"}
            lines += subprocess.run([sys.executable, __file__, "--measure", json.dumps(config)], cwd=REPO,
                                    stdout=subprocess.PIPE, text=True, check=True).stdout.splitlines()
    finally:
        child.stdin.close()
        if arguments.provider == "spotler":
            child.terminate()  # it serves on after stdin closes
        child.wait(timeout=60)
    rows = []
    for line in lines:
        row = json.loads(line)
        if "profile" in row:
            print(row["profile"])
            continue
        row.update(target=target, contacts=contacts, expected_events=engaged["total_events"])
        rows.append(row)
        print(f"  {row['phase']:<8} imported {row['events_imported']:>9,} of {row['events_read']:>9,} read"
              f"  requests {row['requests']:>5}  {row['seconds']:>8.2f}s (CPU here {row['cpu_seconds']:.2f}s)"
              f"  {row['events_per_second']:>6,} events/s  entries {row['entries_written']:>7,}"
              f"  flags {row['flags_changed']:>4}  peak {row['peak_memory_mb']} MB"
              f" (RSS before {row['rss_before_mb']} MB)", flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, nargs="+", default=[100_000, 1_000_000],
                        help="target numbers of events, one run each")
    parser.add_argument("--campaigns", type=int, default=4)
    parser.add_argument("--opens", type=int, default=3, help="opens per recipient and campaign")
    parser.add_argument("--clicks", type=int, default=1, help="clicks per recipient and campaign")
    parser.add_argument("--page-size", type=int, default=1000, help="mailchimp.report_page_size / spotler.page_size")
    parser.add_argument("--provider", choices=("mailchimp", "spotler"), default="mailchimp")
    parser.add_argument("--profile", action="store_true", help="cProfile the pull (its timings then run slower)")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.measure:
        measure(json.loads(arguments.measure))
        return
    workdir = arguments.workdir or Path(tempfile.mkdtemp(prefix="crm-sync-pull-bench-"))
    rows = [row for target in arguments.events for row in run_size(target, arguments, workdir)]
    print("\n" + "\n".join(
        f"{row['target']:>9,} target: {row['phase']:<8} {row['events_imported']:>9,} imported, "
        f"{row['events_read']:>9,} read, {row['requests']:>5} requests, {row['seconds']:>8.2f}s, "
        f"{row['events_per_second']:>6,} events/s, peak {row['peak_memory_mb']} MB" for row in rows))
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
