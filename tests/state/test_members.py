"""Member state: bulk upserts update in place, failures keep what was last pushed, reads stream."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from sync.errors import RecordError
from sync.state.members import MEMBERS, MemberOutcome

AUDIENCE = "newsletter"
PUSHED_AT = datetime(2026, 4, 1, 8, 0, tzinfo=UTC)


def pushed(contact_id: str, version: int = 1, **extra) -> MemberOutcome:
    fields = dict(
        email=f"{contact_id}@example.org",
        provider_id=f"hash-{contact_id}",
        payload_hash=f"h{version}-{contact_id}",
        payload={"FNAME": f"Name {version}", "version": version},
        provider_status="subscribed",
        owned=True,
        pushed_at=PUSHED_AT + timedelta(days=version),
    )
    return MemberOutcome(contact_id, **(fields | extra))


def row_count(engine, audience: str = AUDIENCE) -> int:
    with engine.connect() as conn:
        query = select(func.count()).select_from(MEMBERS).where(MEMBERS.c.audience == audience)
        return conn.execute(query).scalar_one()


def test_bulk_upsert_across_chunks_updates_in_place(store, engine):
    contact_ids = [f"c{n:05d}" for n in range(2500)]

    assert store.save_member_outcomes(AUDIENCE, (pushed(cid) for cid in contact_ids)) == 2500
    assert store.save_member_outcomes(AUDIENCE, (pushed(cid, version=2) for cid in contact_ids)) == 2500

    assert row_count(engine) == 2500
    states = store.member_states(AUDIENCE, contact_ids)
    assert len(states) == 2500
    assert {state.payload_hash for state in states.values()} == {f"h2-{cid}" for cid in contact_ids}
    assert states["c02499"].payload == {"FNAME": "Name 2", "version": 2}
    assert states["c02499"].pushed_at == PUSHED_AT + timedelta(days=2)


def test_a_failure_keeps_what_was_last_pushed(store):
    store.save_member_outcomes(AUDIENCE, [pushed("c1")])

    store.save_member_outcomes(
        AUDIENCE,
        [MemberOutcome("c1", email="new@example.org", payload_hash="never-sent", last_error="400 Invalid Resource",
                       reason_code="invalid_field_value")],
    )

    state = store.member_states(AUDIENCE, ["c1"])["c1"]
    assert (state.email, state.payload_hash, state.payload, state.owned, state.pushed_at) == (
        "c1@example.org", "h1-c1", {"FNAME": "Name 1", "version": 1}, True, PUSHED_AT + timedelta(days=1)
    )
    assert (state.last_error, state.reason_code, state.provider_status) == (
        "400 Invalid Resource", "invalid_field_value", "subscribed"
    )


def test_a_failure_records_the_status_the_provider_reported(store):
    store.save_member_outcomes(AUDIENCE, [pushed("c1")])

    store.save_member_outcomes(AUDIENCE,
                               [MemberOutcome("c1", provider_status="cleaned", reason_code="invalid_address")])

    state = store.member_states(AUDIENCE, ["c1"])["c1"]
    assert (state.provider_status, state.reason_code, state.payload_hash) == ("cleaned", "invalid_address", "h1-c1")


def test_a_later_push_clears_the_error(store):
    store.save_member_outcomes(AUDIENCE, [MemberOutcome("c1", last_error="timeout", reason_code="compliance_state")])

    store.save_member_outcomes(AUDIENCE, [pushed("c1", version=2)])

    state = store.member_states(AUDIENCE, ["c1"])["c1"]
    assert (state.last_error, state.reason_code, state.payload_hash) == (None, None, "h2-c1")


def test_a_contact_first_seen_failing_is_stored_with_what_is_known(store):
    store.save_member_outcomes(
        AUDIENCE,
        [MemberOutcome("c7", email="c7@example.org", reason_code="merged_into", merged_into="c3")],
    )

    state = store.member_states(AUDIENCE, ["c7"])["c7"]
    assert (state.email, state.reason_code, state.merged_into, state.payload, state.pushed_at, state.owned) == (
        "c7@example.org", "merged_into", "c3", None, None, False
    )


def test_a_contact_repeated_in_one_stream_ends_with_its_last_outcome(store, engine):
    outcomes = [pushed("c1"), pushed("c2"), MemberOutcome("c1", last_error="later failure"), pushed("c2", version=3)]

    store.save_member_outcomes(AUDIENCE, outcomes)

    states = store.member_states(AUDIENCE, ["c1", "c2"])
    assert (states["c1"].payload_hash, states["c1"].last_error) == ("h1-c1", "later failure")
    assert states["c2"].payload_hash == "h3-c2"
    assert row_count(engine) == 2


def test_lookups_skip_unknown_contacts_and_keep_audiences_apart(store):
    store.save_member_outcomes(AUDIENCE, [pushed(f"c{n}") for n in range(700)])
    store.save_member_outcomes("customers", [pushed("c1", version=5)])

    found = store.member_states(AUDIENCE, [f"c{n}" for n in range(0, 1400, 2)])

    assert set(found) == {f"c{n}" for n in range(0, 700, 2)}
    assert found["c0"].audience == AUDIENCE
    assert store.member_states("customers", ["c1", "c2"])["c1"].payload_hash == "h5-c1"
    assert store.member_states(AUDIENCE, ["c1"])["c1"].payload_hash == "h1-c1"


def test_active_member_count_leaves_out_the_inactive_the_never_pushed_and_other_audiences(store):
    store.save_member_outcomes(AUDIENCE, [pushed(f"c{n}") for n in range(10)]
                               + [pushed("c10", provider_status=None)]  # pushed, status unknown: counts
                               + [pushed(f"u{n}", provider_status=status)
                                  for n, status in enumerate(("unsubscribed", "cleaned", "archived"))]
                               + [MemberOutcome("never", email="never@example.org", reason_code="no_consent")])
    store.save_member_outcomes("customers", [pushed("c1")])
    assert store.active_member_count(AUDIENCE) == 11
    assert store.active_member_count("customers") == 1 and store.active_member_count("nobody") == 0


def test_contact_ids_differing_only_in_case_are_different_members(store, engine):
    store.save_member_outcomes(AUDIENCE, [pushed("abc"), pushed("ABC", version=2)])

    assert row_count(engine) == 2
    assert store.member_states(AUDIENCE, ["ABC"])["ABC"].payload_hash == "h2-ABC"


def test_unicode_and_longest_values_round_trip(store):
    email = "zoë.ñandú@例え.jp"
    longest = "x" * 180 + "@example.o"  # 191 characters
    store.save_member_outcomes(AUDIENCE, [pushed("c1", email=email, payload={"NAAM": "Zoë 🚀"}),
                                          pushed("c2", email=longest)])

    states = store.member_states(AUDIENCE, ["c1", "c2"])
    assert (states["c1"].email, states["c1"].payload) == (email, {"NAAM": "Zoë 🚀"})
    assert states["c2"].email == longest


def test_a_value_too_long_for_the_store_names_the_contact_and_field():
    with pytest.raises(RecordError, match="record c1: value_too_long: email has 192 characters"):
        MemberOutcome("c1", email="y" * 192)


def test_iterating_streams_every_member_in_contact_order_while_writes_go_on(store):
    contact_ids = [f"c{n:05d}" for n in range(2500)]
    store.save_member_outcomes(AUDIENCE, (pushed(cid) for cid in reversed(contact_ids)))

    seen = []
    for state in store.iter_member_states(AUDIENCE):
        seen.append(state.contact_id)
        if len(seen) % 1000 == 1:
            # A write between pages must not wait on the reader (SQLite has one writer at a time).
            store.save_member_outcomes("customers", [pushed(state.contact_id)])

    assert seen == contact_ids
    assert list(store.iter_member_states("nobody")) == []
