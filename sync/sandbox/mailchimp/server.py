"""The HTTP side: a threading HTTP/1.1 server that authenticates, throttles, logs and dispatches requests.

Each connection has its own thread. A request counts as in flight from its first byte until its response is
written; when more than ``max_in_flight`` are in flight at once, the newcomer gets Mailchimp's connection-limit
answer: a 429 with no body and no Content-Type (which the official SDK returns instead of raising).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import socket
import threading
import time
import traceback
import uuid
from collections import Counter, deque
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from sync.sandbox.mailchimp.faults import BLOCKED_PAGE, TITLES, Fault, Faults
from sync.sandbox.mailchimp.problems import ApiProblem, api_key_invalid, not_found
from sync.sandbox.mailchimp.routing import Request, Router, project
from sync.sandbox.mailchimp.state import SandboxState
from sync.sandbox.serving import TrackedHandler

API_PREFIX = "/3.0"
JSON_TYPE = "application/json; charset=utf-8"
PROBLEM_TYPE = "application/problem+json; charset=utf-8"
PROBLEM_LINK = '<https://api.mailchimp.com/schema/3.0/ProblemDetailDocument.json>; rel="describedBy"'


@dataclass
class Traffic:
    """What the server has seen: in-flight and peak counts, and requests by route, path and status."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    in_flight: int = 0
    peak_in_flight: int = 0
    open_connections: int = 0
    peak_connections: int = 0
    throttled: int = 0
    by_route: Counter[tuple[str, str]] = field(default_factory=Counter)
    by_path: Counter[tuple[str, str]] = field(default_factory=Counter)
    by_status: Counter[int] = field(default_factory=Counter)
    internal_errors: deque[str] = field(default_factory=lambda: deque(maxlen=20))

    def enter(self, limit: int) -> bool:
        """Count a request in; False when it exceeds ``limit`` and must be throttled."""
        with self.lock:
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
            admitted = self.in_flight <= limit
            self.throttled += not admitted
            return admitted

    def leave(self) -> None:
        with self.lock:
            self.in_flight -= 1

    def connection(self, delta: int) -> None:
        with self.lock:
            self.open_connections += delta
            self.peak_connections = max(self.peak_connections, self.open_connections)

    def record(self, method: str, path: str, route: str, status: int) -> None:
        with self.lock:
            self.by_route[(method, route)] += 1
            self.by_path[(method, path)] += 1
            self.by_status[status] += 1


@dataclass(frozen=True)
class Latency:
    """How long Mailchimp takes to answer: ``base`` seconds a request plus ``per_member`` seconds for each
    member it carries (a batch's ``members``, a segment's ``members_to_add``/``members_to_remove``; 1 otherwise).
    The answer waits while the connection stays taken, so it counts against the connection limit."""

    base: float = 0.0
    per_member: float = 0.0

    def of(self, body: bytes) -> float:
        if not self.base and not self.per_member:
            return 0.0
        try:
            document = json.loads(body) if body else {}
        except ValueError:
            document = {}
        members = 1
        if isinstance(document, dict):
            carried = [document.get(key) for key in ("members", "members_to_add", "members_to_remove")]
            members = sum(len(value) for value in carried if isinstance(value, list)) or 1
        return self.base + self.per_member * members


@dataclass
class App:
    """Everything a handler thread needs; one per sandbox."""

    api_key: str
    state: SandboxState
    router: Router[Request]
    faults: Faults
    traffic: Traffic
    max_in_flight: int
    connections: set[socket.socket] = field(default_factory=set)
    latency: Latency = field(default_factory=Latency)


