"""The fake vtiger answers the recorded exchanges of vtiger 8.2.0 (``fixtures/``, copied from the shared
recordings) as vtiger did: same HTTP status, same success flag and error code, same records."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import requests

from sync.sandbox.vtiger import VtigerSandbox

FIXTURES = Path(__file__).with_name("fixtures")


def login(sandbox: VtigerSandbox, http: requests.Session) -> str:
    url = sandbox.base_url + "/webservice.php"
    token = http.get(url, params={"operation": "getchallenge", "username": "admin"}).json()["result"]["token"]
    key = hashlib.md5((token + sandbox.access_key).encode()).hexdigest()
    return http.post(url, data={"operation": "login", "username": "admin", "accessKey": key}).json()[
        "result"]["sessionName"]


def exchanges(name: str) -> list[dict]:
    recorded = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return recorded.get("exchanges") or [recorded]


def replay(sandbox: VtigerSandbox, http: requests.Session, session: str, request: dict) -> requests.Response:
    params = dict(request.get("query") or request.get("body") or {})
    if params.get("sessionName") == "<redacted>":
        params["sessionName"] = session
    if params.get("operation") == "login":  # the recording's key for this challenge is redacted
        token = http.get(sandbox.base_url + "/webservice.php",
                         params={"operation": "getchallenge", "username": params["username"]}).json()
        params["accessKey"] = "0" * 32 if token.get("success") else ""
    url = sandbox.base_url + request["path"]
    if request["method"] == "GET":
        return http.get(url, params=params)
    return http.post(url, data=params)


def shape(body: object) -> object:
    """What must match: the error code, or the records' ids and the values vtiger answered with."""
    if not isinstance(body, dict):
        return body
    if not body.get("success"):
        return ("error", body["error"]["code"])
    result = body["result"]
    if isinstance(result, list):
        return sorted(json.dumps({k: v for k, v in row.items() if k != "modifiedtime"}, sort_keys=True)
                      for row in result)
    keep = ("id", "emailoptout", "firstname", "lastname", "email")
    return {k: result.get(k) for k in keep if k in result}


REPLAYED = sorted(path.name for path in FIXTURES.glob("*.json") if path.name not in (
    "login-failures.json", "modcomment-bumps-contact-modifiedtime.json", "error-invalid-sessionid.json"))


@pytest.mark.parametrize("name", REPLAYED)
def test_recorded_exchange(sandbox, name):
    if name == "logout.json":  # recorded after Noor was added
        sandbox.add_contact(lastname="El Amrani", firstname="Noor", email="noor.elamrani@example,com")
    with requests.Session() as http:
        session = login(sandbox, http)
        for exchange in exchanges(name):
            answer = replay(sandbox, http, session, exchange["request"])
            recorded = exchange["response"]
            assert answer.status_code == recorded["status"], exchange["request"]
            if recorded["body"] == "":
                assert answer.content == b""
            else:
                assert shape(answer.json()) == shape(recorded["body"]), exchange["request"]


def test_login_failures_and_sessions(sandbox):
    with requests.Session() as http:
        url = sandbox.base_url + "/webservice.php"
        for exchange in exchanges("login-failures.json")[1:]:
            answer = replay(sandbox, http, "", exchange["request"]).json()
            assert shape(answer) == shape(exchange["response"]["body"])
        session = login(sandbox, http)
        first, second = exchanges("error-invalid-sessionid.json")
        assert shape(replay(sandbox, http, "not-a-session", first["request"]).json()) == ("error", "INVALID_SESSIONID")
        assert shape(replay(sandbox, http, session, second["request"]).json()) == ("error", "AUTHENTICATION_REQUIRED")
        # a second challenge voids the first token
        token = http.get(url, params={"operation": "getchallenge", "username": "admin"}).json()["result"]["token"]
        http.get(url, params={"operation": "getchallenge", "username": "admin"})
        stale = hashlib.md5((token + sandbox.access_key).encode()).hexdigest()
        answer = http.post(url, data={"operation": "login", "username": "admin", "accessKey": stale}).json()
        assert answer["error"]["code"] == "INVALID_USER_CREDENTIALS"


def test_a_comment_bumps_the_contacts_modifiedtime(sandbox):
    with requests.Session() as http:
        session = login(sandbox, http)
        before, create, after = exchanges("modcomment-bumps-contact-modifiedtime.json")
        was = replay(sandbox, http, session, before["request"]).json()["result"][0]["modifiedtime"]
        assert was == before["response"]["body"]["result"][0]["modifiedtime"]
        created = replay(sandbox, http, session, create["request"]).json()["result"]
        assert set(created) == set(create["response"]["body"]["result"])
        now = replay(sandbox, http, session, after["request"]).json()["result"][0]["modifiedtime"]
        assert now == created["modifiedtime"] > was


def test_the_silent_cap_of_100(sandbox):
    sandbox.add_contact(lastname="El Amrani", firstname="Noor", email="noor.elamrani@example,com")
    for n in range(1, 101):
        sandbox.add_contact(lastname=f"Filler {n:03}")
    with requests.Session() as http:
        session = login(sandbox, http)
        url = sandbox.base_url + "/webservice.php"

        def rows(query: str) -> int:
            return len(http.get(url, params={"operation": "query", "sessionName": session, "query": query}
                                ).json()["result"])

        assert rows("SELECT id, lastname FROM Contacts ORDER BY lastname;") == 100
        assert rows("SELECT id, lastname FROM Contacts ORDER BY lastname LIMIT 500;") == 100
        assert rows("SELECT id, lastname FROM Contacts ORDER BY lastname LIMIT 100, 500;") == 14
