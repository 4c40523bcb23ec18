"""Logging for the console command: human lines or JSON lines on stderr, with secrets masked in every record.

Public API: :func:`configure_logging` (call once, after settings are loaded), :func:`secrets_in` (the secret
values of a settings object, to hand to ``configure_logging``) and :class:`RedactionFilter`.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any, TextIO
from urllib.parse import quote

from pydantic import BaseModel, SecretStr
from sqlalchemy import make_url
from sqlalchemy.exc import ArgumentError

MASK = "***"
LOG_FORMATS = ("text", "json")
# Chatty below WARNING; their detail is only wanted with -v.
QUIET_LOGGERS = ("alembic", "urllib3", "requests", "mailchimp_marketing")

# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_RECORD_ATTRIBUTES = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message", "asctime", "taskName"}

_PATTERNS = (
    # Mailchimp API keys: 32 hex digits, '-', the datacenter (kept: it is not secret and helps debugging).
    (re.compile(r"\b[0-9a-f]{32}(?=-[a-z]{2,5}[0-9]{1,3}\b)", re.IGNORECASE), MASK),
    # user:password@ in URLs; greedy up to the token's last '@', so a raw '@' in a password is covered too.
    (re.compile(r"(//[^\s:/@]*:)\S*@"), rf"\g<1>{MASK}@"),
    # Authorization headers, as sent or as a dict repr: "Authorization: Basic x", "'Authorization': 'Bearer x'".
    (re.compile(r"""(authorization["']?\s*[:=]\s*["']?(?:(?:basic|bearer|token|apikey)\s+)?)[^\s"',;}]+""",
                re.IGNORECASE), rf"\g<1>{MASK}"),
)


class RedactionFilter(logging.Filter):
    """Masks the given secret values and secret-looking patterns in a record's message, extras and traceback.

    It rewrites the record in place (message formatted with its args, then masked; args dropped), so
    every handler after it sees the masked text too.
    """

    def __init__(self, secrets: Iterable[str] = ()):
        super().__init__()
        spellings = set()
        for secret in secrets:
            if secret and secret.strip():
                spellings.update({secret, quote(secret, safe="")})
        self._secrets = sorted(spellings, key=len, reverse=True)  # longest first: no partial leftovers

    def redact(self, text: str) -> str:
        """``text`` with every known secret and secret-looking pattern replaced by ``***``."""
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        for pattern, replacement in _PATTERNS:
            text = pattern.sub(replacement, text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad %-format must not break the caller; the raw parts still get masked
            message = f"{record.msg!r} (log arguments that do not fit: {record.args!r})"
        record.msg, record.args = self.redact(message), ()
        for key in _extra_keys(record):
            setattr(record, key, self._redact_value(getattr(record, key)))
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True

    def _redact_value(self, value: Any) -> Any:
        if isinstance(value, bool | int | float | None):
            return value
        if isinstance(value, dict):
            return {self.redact(str(key)): self._redact_value(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [self._redact_value(item) for item in value]
        return self.redact(str(value))  # formatters would str() it anyway; this way the string is masked


def short_name(logger: str) -> str:
    """What a text line calls a logger: the outside system for a connector (``sync.connectors.mailchimp.audience``
    is ``mailchimp``), else the module (``sync.push.executor`` is ``executor``)."""
    parts = logger.split(".")
    if parts[:2] == ["sync", "connectors"] and len(parts) > 3:
        return parts[2]
    return parts[-1]


class TextFormatter(logging.Formatter):
    """``12:03:07 INFO    push: message key=value``, then the traceback if any."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(short_name)s: %(message)s", datefmt="%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        setattr(record, "short_name", short_name(record.name))  # noqa: B010 (LogRecord declares no such field)
        line = super().format(record)
        delattr(record, "short_name")
        extras = " ".join(f"{key}={getattr(record, key)}" for key in _extra_keys(record))
        if not extras:
            return line
        first, newline, rest = line.partition("\n")  # extras belong on the message line, not after a traceback
        return f"{first} {extras}{newline}{rest}"


class JsonFormatter(logging.Formatter):
    """One JSON object per record: ts (ISO 8601 UTC), level, logger, message, extras, exception, stack."""

    def format(self, record: logging.LogRecord) -> str:
        created = datetime.fromtimestamp(record.created, UTC)
        payload: dict[str, Any] = {
            "ts": created.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in _extra_keys(record):
            payload[key if key not in payload else f"extra_{key}"] = getattr(record, key)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            payload["exception"] = record.exc_text
        if record.stack_info:
            payload["stack"] = record.stack_info
        return json.dumps(payload, ensure_ascii=False, default=str)


class _SyncHandler(logging.StreamHandler):
    """The root handler this module installs; recognised so a second configure_logging replaces it."""


def configure_logging(log_format: str, verbose: bool, secrets: Iterable[str] = (),
                      stream: TextIO | None = None) -> None:
    """Send log records to ``stream`` (stderr) as text or JSON lines, masking ``secrets`` and secret patterns.

    INFO and up, or DEBUG and up when ``verbose``; alembic, urllib3, requests and mailchimp_marketing only
    from WARNING unless ``verbose``. Calling it again replaces the previous configuration. The handler goes
    before any other root handler, so those see masked records too (handlers on other loggers run earlier).
    """
    if log_format not in LOG_FORMATS:
        raise ValueError(f"log format must be one of {', '.join(LOG_FORMATS)}, not {log_format!r}")
    handler = _SyncHandler(stream if stream is not None else sys.stderr)
    handler.addFilter(RedactionFilter(secrets))
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    root = logging.getLogger()
    others = list(root.handlers)
    for existing in others:
        root.removeHandler(existing)
        if isinstance(existing, _SyncHandler):
            existing.close()
    # First in line, so any other root handler (a test's, an error tracker's) only sees masked records.
    for installed in [handler, *(other for other in others if not isinstance(other, _SyncHandler))]:
        root.addHandler(installed)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.NOTSET if verbose else logging.WARNING)


def secrets_in(settings: BaseModel) -> list[str]:
    """The values to mask for ``settings``: every ``SecretStr``, but of a database URL only its password.

    A URL without a password (``sqlite:///data/crm.db``) is not secret, and masking it would hide which
    database a log line is about.
    """
    found: list[str] = []
    for value in _leaves(settings):
        if isinstance(value, SecretStr):
            secret = value.get_secret_value()
            found.extend(_url_passwords(secret) if "://" in secret else [secret])
    return [secret for secret in found if secret]


def _url_passwords(url: str) -> list[str]:
    """The password of ``url`` as written and as decoded; a malformed URL still gives up what it holds."""
    passwords = []
    written = re.search(r"//[^:/@]*:(.*)@", url)
    if written:
        passwords.append(written.group(1))
    try:
        decoded = make_url(url).password
    except (ArgumentError, ValueError):
        decoded = None
    if decoded:
        passwords.append(str(decoded))
    return passwords


def _leaves(node: Any) -> Iterator[Any]:
    if isinstance(node, BaseModel):
        for name in type(node).model_fields:
            yield from _leaves(getattr(node, name))
    elif isinstance(node, dict):
        for item in node.values():
            yield from _leaves(item)
    elif isinstance(node, list | tuple):
        for item in node:
            yield from _leaves(item)
    else:
        yield node


def _extra_keys(record: logging.LogRecord) -> list[str]:
    return [key for key in record.__dict__ if key not in _RECORD_ATTRIBUTES and not key.startswith("_")]
