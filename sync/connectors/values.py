"""Typed CRM values from what a CRM stores: yes/no flags, numbers, dates and times as every connector reads them.

A value that cannot be read as its type is kept as text (or None), for the mapping to reject with the contact's id.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal

from sync.records import CrmFieldType, FieldValue

# The spellings of yes and no a CRM column may hold (English, Dutch, German); anything else is unclear.
_TRUE_TEXT = {"1", "true", "yes", "on", "y", "t", "ja", "j", "waar"}
_FALSE_TEXT = {"0", "false", "no", "off", "n", "f", "nee", "nein", "onwaar", ""}


def as_utc(value: datetime) -> datetime:
    """A database time (naive means UTC) as an aware UTC datetime."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def to_bool(value: object) -> bool | None:
    """Booleans as CRMs store them (bool, 0/1, '0'/'1', 'yes'/'no', 'ja'/'nee', ...); None stays None, and so
    does anything unclear ('maybe', 2, 'nee, bellen'): only a clear yes is ever read as yes."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, (int, Decimal)):
        return {0: False, 1: True}.get(int(value)) if value == int(value) else None
    text = str(value).strip().lower()
    if text in _TRUE_TEXT:
        return True
    if text in _FALSE_TEXT:
        return False
    return None


def to_number(value: object) -> FieldValue:
    """int stays int; Decimal and float become float; numeric text is parsed, other text kept as is."""
    if value is None or isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bool):
        return int(value)
    text = str(value).strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        return text  # left for the mapping to reject with the contact's id
    return number if math.isfinite(number) else text  # 'NaN', '1e999': the mapping names the text


def to_date(value: object) -> FieldValue:
    if value is None or isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, datetime):
        return value.date()
    text = str(value).strip()
    if not text or text.startswith("0000-00-00"):
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return text


def to_datetime(value: object) -> FieldValue:
    if value is None:
        return None
    if isinstance(value, datetime):
        return as_utc(value)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    text = str(value).strip()
    if not text or text.startswith("0000-00-00"):
        return None
    try:
        return as_utc(datetime.fromisoformat(text))
    except ValueError:
        return text


def to_text(value: object) -> FieldValue:
    return value if value is None or isinstance(value, str) else str(value)


CONVERTERS: dict[CrmFieldType, Callable[[object], FieldValue]] = {
    CrmFieldType.TEXT: to_text,
    CrmFieldType.EMAIL: to_text,
    CrmFieldType.PHONE: to_text,
    CrmFieldType.DROPDOWN: to_text,
    CrmFieldType.NUMBER: to_number,
    CrmFieldType.DATE: to_date,
    CrmFieldType.DATETIME: to_datetime,
    CrmFieldType.CHECKBOX: to_bool,
}
