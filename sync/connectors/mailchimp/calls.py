"""Calling the official Mailchimp SDK safely: one place that turns its results into data or classified errors.

The SDK (mailchimp-marketing 3.0.80) has traps: errors come as ``ApiClientError`` whose ``text`` is the
problem+json *string* (or a dict, or HTML), and a bodiless 429 or any 204 is *returned* as a raw
``requests.Response`` instead of raised. ``call`` hides all of that:

| what came back                                   | what ``call`` does                          |
|--------------------------------------------------|---------------------------------------------|
| 2xx with JSON                                    | returns the dict                            |
| 2xx without body (204)                           | returns ``{}``                              |
| 2xx with a body that is not JSON (a proxy's page, | raises TransientError (retried)             |
| a cut-off JSON document)                         |                                             |
| 401, or 403 with a JSON body                     | raises ConfigError naming the setting       |
| 429, 5xx, bodiless 403, transport error/timeout  | raises TransientError (retried: sync/retry.py) |
| other 4xx                                        | raises ProviderRejected with title/detail   |
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import requests
from mailchimp_marketing.api_client import ApiClientError

from sync import retry
from sync.errors import TransientError


def call(operation: Callable[..., Any], *args: Any, **kwargs: Any) -> dict[str, Any]:
    """Run one SDK operation; return its JSON body (``{}`` when none) or raise a classified error."""
    try:
        result = operation(*args, **kwargs)
    except ApiClientError as error:
        if error.status_code is None:
            raise TransientError(f"Mailchimp could not be reached: {_one_line(error.text)}") from None
        raise classify(error.status_code, _problem(error.text)) from None
    if isinstance(result, requests.Response):
        if result.status_code < 300 and result.content:  # the SDK could not parse it: cut-off or not JSON
            raise retry.not_json("Mailchimp", result.status_code, result.text)
        if result.status_code < 300:
            return {}
        raise classify(result.status_code, None, retry.retry_after_seconds(result.headers))
    if isinstance(result, (str, bytes)):  # the SDK hands back the text of a non-JSON success
        raise retry.not_json("Mailchimp", 200, result)
    return result if isinstance(result, dict) else {}


def classify(status: int, problem: dict[str, Any] | None, retry_after: float | None = None) -> Exception:
    """The error for a Mailchimp status and problem body (see sync/retry.py for the table)."""
    return retry.classify(status, problem, "Mailchimp",
                          "CRM_SYNC_MAILCHIMP__API_KEY (key mailchimp.api_key) and mailchimp.base_url", retry_after)


def _problem(text: Any) -> dict[str, Any] | None:
    if isinstance(text, dict):
        return text
    if isinstance(text, (str, bytes)) and text:
        try:
            parsed = json.loads(text)
        except ValueError:
            return None  # an HTML page from the edge, not a problem document
        return parsed if isinstance(parsed, dict) else None
    return None


def _one_line(text: Any) -> str:
    return str(text).strip().splitlines()[0][:200] if text else "no details"
