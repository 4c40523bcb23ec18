"""Talking to the Spotler Mail+ REST API: OAuth 1.0a one-legged signing, JSON, throttling, retries, paging.

requests-oauthlib signs every request with the consumer key and secret (HMAC-SHA1, no token); the query
string is part of the signature and a JSON body is not, which is what Mail+ expects. Errors are
``{"errorType", "message"}`` bodies and go through the one error table in ``sync/retry.py``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import requests
from requests_oauthlib import OAuth1

from sync import retry
from sync.errors import ConfigError, TransientError
from sync.paging import anchored_pages
from sync.settings import SpotlerSettings

MAX_PAGE_SIZE = 10000  # the API's maximum pageSize
KEY_SETTINGS = "CRM_SYNC_SPOTLER__CONSUMER_KEY and CRM_SYNC_SPOTLER__CONSUMER_SECRET (keys spotler.consumer_key, " \
               "spotler.consumer_secret) and spotler.base_url"


class SpotlerClient:
    """One signed HTTP session to a Spotler account. Safe to share between the push's threads."""

    def __init__(self, settings: SpotlerSettings):
        if settings.consumer_key is None or settings.consumer_secret is None:
            raise ConfigError("no Spotler REST API key: set CRM_SYNC_SPOTLER__CONSUMER_KEY and "
                              "CRM_SYNC_SPOTLER__CONSUMER_SECRET (made in Mail+ under Integrations)")
        self.settings = settings
        self.base_url = settings.base_url.rstrip("/") + "/"
        self._session = requests.Session()
        self._session.auth = OAuth1(settings.consumer_key.get_secret_value(),
                                    client_secret=settings.consumer_secret.get_secret_value(),
                                    signature_method="HMAC-SHA1", signature_type="AUTH_HEADER")
        self._session.headers["Accept"] = "application/json"
        self._lock = threading.Lock()
        self._next_slot = 0.0
        self.requests_made = 0
        self.write_requests_made = 0

    def call(self, method: str, path: str, params: dict[str, Any] | None = None, body: Any = None) -> Any:
        """One request, retried per the shared policy; returns the JSON body, or None for a 204."""
        url = path if path.startswith(("http://", "https://")) else self.base_url + path
        for attempt in retry.retrying(self.settings.retry_seconds, self.settings.retry_initial_wait):
            with attempt:
                self._count(method)
                return self._send(method, url, params, body)
        raise AssertionError("unreachable")  # pragma: no cover

    def pages(self, path: str, params: dict[str, Any], items: str, identity: Callable[[dict], str]
              ) -> Iterator[list[dict]]:
        """The new rows of every page of a window, by anchored offsets (sync/paging.py): a window from which
        a row disappeared while read is read again from its start; rows that appear in it carry a change
        date the next window reads. A page without ``paging.next`` is the last."""
        def fetch(offset: int, count: int) -> tuple[list[dict], int | None]:
            body = self.call("GET", path, {**params, "after": offset, "pageSize": count})
            rows = body if isinstance(body, list) else (body or {}).get(items) or []
            last = isinstance(body, list) or not ((body or {}).get("paging") or {}).get("next")
            return rows, offset + len(rows) if last else None
        for _, rows in anchored_pages(fetch, identity, self.settings.page_size, MAX_PAGE_SIZE,
                                      insertions_read_later=True):
            yield rows

    def _count(self, method: str) -> None:
        with self._lock:
            self.requests_made += 1
            self.write_requests_made += method != "GET"
            rate = self.settings.requests_per_second
            if rate <= 0:
                return
            now = time.monotonic()
            wait = self._next_slot - now
            self._next_slot = max(now, self._next_slot) + 1 / rate
        if wait > 0:
            time.sleep(wait)

    def _send(self, method: str, url: str, params: dict[str, Any] | None, body: Any) -> Any:
        try:
            response = self._session.request(method, url, params=params, json=body,
                                             timeout=self.settings.timeout_seconds)
        except (requests.ConnectionError, requests.Timeout) as error:
            raise TransientError(f"Spotler could not be reached: {type(error).__name__}") from None
        if response.status_code >= 300:
            raise _error(response)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise retry.not_json("Spotler", response.status_code, response.text) from None


def _error(response: requests.Response) -> Exception:
    try:
        payload = response.json()
    except ValueError:
        payload = None
    problem = None
    if isinstance(payload, dict):
        problem = {"title": payload.get("errorType") or "Error", "detail": payload.get("message") or ""}
        if isinstance(payload.get("externalContactIds"), list):  # an audience's unknown contacts
            problem["errors"] = payload["externalContactIds"]
    return retry.classify(response.status_code, problem, "Spotler", KEY_SETTINGS,
                          retry.retry_after_seconds(response.headers))
