"""The vtiger webservice (``/webservice.php``) over one ``requests.Session``: login, envelopes, errors.

Every answer is HTTP 200 with ``{"success": …}``; a ``success: false`` is mapped onto crm-sync's one error
taxonomy here (credentials → ConfigError naming the setting, a record refused → RecordError naming the record,
5xx / timeouts / drops → TransientError, retried by ``sync/retry.py``). Logins are serialised per user
(a ``getchallenge`` invalidates that user's earlier tokens) and an expired session is renewed once.
The ``sync`` operation is never used (HTTP 500 on vtiger 8.2 with PHP 8). Secrets never reach a message.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
from collections.abc import Iterator
from typing import Any

import requests

from sync.errors import ConfigError, CrmSyncError, RecordError, TransientError
from sync.retry import retrying

log = logging.getLogger(__name__)

PAGE = 100  # VTQL silently caps LIMIT at 100 rows
CREDENTIAL_CODES = {"INVALID_USER_CREDENTIALS", "INVALID_AUTH_TOKEN"}
SESSION_CODES = {"INVALID_SESSIONID", "AUTHENTICATION_REQUIRED"}
_SESSION_IN_URL = re.compile(r"(sessionName=)[^&\s\"']+")
_LOGIN_LOCKS: dict[tuple[str, str], threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


class _HideSessions(logging.Filter):
    """urllib3 logs request lines at DEBUG; a GET's session name is in its query string: shown as <hidden>."""

    def filter(self, record: logging.LogRecord) -> bool:
        if "sessionName=" in record.getMessage():
            record.msg = _SESSION_IN_URL.sub(r"\1<hidden>", record.getMessage())
            record.args = ()
        return True


logging.getLogger("urllib3.connectionpool").addFilter(_HideSessions())


def _login_lock(endpoint: str, user: str) -> threading.Lock:
    with _LOCKS_GUARD:
        return _LOGIN_LOCKS.setdefault((endpoint, user), threading.Lock())


def endpoint_of(base_url: str) -> str:
    """``…/webservice.php`` for a site address (given with or without it)."""
    url = base_url.strip().rstrip("/")
    return url if url.endswith("/webservice.php") else url + "/webservice.php"


def quote(value: str) -> str:
    """A VTQL string literal (a quote is doubled, which vtiger accepts)."""
    return "'" + str(value).replace("'", "''") + "'"


class VtigerError(CrmSyncError):
    """vtiger refused an operation that belongs to no record (a bad query, an unknown module)."""


