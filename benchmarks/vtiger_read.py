"""Benchmark the vtiger connector against the live vtiger (tests/live/crms.py), or the fake with ``--fake``.

Adds N filler contacts through the webservice (restores vtiger's database first and after, live), then prints
contacts per second for a full read and an incremental read, over the webservice and (live) from the database,
requests per page, and ModComment writes per second.

    PYTHONPATH=. .venv/bin/python benchmarks/vtiger_read.py 300
    .venv/bin/python benchmarks/vtiger_read.py 300 --fake
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime, timedelta

from sync.connectors.vtiger.crm import VtigerCrm, open_vtiger
from sync.records import ActivityRecord


def timed(label: str, count_of, unit: str = "contacts") -> float:
    start = time.perf_counter()
    count = count_of()
    seconds = time.perf_counter() - start
    print(f"{label:<40} {count:>6} {unit} in {seconds:6.2f} s = {count / seconds:8.1f} {unit}/s")
    return seconds


def run(crm: VtigerCrm, database: VtigerCrm | None, fillers: int) -> None:
    since = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=1)
    user = crm.client
    timed("create fillers (webservice create)", lambda: len([user.create("Contacts", {
        "lastname": f"Bench {n:05}", "email": f"bench{n}@example.com", "assigned_user_id": "19x1"})
        for n in range(fillers)]))
    before = user.requests_sent
    timed("full read, webservice", lambda: sum(1 for _ in crm.iter_contacts()))
    pages = user.requests_sent - before
    print(f"{'requests for that read':<40} {pages:>6} (≤ 100 contacts per page)")
    timed("incremental ids, webservice", lambda: len(crm.changed_contact_ids(since, 100_000) or []))
    ids = crm.changed_contact_ids(since, 100_000) or []
    timed("changed contacts by id, webservice", lambda: sum(1 for _ in crm.contacts_by_ids(ids)))
    if database is not None:
        timed("full read, database", lambda: sum(1 for _ in database.iter_contacts()))
        timed("incremental ids, database", lambda: len(database.changed_contact_ids(since, 100_000) or []))
        timed("changed contacts by id, database", lambda: sum(1 for _ in database.contacts_by_ids(ids)))
    when = datetime(2026, 3, 20, tzinfo=UTC)
    records = [ActivityRecord(f"bench:{cid}", "email_campaign", "Bench", "Opened.", when, when, contact_id=cid)
               for cid in ids[:100]]
    timed("comment upserts (create)", lambda: crm.write_activities(records), "comments")
    timed("comment upserts (unchanged: reads only)", lambda: len(records) + crm.write_activities(records),
          "comments")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("fillers", type=int, nargs="?", default=300)
    parser.add_argument("--fake", action="store_true", help="the fake vtiger instead of the live one")
    arguments = parser.parse_args()
    if arguments.fake:
        from sync.sandbox.vtiger import VtigerSandbox
        with VtigerSandbox() as sandbox, open_vtiger(sandbox.base_url, sandbox.username, sandbox.access_key) as crm:
            run(crm, None, arguments.fillers)
        return
    from tests.live.crms import live_env, restore
    env = live_env()
    restore("vtiger")
    try:
        settings = dict(base_url=env["LIVE_VTIGER_WEBSERVICE_URL"], api_user=env["LIVE_VTIGER_USERNAME"],
                        api_key=env["LIVE_VTIGER_ACCESS_KEY"])
        with open_vtiger(**settings) as crm, open_vtiger(
                **settings, read_url=env["LIVE_VTIGER_DB_URL"].replace("mysql://", "mysql+pymysql://", 1)) as db:
            run(crm, db, arguments.fillers)
    finally:
        restore("vtiger")


if __name__ == "__main__":
    main()
