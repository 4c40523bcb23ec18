"""Timestamps the Mail+ way (Europe/Amsterdam, offset, milliseconds) and a clock that tests can fix.

Internally every moment is an aware datetime truncated to milliseconds. Naive input (query parameters without an
offset, control-method arguments) is read as Europe/Amsterdam local time, as the API is inferred to do.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
_SPACED_OFFSET = re.compile(r" (\d\d(?::?\d\d)?)$")  # a '+' that form decoding turned into a space


def to_text(moment: datetime) -> str:
    """``2024-05-01T10:15:00.000+02:00``: Amsterdam time with offset and milliseconds."""
    return moment.astimezone(AMSTERDAM).isoformat(timespec="milliseconds")


def truncate(moment: datetime) -> datetime:
    """``moment`` made aware (naive = Amsterdam local time) and cut to whole milliseconds."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=AMSTERDAM)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def parse_moment(text: str) -> datetime | None:
    """An ISO 8601 query value as an aware datetime (no offset = Amsterdam); None when it does not parse."""
    text = _SPACED_OFFSET.sub(r"+\1", text.strip())
    try:
        return truncate(datetime.fromisoformat(text))
    except ValueError:
        return None


def coerce_moment(value: datetime | str) -> datetime:
    """A control-method timestamp (datetime or ISO 8601 text) as an aware, millisecond datetime."""
    if isinstance(value, str):
        parsed = parse_moment(value)
        if parsed is None:
            raise ValueError(f"not an ISO 8601 timestamp: {value!r}")
        return parsed
    return truncate(value)


class Clock:
    """The sandbox's "now": the real time, or a fixed moment set by a test."""

    def __init__(self) -> None:
        self._fixed: datetime | None = None
        self._behind = timedelta(0)

    def set(self, moment: datetime | str | None) -> None:
        self._fixed = None if moment is None else coerce_moment(moment)

    def run_behind(self, seconds: float) -> None:
        """Run the real clock this many seconds late (a client's read window then always covers it)."""
        self._behind = timedelta(seconds=seconds)

    def now(self) -> datetime:
        return self._fixed or truncate(datetime.now(UTC) - self._behind)
