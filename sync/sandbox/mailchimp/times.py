"""Timestamps the way the Mailchimp API writes them: ISO 8601, seconds, explicit ``+00:00`` offset."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    """The current time in UTC, truncated to whole seconds like Mailchimp's timestamps."""
    return datetime.now(UTC).replace(microsecond=0)


def to_iso(moment: datetime) -> str:
    """Render ``moment`` as ``2026-11-22T21:10:50+00:00`` (naive datetimes are taken as UTC)."""
    if moment.tzinfo is UTC and not moment.microsecond:
        return moment.isoformat()  # the stored form: the fast path for rendering many members
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


def parse_iso(text: str) -> datetime | None:
    """Parse an ISO 8601 timestamp (``Z`` or an offset; none means UTC) to whole-second UTC; ``None`` when it is
    not one."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except (ValueError, AttributeError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(microsecond=0)


def coerce_time(value: datetime | str | None) -> datetime:
    """A control-method timestamp argument as an aware UTC datetime; ``None`` means now."""
    if value is None:
        return utc_now()
    if isinstance(value, str):
        parsed = parse_iso(value)
        if parsed is None:
            raise ValueError(f"not an ISO 8601 timestamp: {value!r}")
        return parsed
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).replace(microsecond=0)
