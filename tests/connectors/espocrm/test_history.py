"""HistoryWrites of the EspoCRM connector against the fake and the live EspoCRM: campaign log records written
once per key (re-runs, crashes, lost answers), campaigns and their counters, account Notes, e-mail flags."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sync.errors import RecordError
from sync.records import ActivityRecord, ContactFlags

AT = datetime(2026, 11, 20, 10, 0, 0, tzinfo=UTC)
KINDS = ("sent", "open", "click", "bounce", "unsubscribe", "cleaned")


def event(contact_id: str, number: int, action: str, title: str = "Spring Sale", bounce_type: str | None = None,
          email: str = "jose.muller@example.com") -> ActivityRecord:
    """A per-event record as sync/pull/history.py's event_record makes it."""
    at = AT + timedelta(minutes=number)
    return ActivityRecord(f"mailchimp:event:{contact_id}:{number}", f"email_{action}", f"{action}: {title}",
                          f"{action}: {title}", at, at, contact_id=contact_id,
                          details={"campaign_id": "mc1", "title": title, "action": action,
                                   "url": "https://shop.example.org/sale" if action == "click" else None,
                                   "bounce_type": bounce_type, "reason": None, "email": email})


def log_of(espo, contact_id: str) -> list[dict]:
    return espo.search("CampaignLogRecord", [{"type": "equals", "attribute": "parentId", "value": contact_id}],
                       orderBy="actionDate", order="asc")["list"]


def test_each_event_becomes_one_campaign_log_record_and_a_rerun_writes_nothing(espo_rw):
    crm = espo_rw.crm()
    jose = espo_rw.ids["José"]
    records = [event(jose, number, action, bounce_type="soft" if action == "bounce" else None)
               for number, action in enumerate(KINDS)]
    assert crm.write_activities(records) == 6
    assert crm.write_activities(records) == 0
    log = log_of(espo_rw, jose)
    assert [row["action"] for row in log] == ["Sent", "Opened", "Clicked", "Bounced", "Opted Out", "Bounced"]
    assert [row["stringAdditionalData"] for row in log if row["action"] == "Bounced"] == ["Soft", "Hard"]
    assert log[2]["data"]["url"] == "https://shop.example.org/sale"
    assert {row["data"]["crmSyncKey"] for row in log} == {record.external_key for record in records}
    assert {(row["parentType"], row["stringData"], row["application"]) for row in log} == {
        ("Contact", "jose.muller@example.com", "Mailchimp")}
    assert log[0]["actionDate"] == "2026-11-20 10:00:00"
    campaigns = espo_rw.search("Campaign", [{"type": "equals", "attribute": "name", "value": "Mailchimp: Spring Sale"}])
    assert campaigns["total"] == 1 and {row["campaignId"] for row in log} == {campaigns["list"][0]["id"]}
    counters = espo_rw.raw("GET", f"Campaign/{campaigns['list'][0]['id']}")
    assert (counters["sentCount"], counters["openedCount"], counters["clickedCount"], counters["bouncedCount"],
            counters["optedOutCount"]) == (1, 1, 1, 2, 1)
    history = crm.history_of(jose)
    assert [entry[0] for entry in history] == [f"email_{action}" for action in reversed(KINDS)]  # newest first
    assert history[0][1:] == ("cleaned: Spring Sale", "cleaned: Spring Sale", AT + timedelta(minutes=5))


def test_a_crash_mid_batch_is_recovered_without_duplicates(espo_rw):
    crm = espo_rw.crm()
    marc, chloe = espo_rw.ids["Marc"], espo_rw.ids["Chloé"]
    records = [event(contact, number, action, title="Autumn", email="famille.dubois@example.org")
               for contact in (marc, chloe) for number, action in enumerate(("sent", "open", "click"))]
    assert crm.write_activities(records[:4]) == 4  # the run that crashed after four writes
    assert espo_rw.crm().write_activities(records) == 2  # the next run, a new connector
    keys = [row["data"]["crmSyncKey"] for contact in (marc, chloe) for row in log_of(espo_rw, contact)]
    assert sorted(keys) == sorted(record.external_key for record in records)
    assert espo_rw.search("Campaign", [{"type": "equals", "attribute": "name", "value": "Mailchimp: Autumn"}])[
        "total"] == 1


def test_an_answer_lost_after_the_write_is_not_written_twice(fake):
    crm = fake.crm(retry_seconds=10)
    jose = fake.ids["José"]
    fake.sandbox.fail("POST CampaignLogRecord", 503, count=1, after_commit=True)
    assert crm.write_activities([event(jose, 0, "open"), event(jose, 1, "click")]) == 2
    assert len(log_of(fake, jose)) == 2
    assert fake.sandbox.traffic.statuses[503] == 1


def test_a_record_naming_an_unknown_contact_is_refused_before_anything_is_written(espo_rw):
    crm = espo_rw.crm()
    records = [event(espo_rw.ids["José"], 0, "open"), event("00000000000000000", 1, "open")]
    with pytest.raises(RecordError) as raised:
        crm.write_activities(records)
    assert raised.value.reason_code == "unknown_contact" and raised.value.record_id == records[1].external_key
    assert log_of(espo_rw, espo_rw.ids["José"]) == []


