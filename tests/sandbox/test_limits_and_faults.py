"""The 10-connection limit (body-less 429 the SDK returns, not raises), fault injection and the request log."""

from __future__ import annotations

import base64
import socket
import threading
import time

import pytest
import requests
from mailchimp_marketing.api_client import ApiClientError

from sync.sandbox.mailchimp import subscriber_hash
from tests.sandbox.conftest import problem_of, sdk_client


def _wait_for(condition, what, seconds=5.0):
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def test_eleventh_simultaneous_request_gets_a_bodyless_429_that_the_sdk_returns(sandbox, client):
    held = []
    for _ in range(10):
        connection = socket.create_connection(("127.0.0.1", sandbox.port))
        connection.sendall(b"GET /3.0/ping HTTP/1.1\r\n")  # request line only: the server holds it in flight
        held.append(connection)
    try:
        _wait_for(lambda: sandbox.in_flight == 10, "10 requests in flight")
        response = client.ping.get()
        assert isinstance(response, requests.Response), "the SDK must not raise on a body-less 429"
        assert response.status_code == 429
        assert response.content == b""
        assert "Content-Type" not in response.headers
        assert sandbox.request_count(route="(connection limit)") == 1
        credentials = base64.b64encode(f"user:{sandbox.api_key}".encode())
        for connection in held:
            connection.sendall(b"Host: x\r\nAuthorization: Basic " + credentials + b"\r\nConnection: close\r\n\r\n")
            assert connection.recv(65536).startswith(b"HTTP/1.1 200 OK")
    finally:
        for connection in held:
            connection.close()
    _wait_for(lambda: sandbox.in_flight == 0, "held requests to finish")
    assert client.ping.get() == {"health_status": "Everything's Chimpy!"}
    assert sandbox.peak_concurrency == 11


def test_nine_parallel_clients_are_never_throttled(sandbox):
    sandbox.faults.slow_next(9, 0.4)
    start = threading.Barrier(9)
    results = []

    def call():
        start.wait()
        results.append(sdk_client(sandbox.base_url, sandbox.api_key).ping.get())

    threads = [threading.Thread(target=call) for _ in range(9)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [{"health_status": "Everything's Chimpy!"}] * 9
    assert sandbox.status_count(429) == 0
    assert sandbox.peak_concurrency == 9


def test_fail_next_answers_with_a_problem_and_changes_nothing(client, list_id, sandbox):
    sandbox.faults.fail_next(1, status=503)
    body = {"email_address": "ann@ziggo.test", "status_if_new": "subscribed"}
    with pytest.raises(ApiClientError) as raised:
        client.lists.set_list_member(list_id, subscriber_hash("ann@ziggo.test"), body)
    assert raised.value.status_code == 503
    assert problem_of(raised.value)["title"] == "Service Unavailable"
    assert sandbox.member(list_id, "ann@ziggo.test") is None
    assert client.lists.set_list_member(list_id, subscriber_hash("ann@ziggo.test"), body)["status"] == "subscribed"
    assert sandbox.faults.pending == 0


def test_throttle_burst_then_recovery(client, sandbox):
    sandbox.faults.throttle_next(2)
    first, second = client.ping.get(), client.ping.get()
    assert [first.status_code, second.status_code] == [429, 429]
    assert client.ping.get() == {"health_status": "Everything's Chimpy!"}
    assert sandbox.status_count(429) == 2


def test_throttle_with_a_body_raises_in_the_sdk(client, sandbox):
    sandbox.faults.throttle_next(1, with_body=True)
    with pytest.raises(ApiClientError) as raised:
        client.ping.get()
    assert problem_of(raised.value)["title"] == "Too Many Requests"


def test_html_block_page(client, sandbox):
    sandbox.faults.fail_next(1, status=503, body="html")
    with pytest.raises(ApiClientError) as raised:
        client.ping.get()
    assert raised.value.status_code == 503
    assert "Request Blocked" in raised.value.text


def test_faults_can_target_a_method_and_path(client, list_id, sandbox):
    sandbox.faults.fail_next(1, status=500, method="POST", path_contains="/merge-fields")
    assert client.ping.get()["health_status"]
    assert client.lists.get_list_merge_fields(list_id)["total_items"] == 5
    with pytest.raises(ApiClientError) as raised:
        client.lists.add_list_merge_field(list_id, {"name": "X", "type": "text"})
    assert raised.value.status_code == 500


def test_slow_response_trips_the_client_timeout(sandbox):
    sandbox.faults.slow_next(1, 1.5)
    impatient = sdk_client(sandbox.base_url, sandbox.api_key, timeout=0.3)
    with pytest.raises(ApiClientError) as raised:
        impatient.ping.get()
    assert raised.value.status_code is None  # the SDK reports transport errors without a status
    assert isinstance(raised.value.text, requests.exceptions.ReadTimeout)


def test_request_log_counts_by_method_route_and_path(client, list_id, sandbox):
    sandbox.reset_traffic()
    for _ in range(3):
        client.lists.get_list(list_id)
    client.lists.get_list_merge_fields(list_id)
    assert sandbox.request_count("GET", route="/lists/{list_id}") == 3
    assert sandbox.request_count("GET", path=f"/3.0/lists/{list_id}/merge-fields") == 1
    assert sandbox.request_count("POST", route="/lists/{list_id}") == 0
    assert sandbox.request_count() == 4


def test_fault_arguments_are_checked(sandbox):
    with pytest.raises(ValueError):
        sandbox.faults.fail_next(0)
    with pytest.raises(ValueError):
        sandbox.faults.fail_next(1, body="xml")
