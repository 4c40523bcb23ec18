"""The fake EspoCRM answers as EspoCRM 9.1.7 did in the recorded exchanges (../shared/fixtures/espocrm): the same
statuses, ``X-Status-Reason`` texts, envelopes and shared-address behaviour, over plain HTTP."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import subprocess
import sys

import requests


def _get(fake, path, headers=None, **search):
    return requests.get(f"{fake.base_url}/api/v1/{path}", timeout=10,
                        params={"searchParams": json.dumps(search)} if search else None,
                        headers={"X-Api-Key": fake.api_key} if headers is None else headers)


def _send(fake, method, path, body, key=None, **headers):
    return requests.request(method, f"{fake.base_url}/api/v1/{path}", data=json.dumps(body), timeout=10,
                            headers={"X-Api-Key": key or fake.api_key, "Content-Type": "application/json", **headers})


def test_authentication_answers(fake):
    wrong = _get(fake, "Contact", {"X-Api-Key": "0" * 32})
    assert (wrong.status_code, wrong.content, "WWW-Authenticate" in wrong.headers) == (401, b"", False)
    assert wrong.headers["Content-Type"].startswith("text/html")
    none = _get(fake, "Contact", {})
    assert (none.status_code, none.headers["WWW-Authenticate"]) == (401, 'Basic realm=""')

    def signed(what: str) -> dict[str, str]:
        digest = hmac.new(fake.hmac_secret.encode(), what.encode(), hashlib.sha256).hexdigest()
        return {"X-Hmac-Authorization": base64.b64encode(f"{fake.hmac_key}:{digest}".encode()).decode()}

    assert _get(fake, "Contact", signed("GET /Contact"), maxSize=1).status_code == 200
    assert _get(fake, "Contact", signed("GET /Contact?maxSize=1"), maxSize=1).status_code == 401


def test_list_answers(fake):
    too_many = _get(fake, "Contact", maxSize=201)
    assert (too_many.status_code, too_many.headers["X-Status-Reason"]) == (
        403, "Max size should not exceed 200. Use offset and limit.")
    page = _get(fake, "Contact", select=["id", "emailAddress"], orderBy="modifiedAt", order="asc", maxSize=5,
                where=[{"type": "greaterThanOrEquals", "attribute": "modifiedAt", "value": "2026-03-01 00:00:00"}])
    body = page.json()
    assert body["total"] == 12 and len(body["list"]) == 5
    assert set(body["list"][0]) == {"id", "emailAddress", "accountIsInactive", "accountId", "accountName",
                                    "createdById", "assignedUserId"}
    shared = _get(fake, "Contact", where=[{"type": "equals", "attribute": "emailAddress",
                                           "value": "famille.dubois@example.org"}]).json()
    assert shared["total"] == 2
    assert _get(fake, "Contact", where=[{"type": "nonsense", "attribute": "id", "value": 1}]).status_code == 400
    assert _get(fake, "Contact", where=[{"type": "equals", "attribute": "nonsense", "value": 1}]).status_code == 400
    assert _get(fake, "Contact/00000000000000000").status_code == 404


def test_campaign_log_validation_and_access(fake):
    base = {"campaignId": "6b0346d1d2f107b1a", "parentType": "Contact", "parentId": "6b0346d00de0a2364",
            "application": "Mailchimp"}
    bad = _send(fake, "POST", "CampaignLogRecord", {**base, "action": "Unsubscribed",
                                                    "actionDate": "2026-03-21 18:30:00"})
    assert (bad.status_code, bad.headers["X-Status-Reason"]) == (
        400, "Field validation failure; entityType: CampaignLogRecord, field: action, type: valid.")
    assert bad.json()["messageTranslation"]["data"] == {"field": "action", "type": "valid"}
    missing = _send(fake, "POST", "CampaignLogRecord", {**base, "action": "Opened"})
    assert missing.headers["X-Status-Reason"].endswith("field: actionDate, type: required.")
    refused = _send(fake, "POST", "CampaignLogRecord", {**base, "action": "Opened",
                                                        "actionDate": "2026-03-21 18:30:00"}, key=fake.nocamp_key)
    assert (refused.status_code, refused.headers["X-Status-Reason"]) == (403, "No create access.")
    made = _send(fake, "POST", "CampaignLogRecord", {**base, "action": "Opened", "actionDate": "2026-03-21 18:30:00",
                                                     "data": {"crmSyncKey": "k"}}).json()
    assert made["data"] == {"crmSyncKey": "k"} and made["campaignName"] == "Spring Newsletter 2026"
    counters = _get(fake, "Campaign/6b0346d1d2f107b1a").json()
    assert (counters["openedCount"], counters["sentCount"], counters["openedPercentage"]) == (1, None, None)


def test_flags_belong_to_the_address_and_only_a_put_moves_modified_at(fake):
    chloe, marc = "6b0346d0659c40310", "6b0346d07bad79a5b"
    put = _send(fake, "PUT", f"Contact/{chloe}", {"emailAddressIsOptedOut": True}).json()
    assert put["emailAddressIsOptedOut"] is True and put["emailAddressData"][0]["optOut"] is False  # stale, as live
    marc_row = _get(fake, f"Contact/{marc}").json()
    assert marc_row["emailAddressIsOptedOut"] is True and marc_row["modifiedAt"] == "2026-07-01 09:15:27"
    assert put["modifiedAt"] != "2026-07-01 09:15:27"
    assert _send(fake, "POST", "TargetList/6b0346d17a0ba376d/contacts", {"ids": [marc]}).json() is True
    assert _get(fake, f"Contact/{marc}").json()["modifiedAt"] == "2026-07-01 09:15:27"


def test_creating_with_a_known_address_without_flags_resets_its_opt_out(fake):
    soren = "6b0346d0238d7f12f"
    duplicate = _send(fake, "POST", "Contact", {"firstName": "Søren", "lastName": "Østergaard",
                                                "emailAddress": "soren.ostergaard@example.net"})
    assert (duplicate.status_code, duplicate.headers["X-Status-Reason"]) == (409, "duplicate")
    assert _get(fake, f"Contact/{soren}").json()["emailAddressIsOptedOut"] is True
    lead = _send(fake, "POST", "Lead", {"firstName": "Søren", "lastName": "Østergaard",
                                        "emailAddress": "soren.ostergaard@example.net"})
    assert lead.status_code == 200
    assert _get(fake, f"Contact/{soren}").json()["emailAddressIsOptedOut"] is False  # the gotcha, as live


def test_the_sandbox_runs_as_a_module():
    process = subprocess.Popen([sys.executable, "-m", "sync.sandbox.espocrm"], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None and process.stdin is not None
        started = json.loads(process.stdout.readline())
        answer = requests.get(f"{started['base_url']}/api/v1/Contact", headers={"X-Api-Key": started["api_key"]},
                              params={"maxSize": 1}, timeout=10)
        assert answer.status_code == 200 and answer.json()["total"] == 13
        process.stdin.close()
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()


def test_no_total_says_only_whether_more_exist(fake):
    headers = {"X-Api-Key": fake.api_key, "X-No-Total": "true"}
    assert _get(fake, "Contact", headers, maxSize=5).json()["total"] == -1
    assert _get(fake, "Contact", headers, maxSize=5, offset=10).json()["total"] == -2