class VtigerClient:
    """One user's webservice session. ``call`` returns an envelope's ``result`` or raises."""

    def __init__(self, base_url: str, user: str, access_key: str, timeout: float = 30.0,
                 retry_seconds: float = 120.0):
        self.endpoint = endpoint_of(base_url)
        self.user = user
        self._key = access_key
        self.timeout = timeout
        self.retry_seconds = retry_seconds
        self.http = requests.Session()
        self.http.headers["User-Agent"] = "crm-sync"
        self._session_name: str | None = None
        self.user_id: str | None = None
        self.requests_sent = 0
        self.logins = 0

    def close(self) -> None:
        self.http.close()

    # -- login -----------------------------------------------------------------------------------------------

    def login(self, stale: str | None = None) -> None:
        """getchallenge + login with md5(token + access key), serialised per user. A session other than
        ``stale`` already renewed by another thread is kept."""
        with _login_lock(self.endpoint, self.user):
            if self._session_name is not None and self._session_name != stale:
                return
            for attempt in (1, 2):  # a parallel getchallenge of the same user can void our token once
                challenge = self._send("GET", {"operation": "getchallenge", "username": self.user}, "login")
                token = str(challenge.get("token", ""))
                digest = hashlib.md5((token + self._key).encode("utf-8")).hexdigest()
                try:
                    result = self._send("POST", {"operation": "login", "username": self.user,
                                                 "accessKey": digest}, "login")
                except ConfigError:
                    if attempt == 2:
                        raise
                    continue
                self._session_name = str(result["sessionName"])
                self.user_id = str(result.get("userId") or "") or None
                self.logins += 1
                return

    # -- operations ------------------------------------------------------------------------------------------

    def call(self, method: str, operation: str, record: str | None = None, **params: str) -> Any:
        """Run one operation with the session (logging in first, renewing it once when it expired).
        ``record`` names the record a refusal is about (RecordError instead of a run-stopping error)."""
        if self._session_name is None:
            self.login()
        for attempt in (1, 2):
            session = self._session_name
            try:
                return self._send(method, {"operation": operation, "sessionName": session or "", **params},
                                  operation, record)
            except _SessionExpired:
                if attempt == 2:
                    raise TransientError("vtiger ended the session again right after a new login") from None
                log.info("vtiger session expired; logging in again")
                self.login(stale=session)
        raise AssertionError("unreachable")

    def query(self, vtql: str) -> list[dict[str, Any]]:
        """One VTQL query (GET; the trailing semicolon is added when missing)."""
        text = vtql.strip()
        return list(self.call("GET", "query", query=text if text.endswith(";") else text + ";"))

    def query_pages(self, select: str, order_by: str | None = None) -> Iterator[list[dict[str, Any]]]:
        """``select`` (``SELECT … FROM … [WHERE …]``) page by page with ``LIMIT offset,100`` until a short page.
        Only for small, stable result sets (offset paging shifts when rows change meanwhile)."""
        offset = 0
        order = f" ORDER BY {order_by}" if order_by else ""
        while True:
            rows = self.query(f"{select}{order} LIMIT {offset},{PAGE};")
            if rows:
                yield rows
            if len(rows) < PAGE:
                return
            offset += PAGE

    def count(self, select_from_where: str) -> int:
        """``SELECT count(*) FROM …``: vtiger answers the number as text."""
        rows = self.query(f"SELECT count(*) {select_from_where}")
        return int(rows[0]["count"]) if rows else 0

    def describe(self, module: str) -> dict[str, Any]:
        return dict(self.call("GET", "describe", elementType=module))

    def listtypes(self) -> dict[str, Any]:
        return dict(self.call("GET", "listtypes"))

    def create(self, module: str, element: dict[str, Any], record: str | None = None) -> dict[str, Any]:
        return dict(self.call("POST", "create", record, elementType=module,
                              element=json.dumps(element, ensure_ascii=False)))

    def revise(self, element: dict[str, Any]) -> dict[str, Any]:
        """A partial update: ``id`` plus the changed fields; returns the whole record."""
        return dict(self.call("POST", "revise", str(element["id"]), element=json.dumps(element, ensure_ascii=False)))

    # -- one HTTP exchange -----------------------------------------------------------------------------------

    def _send(self, method: str, params: dict[str, str], operation: str, record: str | None = None) -> Any:
        for attempt in retrying(self.retry_seconds):
            with attempt:
                return self._exchange(method, params, operation, record)
        raise AssertionError("unreachable")

    def _exchange(self, method: str, params: dict[str, str], operation: str, record: str | None) -> Any:
        self.requests_sent += 1
        try:
            if method == "GET":
                response = self.http.get(self.endpoint, params=params, timeout=self.timeout)
            else:
                response = self.http.post(self.endpoint, data=params, timeout=self.timeout)
        except requests.Timeout:
            raise TransientError(f"vtiger did not answer {operation} within {self.timeout:g} s") from None
        except requests.RequestException as error:  # the message would show the URL with the session: not kept
            raise TransientError(f"vtiger at {self.endpoint} could not be reached for {operation} "
                                 f"({type(error).__name__})") from None
        if response.status_code >= 500 or response.status_code in (408, 429):
            raise TransientError(f"vtiger answered {operation} with HTTP {response.status_code}")
        if response.status_code in (401, 403, 404) or response.status_code >= 300:
            raise ConfigError(f"vtiger answered HTTP {response.status_code} at {self.endpoint}: check crm.base_url "
                              "(the vtiger site address)")
        try:
            envelope = response.json()
        except ValueError:
            raise ConfigError(f"{self.endpoint} did not answer like the vtiger webservice (not JSON): check "
                              "crm.base_url (the vtiger site address)") from None
        if not isinstance(envelope, dict) or "success" not in envelope:
            raise ConfigError(f"{self.endpoint} did not answer like the vtiger webservice: check crm.base_url")
        if envelope["success"]:
            return envelope.get("result")
        problem = envelope.get("error") or {}
        raise self._refusal(str(problem.get("code") or "UNKNOWN"), str(problem.get("message") or ""), operation,
                            record)

    def _refusal(self, code: str, message: str, operation: str, record: str | None) -> Exception:
        if code in SESSION_CODES and operation not in ("login", "getchallenge"):
            return _SessionExpired(code)
        if code in CREDENTIAL_CODES:
            return ConfigError(f"vtiger refused the login of crm.api_user {self.user!r} ({code}): check crm.api_key "
                               "(the user's access key, My Preferences) and crm.api_user")
        if operation == "login" and code == "ACCESS_DENIED":
            return ConfigError(f"vtiger does not know crm.api_user {self.user!r} ({message}): check crm.api_user")
        if record is not None:
            return RecordError(record, code.lower(), f"vtiger refused {operation}: {message}")
        if code.startswith("DATABASE") or code == "INTERNAL_SERVER_ERROR":
            return TransientError(f"vtiger failed {operation}: {code} {message}")
        if code == "ACCESS_DENIED":
            return ConfigError(f"vtiger refused {operation} for crm.api_user {self.user!r}: {message} (a field or "
                               "module the user may not see, or that does not exist)")
        return VtigerError(f"vtiger refused {operation}: {code} {message}")


class _SessionExpired(Exception):
    """INVALID_SESSIONID / AUTHENTICATION_REQUIRED: log in again and retry once."""
