"""Consent at shared addresses and around archiving, through the real console command and each provider's
sandbox: an opt-out by any contact of an address ends the member whoever holds it; an unsubscribe or archive
never creates a member; a member who unsubscribed is never archived and never added again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, func, insert, select

from sync.demo.crm.schema import crm_tables
from sync.sandbox.mailchimp import MailchimpSandbox
from sync.sandbox.spotler import SpotlerSandbox
from sync.state.store import open_state
from tests.cli.run import crm_sync, project_copy, sandbox_env
from tests.cli.test_spotler_cli import spotler_env
from tests.providers import (
    DEMO_SPOTLER_PROPERTIES,
    PROVIDERS,
    MailchimpView,
    SpotlerView,
)
from tests.push.world import edit_contact, eligible


@dataclass
class CliWorld:
    project: object
    env: dict[str, str]
    sandbox: MailchimpSandbox | SpotlerSandbox
    view: MailchimpView | SpotlerView

    @property
    def crm_url(self) -> str:
        return self.env["CRM_SYNC_CRM__URL"]

    def push(self, **audience: str):
        extra = {f"CRM_SYNC_AUDIENCES__NEWSLETTER__{name.upper()}": value for name, value in audience.items()}
        result = crm_sync("push", cwd=self.project, env={**self.env, **extra})
        assert result.code in (0, 5), result.out + result.err  # 5: the demo's fake addresses are rejected
        return result

    def rows(self, contact_id: int | None = None) -> list[dict]:
        """The CRM's contacts (or one of them), straight from SQL."""
        contacts = crm_tables().contacts
        query = select(contacts) if contact_id is None else select(contacts).where(contacts.c.id == contact_id)
        engine = create_engine(self.crm_url)
        with engine.connect() as connection:
            rows = [dict(row._mapping) for row in connection.execute(query)]
        engine.dispose()
        return rows

    def member_contact(self) -> tuple[dict, str]:
        """A contact that became a member, whose address no other contact has."""
        members, rows = self.view.members(), self.rows()
        counts: dict[str, int] = {}
        for row in rows:
            address = (row["email"] or "").strip().lower()
            counts[address] = counts.get(address, 0) + 1
        for row in rows:
            address = (row["email"] or "").strip().lower()
            if eligible(row) and counts[address] == 1 and members.get(address, {}).get("status") == "subscribed":
                return row, address
        raise AssertionError("no member")

    def add_contact(self, email: str, **values) -> int:
        """A new CRM contact, as a CRM user adds one."""
        contacts = crm_tables().contacts
        engine = create_engine(self.crm_url)
        with engine.begin() as connection:
            new_id = connection.execute(select(func.max(contacts.c.id))).scalar_one() + 1
            connection.execute(insert(contacts).values(
                id=new_id, last_name="Newcomer", email=email, created_at=crm_now(), modified_at=crm_now(), **values))
        engine.dispose()
        return new_id

    def remove_at_provider(self, email: str) -> None:
        """Someone removed the member at the provider: archived in Mailchimp, anonymised in Mail+."""
        if isinstance(self.sandbox, MailchimpSandbox):
            self.sandbox.archive(self.view.list_id, email)
        else:
            from sync.sandbox.spotler.contacts import anonymise
            state = self.sandbox._state
            with state.lock:
                anonymise(state, state.by_external[self.view.external_id(email)])

    def state(self, contact_id: int):
        with open_state(self.env["CRM_SYNC_STATE__URL"]) as store:
            return store.member_states("newsletter", [str(contact_id)]).get(str(contact_id))


def crm_now() -> datetime:
    """A time as the CRM stamps a change: naive UTC, whole seconds."""
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


@pytest.fixture(params=PROVIDERS)
def cli_world(request, tmp_path):
    project = project_copy(tmp_path)
    if request.param == "mailchimp":
        with MailchimpSandbox() as sandbox:
            env = sandbox_env(tmp_path, sandbox, "Household", contacts=120, seed=5)
            view = MailchimpView(sandbox, env["CRM_SYNC_AUDIENCES__NEWSLETTER__AUDIENCE_ID"])
            yield CliWorld(project, env, sandbox, view)
            assert sandbox.internal_errors == []
    else:
        with SpotlerSandbox(properties=DEMO_SPOTLER_PROPERTIES) as sandbox:
            yield CliWorld(project, spotler_env(tmp_path, sandbox), sandbox, SpotlerView(sandbox))
            assert sandbox.internal_errors == []


def test_a_second_contact_with_the_address_opting_out_unsubscribes_the_member(cli_world):
    world = cli_world
    world.push()
    row, address = world.member_contact()
    world.add_contact(f" {address.upper()}", email_opt_in=True, email_opt_out=True)
    world.push()
    assert world.view.members()[address]["status"] == "unsubscribed"
    assert len([m for m in world.view.members() if m == address]) == 1
    world.view.reset_traffic()
    again = world.push()
    assert world.view.writes() == 0 and "written 0" in again.out  # honoured once, and the run after is quiet


def test_an_unsubscribe_never_creates_a_member_that_is_gone(cli_world):
    world = cli_world
    world.push()
    row, address = world.member_contact()
    count = len(world.view.members())
    world.remove_at_provider(address)
    world.view.reset_traffic()
    edit_contact(world.crm_url, row["id"], email_opt_out=True)
    world.push()
    members = world.view.members()
    if isinstance(world.sandbox, MailchimpSandbox):
        assert members[address]["status"] == "archived"  # still archived: not brought back as unsubscribed
        assert world.sandbox.request_count(method="PATCH") == 0 and world.sandbox.request_count(method="POST") == 0
    else:
        assert address not in members and len(members) == count - 1
    state = world.state(row["id"])
    assert state.provider_status in ("archived", "not_found")
    world.view.reset_traffic()
    world.push()
    assert world.view.writes() == 0


def test_a_member_who_unsubscribed_is_not_archived_and_never_added_again(cli_world):
    world = cli_world
    world.push()
    row, address = world.member_contact()
    world.view.unsubscribe(address)
    edit_contact(world.crm_url, row["id"], email_opt_in=False)
    world.push(leave_policy="archive")
    member = world.view.members().get(address)
    assert member is not None and member["status"] == "unsubscribed"  # not archived (Mail+: not anonymised)
    [crm_row] = world.rows(row["id"])
    assert crm_row["email_opt_out"] is True  # what the provider knew is now in the CRM
    # Consent comes back, and someone even clears the opt-out in the CRM: still never re-subscribed.
    edit_contact(world.crm_url, row["id"], email_opt_in=True, email_opt_out=False)
    world.push(leave_policy="archive")
    assert world.view.members()[address]["status"] == "unsubscribed"


@pytest.mark.parametrize("cli_world", ["mailchimp"], indirect=True)  # Mail+ anonymises: nothing comes back
def test_a_member_crm_sync_archived_while_subscribed_comes_back_when_consent_returns(cli_world):
    world = cli_world
    world.push()
    row, address = world.member_contact()
    edit_contact(world.crm_url, row["id"], email_opt_in=False)
    world.push(leave_policy="archive")
    assert world.view.members()[address]["status"] == "archived"
    assert world.state(row["id"]).reason_code == "archived_by_crm_sync"
    edit_contact(world.crm_url, row["id"], email_opt_in=True)
    world.push(leave_policy="archive")
    assert world.view.members()[address]["status"] == "subscribed"
