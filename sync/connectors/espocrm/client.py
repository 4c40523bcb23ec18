"""EspoCRM's REST API over one ``requests.Session``: authentication, error meaning, list paging.

| answer                                   | raised                                                    |
|------------------------------------------|-----------------------------------------------------------|
| 401                                      | ConfigError naming crm.api_key (and crm.api_secret)       |
| 403                                      | ConfigError naming the refused permission and the reason  |
| 400, 409 (one record)                    | RecordError naming the record and the reason             |
| 404 on one record                        | Gone (a RecordError): the record no longer exists         |
| 404 with a page, or a page instead of JSON | ConfigError naming crm.base_url                         |
| 408, 429, 5xx, timeout, dropped connection | TransientError, retried by ``sync/retry.py``            |

Keys and secrets never appear in logs or messages.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import requests
from tenacity import Retrying

from sync.errors import ConfigError, RecordError, TransientError
from sync.retry import retry_after_seconds, retrying

log = logging.getLogger(__name__)

MAX_PAGE = 200  # EspoCRM's recordListMaxSizeLimit: a larger maxSize is answered 403


class Gone(RecordError):
    """The record does not exist (any more): EspoCRM answered 404."""


def _reason(response: requests.Response) -> str:
    return response.headers.get("X-Status-Reason") or ""


class EspoClient:
    """Authenticated calls to ``{base_url}/api/v1/``; JSON in, JSON out."""

    def __init__(self, base_url: str, api_key: str, api_secret: str | None = None, timeout: float = 30.0,
                 retry_seconds: float = 120.0, user_agent: str = "crm-sync"):
        self.root = base_url.rstrip("/")
        if self.root.endswith("/api/v1"):
            self.root = self.root[: -len("/api/v1")]
        self._key = api_key
        self._secret = api_secret
        self._timeout = timeout
        self._retry_seconds = retry_seconds
        self._session = requests.Session()
        self._session.headers.update({"Accept": "application/json", "User-Agent": user_agent})
        self.requests_sent = 0

    def close(self) -> None:
        self._session.close()

    def retrying(self) -> Retrying:
        """The retry loop of ``sync/retry.py`` with this client's time budget."""
        return retrying(self._retry_seconds)

    def _auth(self, method: str, path: str) -> dict[str, str]:
        if self._secret is None:
            return {"X-Api-Key": self._key}
        digest = hmac.new(self._secret.encode(), f"{method} /{path}".encode(), hashlib.sha256).hexdigest()
        return {"X-Hmac-Authorization": base64.b64encode(f"{self._key}:{digest}".encode()).decode()}

    def call(self, method: str, path: str, params: dict[str, Any] | None = None, body: Any = None,
             record: str | None = None, no_total: bool = False, retry: bool = True) -> Any:
        """One call, retried while transient (unless ``retry`` is off); ``record`` names the record a
        400/404/409 is about."""
        if not retry:
            return self._once(method, path, params, body, record, no_total)
        for attempt in self.retrying():
            with attempt:
                return self._once(method, path, params, body, record, no_total)
        raise AssertionError("unreachable")  # pragma: no cover

    def _once(self, method: str, path: str, params: dict[str, Any] | None, body: Any, record: str | None,
              no_total: bool) -> Any:
        path = path.lstrip("/")
        headers = self._auth(method, path)
        if body is not None:
            headers["Content-Type"] = "application/json"
        if no_total:
            headers["X-No-Total"] = "true"
        url = f"{self.root}/api/v1/{quote(path, safe='/')}"
        self.requests_sent += 1
        try:
            response = self._session.request(method, url, params=params, headers=headers, timeout=self._timeout,
                                             data=None if body is None else json.dumps(body))
        except (requests.Timeout, requests.ConnectionError) as error:
            raise TransientError(f"EspoCRM at {self.root} did not answer {method} {path}: "
                                 f"{type(error).__name__}") from None
        except requests.RequestException as error:
            raise ConfigError(f"crm.base_url: cannot call EspoCRM at {self.root!r}: {type(error).__name__}") from None
        return self._answer(method, path, response, record)

    def _answer(self, method: str, path: str, response: requests.Response, record: str | None) -> Any:
        status, reason = response.status_code, _reason(response)
        what = f"{method} {path}"
        if status == 401:
            raise ConfigError("EspoCRM refused the credentials (401): check crm.api_key"
                              + (" and crm.api_secret (HMAC)" if self._secret else "")
                              + " and that the API user is active")
        if status == 403:
            raise ConfigError(f"EspoCRM refused {what} (403 {reason or 'forbidden'}): give the API user's role "
                              f"{_permission(method, path)}")
        if status in (408, 429) or status >= 500:
            raise TransientError(f"EspoCRM answered {status} to {what} {reason}".rstrip(),
                                 retry_after_seconds(response.headers))
        is_json = "json" in response.headers.get("Content-Type", "")
        if status == 404:
            if record is None or (response.text.strip() and not is_json):
                raise ConfigError(f"crm.base_url: {self.root} answered 404 to {what}: is it EspoCRM's address "
                                  "(without /api/v1)?")
            raise Gone(record, "not_found", f"EspoCRM has no {record} (404)")
        if status >= 400:
            raise RecordError(record or what, f"espocrm_{status}", f"EspoCRM refused {what}: {status} "
                              f"{reason or response.reason}")
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise ConfigError(f"crm.base_url: {self.root} answered {what} with a page, not EspoCRM's JSON: is it "
                              "EspoCRM's address (without /api/v1)?") from None

    def get(self, path: str, search: dict[str, Any] | None = None, record: str | None = None,
            no_total: bool = False, params: dict[str, Any] | None = None) -> Any:
        query = dict(params or {})
        if search is not None:
            query["searchParams"] = json.dumps(search, separators=(",", ":"))
        return self.call("GET", path, query or None, record=record, no_total=no_total)

    def pages(self, path: str, search: dict[str, Any], page_size: int = MAX_PAGE) -> Iterator[list[dict]]:
        """Offset-paged lists of ``path`` (at most 200 rows a page) until a short page."""
        size = max(1, min(page_size, MAX_PAGE))
        offset = 0
        while True:
            body = self.get(path, {**search, "maxSize": size, "offset": offset}, no_total=True)
            rows = _rows(body, path)
            if rows:
                yield rows
            if len(rows) < size:
                return
            offset += size

    def count(self, path: str, where: list[dict]) -> int:
        body = self.get(path, {"select": ["id"], "where": where, "maxSize": 1, "offset": 0})
        if not isinstance(body, dict) or not isinstance(body.get("total"), int):
            raise ConfigError(f"crm.base_url: {self.root} answered GET {path} without EspoCRM's list envelope")
        return body["total"]


def _rows(body: Any, path: str) -> list[dict]:
    if not isinstance(body, dict) or not isinstance(body.get("list"), list):
        raise ConfigError(f"crm.base_url: the answer to GET {path} is not EspoCRM's list envelope {{total, list}}")
    return body["list"]


def _permission(method: str, path: str) -> str:
    scope = path.split("/")[0]
    if scope == "CampaignLogRecord":
        scope = "Campaign (which governs CampaignLogRecord)"
    action = {"GET": "read", "POST": "create", "PUT": "edit: all", "PATCH": "edit: all", "DELETE": "delete"}
    return f"{action.get(method, method)} access to {scope}"
