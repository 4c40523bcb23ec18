"""``contact/updates/list`` and ``contact/bounces/list``: date windows, time zones, parameters and paging."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.sandbox.spotler.conftest import TIMESTAMP, Api, at, error_of

START = at("2024-05-01 10:00")


def _seed(spotler, api, count, step=timedelta(minutes=1)):
    """``count`` contacts changed one ``step`` apart from START (CRM-0 first)."""
    for number in range(count):
        spotler.set_clock(START + number * step)
        assert api.upsert(f"CRM-{number}", email=f"c{number}@example.nl").status_code == 204


def _ids(body):
    return [contact["externalId"] for contact in body["contacts"]]


def test_the_window_is_inclusive_on_last_changed(spotler, api):
    _seed(spotler, api, 4)
    body = api.get("contact/updates/list", fromDate="2024-05-01T10:01:00+02:00",
                   toDate="2024-05-01T10:02:00+02:00", pageSize=10).json()
    assert _ids(body) == ["CRM-1", "CRM-2"]
    assert body["paging"] == {"next": None, "after": 0}
    assert re.match(TIMESTAMP, body["contacts"][0]["lastChanged"])
    assert body["contacts"][0] == spotler.contact("CRM-1")


def test_ordered_by_last_changed_then_external_id(spotler, api):
    spotler.set_clock(START)
    for external_id in ("CRM-b", "CRM-a"):
        api.upsert(external_id, email=f"{external_id}@example.nl")
    spotler.set_clock(START - timedelta(minutes=1))
    api.upsert("CRM-c", email="c@example.nl")
    body = api.get("contact/updates/list", fromDate="2024-05-01", toDate="2024-05-02", pageSize=10).json()
    assert _ids(body) == ["CRM-c", "CRM-a", "CRM-b"]


@pytest.mark.parametrize(("from_date", "included"), [
    ("2024-05-01T10:00:00", True),          # no offset: Amsterdam local time (CEST, +02:00)
    ("2024-05-01T10:00:00.001", False),
    ("2024-05-01T08:00:00Z", True),
    ("2024-05-01T08:00:00.001+00:00", False),
    ("2024-05-01T09:00:00+01:00", True),
])
def test_dates_with_and_without_offset(spotler, api, from_date, included):
    _seed(spotler, api, 1)
    body = api.get("contact/updates/list", fromDate=from_date, toDate="2024-05-02T00:00:00", pageSize=10).json()
    assert _ids(body) == (["CRM-0"] if included else [])


def test_an_unencoded_plus_in_the_offset_is_understood(spotler, api):
    _seed(spotler, api, 1)
    url = api.url("contact/updates/list?fromDate=2024-05-01T10:00:00+02:00&toDate=2024-05-01T10:00:00+02:00"
                  "&pageSize=10")
    response = api.session.get(url, timeout=5)
    assert response.status_code == 200, response.text
    assert _ids(response.json()) == ["CRM-0"]


@pytest.mark.parametrize(("params", "message"), [
    ({"toDate": "2024-05-02", "pageSize": 10}, "Invalid fromDate or no fromDate given"),
    ({"fromDate": "yesterday", "toDate": "2024-05-02", "pageSize": 10}, "Invalid fromDate or no fromDate given"),
    ({"fromDate": "2024-05-01", "toDate": "2024-13-02", "pageSize": 10}, "Invalid toDate or no toDate given"),
    ({"fromDate": "2024-05-01", "toDate": "2024-05-02"}, "Invalid pageSize or no pageSize given"),
])
def test_required_parameters(spotler, api, params, message):
    for path in ("contact/updates/list", "contact/bounces/list"):
        assert error_of(api.get(path, **params), 400) == {"errorType": "INVALID_PARAMS", "message": message}


@pytest.mark.parametrize("params", [{"pageSize": 10001}, {"pageSize": 0}, {"pageSize": "ten"},
                                    {"pageSize": 10, "after": -1}])
def test_page_limits(spotler, api, params):
    window = {"fromDate": "2024-05-01", "toDate": "2024-05-02"}
    assert error_of(api.get("contact/updates/list", **window, **params), 400)["errorType"] == "INVALID_PARAMS"


def test_max_page_size_is_allowed(spotler, api):
    response = api.get("contact/updates/list", fromDate="2024-05-01", toDate="2024-05-02", pageSize=10000)
    assert response.status_code == 200


@pytest.mark.parametrize("signature_type", ["AUTH_HEADER", "QUERY"])
def test_paging_follows_next_to_the_end(spotler, signature_type):
    api = Api(spotler, signature_type=signature_type)
    _seed(spotler, api, 5)
    window = {"fromDate": "2024-05-01T10:00:00+02:00", "toDate": "2024-05-01T11:00:00+02:00"}
    pages = api.follow("contact/updates/list", pageSize=2, **window)
    assert [page["paging"]["after"] for page in pages] == [0, 2, 4]
    assert [_ids(page) for page in pages] == [["CRM-0", "CRM-1"], ["CRM-2", "CRM-3"], ["CRM-4"]]
    next_url = pages[0]["paging"]["next"]
    assert next_url.startswith(spotler.base_url + "/contact/updates/list?")
    query = parse_qs(urlsplit(next_url).query)
    assert query == {"pageSize": ["2"], "after": ["2"], "fromDate": [window["fromDate"]],
                     "toDate": [window["toDate"]]}
    assert api.get("contact/updates/list", pageSize=2, after=6, **window).json()["contacts"] == []


def test_bounces_list_filters_on_bounce_date(spotler, api):
    spotler.set_clock(START)
    api.upsert("CRM-1", email="a@example.nl", permissions=[{"bit": 1, "enabled": True}])
    api.upsert("CRM-2", email="b@example.nl", permissions=[{"bit": 1, "enabled": True}])
    mailing = spotler.send_mailing("Mei", at=START)
    spotler.record_bounce(mailing, "CRM-1", "soft", at=START + timedelta(hours=1))
    spotler.record_bounce(mailing, "CRM-2", "hard", at=START + timedelta(hours=2))
    body = api.get("contact/bounces/list", fromDate="2024-05-01T10:30:00", toDate="2024-05-01T11:00:00",
                   pageSize=10).json()
    assert body["paging"] == {"next": None, "after": 0}
    [bounce] = body["bounces"]
    assert bounce == {"date": "2024-05-01T11:00:00.000+02:00", "type": "SOFTBOUNCE",
                      "contact": spotler.contact("CRM-1"), "encryptedActId": mailing}
    pages = api.follow("contact/bounces/list", fromDate="2024-05-01", toDate="2024-05-02", pageSize=1)
    assert [page["bounces"][0]["type"] for page in pages] == ["SOFTBOUNCE", "HARDBOUNCE"]
    assert pages[1]["bounces"][0]["contact"]["channels"] == [{"name": "EMAIL", "value": False}]
