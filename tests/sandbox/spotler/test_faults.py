"""Scripted faults (failures, drops, slow answers) change no state; the request log counts every request."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import requests
from requests_oauthlib import OAuth1

from tests.sandbox.spotler.conftest import Api, error_of


def test_fail_next_answers_json_errors_and_changes_nothing(spotler, api):
    spotler.faults.fail_next(count=2, status=503, method="POST", path_contains="contact", retry_after=7)
    for _ in range(2):
        response = api.upsert("CRM-1", email="jan@example.nl")
        assert error_of(response, 503)["errorType"] == "BACKEND_EXCEPTION"
        assert response.headers["Retry-After"] == "7"
        assert spotler.contact("CRM-1") is None
    assert api.get("contact/properties/list").status_code == 200  # another method: not faulted
    assert api.upsert("CRM-1", email="jan@example.nl").status_code == 204
    assert spotler.faults.pending == 0


@pytest.mark.parametrize(("body", "content_type"), [("empty", None), ("html", "text/html; charset=utf-8")])
def test_fail_next_bodies(spotler, api, body, content_type):
    spotler.faults.fail_next(1, 502, body=body)
    response = api.get("contact/properties/list")
    assert response.status_code == 502
    assert response.headers.get("Content-Type") == content_type
    assert (response.content == b"") == (body == "empty")
    assert "Retry-After" not in response.headers


def test_faults_match_on_path_and_are_used_in_order(spotler, api):
    spotler.faults.fail_next(1, 429, path_contains="contact/list")
    spotler.faults.fail_next(1, 500)
    assert api.get("contact/properties/list").status_code == 500
    assert api.bulk([]).status_code == 429
    assert api.bulk([]).status_code == 200
    with pytest.raises(ValueError):
        spotler.faults.fail_next(1, 500, body="xml")


def test_drop_next_closes_the_connection_without_an_answer(spotler, api):
    spotler.faults.drop_next(1, method="POST")
    with pytest.raises(requests.ConnectionError):
        api.upsert("CRM-1", email="jan@example.nl")
    assert spotler.contact("CRM-1") is None
    assert api.upsert("CRM-1", email="jan@example.nl").status_code == 204


def test_slow_next_answers_normally_after_the_delay(spotler, api):
    spotler.faults.slow_next(count=1, delay=0.3)
    started = time.monotonic()
    assert api.upsert("CRM-1", email="jan@example.nl").status_code == 204
    assert time.monotonic() - started >= 0.3
    assert spotler.contact("CRM-1") is not None


def test_request_count_and_reset(spotler, api):
    spotler.faults.fail_next(1, 500)
    api.get("contact/properties/list")
    api.get("contact/properties/list")
    api.upsert("CRM-1", email="jan@example.nl")
    Api(spotler, secret="wrong").get("contact/CRM-1")
    assert spotler.request_count() == 4
    assert spotler.request_count("GET") == 3
    assert spotler.request_count(path_contains="properties") == 2
    assert spotler.request_count("POST", "/contact") == 1
    spotler.reset_traffic()
    assert spotler.request_count() == 0


def test_running_it_as_a_module_prints_credentials_and_serves():
    process = subprocess.Popen([sys.executable, "-m", "sync.sandbox.spotler"], stdout=subprocess.PIPE, text=True,
                               cwd=os.getcwd())
    try:
        started = json.loads(process.stdout.readline())
        assert set(started) == {"base_url", "consumer_key", "consumer_secret"}
        assert started["base_url"].endswith("/integrationservice-1.1.0")
        session = requests.Session()
        session.auth = OAuth1(started["consumer_key"], client_secret=started["consumer_secret"])
        assert session.get(started["base_url"] + "/contact/properties/list", timeout=5).status_code == 200
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=5) == 0
