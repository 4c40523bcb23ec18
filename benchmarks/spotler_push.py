"""Spotler push benchmark: requests made, contacts per second and peak memory for a Spotler Mail+ push.

    .venv/bin/python benchmarks/spotler_push.py [--contacts 20000] [--requests-per-second 5]

Phases against a Spotler sandbox running in its own process (so its CPU is not counted here): a full push of a
fresh demo CRM, a re-run with nothing changed, a re-run with 1% of the contacts changed. Spotler documents no
rate limit; crm-sync throttles itself to ``spotler.requests_per_second`` (default 5, 0 = off), which bounds the
full push at N / 100 / rate seconds. Peak memory is the process's peak resident set (VmHWM), reset per phase.
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

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from push import change_one_percent, phase

from sync.demo.crm.generate import create_demo_crm
from sync.settings import Settings

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=20_000)
    parser.add_argument("--requests-per-second", type=float, default=5)
    parser.add_argument("--workdir", type=Path, default=None)
    arguments = parser.parse_args()
    workdir = arguments.workdir or Path(tempfile.mkdtemp(prefix="crm-sync-bench-"))
    crm_url = f"sqlite:///{workdir / f'crm-{arguments.contacts}.db'}"
    if not (workdir / f"crm-{arguments.contacts}.db").exists():
        create_demo_crm(crm_url, contacts=arguments.contacts, seed=42)
    (workdir / "state.db").unlink(missing_ok=True)
    child = subprocess.Popen([sys.executable, "-m", "sync.sandbox.spotler", "--demo-properties"], cwd=REPO,
                             stdout=subprocess.PIPE, text=True)
    try:
        sandbox = json.loads(child.stdout.readline())
        settings = Settings(
            crm={"url": crm_url}, state={"url": f"sqlite:///{workdir / 'state.db'}"},
            mapping_file=REPO / "config" / "mapping.yaml",
            spotler={"consumer_key": sandbox["consumer_key"], "consumer_secret": sandbox["consumer_secret"],
                     "base_url": sandbox["base_url"], "requests_per_second": arguments.requests_per_second},
            audiences={"newsletter": {"provider": "spotler", "permission_bits": [1]}},
        )
        n = arguments.contacts
        print(f"{n} contacts, throttle {arguments.requests_per_second or 'off'} requests/s")
        rows = [phase("full push", settings, n), phase("re-run, nothing changed", settings, n)]
        changed = change_one_percent(crm_url)
        rows.append(phase(f"re-run, {changed} changed (1%)", settings, n))
        print(f"\nfull push: {rows[0]['write_requests']} write requests for {rows[0]['written']} contacts "
              f"(at most 100 per request: >= {math.ceil(rows[0]['written'] / 100)})")
        print(json.dumps(rows))
    finally:
        child.terminate()
        child.wait(timeout=30)


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"total {time.perf_counter() - started:.1f}s")
