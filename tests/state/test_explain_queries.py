"""The state-store reads behind `crm-sync status` and `crm-sync why`: by address, failures, a contact's events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sync.state.ledger import LedgerEvent
from sync.state.members import MemberOutcome
from sync.state.store import open_state

START = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)
REJECTIONS = {"invalid_address", "provider_rejected", "invalid_field_value"}


class Clock:
    """A clock the test moves: each outcome saved later gets a later ``updated_at``."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def tick(self, minutes: int = 1) -> None:
        self.now += timedelta(minutes=minutes)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def timed_store(database_url, clock):
    store = open_state(database_url, clock=clock)
    yield store
    store.close()


def pushed(contact_id: str, email: str) -> MemberOutcome:
    return MemberOutcome(contact_id, email=email, provider_id=f"id-{contact_id}", payload_hash="h",
                         payload={"FNAME": "Ann"}, provider_status="subscribed", owned=True, pushed_at=START)


def rejected(contact_id: str, reason: str, error: str = "refused") -> MemberOutcome:
    return MemberOutcome(contact_id, last_error=error, reason_code=reason)


def test_states_by_email_span_audiences_and_ignore_case_and_spaces(timed_store):
    timed_store.save_member_outcomes("newsletter", [pushed("c1", "ann@example.org"), pushed("c2", "bob@example.org")])
    timed_store.save_member_outcomes("customers", [pushed("c9", "Ann@Example.ORG"), rejected("c1", "no_consent")])
    timed_store.save_member_outcomes("alerts", [pushed("c3", "ann@example.org.uk")])

    found = timed_store.member_states_by_email("  ANN@example.org ")

    assert [(row.audience, row.contact_id, row.provider_id) for row in found] == [
        ("customers", "c9", "id-c9"), ("newsletter", "c1", "id-c1")]
    assert found[1].payload == {"FNAME": "Ann"} and found[1].owned is True
    assert timed_store.member_states_by_email("nobody@example.org") == []


def test_recent_failures_are_rejections_only_newest_first_and_limited(timed_store, clock):
    timed_store.save_member_outcomes("newsletter", [rejected("c1", "invalid_address", "c1 looks fake")])
    clock.tick()
    timed_store.save_member_outcomes("customers", [rejected("c2", "provider_rejected"), rejected("c3", "no_consent")])
    clock.tick()
    timed_store.save_member_outcomes("newsletter", [pushed("c4", "d@example.org"), rejected("c5", "opted_out")])
    clock.tick()
    timed_store.save_member_outcomes("newsletter", [rejected("c4", "invalid_field_value", "TIER: not a choice")])

    failures = timed_store.recent_failures(REJECTIONS, limit=10)

    assert [(row.audience, row.contact_id, row.reason_code) for row in failures] == [
        ("newsletter", "c4", "invalid_field_value"), ("customers", "c2", "provider_rejected"),
        ("newsletter", "c1", "invalid_address")]
    newest = failures[0]
    assert newest.last_error == "TIER: not a choice" and newest.email == "d@example.org"
    assert newest.updated_at == START + timedelta(minutes=3)
    assert [row.contact_id for row in timed_store.recent_failures(REJECTIONS, limit=2)] == ["c4", "c2"]
    assert timed_store.failure_counts(REJECTIONS) == {"newsletter": 2, "customers": 1}


def test_failures_of_one_moment_come_in_contact_id_number_order(timed_store, clock):
    timed_store.save_member_outcomes("newsletter", [rejected(cid, "invalid_address") for cid in ("75", "758", "383")])
    clock.tick()
    timed_store.save_member_outcomes("newsletter", [rejected("9", "provider_rejected")])
    assert [row.contact_id for row in timed_store.recent_failures(REJECTIONS, limit=3)] == ["9", "75", "383"]


def test_a_contact_that_later_succeeds_is_no_longer_a_failure(timed_store, clock):
    timed_store.save_member_outcomes("newsletter", [rejected("c1", "signup_throttled")])
    assert [row.contact_id for row in timed_store.recent_failures({"signup_throttled"})] == ["c1"]
    clock.tick()
    timed_store.save_member_outcomes("newsletter", [pushed("c1", "ann@example.org")])

    assert timed_store.recent_failures({"signup_throttled"}) == []
    assert timed_store.failure_counts({"signup_throttled"}) == {}


def test_events_for_a_contact_latest_first_limited_with_counts_per_kind(timed_store):
    def event(key: str, kind: str, minutes: int, contact_id: str | None = "c1", audience: str = "newsletter"):
        return LedgerEvent(key, "mailchimp", audience, kind, START + timedelta(minutes=minutes), contact_id)

    timed_store.record_events([event("sent", "sent", 0), event("open-1", "open", 5), event("open-2", "open", 9),
                               event("click", "click", 7), event("other", "open", 8, contact_id="c2"),
                               event("elsewhere", "open", 6, audience="customers"),
                               event("unmatched", "open", 4, contact_id=None)], run_id=7)

    latest = timed_store.events_for_contact("newsletter", "c1", limit=3)

    assert [(row.event_key, row.kind, row.occurred_at) for row in latest] == [
        ("open-2", "open", START + timedelta(minutes=9)), ("click", "click", START + timedelta(minutes=7)),
        ("open-1", "open", START + timedelta(minutes=5))]
    assert {(row.audience, row.contact_id, row.run_id, row.imported_at) for row in latest} == {
        ("newsletter", "c1", 7, START)}
    assert timed_store.event_counts_for_contact("newsletter", "c1") == {"sent": 1, "open": 2, "click": 1}
    assert [row.event_key for row in timed_store.events_for_contact("customers", "c1", limit=20)] == ["elsewhere"]
    assert timed_store.events_for_contact("newsletter", "c9", limit=20) == []
    assert timed_store.event_counts_for_contact("newsletter", "c9") == {}


def test_rows_render_as_json_ready_values(timed_store):
    timed_store.save_member_outcomes("newsletter", [pushed("c1", "ann@example.org")])
    timed_store.record_events([LedgerEvent("k", "mailchimp", "newsletter", "open", START, "c1")])

    [row] = timed_store.member_states_by_email("ann@example.org")
    [event] = timed_store.events_for_contact("newsletter", "c1", limit=1)

    assert row.as_dict()["pushed_at"] == "2026-05-04T08:00:00+00:00" and row.as_dict()["payload"] == {"FNAME": "Ann"}
    assert event.as_dict()["occurred_at"] == "2026-05-04T08:00:00+00:00" and event.as_dict()["kind"] == "open"
