"""Intent before effect, in process, on both providers: a push that dies (a BaseException from its checkpoint)
or whose batches fail for good leaves state the next push settles by looking members up at the provider, so
nothing the provider accepted is treated as "never pushed", nothing confirmed is sent again, and the executor
stops at the safety threshold whatever the CRM did after the planning pass."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import requests
from sqlalchemy import create_engine, update

from sync.connectors.mailchimp.audience import subscriber_hash
from sync.demo.crm.schema import crm_tables
from sync.push.executor import UNCONFIRMED, PushIncomplete, SafetyStop
from sync.runner import push_audience
from sync.sandbox.mailchimp import MailchimpSandbox
from sync.state.store import open_state
from tests.push.world import eligible


class Crash(BaseException):
    """The process dying at a checkpoint (not an Exception: nothing may catch it and carry on)."""


def crash_at(point: str, occurrence: int = 1):
    seen = []

    def checkpoint(name: str) -> None:
        seen.append(name)
        if name == point and seen.count(point) == occurrence:
            raise Crash(point)
    return checkpoint


def tuned(world, settings=None, **provider):
    """Settings with small batches (several per push), quick retries and any other provider options."""
    settings = settings or world.settings
    key = "spotler" if world.provider == "spotler" else "mailchimp"
    options = {"batch_size": 20, "concurrency": 2, "retry_initial_wait": 0.01, "retry_seconds": 1, **provider}
    return settings.model_copy(update={key: getattr(settings, key).model_copy(update=options)})


def states(world) -> dict:
    with open_state(world.state_url) as store:
        return {row.contact_id: row for row in store.iter_member_states("newsletter")}


def unsettled(world) -> list:
    with open_state(world.state_url) as store:
        return store.unsettled_intents("newsletter")


def contact_ids_by_email(world) -> dict[str, str]:
    """Eligible contacts whose address no other contact shares, by address."""
    ids: dict[str, list[str]] = {}
    for row in world.contacts():
        if row["email"]:
            ids.setdefault(row["email"].strip().lower(), []).append(str(row["id"]))
    return {row["email"].strip().lower(): str(row["id"]) for row in world.contacts()
            if eligible(row) and len(ids[row["email"].strip().lower()]) == 1}


def unrecorded_members(world) -> list[str]:
    """Contacts (of unshared addresses) the provider holds a member for while the state store has no member id."""
    known = states(world)
    ids = contact_ids_by_email(world)
    return [ids[email] for email in world.members() if email in ids
            and (ids[email] not in known or known[ids[email]].provider_id is None)]


def batch_requests(world) -> dict:
    """Fault options matching the provider's bulk member writes (and nothing else)."""
    if world.provider == "mailchimp":
        return {"method": "POST", "path_is": f"/lists/{world.list_id}"}
    return {"method": "POST", "path_contains": "contact/list"}


@pytest.mark.parametrize("point", ["intent_recorded", "batch_answered", "outcome_recorded"])
def test_a_push_dying_at_any_checkpoint_is_settled_by_the_next_one_without_resending(any_world, point):
    world = any_world
    settings = tuned(world)
    with pytest.raises(Crash):
        push_audience(settings, "newsletter", checkpoint=crash_at(point, occurrence=3))
    if point != "outcome_recorded":
        assert unsettled(world), "the batch the push died on is still announced"
    recorded = {cid: row.pushed_at for cid, row in states(world).items() if row.pushed_at is not None}

    push_audience(settings, "newsletter")

    assert unsettled(world) == []
    after = states(world)
    assert recorded and all(after[cid].pushed_at == at for cid, at in recorded.items())  # none sent again
    assert unrecorded_members(world) == []
    assert set(contact_ids_by_email(world)) <= set(world.members("subscribed"))


def test_members_the_provider_accepted_before_the_push_died_are_unsubscribed_when_they_opt_out(any_world):
    world = any_world
    settings = tuned(world)
    with pytest.raises(Crash):
        push_audience(settings, "newsletter", checkpoint=crash_at("batch_answered"))
    accepted = unrecorded_members(world)
    assert accepted, "the provider applied a batch crm-sync never recorded"
    emails = {cid: email for email, cid in contact_ids_by_email(world).items()}
    opted_out = accepted[:2]
    for contact_id in opted_out:
        world.edit_contact(int(contact_id), email_opt_out=True)

    push_audience(settings, "newsletter")

    members = world.members()
    for contact_id in opted_out:
        assert members[emails[contact_id]]["status"] == "unsubscribed"
        assert states(world)[contact_id].provider_status == "unsubscribed"


