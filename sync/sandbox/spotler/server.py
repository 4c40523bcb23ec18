"""The HTTP side: a threading HTTP/1.1 server that injects faults, authenticates, logs and dispatches requests.

Requests are served under ``/integrationservice-1.1.0`` and ``/integrationservice``. A handler runs holding the
state lock, so every request is one atomic operation. Crashes answer 500 ``BACKEND_EXCEPTION`` and keep their
traceback in ``Traffic.internal_errors``.
"""

from __future__ import annotations

import json
import socket
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from sync.sandbox.mailchimp.problems import ApiProblem
from sync.sandbox.mailchimp.routing import Reply, Router
from sync.sandbox.mailchimp.server import Traffic
from sync.sandbox.serving import TrackedHandler
from sync.sandbox.spotler.auth import OAuthVerifier
from sync.sandbox.spotler.errors import (
    SpotlerError,
    error_type_for,
    not_authorized,
    resource_not_found,
)
from sync.sandbox.spotler.faults import Fault, Faults
from sync.sandbox.spotler.request import ApiRequest
from sync.sandbox.spotler.state import SpotlerState

PREFIXES = ("/integrationservice-1.1.0", "/integrationservice")
JSON_TYPE = "application/json"
ERROR_PAGE = "<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>"


@dataclass
class App:
    """Everything a handler thread needs; one per sandbox. ``link_base`` is where ``paging.next`` URLs point."""

    state: SpotlerState
    router: Router[ApiRequest]
    faults: Faults
    traffic: Traffic
    verifier: OAuthVerifier
    public_base_url: str | None
    link_base: str = ""
    omit_last_next: bool = False
    connections: set[socket.socket] = field(default_factory=set)


def relative_path(path: str) -> str | None:
    """The path after the API prefix (``/contact/list``), or None when it is not under one."""
    for prefix in PREFIXES:
        if path.startswith(prefix + "/"):
            return path[len(prefix):]
    return None


class Handler(TrackedHandler):
    """One connection's requests: faults, the OAuth check, routing and the request log."""

    server_version = "crm-sync-spotler-sandbox"

    def handle_one_request(self) -> None:
        try:
            self.raw_requestline = self.rfile.readline(65537)
            if not self.raw_requestline or len(self.raw_requestline) > 65536 or not self.parse_request():
                self.close_connection = True
                return
            self._serve(self.server.app)
        except (TimeoutError, ConnectionError, OSError):
            self.close_connection = True

    def _serve(self, app: App) -> None:
        """Answer one request; the request log is written before the answer."""
        method, url = self.command, urlsplit(self.path)
        length = self.headers.get("Content-Length") or "0"
        if not length.isdigit():
            self.close_connection = True
            self._send_json(400, {"errorType": "INVALID_PARAMS", "message": "Content-Length is not a number"})
            return
        body = self.rfile.read(int(length))
        path = relative_path(url.path)
        fault = app.faults.take(method, path or url.path)
        if fault is not None and self._faulted(fault):
            return
        try:
            if path is None:
                raise resource_not_found()
            reason = app.verifier.verify(self._signed_urls(app, path, url.query), method, body, self.headers)
            if reason is not None:
                raise not_authorized(f"OAuth verification failed: {reason}")
            handler, params, _route = _resolve(app.router, method, path)
            query = {k: v for k, v in parse_qsl(url.query, keep_blank_values=True) if not k.startswith("oauth_")}
            request = ApiRequest(method, path, params, query, body, app.state, app.link_base, app.omit_last_next)
            with app.state.lock:
                reply = handler(request)
        except SpotlerError as error:
            self._send_json(error.status, error.body(), error.headers)
            return
        except Exception:  # a sandbox bug: answer 500 like the API would, keep the trace for tests
            app.traffic.internal_errors.append(traceback.format_exc())
            self._send_json(500, {"errorType": "BACKEND_EXCEPTION", "message": "The sandbox failed"})
            return
        if fault is not None and fault.answer_delay:
            time.sleep(fault.answer_delay)  # carried out; the answer is slow on its way back
        self._send_json(reply.status, reply.body)

    def _signed_urls(self, app: App, path: str, query: str) -> list[str]:
        """The URLs the client may have signed: the public (proxy) one first, then this server's own."""
        suffix = path + (f"?{query}" if query else "")
        direct = f"http://{self.headers.get('Host') or '127.0.0.1'}{self.path}"
        return [app.public_base_url + suffix, direct] if app.public_base_url else [direct]

    def _faulted(self, fault: Fault) -> bool:
        """Carry out a fault; True when it answered (or dropped) the request."""
        time.sleep(fault.delay)
        if fault.body == "drop":
            self._log(0)
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return True
        if fault.status is None:
            return False
        headers = {} if fault.retry_after is None else {"Retry-After": str(fault.retry_after)}
        if fault.body == "empty":
            self._send(fault.status, b"", None, headers)
        elif fault.body == "html":
            self._send(fault.status, ERROR_PAGE.encode(), "text/html; charset=utf-8", headers)
        elif fault.body == "truncated":
            document = json.dumps({"errorType": error_type_for(fault.status), "message": "Injected fault",
                                   "list": []}).encode()
            self._send(fault.status, document[:len(document) // 2], JSON_TYPE, headers)
        else:
            self._send_json(fault.status, {"errorType": error_type_for(fault.status),
                                           "message": f"Injected fault: HTTP {fault.status}"}, headers)
        return True

    def _send_json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        payload = b"" if body is None else json.dumps(body, separators=(",", ":")).encode()
        self._send(status, payload, None if body is None else JSON_TYPE, headers or {})

    def _log(self, status: int) -> None:
        path = urlsplit(self.path).path
        self.server.app.traffic.record(self.command, path, relative_path(path) or "(none)", status)

    def _send(self, status: int, body: bytes, content_type: str | None, headers: dict[str, str]) -> None:
        """Log the request, then write status line, headers and body in one send (no Nagle stalls)."""
        self._log(status)
        phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
        lines = [f"HTTP/1.1 {status} {phrase}", f"Date: {self.date_time_string()}"]
        if content_type:
            lines.append(f"Content-Type: {content_type}")
        if status != 204:
            lines.append(f"Content-Length: {len(body)}")
        lines.extend(f"{name}: {value}" for name, value in headers.items())
        lines.append("Connection: close" if self.close_connection else "Connection: keep-alive")
        self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)


def _resolve(router: Router[ApiRequest], method: str,
             path: str) -> tuple[Callable[[ApiRequest], Reply], dict[str, str], str]:
    """The router's answer, with its Mailchimp-shaped 404/405 turned into Mail+ errors."""
    try:
        return router.resolve(method, path)
    except ApiProblem as problem:
        if problem.status == 405:
            raise SpotlerError(405, "RESOURCE_NOT_FOUND", f"{method} is not allowed on {path}",
                               problem.headers) from None
        raise resource_not_found(f"No resource at {path}") from None
