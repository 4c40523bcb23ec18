"""Scripted misbehaviour for tests: the next N matching requests fail, throttle or answer slowly.

A faulted request never reaches the handlers, so it changes no state (except ``hold_answer_next``, which
delays the answer of a request that was carried out). Faults are consumed in the order they
were added; each matches on an optional method and a substring of the path (after ``/3.0``) or the whole path.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

BODY_KINDS = ("problem", "empty", "html", "truncated", "drop")
TITLES = {400: "Bad Request", 401: "API Key Invalid", 403: "Forbidden", 404: "Resource Not Found",
          429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway",
          503: "Service Unavailable", 504: "Gateway Timeout"}
BLOCKED_PAGE = "<html><head><title>Request Blocked</title></head><body><h1>Request Blocked</h1></body></html>"


@dataclass(slots=True)
class Fault:
    """One scripted behaviour. ``status`` None means "answer normally, after ``delay`` seconds"; then
    ``answer_delay`` holds the answer that long after the request took effect (a slow way back)."""

    remaining: int
    status: int | None
    body: str
    delay: float
    method: str | None
    path_contains: str | None
    answer_delay: float = 0.0
    path_is: str | None = None  # the whole path, for one route among its sub-routes (``/lists/{id}``)
    retry_after: int | None = None  # seconds, sent as a ``Retry-After`` header

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and (
            self.path_contains is None or self.path_contains in path) and (self.path_is is None or self.path_is == path)


@dataclass(slots=True)
class Hook:
    """Something that happens on the provider's side just before the ``countdown``-th matching request."""

    countdown: int
    action: Callable[[], None]
    method: str | None
    path_contains: str | None


FaultT = TypeVar("FaultT", bound=Fault)


class FaultPlan(Generic[FaultT]):
    """The queue of faults and hooks both sandboxes share; each adds its own ``*_next`` methods."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._plan: list[FaultT] = []
        self._hooks: list[Hook] = []

    def before_request(self, number: int, action: Callable[[], None], *, method: str | None = None,
                       path_contains: str | None = None) -> None:
        """Run ``action`` (e.g. a control method changing a list) just before the ``number``-th matching
        request from now is answered: a list that changes between two pages of one read."""
        if number < 1:
            raise ValueError(f"number must be at least 1; got {number}")
        with self._lock:
            self._hooks.append(Hook(number, action, method, path_contains))

    def clear(self) -> None:
        with self._lock:
            self._plan.clear()
            self._hooks.clear()

    @property
    def pending(self) -> int:
        """How many faulted answers are still to come."""
        with self._lock:
            return sum(f.remaining for f in self._plan)

    def take(self, method: str, path: str) -> FaultT | None:
        """The fault for this request, if any (used by the server); runs the hooks that are due first."""
        with self._lock:
            due = []
            for hook in list(self._hooks):
                if (hook.method is None or hook.method == method) and (
                        hook.path_contains is None or hook.path_contains in path):
                    hook.countdown -= 1
                    if hook.countdown <= 0:
                        self._hooks.remove(hook)
                        due.append(hook)
        for hook in due:
            hook.action()
        with self._lock:
            for fault in self._plan:
                if fault.matches(method, path):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._plan.remove(fault)
                    return fault
        return None

    def _add(self, fault: FaultT) -> None:
        if fault.remaining < 1:
            raise ValueError(f"n must be at least 1; got {fault.remaining}")
        with self._lock:
            self._plan.append(fault)


class Faults(FaultPlan[Fault]):
    """The fault plan of one sandbox (``sandbox.faults``); safe to change while requests are running."""

    def fail_next(self, n: int = 1, status: int = 503, *, body: str = "problem", method: str | None = None,
                  path_contains: str | None = None, delay: float = 0.0, path_is: str | None = None,
                  retry_after: int | None = None) -> None:
        """Answer the next ``n`` matching requests with ``status`` (and ``Retry-After: retry_after``).

        ``body``: ``problem`` (problem+json, like the API), ``empty`` (no body, no Content-Type: the SDK then
        returns a raw Response instead of raising), ``html`` (a WAF "Request Blocked" page) or ``truncated``
        (a JSON document cut off halfway, as a dropped proxy connection leaves it).
        """
        if body not in BODY_KINDS:
            raise ValueError(f"body must be one of {BODY_KINDS}; got {body!r}")
        self._add(Fault(n, status, body, delay, method, path_contains, path_is=path_is, retry_after=retry_after))

    def throttle_next(self, n: int = 1, *, with_body: bool = False, method: str | None = None,
                      path_contains: str | None = None, path_is: str | None = None,
                      retry_after: int | None = None) -> None:
        """A burst of ``n`` 429s: body-less by default, like Mailchimp under heavy load."""
        self.fail_next(n, 429, body="problem" if with_body else "empty", method=method,
                       path_contains=path_contains, path_is=path_is, retry_after=retry_after)

    def drop_next(self, n: int = 1, *, method: str | None = None, path_contains: str | None = None) -> None:
        """Close the next ``n`` matching connections without answering (a dropped connection)."""
        self.fail_next(n, 599, body="drop", method=method, path_contains=path_contains)

    def slow_next(self, n: int = 1, seconds: float = 1.0, *, method: str | None = None,
                  path_contains: str | None = None, path_is: str | None = None) -> None:
        """Hold the next ``n`` matching requests for ``seconds`` before answering them normally."""
        self._add(Fault(n, None, "problem", seconds, method, path_contains, path_is=path_is))

    def hold_answer_next(self, n: int = 1, seconds: float = 1.0, *, method: str | None = None,
                         path_contains: str | None = None, path_is: str | None = None) -> None:
        """Carry out the next ``n`` matching requests at once, then hold their answers for ``seconds``: the
        API applied the write, and a client killed or timed out meanwhile never learns it did."""
        self._add(Fault(n, None, "problem", 0.0, method, path_contains, answer_delay=seconds, path_is=path_is))