def test_organisation_entries_are_notes_on_the_account_updated_in_place(espo_rw):
    crm = espo_rw.crm()
    account = espo_rw.accounts["Müller"]
    entry = ActivityRecord("mailchimp:campaign:mc1:org", "email_campaign", "Spring Sale: 3 contacts",
                           "2 opens, 1 click", AT, AT, organisation_id=account)
    assert crm.write_activities([entry]) == 1
    assert crm.write_activities([entry]) == 0
    changed = ActivityRecord(entry.external_key, entry.kind, entry.subject, "5 opens, 2 clicks", AT,
                             AT + timedelta(days=1), organisation_id=account)
    assert espo_rw.crm().write_activities([changed]) == 1
    notes = espo_rw.search("Note", [{"type": "equals", "attribute": "parentId", "value": account},
                                    {"type": "equals", "attribute": "type", "value": "Post"}])["list"]
    assert len(notes) == 1 and "5 opens, 2 clicks" in notes[0]["post"] and "2 opens" not in notes[0]["post"]


def test_opt_out_and_invalid_land_on_the_right_address_without_losing_the_other(espo_rw):
    crm = espo_rw.crm()
    hans = espo_rw.ids["Hans-Peter"]
    secondary = "hans-peter.schaefer@muller-soehne.example.com"
    assert crm.set_flags([ContactFlags(hans, email_invalid=True, invalid_reason="hard bounce", email=secondary),
                          ContactFlags(hans, email_opt_out=True, email=secondary)]) == 1
    data = {item["emailAddress"]: item for item in espo_rw.raw("GET", f"Contact/{hans}")["emailAddressData"]}
    assert set(data) == {"hp.schaefer@example.com", secondary}
    assert (data[secondary]["invalid"], data[secondary]["optOut"], data[secondary]["primary"]) == (True, True, False)
    assert (data["hp.schaefer@example.com"]["invalid"], data["hp.schaefer@example.com"]["optOut"]) == (False, False)
    assert crm.set_flags([ContactFlags(hans, email_invalid=True, email=secondary)]) == 0  # already set
    assert crm.set_flags([ContactFlags(hans, email_opt_out=True)]) == 1  # None: the primary address
    contact = espo_rw.raw("GET", f"Contact/{hans}")
    assert contact["emailAddressIsOptedOut"] is True and contact["emailAddressIsInvalid"] is False
    assert len(contact["emailAddressData"]) == 2


def test_a_shared_address_is_flagged_once_for_every_contact_with_it(espo_rw):
    crm = espo_rw.crm()
    chloe, marc = espo_rw.ids["Chloé"], espo_rw.ids["Marc"]
    flags = [ContactFlags(chloe, email_opt_out=True, email="famille.dubois@example.org"),
             ContactFlags(marc, email_opt_out=True, email="famille.dubois@example.org")]
    assert crm.set_flags(flags) == 2
    rows = {row["id"]: row for row in espo_rw.search("Contact", [{"type": "in", "attribute": "id",
                                                                  "value": [chloe, marc]}])["list"]}
    assert rows[chloe]["emailAddressIsOptedOut"] is True and rows[marc]["emailAddressIsOptedOut"] is True
    marc_after = espo_rw.raw("GET", f"Contact/{marc}")["modifiedAt"]
    assert marc_after == "2026-07-01 09:15:27"  # one PUT (on Chloé) flagged both
    assert crm.set_flags(flags) == 0


def test_flags_never_opt_in(espo_rw):
    crm = espo_rw.crm()
    soren = espo_rw.ids["Søren"]
    assert crm.set_flags([ContactFlags(soren, email_opt_out=False, email_invalid=False)]) == 0
    assert espo_rw.raw("GET", f"Contact/{soren}")["emailAddressIsOptedOut"] is True
    assert crm.set_flags([ContactFlags(espo_rw.ids["Émilie"], email_opt_out=True)]) == 0  # she has no address
    assert crm.set_flags([ContactFlags("00000000000000000", email_opt_out=True)]) == 0  # gone


def test_an_unsubscribe_from_an_address_the_contact_no_longer_has_still_opts_it_out(espo_rw):
    crm = espo_rw.crm()
    jose = espo_rw.ids["José"]
    assert crm.set_flags([ContactFlags(jose, email_opt_out=True, email="jose.old@example.net"),
                          ContactFlags(espo_rw.ids["Zoë"], email_invalid=True, email="zoe.old@example.net")]) == 1
    assert espo_rw.raw("GET", f"Contact/{jose}")["emailAddressIsOptedOut"] is True  # the person's act holds
    zoe = espo_rw.raw("GET", f"Contact/{espo_rw.ids['Zoë']}")
    assert zoe["emailAddressIsInvalid"] is False  # a bounce is a fact about the other address only
