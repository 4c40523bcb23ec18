"""The vtiger connector's history and flags against the fake vtiger: ModComments upserted, opt-outs, bounces."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sync.errors import RecordError
from sync.records import ActivityRecord, ContactFlags
from tests.connectors.vtiger.conftest import connect

SENT = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)


def campaign(contact_id: str, body: str, last: datetime = SENT, subject: str = "Spring Newsletter 2026: opened",
             **target) -> ActivityRecord:
    return ActivityRecord(f"mailchimp:campaign:c1:{contact_id}", "email_campaign", subject, body, SENT, last,
                          contact_id=contact_id if not target else None, **target)


def test_one_comment_per_contact_and_campaign_revised_in_place(sandbox, crm):
    assert crm.history_per_event is False
    assert crm.write_activities([campaign("12x117", "Opened 1 time.")]) == 1
    assert crm.write_activities([campaign("12x117", "Opened 1 time.")]) == 0  # unchanged: no revise
    assert sandbox.operations["revise"] == 0
    later = SENT + timedelta(hours=2)
    assert crm.write_activities([campaign("12x117", "Opened 2 times, clicked https://shop.example.com.", later)]) == 1
    comments = sandbox.comments_of("12x117")
    assert len(comments) == 1 and sandbox.operations["create"] == 1 and sandbox.operations["revise"] == 1
    text = comments[0]["commentcontent"]
    assert text.startswith("Spring Newsletter 2026: opened\nOpened 2 times") and "[crm-sync email_campaign " in text
    assert comments[0]["assigned_user_id"] == "19x1"
    assert crm.history_of("12x117") == [("email_campaign", "Spring Newsletter 2026: opened",
                                         "Opened 2 times, clicked https://shop.example.com.", later)]


def test_no_duplicate_after_a_crash_before_crm_sync_noted_the_write(sandbox):
    with connect(sandbox) as first:
        first.write_activities([campaign("12x117", "Opened 1 time.")])
    # crm-sync died here; a new process writes the same key again, knowing nothing of the first write
    with connect(sandbox) as second:
        assert second.write_activities([campaign("12x117", "Opened 1 time.")]) == 0
        assert second.write_activities([campaign("12x117", "Opened 3 times.")]) == 1
    assert len(sandbox.comments_of("12x117")) == 1


def test_other_comments_are_left_alone_and_emoji_compare_as_stored(sandbox, crm):
    sandbox.state.create("ModComments", {"commentcontent": "Called, wants the catalogue", "related_to": "12x118",
                                         "assigned_user_id": "19x1"}, "19x1")
    record = campaign("12x118", "Tulip 🌷 offer opened.")
    assert crm.write_activities([record]) == 1
    assert crm.write_activities([record]) == 0
    texts = sorted(c["commentcontent"] for c in sandbox.comments_of("12x118"))
    assert texts[0] == "Called, wants the catalogue" and "Tulip ???? offer" in texts[1]
    assert [entry[0] for entry in crm.history_of("12x118")] == ["email_campaign"]


def test_organisation_entries_are_comments_on_the_account(sandbox, crm):
    record = ActivityRecord("mailchimp:campaign:c1:org:11x115", "email_campaign", "Spring Newsletter 2026",
                            "Spring Newsletter 2026 was sent to: José Müller, Mehmet Yılmaz", SENT, SENT,
                            organisation_id="11x115")
    assert crm.write_activities([record]) == 1 and crm.write_activities([record]) == 0
    assert len(sandbox.comments_of("11x115")) == 1
    assert crm.contact_owners(["12x117", "12x119"]) == {"12x117": ("11x115", "José Müller"),
                                                       "12x119": (None, "François Lefèvre")}


def test_an_unknown_contact_is_a_record_error_and_nothing_is_written(sandbox, crm):
    with pytest.raises(RecordError) as error:
        crm.write_activities([campaign("12x117", "Opened."), campaign("12x99999", "Opened.")])
    assert error.value.record_id == "12x99999"
    assert sandbox.comments_of("12x117") == []
    with pytest.raises(RecordError):
        crm.set_flags([ContactFlags("12x99999", email_opt_out=True)])


def test_opt_out_is_per_record_and_never_undone(sandbox, crm):
    before = sandbox.record("12x124")["modifiedtime"]
    assert crm.set_flags([ContactFlags("12x123", email_opt_out=True, email="famille.dubois@example.org")]) == 1
    assert sandbox.record("12x123")["emailoptout"] == "1"
    assert sandbox.record("12x124")["emailoptout"] == "0" and sandbox.record("12x124")["modifiedtime"] == before
    assert crm.set_flags([ContactFlags("12x123", email_opt_out=True)]) == 0  # already set: no write
    assert crm.set_flags([ContactFlags("12x120", email_opt_out=False)]) == 0  # never opted back in
    assert sandbox.record("12x120")["emailoptout"] == "1"
    (chloe,) = crm.contacts_by_ids(["12x123"])
    assert chloe.consent.email_opt_out is True


def test_a_hard_bounce_is_a_visible_comment_and_the_invalid_checkbox_when_there_is_one(sandbox, crm):
    bounce = ContactFlags("12x125", email_invalid=True, invalid_reason="550 5.1.1 user unknown")
    assert crm.set_flags([bounce]) == 1 and crm.set_flags([bounce]) == 0
    (comment,) = sandbox.comments_of("12x125")
    assert "E-mail address invalid: bjorn.andersson@example.com" in comment["commentcontent"]
    (bjorn,) = crm.contacts_by_ids(["12x125"])
    assert bjorn.consent.email_invalid is False  # vtiger has no such flag
    sandbox.add_field("cf_873", "Email Invalid", {"name": "boolean"})
    with connect(sandbox) as fresh:
        assert fresh.set_flags([bounce]) == 1
        (bjorn,) = fresh.contacts_by_ids(["12x125"])
        assert bjorn.consent.email_invalid is True and len(sandbox.comments_of("12x125")) == 1


def test_a_comment_bumps_modifiedtime_but_leaves_the_contact_values_as_they_were(sandbox, crm):
    (before,) = crm.contacts_by_ids(["12x117"])
    since = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=1)
    assert "12x117" not in crm.changed_contact_ids(since, 100)
    crm.write_activities([campaign("12x117", "Opened 1 time.")])
    assert "12x117" in crm.changed_contact_ids(since, 100)  # the echo vtiger makes
    (after,) = crm.contacts_by_ids(["12x117"])
    assert after.fields == before.fields and after.consent == before.consent  # the mapped payload is the same
    assert after.modified_at > before.modified_at
