"""Pure: one decision per address, carried out on every member any contact of the address holds.

Planned through ``stream_plans`` (the planner the push runs) over an in-memory CRM and state store.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from sync.addresses import normalise_email
from sync.push.rules import LEAVES, WRITES, Action, is_active
from sync.push.stream import AudienceJob, records_reason, stream_plans
from tests.push.test_plan_rules import AUDIENCE, MAPPING, contact, state

ADDRESS = "anna@ziggo.test"


class Crm:
    """An in-memory CRM: the contacts, and the addresses several of them share."""

    def __init__(self, contacts):
        self.contacts = contacts

    def iter_contacts(self, chunk_size=1000, list_id=None):
        return iter(self.contacts)

    def shared_emails(self):
        counts = Counter(normalise_email(c.email) for c in self.contacts if c.email)
        return {address for address, count in counts.items() if count > 1}


class States:
    def __init__(self, rows):
        self.rows = {row.contact_id: row for row in rows}

    def member_states(self, audience, contact_ids):
        return {cid: self.rows[cid] for cid in contact_ids if cid in self.rows}


def plans(contacts, rows=(), audience=AUDIENCE):
    job = AudienceJob("newsletter", audience, MAPPING)
    return {plan.contact_id: (plan, row) for plan, row in stream_plans(job, Crm(contacts), States(rows))}


def holder(cid, email=ADDRESS, **values):
    """The stored state of a contact that holds an active member at ``email``."""
    return state(contact_id=cid, email=email, **values)


def test_second_contact_opting_out_unsubscribes_the_member_the_first_one_holds():
    # Defect 1: A was pushed; B has the address in other case and opted out. Old planner: B (no state) skips,
    # A is merged, the member stays subscribed.
    result = plans([contact("1"), contact("2", email="Anna@Ziggo.test", opt_out=True)], [holder("1")])
    plan_a, _ = result["1"]
    assert (plan_a.action, plan_a.email, plan_a.merged_into) == (Action.UNSUBSCRIBE, ADDRESS, "2")
    assert result["2"][0].action is Action.SKIP and result["2"][0].reason == "opted_out"


def test_every_member_at_the_address_is_acted_on_spotler_style_two_holders():
    # Spotler keys members by contact: two contacts may each hold a member with this address.
    result = plans([contact("1"), contact("2"), contact("3", opt_out=True)], [holder("1"), holder("2")])
    assert {cid: result[cid][0].action for cid in "123"} == {
        "1": Action.UNSUBSCRIBE, "2": Action.UNSUBSCRIBE, "3": Action.SKIP}


def test_a_deleted_contact_holding_the_member_is_unsubscribed_when_a_live_one_opts_out():
    result = plans([contact("1", deleted=True), contact("2", opt_out=True)], [holder("1")])
    assert result["1"][0].action is Action.UNSUBSCRIBE


def test_the_leave_policy_applies_to_the_held_member_when_the_address_loses_consent():
    archive = AUDIENCE.model_copy(update={"leave_policy": "archive"})
    result = plans([contact("1", deleted=True), contact("2", opt_in=False)], [holder("1")], archive)
    assert result["1"][0].action is Action.ARCHIVE and result["1"][0].merged_into == "2"
    kept = plans([contact("1", deleted=True), contact("2", opt_in=False)], [holder("1")])
    assert kept["1"][0].action is Action.SKIP and kept["1"][0].reason == "kept_consent_withdrawn"


def test_a_contact_that_moved_to_the_address_keeps_its_own_member_elsewhere():
    moved_at = NOW_LATER = datetime(2026, 11, 9, tzinfo=UTC)
    b = contact("2", modified_at=NOW_LATER)
    result = plans([contact("1"), b], [holder("1"), holder("2", email="old@ziggo.test")])
    # The contact whose member has this address represents it (no e-mail change into an existing member).
    assert result["1"][0].action is Action.UNCHANGED and result["2"][0].action is Action.MERGED
    # When the newcomer opts out, its own member (elsewhere) and the address's member both leave.
    result = plans([contact("1"), replace(b, consent=replace(b.consent, email_opt_out=True))],
                   [holder("1"), holder("2", email="old@ziggo.test")])
    assert (result["2"][0].action, result["2"][0].email) == (Action.UNSUBSCRIBE, "old@ziggo.test")
    assert (result["1"][0].action, result["1"][0].email) == (Action.UNSUBSCRIBE, ADDRESS)
    assert moved_at


def test_a_consenting_newcomer_never_brings_back_a_member_that_left():
    for status, reason in (("unsubscribed", "unsubscribed_in_provider"), ("cleaned", "cleaned_in_provider"),
                           ("archived", "archived_in_provider")):
        result = plans([contact("1", opt_in=False), contact("2")], [holder("1", provider_status=status)])
        assert (result["2"][0].action, result["2"][0].reason) == (Action.SKIP, reason), status
    proven = holder("1", provider_status="archived", reason_code="archived_by_crm_sync")
    assert plans([contact("1", opt_in=False), contact("2")], [proven])["2"][0].action is Action.CREATE


def test_after_the_leave_is_recorded_the_next_run_has_nothing_to_record():
    done = holder("1", provider_status="unsubscribed", reason_code="shared_email", merged_into="2")
    result = plans([contact("1"), contact("2", opt_out=True)], [done])
    plan, row = result["1"]
    assert plan.action is Action.MERGED and records_reason(plan, row)


MOMENTS = [datetime(2026, 11, 1, tzinfo=UTC) + timedelta(days=n) for n in range(3)]
members = st.one_of(st.none(), st.builds(
    lambda at_address, status, owned: dict(email=ADDRESS.upper() if at_address else "elsewhere@ziggo.test",
                                           provider_status=status, owned=owned),
    st.booleans(), st.sampled_from(["subscribed", "unsubscribed", "cleaned", "archived", "not_found"]),
    st.booleans()))
people = st.lists(st.tuples(st.booleans(), st.sampled_from([True, False, None]), st.booleans(),
                            st.sampled_from(MOMENTS), members), min_size=2, max_size=5)


@settings(max_examples=300, deadline=None)
@given(people, st.sampled_from(["keep", "unsubscribe", "archive"]))
def test_one_decision_per_address(group, policy):
    """Whatever the contacts and their members: an opt-out by anyone at the address ends every active member
    at it, a leaving address never gets a write, and at most one contact writes for the address."""
    contacts, rows = [], []
    for index, (opt_out, opt_in, deleted, modified, member) in enumerate(group, start=1):
        cid = str(index)
        contacts.append(contact(cid, email=f" {ADDRESS.title()}" if index % 2 else ADDRESS, opt_in=opt_in,
                                opt_out=opt_out, deleted=deleted, modified_at=modified))
        if member is not None:
            rows.append(holder(cid, **member))
    result = plans(contacts, rows, AUDIENCE.model_copy(update={"leave_policy": policy}))
    assert set(result) == {c.id for c in contacts}
    live = [c for c in contacts if not c.deleted] or contacts
    actions = {cid: plan.action for cid, (plan, _) in result.items()}
    assert sum(action in WRITES for action in actions.values()) <= 1
    if any(c.consent.email_opt_out for c in live):
        assert not any(action in WRITES for action in actions.values())
        for cid, (plan, row) in result.items():
            if is_active(row) and normalise_email(row.email) == ADDRESS:
                assert plan.action is Action.UNSUBSCRIBE, (cid, plan)
    for plan, row in result.values():
        if plan.action in LEAVES:
            assert is_active(row)
