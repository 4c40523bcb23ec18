"""Auth, routing and error bodies of the sandbox, through the official SDK and raw HTTP."""

from __future__ import annotations

import pytest
import requests
from mailchimp_marketing.api_client import ApiClientError

from sync.errors import ConfigError, ConnectionFailed
from sync.sandbox.mailchimp import MailchimpSandbox
from tests.sandbox.conftest import problem_of, sdk_client


def test_ping_and_account(client):
    assert client.ping.get() == {"health_status": "Everything's Chimpy!"}
    assert client.root.get_root()["account_name"] == "crm-sync sandbox"


def test_wrong_api_key_is_refused_with_api_key_invalid(sandbox, list_id):
    wrong = sdk_client(sandbox.base_url, "0" * 32 + "-us21")
    with pytest.raises(ApiClientError) as raised:
        wrong.lists.get_list(list_id)
    assert raised.value.status_code == 401
    problem = problem_of(raised.value)
    assert problem["title"] == "API Key Invalid"
    assert problem["status"] == 401
    assert set(problem) >= {"type", "title", "status", "detail", "instance"}


def test_missing_credentials_are_refused(sandbox):
    response = requests.get(f"{sandbox.base_url}/ping", timeout=5)
    assert response.status_code == 401
    assert response.headers["Content-Type"].startswith("application/problem+json")


def test_lists_show_created_audiences(client, list_id):
    lists = client.lists.get_all_lists()
    assert [audience["id"] for audience in lists["lists"]] == [list_id]
    assert client.lists.get_list(list_id)["stats"]["merge_field_count"] == 5


def test_unknown_path_is_404_problem_json(sandbox):
    response = requests.get(f"{sandbox.base_url}/no/such/thing", auth=("user", sandbox.api_key), timeout=5)
    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["title"] == "Resource Not Found"
    assert body["instance"] == response.headers["X-Request-Id"]


def test_unknown_list_is_404_through_the_sdk(client):
    with pytest.raises(ApiClientError) as raised:
        client.lists.get_list("nosuchlist")
    assert problem_of(raised.value)["title"] == "Resource Not Found"


def test_paths_outside_3_0_are_404(sandbox):
    root = sandbox.base_url.removesuffix("/3.0")
    response = requests.get(f"{root}/ping", auth=("user", sandbox.api_key), timeout=5)
    assert response.status_code == 404


def test_unknown_method_is_405_with_allow_header(sandbox):
    response = requests.delete(f"{sandbox.base_url}/ping", auth=("user", sandbox.api_key), timeout=5)
    assert response.status_code == 405
    assert response.json()["title"] == "Method Not Allowed"
    assert response.headers["Allow"] == "GET"


def test_malformed_json_is_a_400_problem(sandbox, list_id):
    response = requests.post(f"{sandbox.base_url}/lists/{list_id}", data=b"{not json",
                             auth=("user", sandbox.api_key), timeout=5)
    assert response.status_code == 400
    assert response.json()["title"] == "Bad Request"


def test_keep_alive_serves_several_requests_on_one_connection(sandbox):
    with requests.Session() as session:
        session.auth = ("user", sandbox.api_key)
        for _ in range(5):
            assert session.get(f"{sandbox.base_url}/ping", timeout=5).status_code == 200
    assert sandbox.peak_connections == 1
    assert sandbox.request_count("GET", route="/ping") == 5


def test_api_key_must_look_like_a_mailchimp_key():
    with pytest.raises(ConfigError, match="32 hex digits"):
        MailchimpSandbox(api_key="not-a-key")


def test_stop_is_idempotent_and_frees_the_port():
    sandbox = MailchimpSandbox().start()
    url = sandbox.base_url
    sandbox.stop()
    sandbox.stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{url}/ping", timeout=2)


def test_control_methods_name_unknown_audiences_and_campaigns(sandbox):
    with pytest.raises(LookupError, match="no audience 'nope'"):
        sandbox.add_member("nope", "ann@ziggo.test")
    with pytest.raises(LookupError, match="no campaign 'nope'"):
        sandbox.record_open("nope", "ann@ziggo.test")


def test_a_taken_port_is_a_clear_connection_error(sandbox):
    with pytest.raises(ConnectionFailed, match=f"127.0.0.1:{sandbox.port}"):
        MailchimpSandbox(port=sandbox.port).start()