def test_finished_batches_are_recorded_when_another_fails_for_good(any_world):
    world = any_world
    settings = tuned(world)
    # The first batch is slow (answered after the second failed), every other batch request fails with 503s
    # until retries give up.
    world.sandbox.faults.slow_next(1, 1.5, **batch_requests(world))
    world.sandbox.faults.fail_next(1000, 503, **batch_requests(world))
    with pytest.raises(PushIncomplete, match="next push looks the unanswered members up"):
        push_audience(settings, "newsletter")
    world.sandbox.faults.clear()

    assert world.members(), "the slow batch was applied"
    assert unrecorded_members(world) == []  # ...and recorded, though another batch failed first
    failed = [row for row in states(world).values() if row.reason_code == UNCONFIRMED]
    assert failed and {row.contact_id for row in failed} <= {intent.contact_id for intent in unsettled(world)}

    applied = next(cid for email, cid in contact_ids_by_email(world).items() if email in world.members())
    world.edit_contact(int(applied), email_opt_out=True)
    push_audience(settings, "newsletter")

    assert unsettled(world) == []
    assert states(world)[applied].provider_status == "unsubscribed"
    assert set(contact_ids_by_email(world)) <= set(world.members("subscribed"))


def crm_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def test_unsubscribes_past_the_threshold_are_never_sent_even_when_consent_is_withdrawn_mid_push(any_world):
    world = any_world
    settings = tuned(world)
    push_audience(settings, "newsletter")
    member_count = len(world.members("subscribed"))
    contacts = crm_tables().contacts
    engine = create_engine(world.crm_url)
    with engine.begin() as connection:  # every contact changes, so both passes plan writes all the way
        connection.execute(update(contacts).values(first_name=contacts.c.first_name + "x", modified_at=crm_now()))
    withdrawn = []

    def bulk_withdrawal(point: str) -> None:
        if point == "intent_recorded" and not withdrawn:  # the planning pass is over: the CRM changes now
            with engine.begin() as connection:
                connection.execute(update(contacts).where(contacts.c.id > 120).values(email_opt_in=False,
                                                                                      modified_at=crm_now()))
            withdrawn.append(point)

    audience = world.with_audience(leave_policy="unsubscribe", safety_threshold=0.3)
    unsubscribe_settings = tuned(world, audience, concurrency=1)
    unsubscribe_settings = unsubscribe_settings.model_copy(update={"crm": unsubscribe_settings.crm.model_copy(
        update={"chunk_size": 40})})
    with pytest.raises(SafetyStop, match="No unsubscribe or archive was sent"):
        push_audience(unsubscribe_settings, "newsletter", checkpoint=bulk_withdrawal)
    engine.dispose()

    # The unsubscribes wait until every contact is planned: past the threshold, none goes out.
    assert [email for email, m in world.members().items() if m["status"] == "unsubscribed"] == []
    assert member_count > 0
    assert unsettled(world) == []  # the updates sent before the stop are recorded


def test_sandbox_hold_answer_applies_the_write_before_answering():
    with MailchimpSandbox() as sandbox:
        list_id = sandbox.create_audience("Held")
        sandbox.faults.hold_answer_next(1, 0.2, method="POST")
        answer = requests.post(f"{sandbox.base_url}/lists/{list_id}", auth=("any", sandbox.api_key), timeout=10,
                               json={"members": [{"email_address": "held@example.test", "status": "subscribed"}]})
        assert answer.status_code == 200 and sandbox.member(list_id, "held@example.test")["status"] == "subscribed"


def test_a_member_the_provider_refuses_to_look_up_is_held_back_and_settled_by_a_later_push(any_world):
    world = any_world
    settings = tuned(world)
    with pytest.raises(Crash):
        push_audience(settings, "newsletter", checkpoint=crash_at("batch_answered"))
    pending = [intent.contact_id for intent in unsettled(world)]
    emails = {cid: email for email, cid in contact_ids_by_email(world).items()}
    held = next(cid for cid in pending if cid in emails
                and not any(other != cid and other.startswith(cid) for other in pending))
    email = emails[held]
    path = f"/members/{subscriber_hash(email)}" if world.provider == "mailchimp" else f"contact/{held}"
    world.sandbox.faults.fail_next(1, 400, method="GET", path_contains=path)  # the lookup is refused

    push_audience(settings, "newsletter")

    assert [intent.contact_id for intent in unsettled(world)] == [held]
    assert held not in states(world) or states(world)[held].provider_id is None  # nothing decided on it
    world.sandbox.faults.clear()
    push_audience(settings, "newsletter")
    assert unsettled(world) == [] and states(world)[held].provider_id is not None
