"""The one place that decides what an HTTP failure means and how long to keep trying.

| failure                                       | class            | what happens                              |
|-----------------------------------------------|------------------|-------------------------------------------|
| 401; 403 with a JSON body                     | ConfigError      | the run stops: fix the named setting      |
| 408, 429, 5xx, body-less 403, timeout, drop   | TransientError   | retried: jittered exponential backoff, at |
|                                               |                  | least ``Retry-After``, bounded in time    |
| any other 4xx                                 | ProviderRejected | recorded on the record it belongs to      |

A wait that would end past ``retry_seconds`` is not made: the error is raised at once (a ``Retry-After:
3600`` under a 600 s budget gives up and says so, instead of sleeping an hour). Every retry is logged with
its attempt, its wait and the time it gives up.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    wait_random_exponential,
)

from sync.errors import ConfigError, ProviderRejected, TransientError

log = logging.getLogger(__name__)


def classify(status: int, problem: dict[str, Any] | None, provider: str, key_setting: str,
             retry_after: float | None = None) -> Exception:
    """The error for an HTTP status and its problem body (None when there was no JSON body)."""
    title = (problem or {}).get("title") or ""
    detail = (problem or {}).get("detail") or ""
    if status == 401 or (status == 403 and problem is not None):
        return ConfigError(f"{provider} refused the credentials ({status} {title}: {detail}). Check {key_setting}.")
    if status in (403, 408, 429) or status >= 500:
        return TransientError(f"{provider} answered {status} {title or '(no body)'}".strip(), retry_after)
    return ProviderRejected(status, title or "Error", detail, (problem or {}).get("errors"), provider)


def not_json(provider: str, status: int, body: Any) -> TransientError:
    """A success status whose body is not the JSON the API always sends: a proxy's or portal's page.

    Retried like an outage (such pages are usually passing); if it lasts, the message says where to look.
    """
    text = " ".join(str(body or "").split())
    return TransientError(f"{provider} answered {status} with a page that is not JSON ({text[:80]!r}): a proxy, "
                          "firewall or portal between here and the API? Check the base_url setting if it lasts")


def retry_after_seconds(headers: Any) -> float | None:
    """``Retry-After`` in seconds when the server sent one (Mailchimp does not; proxies and others may)."""
    value = (headers or {}).get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


class _WaitHonouringRetryAfter:
    def __init__(self, initial: float, maximum: float):
        self._backoff = wait_random_exponential(multiplier=initial, max=maximum)

    def __call__(self, state: RetryCallState) -> float:
        backoff = self._backoff(state)
        error = state.outcome.exception() if state.outcome else None
        requested = getattr(error, "retry_after", None)
        return max(backoff, requested) if requested is not None else backoff


class _StopBeforeTheBudgetEnds:
    """Stop when the next wait would end past ``total_seconds``; say so when the server asked for that wait."""

    def __init__(self, total_seconds: float):
        self.total_seconds = total_seconds

    def __call__(self, state: RetryCallState) -> bool:
        left = self.total_seconds - (state.seconds_since_start or 0.0)
        if state.upcoming_sleep < left:
            return False
        error = state.outcome.exception() if state.outcome else None
        requested = getattr(error, "retry_after", None)
        if error is not None and requested is not None and requested >= left:
            error.args = ((f"{error}; it asked to be retried after {requested:g} s, more than the {max(left, 0):.0f} s "
                           f"left of retry_seconds ({self.total_seconds:g} s), so crm-sync gave up"),)
        return True


def _log_retry(total_seconds: float):
    def before_sleep(state: RetryCallState) -> None:
        gives_up = datetime.now(UTC) + timedelta(seconds=total_seconds - (state.seconds_since_start or 0.0))
        error = state.outcome.exception() if state.outcome else None
        log.warning("attempt %d failed: %s; retrying in %.1f s (gives up at %s UTC, retry_seconds=%g)",
                    state.attempt_number, error, state.upcoming_sleep,
                    gives_up.strftime("%H:%M:%S"), total_seconds)
    return before_sleep


def retrying(total_seconds: float, initial_wait: float = 0.5, max_wait: float = 30.0) -> Retrying:
    """Retry transient errors with jittered exponential backoff (at least Retry-After) for ``total_seconds``."""
    return Retrying(
        retry=retry_if_exception_type(TransientError),
        wait=_WaitHonouringRetryAfter(initial_wait, max_wait),
        stop=_StopBeforeTheBudgetEnds(total_seconds),
        reraise=True,
        before_sleep=_log_retry(total_seconds),
        sleep=time.sleep,
    )
