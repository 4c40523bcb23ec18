"""Mailings and the ``mailing-interaction`` feeds: recipients, changeDate windows, bounces stopping mail."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.sandbox.spotler.conftest import at, error_of

SENT_AT = at("2024-05-01 09:00")


@pytest.fixture
def audience(spotler, api):
    """CRM-1..3 with bit 1 on (CRM-3 also bit 2), CRM-4 with bit 1 off, and a sign-up without externalId."""
    spotler.set_clock(SENT_AT - timedelta(days=1))
    for number, bits in ((1, [1]), (2, [1]), (3, [1, 2]), (4, [])):
        api.upsert(f"CRM-{number}", email=f"c{number}@example.nl",
                   permissions=[{"bit": bit, "enabled": True} for bit in bits])
    spotler.add_contact("signup@example.nl", permissions={1: True})
    spotler.set_clock(SENT_AT)
    return spotler


def _feed(api, feed, **params):
    response = api.get(f"mailing-interaction/{feed}", **params)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_mailing_goes_to_contacts_with_the_bit_and_the_channel_on(audience, api):
    audience.opt_out_globally("CRM-2")
    mailing = audience.send_mailing("Nieuwsbrief mei", subject="Lente!")
    body = _feed(api, "sent")
    assert body["paging"] == {"next": None, "after": 0}
    assert [(i["id"], i["externalContactId"]) for i in body["interactions"]] == [(1, "CRM-1"), (2, "CRM-3")]
    assert body["interactions"][0] == {
        "id": 1, "externalContactId": "CRM-1", "encryptedMailingId": mailing,
        "date": "2024-05-01T09:00:00.000+02:00", "changeDate": "2024-05-01T09:00:00.000+02:00",
        "name": "Nieuwsbrief mei", "subject": "Lente!",
        "onlineVersionLink": body["interactions"][0]["onlineVersionLink"]}
    assert body["interactions"][0]["onlineVersionLink"].startswith("https://")
    second = audience.send_mailing("Acties", bit=2)
    assert [i["externalContactId"] for i in _feed(api, "sent")["interactions"] if i["encryptedMailingId"] == second] \
        == ["CRM-3"]
    assert audience.interactions("sent")[-1]["id"] == 3


def test_open_click_and_bounce_items(audience, api):
    mailing = audience.send_mailing("Mei")
    audience.record_open(mailing, "CRM-1", at=SENT_AT + timedelta(hours=1))
    audience.record_click(mailing, "CRM-1", "https://shop.example.nl/fiets", at=SENT_AT + timedelta(hours=2))
    audience.record_bounce(mailing, "CRM-3", "soft")
    opened = _feed(api, "opened")["interactions"]
    assert opened == [{"id": 1, "externalContactId": "CRM-1", "encryptedMailingId": mailing,
                       "date": "2024-05-01T10:00:00.000+02:00", "changeDate": "2024-05-01T09:00:00.000+02:00"}]
    clicked = _feed(api, "clicked")["interactions"]
    assert set(clicked[0]) == set(opened[0]) and clicked[0]["date"] == "2024-05-01T11:00:00.000+02:00"
    bounced = _feed(api, "bounced")["interactions"]
    assert bounced[0]["bounceType"] == "SOFT" and bounced[0]["externalContactId"] == "CRM-3"
    with pytest.raises(LookupError):
        audience.record_open(mailing, "CRM-404")
    with pytest.raises(LookupError):
        audience.record_open("no-such-mailing", "CRM-1")
    with pytest.raises(ValueError):
        audience.record_bounce(mailing, "CRM-1", "medium")


def test_change_date_windows_use_the_recording_time_not_the_event_date(audience, api):
    mailing = audience.send_mailing("Mei")
    audience.set_clock(SENT_AT + timedelta(days=2))
    audience.record_open(mailing, "CRM-1", at=SENT_AT + timedelta(hours=1))  # reported late
    audience.record_open(mailing, "CRM-3", at=SENT_AT + timedelta(hours=3),
                         changed_at=SENT_AT + timedelta(days=1))
    audience.record_open(mailing, "CRM-2", at=SENT_AT + timedelta(hours=2), changed_at=SENT_AT + timedelta(days=3))
    everything = _feed(api, "opened")["interactions"]
    assert [(i["id"], i["externalContactId"]) for i in everything] == [(2, "CRM-3"), (1, "CRM-1"), (3, "CRM-2")]
    by_change = _feed(api, "opened", fromChangeDate="2024-05-03T09:00:00+02:00",
                      toChangeDate="2024-05-03T09:00:00+02:00")["interactions"]
    assert [i["externalContactId"] for i in by_change] == ["CRM-1"]
    assert by_change[0]["changeDate"] == "2024-05-03T09:00:00.000+02:00"
    assert by_change[0]["date"] == "2024-05-01T10:00:00.000+02:00"
    by_date = _feed(api, "opened", fromDate="2024-05-01T10:30:00", toDate="2024-05-01T12:00:00")["interactions"]
    assert [i["externalContactId"] for i in by_date] == ["CRM-3", "CRM-2"]
    assert _feed(api, "opened", fromChangeDate="2024-05-04T09:00:00.001+02:00")["interactions"] == []
    assert error_of(api.get("mailing-interaction/opened", fromChangeDate="soon"), 400)["message"] == \
        "Invalid fromChangeDate or no fromChangeDate given"


def test_interaction_feeds_page_and_filter_on_trend_reports(audience, api):
    first = audience.send_mailing("Mei", trend_report_id=7)
    audience.send_mailing("Juni")
    pages = api.follow("mailing-interaction/sent", pageSize=3)
    assert [[i["id"] for i in page["interactions"]] for page in pages] == [[1, 2, 3], [4, 5, 6]]
    assert pages[0]["paging"]["next"].endswith("pageSize=3&after=3")
    reported = _feed(api, "sent", trendReportIds="7,8")["interactions"]
    assert {i["encryptedMailingId"] for i in reported} == {first} and reported[0]["trendReportId"] == 7
    assert error_of(api.get("mailing-interaction/unsubscribed"), 404)["errorType"] == "RESOURCE_NOT_FOUND"


def test_a_hard_bounce_stops_mailing(audience, api):
    mailing = audience.send_mailing("Mei")
    audience.set_clock(SENT_AT + timedelta(hours=1))
    audience.record_bounce(mailing, "CRM-1", "hard", at=SENT_AT + timedelta(minutes=5))
    contact = audience.contact("CRM-1")
    assert contact["channels"] == [{"name": "EMAIL", "value": False}]
    assert contact["lastChanged"] == "2024-05-01T10:00:00.000+02:00"
    audience.send_mailing("Juni")
    assert [i["externalContactId"] for i in audience.interactions("sent")[3:]] == ["CRM-2", "CRM-3"]


def test_four_soft_bounces_in_a_row_stop_mailing(audience):
    mailing = audience.send_mailing("Mei")
    for _ in range(3):
        audience.record_bounce(mailing, "CRM-1", "soft")
    audience.record_open(mailing, "CRM-1")
    for _ in range(3):
        audience.record_bounce(mailing, "CRM-1", "soft")
        audience.record_bounce(mailing, "CRM-2", "soft")
    assert audience.contact("CRM-1")["channels"][0]["value"] is True
    audience.record_bounce(mailing, "CRM-1", "soft")
    assert audience.contact("CRM-1")["channels"][0]["value"] is False
    assert audience.contact("CRM-2")["channels"][0]["value"] is True


def test_mailing_details_listing_and_statistics(audience, api):
    mailing = audience.send_mailing("Mei", subject="Lente!")
    audience.record_open(mailing, "CRM-1")
    audience.record_open(mailing, "CRM-1")
    audience.record_click(mailing, "CRM-3", "https://shop.example.nl/fiets")
    audience.record_bounce(mailing, "CRM-3", "hard")
    audience.unsubscribe("CRM-1", bits=[1], mailing_id=mailing)
    details = api.get(f"mailing/{mailing}").json()
    assert details["encryptedId"] == mailing and details["name"] == "Mei" and details["type"] == "EMAIL"
    assert details["scheduledStartDate"] == "2024-05-01T09:00:00.000+02:00" and details["sentCount"] == 3
    assert details["message"]["subject"] == "Lente!"
    links = {link["id"]: link for link in details["links"]}
    clicks = api.get(f"mailing/{mailing}/clicks").json()["clicks"]
    assert clicks[0]["contactIdentifier"]["externalId"] == "CRM-3"
    assert links[clicks[0]["linkId"]]["url"] == "https://shop.example.nl/fiets"
    assert any(link.get("type") == "unsubscribe" for link in links.values())
    assert api.get(f"mailing/{mailing}/statistics").json() == {
        "sentCount": 3, "acceptedCount": 2, "openCount": 2, "openRenderedCount": 1, "clickCount": 1,
        "hardbounceCount": 1, "softbounceCount": 0, "notRetainedAfterBounceCount": 1, "conversionClickCount": 0,
        "unsubscribeCount": 1}
    listed = api.get("mailing", fromDate="2024-05-01T00:00:00", toDate="2024-05-01T23:59:59").json()
    assert [m["encryptedId"] for m in listed] == [mailing] and set(listed[0]) == {
        "encryptedId", "name", "scheduledStartDate", "type", "archiveLink", "sentCount"}
    assert api.get("mailing", fromDate="2024-05-02", toDate="2024-05-03").json() == []
    assert error_of(api.get("mailing", fromDate="2024-05-02"), 400)["message"] == "Invalid toDate or no toDate given"
    assert error_of(api.get("mailing/nope"), 404)["errorType"] == "MAILING_NOTFOUND"
    assert error_of(api.get("mailing/nope/statistics"), 404)["errorType"] == "MAILING_NOTFOUND"
    assert audience.mailing(mailing) == details
