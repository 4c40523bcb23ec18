"""Serving a sandbox on loopback: the HTTP server, the connection bookkeeping every handler does, and the
start/stop lifecycle on a background thread. Each sandbox adds its own app, routes and request handling."""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Generic, Protocol, Self, TypeVar

from sync.errors import ConnectionFailed


class _Traffic(Protocol):
    def connection(self, delta: int) -> None: ...


class ServedApp(Protocol):
    """What the shared parts need from a sandbox's app: its traffic counters and open connections."""

    @property
    def traffic(self) -> _Traffic: ...

    @property
    def connections(self) -> set[socket.socket]: ...


AppT = TypeVar("AppT", bound=ServedApp)


class LoopbackServer(ThreadingHTTPServer):
    """Loopback server whose handler threads never block shutdown."""

    daemon_threads = True
    block_on_close = False
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], app: Any, handler: type[BaseHTTPRequestHandler]):
        self.app = app
        super().__init__(address, handler)


class TrackedHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 keep-alive handler that counts its connection in the app and logs nothing."""

    protocol_version = "HTTP/1.1"
    sys_version = ""
    disable_nagle_algorithm = True
    timeout = 120  # the providers' own request timeout; also ends idle keep-alive connections
    server: LoopbackServer

    def setup(self) -> None:
        super().setup()
        app: ServedApp = self.server.app
        app.traffic.connection(+1)
        app.connections.add(self.connection)

    def finish(self) -> None:
        app: ServedApp = self.server.app
        app.connections.discard(self.connection)
        app.traffic.connection(-1)
        try:
            super().finish()
        except OSError:
            pass

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: tests read the request log through the sandbox instead."""


class ServedSandbox(Generic[AppT]):
    """Start/stop of a sandbox's server on a background thread; subclasses call ``_serve_with`` first."""

    label = "sandbox"
    poll_seconds = 0.05

    def _serve_with(self, address: tuple[str, int], app: AppT, handler: type[BaseHTTPRequestHandler]) -> None:
        self._address = address
        self._app = app
        self._handler = handler
        self._server: LoopbackServer | None = None
        self._thread: threading.Thread | None = None

    def _started(self) -> None:
        """Called once the server is bound (its port known), before it serves."""

    def start(self) -> Self:
        """Start serving on a background thread; returns self."""
        if self._server is None:
            try:
                self._server = LoopbackServer(self._address, self._app, self._handler)
            except OSError as error:
                raise ConnectionFailed(f"cannot serve the {self.label} on {self._address[0]}:"
                                       f"{self._address[1]}: {error.strerror or error}") from None
            self._started()
            self._thread = threading.Thread(target=self._server.serve_forever, args=(self.poll_seconds,),
                                            name=self.label.lower().replace(" ", "-"), daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and drop open connections."""
        if self._server is None:
            return
        self._server.shutdown()
        for connection in list(self._app.connections):
            try:
                connection.shutdown(2)
            except OSError:
                pass
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the sandbox is not running; call start() first")
        return self._server.server_address[1]
