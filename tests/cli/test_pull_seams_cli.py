"""The engagement pull at its seams, through the real console command and the sandboxes (issue 11, defects 6-10):
lists that change between two pages, a contact erased from the CRM, false opt-outs, a bounce on an address the
CRM has since corrected, and events that show up late."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, delete

from sync.connectors.spotler.demo import DEMO_SPOTLER_PROPERTIES
from sync.demo.crm.generate import create_demo_crm
from sync.demo.crm.schema import crm_tables
from sync.errors import EXIT_OK, EXIT_RECORDS_REJECTED
from sync.sandbox.mailchimp import MailchimpSandbox
from sync.sandbox.spotler import SpotlerSandbox
from tests.cli.run import crm_sync, project_copy
from tests.providers import PROVIDERS, MailchimpView, SpotlerView
from tests.pull.history import flags, history
from tests.push.world import edit_contact, eligible

NOW = datetime.now(UTC).replace(microsecond=0)


@dataclass
class Cli:
    provider: str
    project: object
    env: dict[str, str]
    sandbox: MailchimpSandbox | SpotlerSandbox
    view: MailchimpView | SpotlerView
    crm_url: str

    def run(self, *args: str, **env: str):
        result = crm_sync(*args, cwd=self.project, env={**self.env, **env})
        assert result.code in (EXIT_OK, EXIT_RECORDS_REJECTED), result.out + result.err
        return result

    def members(self) -> list[dict]:
        """CRM rows of contacts that are subscribed members after a push."""
        members = self.view.members("subscribed")
        rows = [dict(r) for r in _contacts(self.crm_url) if eligible(r) and r["email"].strip().lower() in members]
        return sorted(rows, key=lambda r: r["id"])


def _contacts(crm_url: str) -> list[dict]:
    contacts = crm_tables().contacts
    engine = create_engine(crm_url)
    with engine.connect() as connection:
        rows = [dict(row._mapping) for row in connection.execute(contacts.select())]
    engine.dispose()
    return rows


@pytest.fixture(params=PROVIDERS)
def cli(request, tmp_path):
    project = project_copy(tmp_path)
    crm_url = f"sqlite:///{tmp_path / 'crm.db'}"
    create_demo_crm(crm_url, contacts=120, seed=5)
    base = {"CRM_SYNC_CRM__URL": crm_url, "CRM_SYNC_STATE__URL": f"sqlite:///{tmp_path / 'state.db'}"}
    if request.param == "mailchimp":
        with MailchimpSandbox() as sandbox:
            list_id = sandbox.create_audience("Seams")
            yield Cli("mailchimp", project, base | {
                "CRM_SYNC_MAILCHIMP__API_KEY": sandbox.api_key, "CRM_SYNC_MAILCHIMP__BASE_URL": sandbox.base_url,
                "CRM_SYNC_MAILCHIMP__FEED_LAG_SECONDS": "0", "CRM_SYNC_AUDIENCES__NEWSLETTER__AUDIENCE_ID": list_id,
            }, sandbox, MailchimpView(sandbox, list_id), crm_url)
            assert sandbox.internal_errors == []
        return
    with SpotlerSandbox(properties=DEMO_SPOTLER_PROPERTIES) as sandbox:
        sandbox.run_clock_behind(2)  # changes just before a pull are inside its window (lag 1 s)
        yield Cli("spotler", project, base | {
            "CRM_SYNC_SPOTLER__CONSUMER_KEY": sandbox.consumer_key,
            "CRM_SYNC_SPOTLER__CONSUMER_SECRET": sandbox.consumer_secret,
            "CRM_SYNC_SPOTLER__BASE_URL": sandbox.base_url, "CRM_SYNC_SPOTLER__REQUESTS_PER_SECOND": "0",
            "CRM_SYNC_SPOTLER__FEED_LAG_SECONDS": "1", "CRM_SYNC_AUDIENCES__NEWSLETTER__PROVIDER": "spotler",
            "CRM_SYNC_AUDIENCES__NEWSLETTER__PERMISSION_BITS": "[1]",
        }, sandbox, SpotlerView(sandbox), crm_url)
        assert sandbox.internal_errors == []


def address(row: dict) -> str:
    return row["email"].strip().lower()


# -- 6: a list that changes between two pages ---------------------------------------------------------------------

def test_a_list_changing_between_two_pages_loses_no_unsubscribe(cli):
    cli.run("push")
    leavers = cli.members()[:5]
    if cli.provider == "mailchimp":
        for minutes, row in zip((50, 40, 30, 20, 10), leavers, strict=True):  # one second each, oldest first
            cli.sandbox.unsubscribe(cli.view.list_id, address(row), at=NOW - timedelta(minutes=minutes))
        # Before the second page of unsubscribed members: the first one leaves that list (archived in the UI).
        cli.sandbox.faults.before_request(2, lambda: cli.sandbox.archive(cli.view.list_id, address(leavers[0])),
                                          method="GET", path_contains="/members")
        page_size = {"CRM_SYNC_MAILCHIMP__REPORT_PAGE_SIZE": "2"}
    else:
        for minutes, row in zip((50, 40, 30, 20, 10), leavers, strict=True):
            cli.sandbox.set_clock(NOW - timedelta(minutes=minutes))
            cli.sandbox.unsubscribe(str(row["id"]), bits=[1])
        cli.sandbox.set_clock(None)
        # Before the second page of changed contacts: the first one changes again, leaving its place.
        cli.sandbox.faults.before_request(2, lambda: cli.sandbox.opt_out_globally(str(leavers[0]["id"])),
                                          method="GET", path_contains="contact/updates/list")
        page_size = {"CRM_SYNC_SPOTLER__PAGE_SIZE": "2"}
    cli.run("pull", **page_size)
    cli.run("pull", **page_size)  # a record skipped once must not stay skipped either
    crm_flags = flags(cli.crm_url)
    assert [crm_flags[row["id"]][0] for row in leavers] == [True] * 5


# -- 7: a contact erased from the CRM ----------------------------------------------------------------------------------

def test_events_of_a_contact_erased_from_the_crm_block_nothing(cli):
    cli.run("push")
    erased, leaver = cli.members()[:2]
    campaign = cli.view.send_campaign("Erased", NOW - timedelta(hours=1))
    cli.view.record_open(campaign, address(erased), NOW - timedelta(minutes=50))
    cli.view.record_unsubscribe(campaign, address(leaver), NOW - timedelta(minutes=40))
    tables = crm_tables()
    engine = create_engine(cli.crm_url)
    with engine.begin() as connection:  # erased for good (GDPR), not just flagged deleted
        for table in (tables.activities, tables.target_list_members, tables.contacts_cf):
            connection.execute(delete(table).where(table.c.contact_id == erased["id"]))
        connection.execute(delete(tables.contacts).where(tables.contacts.c.id == erased["id"]))
    engine.dispose()
    pulled = cli.run("pull")
    assert "contact_not_in_crm" in pulled.out
    assert flags(cli.crm_url)[leaver["id"]][0] is True
    assert [r for r in history(cli.crm_url) if r[1] == leaver["id"] and r[3] == "email_unsubscribe"]
    explained = cli.run("why", erased["email"])
    assert "not applied: contact_not_in_crm" in explained.out
    assert "0 new" in cli.run("pull").out


# -- 8: false opt-outs -------------------------------------------------------------------------------------------------

def test_crm_syncs_own_unsubscribe_is_not_imported_as_the_persons_opt_out(cli):
    cli.run("push")
    withdrawn, raced = cli.members()[:2]
    cli.view.unsubscribe(address(raced))  # the person unsubscribed first: theirs, whatever crm-sync does next
    for row in (withdrawn, raced):
        edit_contact(cli.crm_url, row["id"], email_opt_in=False)
    env = {"CRM_SYNC_AUDIENCES__NEWSLETTER__LEAVE_POLICY": "unsubscribe"}
    cli.run("push", **env)
    assert cli.view.members()[address(withdrawn)]["status"] == "unsubscribed"
    cli.run("pull", **env)
    crm_flags = flags(cli.crm_url)
    assert crm_flags[withdrawn["id"]][0] is False
    assert not [r for r in history(cli.crm_url) if r[1] == withdrawn["id"] and r[3] == "email_unsubscribe"]
    if cli.provider == "mailchimp":  # Mailchimp keeps the person's reason; Mail+ shows nothing to tell them apart
        assert crm_flags[raced["id"]][0] is True


def test_spotler_stopping_mail_after_soft_bounces_is_a_bounce_not_an_opt_out(cli):
    if cli.provider != "spotler":
        pytest.skip("Mailchimp cleans after repeated soft bounces: a cleaning, never read as an unsubscribe")
    cli.run("push")
    bouncer, reader = cli.members()[:2]
    for number in range(4):
        mailing = cli.view.send_campaign(f"Weekly {number}", NOW - timedelta(hours=4 - number))
        cli.view.record_bounce(mailing, address(bouncer), "soft", NOW - timedelta(hours=4 - number, minutes=-5))
    cli.sandbox.opt_out_globally(str(reader["id"]))  # the other way the channel closes: the person's opt-out
    assert cli.sandbox.contact(str(bouncer["id"]))["channels"] == [{"name": "EMAIL", "value": False}]
    cli.run("pull")
    crm_flags = flags(cli.crm_url)
    assert crm_flags[bouncer["id"]][0] is False and crm_flags[bouncer["id"]][1] is True
    assert "bounces" in crm_flags[bouncer["id"]][2]
    assert not [r for r in history(cli.crm_url) if r[1] == bouncer["id"] and r[3] == "email_unsubscribe"]
    assert crm_flags[reader["id"]][0] is True


# -- 9: a bounce on the address the CRM has since corrected ------------------------------------------------------------

def test_a_bounce_applies_only_to_the_address_it_happened_on(cli):
    cli.run("push")
    row = cli.members()[0]
    campaign = cli.view.send_campaign("Old address", NOW - timedelta(hours=2))
    cli.view.record_bounce(campaign, address(row), "hard", NOW - timedelta(hours=2, minutes=-1))
    edit_contact(cli.crm_url, row["id"], email="corrected.address@ziggo.test")
    cli.run("push")
    cli.run("pull")
    assert flags(cli.crm_url)[row["id"]][1] is False  # the corrected address is not invalid
    explained = cli.run("why", "corrected.address@ziggo.test")
    assert "email_invalid" not in explained.out


# -- 10: events that show up late --------------------------------------------------------------------------------------

def test_an_event_shown_after_a_pull_with_an_earlier_time_is_imported(cli):
    if cli.provider != "mailchimp":
        pytest.skip("the Spotler pull's lag window: tests/pull/test_pull_spotler.py")
    env = {"CRM_SYNC_MAILCHIMP__FEED_LAG_SECONDS": "600"}
    cli.run("push")
    early, late = cli.members()[:2]
    campaign = cli.view.send_campaign("Late", NOW - timedelta(hours=1))
    cli.view.record_open(campaign, address(early), NOW - timedelta(minutes=2))
    cli.run("pull", **env)
    # Mailchimp shows an open only now, stamped before the newest event the last pull saw.
    cli.view.record_open(campaign, address(late), NOW - timedelta(minutes=5))
    cli.run("pull", **env)
    entry = {r[0]: r for r in history(cli.crm_url)}[f"mailchimp:newsletter:{campaign}:contact:{late['id']}"]
    assert entry[4] == "Late: delivered, opened once"
