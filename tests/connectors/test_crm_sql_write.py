"""Writing to the SQL CRM: activity history upserted by external key, and e-mail flags."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine, select

from sync.connectors.sql.crm import open_crm
from sync.demo.crm.generate import create_demo_crm
from sync.demo.crm.schema import crm_tables
from sync.errors import RecordError
from sync.records import ActivityRecord, ContactFlags

T0 = datetime(2026, 3, 1, 9, 0, 0, tzinfo=UTC)
T1 = datetime(2026, 3, 2, 10, 30, 0, tzinfo=UTC)


class Clock:
    """A settable clock handed to the connector; tests move it between writes."""

    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def crm_url(database_url):
    create_demo_crm(database_url, contacts=60, seed=11)
    return database_url


def rows(url: str, table_name: str) -> dict:
    """Rows of a demo table by primary key, read without the connector."""
    table = getattr(crm_tables(), table_name)
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            key = table.c.external_key if table_name == "activities" else table.c.id
            return {row._mapping[key.name]: row for row in connection.execute(select(table))}
    finally:
        engine.dispose()


def opened(contact_id: str, key: str = "mc:open:camp1", body: str = "Opened 1 time", last_at: datetime = T0,
           **details) -> ActivityRecord:
    return ActivityRecord(external_key=key, kind="email_opened", subject="Opened “Spring sale” 🌷", body=body,
                          first_at=T0 - timedelta(hours=1), last_at=last_at, contact_id=contact_id,
                          details=details or {"campaign": "camp1"})


def test_activities_are_inserted_then_updated_in_place(crm_url):
    clock = Clock(T0)
    with open_crm(crm_url, clock=clock) as crm:
        written = crm.write_activities([
            opened("1"), opened("2", key="mc:open:camp1:2"),
            ActivityRecord("mc:campaign:camp1", "campaign_sent", "Spring sale sent", "Sent to 2 contacts",
                           T0, T0, organisation_id="3"),
        ])
        assert written == 3
        first = rows(crm_url, "activities")
        assert first["mc:open:camp1"].created_at == first["mc:open:camp1"].modified_at == T0.replace(tzinfo=None)
        assert first["mc:open:camp1"].subject == "Opened “Spring sale” 🌷"
        assert first["mc:campaign:camp1"].organisation_id == 3 and first["mc:campaign:camp1"].contact_id is None

        clock.now = T1
        again = crm.write_activities([
            opened("1", body="Opened 3 times", last_at=T1, campaign="camp1", opens=3),
            opened("2", key="mc:open:camp1:2"),  # unchanged: not rewritten
        ])
    assert again == 1
    second = rows(crm_url, "activities")
    assert len(second) == 3
    changed, unchanged = second["mc:open:camp1"], second["mc:open:camp1:2"]
    assert changed.id == first["mc:open:camp1"].id
    assert (changed.body, changed.last_at, changed.modified_at) == ("Opened 3 times", T1.replace(tzinfo=None),
                                                                   T1.replace(tzinfo=None))
    assert changed.details == '{"campaign": "camp1", "opens": 3}'
    assert (changed.kind, changed.first_at, changed.created_at) == (
        "email_opened", (T0 - timedelta(hours=1)).replace(tzinfo=None), T0.replace(tzinfo=None))
    assert unchanged.modified_at == T0.replace(tzinfo=None)


def test_many_activities_across_chunks_are_written_once(crm_url):
    records = [opened(str(1 + n % 60), key=f"mc:click:{n}") for n in range(1203)]
    with open_crm(crm_url) as crm:
        assert crm.write_activities(iter(records)) == 1203
        assert crm.write_activities(iter(records)) == 0
    assert len(rows(crm_url, "activities")) == 1203


def test_the_last_record_of_a_repeated_key_wins(crm_url):
    with open_crm(crm_url) as crm:
        assert crm.write_activities([opened("1", body="first"), opened("1", body="second")]) == 1
    assert rows(crm_url, "activities")["mc:open:camp1"].body == "second"


def test_keys_differing_only_in_case_are_different_activities(crm_url):
    with open_crm(crm_url) as crm:
        assert crm.write_activities([opened("1", key="mc:open:AbC"), opened("1", key="mc:open:abc")]) == 2
    assert set(rows(crm_url, "activities")) == {"mc:open:AbC", "mc:open:abc"}


def test_times_are_stored_as_utc_to_the_second(crm_url):
    amsterdam = timezone(timedelta(hours=2))
    record = ActivityRecord("k", "email_clicked", "s", "b", datetime(2026, 5, 1, 12, 0, 0, 987654, tzinfo=amsterdam),
                            datetime(2026, 5, 1, 12, 5, tzinfo=amsterdam), contact_id="4")
    with open_crm(crm_url) as crm:
        crm.write_activities([record])
    stored = rows(crm_url, "activities")["k"]
    assert (stored.first_at, stored.last_at) == (datetime(2026, 5, 1, 10, 0, 0), datetime(2026, 5, 1, 10, 5))


BAD_ACTIVITIES = [
    (opened("999999"), "unknown_contact"),
    (opened("not-a-number"), "unknown_contact"),
    (ActivityRecord("k", "x", "s", "b", T0, T0), "activity_owner"),
    (ActivityRecord("k", "x", "s", "b", T0, T0, contact_id="1", organisation_id="1"), "activity_owner"),
    (ActivityRecord("k" * 192, "x", "s", "b", T0, T0, contact_id="1"), "activity_key"),
    (ActivityRecord("k", "x", "s", "b", T0, T0, organisation_id="424242"), "unknown_organisation"),
]


def test_a_bad_activity_is_a_record_error_and_its_chunk_is_not_written(crm_url):
    with open_crm(crm_url) as crm:
        for record, reason in BAD_ACTIVITIES:
            with pytest.raises(RecordError) as raised:
                crm.write_activities([opened("1", key="good"), record])
            assert (raised.value.reason_code, raised.value.record_id) == (reason, record.external_key)
    assert rows(crm_url, "activities") == {}


def test_set_flags_changes_opt_out_and_invalid_but_never_opt_in(crm_url):
    before = rows(crm_url, "contacts")
    target = next(row for row in before.values() if row.email_opt_in is True and not row.email_opt_out
                  and not row.email_invalid)
    other = next(row for row in before.values() if row.id != target.id and not row.email_invalid)
    clock = Clock(T1)
    with open_crm(crm_url, clock=clock) as crm:
        assert crm.set_flags([ContactFlags(str(target.id), email_opt_out=True),
                              ContactFlags(str(other.id), email_invalid=True, invalid_reason="hard bounce")]) == 2
        after = rows(crm_url, "contacts")
        assert (after[target.id].email_opt_out, after[target.id].email_opt_in) == (True, True)
        assert after[target.id].modified_at == T1.replace(tzinfo=None)
        assert (after[other.id].email_invalid, after[other.id].email_invalid_reason) == (True, "hard bounce")
        assert after[other.id].email_opt_in == before[other.id].email_opt_in

        clock.now = T1 + timedelta(days=1)
        assert crm.set_flags([ContactFlags(str(target.id), email_opt_out=True)]) == 0  # nothing to change
        assert rows(crm_url, "contacts")[target.id].modified_at == T1.replace(tzinfo=None)

        assert crm.set_flags([ContactFlags(str(other.id), email_invalid=False)]) == 1
        cleared = rows(crm_url, "contacts")[other.id]
        assert (cleared.email_invalid, cleared.email_invalid_reason) == (False, None)

        streamed = {c.id: c for c in crm.iter_contacts()}
    assert streamed[str(target.id)].consent.email_opt_out is True
    final = rows(crm_url, "contacts")
    assert all(final[cid] == before[cid] for cid in before if cid not in (target.id, other.id))


def test_flags_for_one_contact_in_one_call_are_merged(crm_url):
    contact = next(row for row in rows(crm_url, "contacts").values() if not row.email_opt_out and not row.email_invalid)
    with open_crm(crm_url) as crm:
        assert crm.set_flags([ContactFlags(str(contact.id), email_opt_out=True),
                              ContactFlags(str(contact.id), email_invalid=True, invalid_reason="spam complaint"),
                              ContactFlags(str(contact.id))]) == 1
    after = rows(crm_url, "contacts")[contact.id]
    assert (after.email_opt_out, after.email_invalid, after.email_invalid_reason) == (True, True, "spam complaint")


def test_flags_for_an_unknown_contact_are_a_record_error(crm_url):
    before = rows(crm_url, "contacts")
    with open_crm(crm_url) as crm:
        for contact_id in ("999999", "abc"):
            with pytest.raises(RecordError, match=contact_id) as raised:
                crm.set_flags([ContactFlags("1", email_opt_out=True), ContactFlags(contact_id, email_opt_out=True)])
            assert (raised.value.reason_code, raised.value.record_id) == ("unknown_contact", contact_id)
    assert rows(crm_url, "contacts") == before
