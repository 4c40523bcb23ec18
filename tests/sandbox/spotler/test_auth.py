"""OAuth 1.0a one-legged: header and query signatures, and what gets a 401."""

from __future__ import annotations

import time

import requests
from oauthlib.oauth1 import Client

from sync.sandbox.spotler import SpotlerSandbox
from tests.sandbox.spotler.conftest import Api, error_of

WINDOW = {"fromDate": "2024-01-01T00:00:00+01:00", "toDate": "2024-12-31T00:00:00+01:00", "pageSize": "10"}


def test_header_signature_is_accepted(spotler, api):
    response = api.get("contact/properties/list")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.json()[0] == {"name": "email", "description": "E-mailadres", "type": "email"}


def test_query_signature_is_accepted_and_covers_the_query(spotler):
    api = Api(spotler, signature_type="QUERY")
    response = api.get("contact/updates/list", **WINDOW)
    assert response.status_code == 200, response.text
    assert "oauth_signature=" in response.request.url
    assert "Authorization" not in response.request.headers


def test_a_json_body_is_not_signed_but_still_accepted(spotler, api):
    assert api.upsert("CRM-1", email="jan@example.nl").status_code == 204


def test_wrong_secret_is_refused(spotler):
    body = error_of(Api(spotler, secret="not-the-secret").get("contact/properties/list"), 401)
    assert body["errorType"] == "NOT_AUTHORIZED"
    assert "signature" in body["message"]


def test_unknown_consumer_key_is_refused(spotler):
    body = error_of(Api(spotler, key="someone-else").get("contact/properties/list"), 401)
    assert body["errorType"] == "NOT_AUTHORIZED"


def test_unsigned_request_is_refused(spotler):
    response = requests.get(f"{spotler.base_url}/contact/properties/list", timeout=5)
    assert error_of(response, 401)["errorType"] == "NOT_AUTHORIZED"


def _prepared(api: Api, path: str, **params: str) -> requests.PreparedRequest:
    return api.session.prepare_request(requests.Request("GET", api.url(path), params=params))


def test_tampered_query_is_refused(spotler, api):
    for signature_type in ("AUTH_HEADER", "QUERY"):
        client = Api(spotler, signature_type=signature_type)
        prepared = _prepared(client, "contact/updates/list", **WINDOW)
        assert "pageSize=10" in prepared.url
        prepared.url = prepared.url.replace("pageSize=10", "pageSize=11")
        assert error_of(client.session.send(prepared, timeout=5), 401)["errorType"] == "NOT_AUTHORIZED"
    assert api.get("contact/updates/list", **WINDOW).status_code == 200


def test_a_replayed_nonce_is_refused(spotler, api):
    prepared = _prepared(api, "contact/properties/list")
    assert api.session.send(prepared, timeout=5).status_code == 200
    assert error_of(api.session.send(prepared, timeout=5), 401)["message"].endswith("nonce already used")


def test_a_stale_timestamp_is_refused(spotler):
    url = f"{spotler.base_url}/contact/properties/list"
    for age, status in ((3600, 401), (60, 200)):
        client = Client(spotler.consumer_key, client_secret=spotler.consumer_secret,
                        timestamp=str(int(time.time()) - age))
        _uri, headers, _body = client.sign(url)
        assert requests.get(url, headers=headers, timeout=5).status_code == status


def test_a_form_encoded_body_is_signed(spotler, api):
    url = api.url("contact")
    prepared = api.session.prepare_request(requests.Request("POST", url, data={"update": "true"}))
    assert prepared.headers["Content-Type"] in ("application/x-www-form-urlencoded",
                                                b"application/x-www-form-urlencoded")
    tampered = prepared.copy()
    tampered.body = "update=TRUE"  # same length: only the signature can tell
    assert error_of(api.session.send(tampered, timeout=5), 401)["errorType"] == "NOT_AUTHORIZED"
    # Signed right, so it gets past OAuth; the API itself takes JSON only.
    assert error_of(api.session.send(prepared, timeout=5), 400)["errorType"] == "INVALID_PARAMS"


def test_the_unversioned_prefix_is_served_too(spotler):
    api = Api(spotler, base_url=spotler.base_url.replace("integrationservice-1.1.0", "integrationservice"))
    assert api.get("contact/properties/list").status_code == 200


def test_unknown_paths_are_404(spotler, api):
    assert error_of(api.get("no/such/thing"), 404)["errorType"] == "RESOURCE_NOT_FOUND"
    outside = Api(spotler, base_url=spotler.base_url.replace("/integrationservice-1.1.0", "/other"))
    assert error_of(outside.get("contact/properties/list"), 404)["errorType"] == "RESOURCE_NOT_FOUND"
    assert error_of(api.session.delete(api.url("contact/CRM-1"), timeout=5), 405)["errorType"] == "RESOURCE_NOT_FOUND"


def test_behind_a_proxy_the_public_url_is_verified_and_used_for_paging():
    public = "http://proxy.invalid:4010/integrationservice-1.1.0"
    with SpotlerSandbox(public_base_url=public + "/") as sandbox:
        for number in range(3):
            sandbox.add_contact(f"p{number}@example.nl", external_id=f"CRM-{number}")
        query = "fromDate=2000-01-01T00%3A00%3A00&toDate=2100-01-01T00%3A00%3A00&pageSize=2"
        client = Client(sandbox.consumer_key, client_secret=sandbox.consumer_secret)
        _uri, headers, _body = client.sign(f"{public}/contact/updates/list?{query}")
        response = requests.get(f"{sandbox.base_url}/contact/updates/list?{query}", headers=headers, timeout=5)
        assert response.status_code == 200, response.text
        assert response.json()["paging"]["next"] == f"{public}/contact/updates/list?{query}&after=2"
        assert sandbox.internal_errors == []
