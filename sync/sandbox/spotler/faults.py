"""Scripted failures (``sandbox.faults``): the Mailchimp sandbox's fault plan with Spotler-shaped answers.

A faulted request never reaches the handlers, so it changes no state (except ``hold_answer_next``, which
delays the answer of a request that was carried out). Faults are used in the order added; each
matches an optional method and a substring of the path relative to the base URL (``/contact/list``).
"""

from __future__ import annotations

from dataclasses import dataclass

from sync.sandbox.mailchimp import faults as mailchimp_faults

BODY_KINDS = ("json", "empty", "html", "truncated")


@dataclass(slots=True)
class Fault(mailchimp_faults.Fault):
    """One scripted behaviour; ``retry_after`` (seconds) is sent as a ``Retry-After`` header."""


class Faults(mailchimp_faults.FaultPlan[Fault]):
    """``fail_next``, ``drop_next``, ``slow_next`` and ``hold_answer_next``; safe to change while requests run."""

    def fail_next(self, count: int = 1, status: int = 503, method: str | None = None,
                  path_contains: str | None = None, body: str = "json", retry_after: int | None = None,
                  delay: float = 0.0) -> None:
        """Answer the next ``count`` matching requests with ``status`` and ``body``: ``json`` (an
        ``{"errorType", "message"}`` document), ``empty`` (no body), ``html`` (a proxy's error page) or ``truncated``
        (a JSON document cut off halfway)."""
        if body not in BODY_KINDS:
            raise ValueError(f"body must be one of {BODY_KINDS}; got {body!r}")
        self._add(Fault(count, status, body, delay, method, path_contains, retry_after=retry_after))

    def throttle_next(self, count: int = 1, *, with_body: bool = True, method: str | None = None,
                      path_contains: str | None = None, retry_after: int | None = None) -> None:
        """A burst of ``count`` 429s."""
        self.fail_next(count, 429, method, path_contains, "json" if with_body else "empty", retry_after)

    def drop_next(self, count: int = 1, method: str | None = None,
                  path_contains: str | None = None) -> None:
        """Close the next ``count`` matching connections without answering."""
        self._add(Fault(count, 599, "drop", 0.0, method, path_contains))

    def slow_next(self, count: int = 1, delay: float = 1.0, method: str | None = None,
                  path_contains: str | None = None) -> None:
        """Hold the next ``count`` matching requests for ``delay`` seconds, then answer them normally."""
        self._add(Fault(count, None, "json", delay, method, path_contains))

    def hold_answer_next(self, count: int = 1, seconds: float = 1.0, *, method: str | None = None,
                         path_contains: str | None = None) -> None:
        """Carry out the next ``count`` matching requests at once, then hold their answers for ``seconds``."""
        self._add(Fault(count, None, "json", 0.0, method, path_contains, answer_delay=seconds))
