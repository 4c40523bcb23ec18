"""The one place that decides what an HTTP failure means and how long to keep trying.

| failure                                            | class           | what happens                          |
|----------------------------------------------------|-----------------|---------------------------------------|
| 401; 403 with a JSON body                          | ConfigError     | the run stops: fix the named setting  |
| 408, 429, 5xx, body-less 403, timeout, dropped connection | TransientError | retried: jittered exponential backoff, at least ``Retry-After``, bounded in total time |
| any other 4xx                                      | ProviderRejected| recorded on the record it belongs to  |
"""

from __future__ import annotations

import logging
from typing import Any

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_delay,
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
        error = TransientError(f"{provider} answered {status} {title or '(no body)'}".strip())
        error.retry_after = retry_after
        return error
    return ProviderRejected(status, title or "Error", detail, (problem or {}).get("errors"))


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


def retrying(total_seconds: float, initial_wait: float = 0.5, max_wait: float = 30.0) -> Retrying:
    """Retry transient errors with jittered exponential backoff (at least Retry-After) for ``total_seconds``."""
    return Retrying(
        retry=retry_if_exception_type(TransientError),
        wait=_WaitHonouringRetryAfter(initial_wait, max_wait),
        stop=stop_after_delay(total_seconds),
        reraise=True,
        before_sleep=lambda state: log.warning("retrying after: %s", state.outcome.exception()),
    )
