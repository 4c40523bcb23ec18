"""Benchmark the EspoCRM connector: full and incremental contact reads, and campaign log writes.

Adds ``--create`` contacts through the API first (in one target list, so the list sweep has work), then prints
contacts per second of a full ``iter_contacts`` and of an incremental read (``changed_contact_ids`` +
``contacts_by_ids``), the requests per page of 200, and campaign log records written per second.

    .venv/bin/python benchmarks/espocrm_read.py                 # the live EspoCRM (restored afterwards)
    .venv/bin/python benchmarks/espocrm_read.py --fake --create 2000
"""

from __future__ import annotations

import argparse
import sys
import time
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sync.connectors.espocrm.client import EspoClient  # noqa: E402
from sync.connectors.espocrm.crm import EspoCrm  # noqa: E402
from sync.records import ActivityRecord  # noqa: E402
from sync.sandbox.espocrm import EspoSandbox  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fake", action="store_true", help="the fake EspoCRM instead of the live one")
    parser.add_argument("--create", type=int, default=400, help="contacts to add first (default 400)")
    parser.add_argument("--events", type=int, default=200, help="campaign log records to write (default 200)")
    parser.add_argument("--keep", action="store_true", help="live: do not restore the seeded database afterwards")
    arguments = parser.parse_args()
    with ExitStack() as stack:
        if arguments.fake:
            sandbox = stack.enter_context(EspoSandbox())
            base_url, api_key, where = sandbox.base_url, sandbox.api_key, "fake EspoCRM"
        else:
            from tests.live.crms import live_env, restore
            env = live_env()
            base_url, api_key, where = env["LIVE_ESPOCRM_URL"], env["LIVE_ESPOCRM_API_KEY"], "live EspoCRM 9.1.7"
            if not arguments.keep:
                stack.callback(restore, "espocrm")
        crm = stack.enter_context(EspoCrm(EspoClient(base_url, api_key)))
        client = crm.client
        started = time.perf_counter()
        target = client.call("POST", "TargetList", body={"name": "Benchmark"})["id"]
        created = []
        for number in range(arguments.create):
            created.append(client.call("POST", "Contact", body={
                "firstName": "Bench", "lastName": f"{number:06d}", "emailAddress": f"bench{number}@example.org",
                "emailAddressIsOptedOut": False, "emailAddressIsInvalid": False, "cLoyaltyTier": "Silver"})["id"])
        for start in range(0, len(created), 100):
            client.call("POST", f"TargetList/{target}/contacts", body={"ids": created[start:start + 100]})
        if arguments.create:
            print(f"created {arguments.create} contacts in {time.perf_counter() - started:.1f} s "
                  f"({arguments.create / (time.perf_counter() - started):.0f}/s)")
        print(f"{where} at {base_url}")

        before, started = client.requests_sent, time.perf_counter()
        total = sum(1 for _ in crm.iter_contacts())
        seconds, requests = time.perf_counter() - started, client.requests_sent - before
        pages = -(-total // 200)
        print(f"full read: {total} contacts in {seconds:.2f} s = {total / seconds:.0f} contacts/s; {requests} requests "
              f"({pages} contact pages + metadata + target-list sweep: {requests / max(pages, 1):.1f} per page)")

        since = datetime.now(UTC) - timedelta(minutes=10)
        before, started = client.requests_sent, time.perf_counter()
        changed = crm.changed_contact_ids(since, limit=100_000) or []
        read = sum(1 for _ in crm.contacts_by_ids(changed))
        seconds, requests = time.perf_counter() - started, client.requests_sent - before
        print(f"incremental read: {read} changed contacts in {seconds:.2f} s = {read / max(seconds, 1e-9):.0f} "
              f"contacts/s; {requests} requests")

        at = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
        contacts = created or [contact.id for contact in crm.iter_contacts()]
        records = [ActivityRecord(f"mailchimp:event:bench:{number}", "email_open", "Opened: Benchmark", "Opened",
                                  at + timedelta(seconds=number), at + timedelta(seconds=number),
                                  contact_id=contacts[number % len(contacts)],
                                  details={"campaign_id": "bench", "title": "Benchmark", "action": "open",
                                           "email": None})
                   for number in range(arguments.events)]
        before, started = client.requests_sent, time.perf_counter()
        written = crm.write_activities(records)
        seconds, requests = time.perf_counter() - started, client.requests_sent - before
        print(f"history writes: {written} campaign log records in {seconds:.2f} s = {written / seconds:.0f}/s; "
              f"{requests} requests")
        started = time.perf_counter()
        again = crm.write_activities(records)
        print(f"history re-run: {again} written, {time.perf_counter() - started:.2f} s to find all present")


if __name__ == "__main__":
    main()
