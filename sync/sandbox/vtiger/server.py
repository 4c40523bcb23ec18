"""The fake vtiger over loopback: ``/webservice.php`` answering like vtiger 8.2.0 (HTTP 200 envelopes, methods
enforced per operation, ``sync``/``logout``/unknown operations → HTTP 500 with an empty body), any other path an
HTML page. Start it like the provider sandboxes: ``VtigerSandbox().start()`` or ``python -m sync.sandbox.vtiger``.
"""

from __future__ import annotations

import json
import socket
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from sync.sandbox.serving import ServedSandbox, TrackedHandler
from sync.sandbox.vtiger import vtql
from sync.sandbox.vtiger.state import HttpFailure, VtigerError, VtigerState

METHODS = {"getchallenge": "GET", "login": "POST", "listtypes": "GET", "describe": "GET", "retrieve": "GET",
           "query": "GET", "create": "POST", "revise": "POST", "update": "POST", "delete": "POST",
           "extendsession": "POST"}
BROKEN = {"sync", "logout", "convertlead"}  # PHP 8 named-argument crash on vtiger 8.2.0


@dataclass
class Traffic:
    """Requests per operation and open connections."""

    operations: Counter = field(default_factory=Counter)
    open_connections: int = 0

    def connection(self, delta: int) -> None:
        self.open_connections += delta


@dataclass
class App:
    state: VtigerState
    traffic: Traffic = field(default_factory=Traffic)
    connections: set[socket.socket] = field(default_factory=set)
    failures: list[int] = field(default_factory=list)  # HTTP statuses to answer next, one per request


class Handler(TrackedHandler):
    def do_GET(self) -> None:
        self._serve("GET", dict(parse_qsl(urlsplit(self.path).query, keep_blank_values=True)))

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8") if length else ""
        self._serve("POST", dict(parse_qsl(body, keep_blank_values=True)))

    def _serve(self, method: str, params: dict[str, str]) -> None:
        app: App = self.server.app
        if urlsplit(self.path).path != "/webservice.php":
            self._send(200, "text/html; charset=UTF-8", b"<html><body><h1>Welcome</h1></body></html>")
            return
        operation = params.get("operation", "")
        with app.state.lock:
            app.traffic.operations[operation] += 1
            if app.failures:
                self._send(app.failures.pop(0), "text/html; charset=UTF-8", b"")
                return
            try:
                result = _dispatch(app.state, method, operation, params)
            except HttpFailure:
                self._send(500, "text/html; charset=UTF-8", b"")
                return
            except VtigerError as error:
                envelope = {"success": False, "error": {"message": error.message, "code": error.code}}
            except vtql.VtqlError as error:
                envelope = {"success": False, "error": {"message": error.message, "code": error.code}}
            else:
                envelope = {"success": True, "result": result}
        self._send(200, "application/json", json.dumps(envelope, ensure_ascii=False).encode("utf-8"))

    def _send(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _dispatch(state: VtigerState, method: str, operation: str, params: dict[str, str]) -> Any:
    if operation in BROKEN or operation not in METHODS:
        raise HttpFailure()
    if METHODS[operation] != method:
        raise VtigerError("ACCESS_DENIED", f"Permission to perform the operation is denied for {operation}")
    if operation == "getchallenge":
        return state.challenge(params.get("username", ""))
    if operation == "login":
        return state.login(params.get("username", ""), params.get("accessKey", ""))
    user = state.user_of(params.get("sessionName"))
    user_id = state.users[user]["id"]
    if operation == "listtypes":
        return state.listtypes
    if operation == "describe":
        module = params.get("elementType", "")
        if module not in state.describe:
            raise VtigerError("ACCESS_DENIED", f"Permission to perform the operation is denied for {module}")
        return state.describe[module]
    if operation == "retrieve":
        return state.retrieve(params.get("id", ""))
    if operation == "query":
        return _query(state, params.get("query", ""))
    if operation == "delete":
        return state.delete(params.get("id", ""))
    element = _element(params.get("element", ""))
    if operation == "create":
        return state.create(params.get("elementType", ""), element, user_id)
    if operation == "revise":
        return state.revise(element, user_id)
    if operation == "update":
        return state.update(element, user_id)
    return {"message": "extended"}


def _element(text: str) -> dict[str, Any]:
    try:
        element = json.loads(text)
    except ValueError:
        raise VtigerError("INVALID_PARAMETER", "element is not valid JSON") from None
    if not isinstance(element, dict):
        raise VtigerError("INVALID_PARAMETER", "element is not an object")
    return element


def _query(state: VtigerState, text: str) -> list[dict[str, Any]]:
    query = vtql.parse(text)
    if query.module not in state.describe:
        raise VtigerError("ACCESS_DENIED", f"Permission to perform the operation is denied for {query.module}")
    rows = state.rows(query.module)
    known = {f["name"] for f in state.describe[query.module]["fields"]} | {"id"}
    if rows:
        known |= set(rows[0])
    for column in query.referenced:
        if column not in known:
            raise VtigerError("ACCESS_DENIED", f"Permission to access {column} attribute denied.")
    return vtql.run(query, rows)


class VtigerSandbox(ServedSandbox[App]):
    """A fake vtiger on loopback, seeded with the fixture people; ``base_url`` is the site address."""

    label = "vtiger sandbox"

    def __init__(self, username: str = "admin", access_key: str = "fake-access-key", port: int = 0,
                 host: str = "127.0.0.1"):
        self.username = username
        self.access_key = access_key
        self.state = VtigerState(username, access_key)
        self._serve_with((host, port), App(self.state), Handler)

    @property
    def base_url(self) -> str:
        return f"http://{self._address[0]}:{self.port}"

    @property
    def operations(self) -> Counter:
        return self._app.traffic.operations

    def expire_sessions(self) -> None:
        """Every session ends (as after vtiger's session timeout): the next call gets INVALID_SESSIONID."""
        with self.state.lock:
            self.state.sessions.clear()

    def fail_next(self, *statuses: int) -> None:
        """Answer the next requests with these HTTP statuses and an empty body (outage, proxy)."""
        with self.state.lock:
            self._app.failures.extend(statuses)

    def set_clock(self, moment: Any) -> None:
        """Stamp writes with this time (a datetime; None: the real time)."""
        with self.state.lock:
            self.state.fixed_now = moment

    def record(self, record_id: str) -> dict[str, Any]:
        with self.state.lock:
            return dict(self.state.records[record_id])

    def comments_of(self, record_id: str) -> list[dict[str, Any]]:
        with self.state.lock:
            return [dict(r) for r in self.state.records.values()
                    if r["module"] == "ModComments" and r.get("related_to") == record_id]

    def add_contact(self, **fields: Any) -> str:
        with self.state.lock:
            return str(self.state.create("Contacts", {"assigned_user_id": "19x1", **fields}, "19x1")["id"])

    def add_field(self, column: str, label: str, type_info: dict[str, Any], module: str = "Contacts") -> None:
        with self.state.lock:
            self.state.add_field(module, column, label, type_info)

    def update(self, record_id: str, **fields: Any) -> None:
        with self.state.lock:
            self.state.revise({"id": record_id, **fields}, "19x1")