class Handler(TrackedHandler):
    """One connection's requests: faults, routing, the concurrency cap and the request log."""

    server_version = "crm-sync-mailchimp-sandbox"

    def handle_one_request(self) -> None:
        try:
            self.raw_requestline = self.rfile.readline(65537)
        except (TimeoutError, OSError):
            self.close_connection = True
            return
        if not self.raw_requestline:
            self.close_connection = True
            return
        app = self.server.app
        admitted = app.traffic.enter(app.max_in_flight)
        try:
            if len(self.raw_requestline) > 65536 or not self.parse_request():
                self.close_connection = True
                return
            self._serve(app, admitted)
        except (TimeoutError, ConnectionError):
            self.close_connection = True
        finally:
            app.traffic.leave()

    def _serve(self, app: App, admitted: bool) -> None:
        """Answer one request. The request log is written before the answer, so a client that has its
        response can rely on the log already counting it."""
        method = self.command
        url = urlsplit(self.path)
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self.close_connection = True
            self._send_problem(ApiProblem(400, "Bad Request", "The Content-Length header is not a number."))
            return
        body = self.rfile.read(length)
        path = (url.path[len(API_PREFIX):] or "/") if url.path.startswith(API_PREFIX) else None
        if not admitted:
            self.close_connection = True
            app.traffic.record(method, url.path, "(connection limit)", 429)
            self._send(429, b"", None, {})
            return
        fault = app.faults.take(method, path or url.path)
        if fault is not None:
            time.sleep(fault.delay)
            if fault.body == "drop":  # the connection breaks before any answer
                app.traffic.record(method, url.path, "(fault)", 0)
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            if fault.status is not None:
                app.traffic.record(method, url.path, "(fault)", fault.status)
                self._send_fault(fault)
                return
        route = "(none)"
        try:
            if path is None:
                raise not_found()
            if not self._authorised(app.api_key):
                raise api_key_invalid()
            handler, params, route = app.router.resolve(method, path)
            query = dict(parse_qsl(url.query))
            reply = handler(Request(method, path, params, query, body, app.state))
            payload = project(reply.body, query.get("fields"), query.get("exclude_fields"))
        except ApiProblem as problem:
            app.traffic.record(method, url.path, route, problem.status)
            self._send_problem(problem)
            return
        except Exception:  # a sandbox bug: answer 500 like the API would, keep the trace for tests
            app.traffic.internal_errors.append(traceback.format_exc())
            app.traffic.record(method, url.path, route, 500)
            self._send_problem(ApiProblem(500, "Internal Server Error", "The sandbox failed on this request."))
            return
        if fault is not None and fault.answer_delay:
            time.sleep(fault.answer_delay)  # carried out; the answer is slow on its way back
        time.sleep(app.latency.of(body))
        app.traffic.record(method, url.path, route, reply.status)
        self._send_json(reply.status, payload)

    def _authorised(self, api_key: str) -> bool:
        scheme, _, credentials = (self.headers.get("Authorization") or "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            _user, _, password = base64.b64decode(credentials, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return hmac.compare_digest(password.encode(), api_key.encode())

    def _send_json(self, status: int, body: Any) -> None:
        if body is None:
            self._send(status, b"", JSON_TYPE, {}, length=False)
        else:
            self._send(status, json.dumps(body, separators=(",", ":")).encode(), JSON_TYPE, {})

    def _send_problem(self, problem: ApiProblem) -> None:
        instance = str(uuid.uuid4())
        document = json.dumps(problem.body(instance), separators=(",", ":")).encode()
        self._send(problem.status, document, PROBLEM_TYPE,
                   {"X-Request-Id": instance, "Link": PROBLEM_LINK, **problem.headers})

    def _send_fault(self, fault: Fault) -> None:
        status = fault.status or 500
        headers = {} if fault.retry_after is None else {"Retry-After": str(fault.retry_after)}
        title = TITLES.get(status, HTTPStatus(status).phrase)
        if fault.body == "empty":
            self._send(status, b"", None, headers)
        elif fault.body == "html":
            self._send(status, BLOCKED_PAGE.encode(), "text/html; charset=utf-8", headers)
        elif fault.body == "truncated":
            document = json.dumps({"title": title, "detail": "Injected fault.", "members": []}).encode()
            self._send(status, document[:len(document) // 2], JSON_TYPE, headers)
        else:
            problem = ApiProblem(status, title, f"Injected fault: {title}.")
            problem.headers.update(headers)
            self._send_problem(problem)

    def _send(self, status: int, body: bytes, content_type: str | None, headers: dict[str, str],
              length: bool = True) -> None:
        """Write status line, headers and body in one send (no Nagle/delayed-ACK stalls on keep-alive)."""
        lines = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}", f"Date: {self.date_time_string()}"]
        if content_type:
            lines.append(f"Content-Type: {content_type}")
        if length:
            lines.append(f"Content-Length: {len(body)}")
        lines.extend(f"{name}: {value}" for name, value in headers.items())
        lines.append("Connection: close" if self.close_connection else "Connection: keep-alive")
        self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
