"""Fixtures for the Spotler Mail+ sandbox tests: a running sandbox and an OAuth-signed HTTP client for it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
from requests_oauthlib import OAuth1

from sync.sandbox.spotler import SpotlerSandbox

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
TIMESTAMP = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d$"


def at(text: str) -> datetime:
    """An Amsterdam wall-clock moment, e.g. ``at("2024-05-01 10:00")``."""
    return datetime.fromisoformat(text).replace(tzinfo=AMSTERDAM)


class Api:
    """A signed ``requests`` session bound to one sandbox; paths are relative to its base URL."""

    def __init__(self, sandbox: SpotlerSandbox, signature_type: str = "AUTH_HEADER", secret: str | None = None,
                 key: str | None = None, base_url: str | None = None):
        self.base_url = base_url or sandbox.base_url
        self.session = requests.Session()
        self.session.auth = OAuth1(key or sandbox.consumer_key, client_secret=secret or sandbox.consumer_secret,
                                   signature_method="HMAC-SHA1", signature_type=signature_type)
        self.session.headers["Accept"] = "application/json"

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path}"

    def get(self, path: str, **params: Any) -> requests.Response:
        return self.session.get(self.url(path), params=params, timeout=10)

    def post(self, path: str, body: Any) -> requests.Response:
        return self.session.post(self.url(path), json=body, timeout=10)

    def put(self, path: str, body: Any = None) -> requests.Response:
        return self.session.put(self.url(path), json=body, timeout=10)

    def upsert(self, external_id: str, purge: bool = False, update: bool = True,
               **properties: Any) -> requests.Response:
        """``POST contact`` with ``{"update", "purge", "contact": {"externalId", "properties"}}``."""
        return self.post("contact", {"update": update, "purge": purge,
                                     "contact": {"externalId": external_id, "properties": properties}})

    def bulk(self, contacts: list[dict[str, Any]], update: bool = True, purge: bool = False) -> requests.Response:
        return self.post("contact/list", {"update": update, "purge": purge, "contacts": contacts})

    def follow(self, path: str, **params: Any) -> list[dict[str, Any]]:
        """Every page of a paged list, following ``paging.next``; returns the pages' bodies."""
        response = self.get(path, **params)
        pages = []
        while True:
            assert response.status_code == 200, response.text
            pages.append(response.json())
            next_url = pages[-1]["paging"]["next"]
            if next_url is None:
                return pages
            response = self.session.get(next_url, timeout=10)


def error_of(response: requests.Response, status: int) -> dict[str, Any]:
    """The ``{"errorType", "message"}`` body of an error response with this status."""
    assert response.status_code == status, (response.status_code, response.text)
    body = response.json()
    assert set(body) == {"errorType", "message"}, body
    return body


@pytest.fixture
def spotler() -> Iterator[SpotlerSandbox]:
    with SpotlerSandbox() as running:
        yield running
        assert running.internal_errors == [], running.internal_errors[-1]


@pytest.fixture
def api(spotler: SpotlerSandbox) -> Api:
    return Api(spotler)
