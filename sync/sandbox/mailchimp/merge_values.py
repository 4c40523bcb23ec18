"""Validation of member ``merge_fields`` values against the audience's merge-field definitions.

Pure functions: given the fields by tag and the values a request sent, return the values to store and the
``{field, message}`` errors Mailchimp would list under "Your merge fields were invalid.".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sync.sandbox.mailchimp.state import MergeField

ADDRESS_REQUIRED = ("addr1", "city", "state", "zip")
DEFAULT_DATE_FORMAT = {"date": "MM/DD/YYYY", "birthday": "MM/DD"}

_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)
_US_ZIP = re.compile(r"^\d{5}(-\d{4})?$")
_PHONE_CHARACTERS = re.compile(r"^[0-9+()./ -]+$")
_DATE_TOKENS = {"MM": "%m", "DD": "%d", "YYYY": "%Y"}


class _Invalid(ValueError):
    """One value failed its field's rule; the message is Mailchimp's text for the user."""


def check_merge_values(
    fields_by_tag: Mapping[str, MergeField],
    sent: Any,
    current: Mapping[str, Any] | None,
    skip_required: bool,
) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """Merge ``sent`` into ``current`` values; return (values to store, errors).

    Unknown tags are ignored like the real API; ``""`` or ``null`` clears a value; required fields must end
    up with a value unless ``skip_required`` (the ``skip_merge_validation`` query parameter).
    """
    merged = dict(current or {})
    errors: list[dict[str, str]] = []
    if sent is None:
        sent = {}
    if not isinstance(sent, Mapping):
        return merged, [{"field": "merge_fields", "message": "merge_fields must be an object keyed by tag"}]
    for raw_tag, value in sent.items():
        tag = str(raw_tag).upper()
        merge_field = fields_by_tag.get(tag)
        if merge_field is None:
            continue
        if value is None or value == "":
            merged.pop(tag, None)
            continue
        try:
            merged[tag] = normalise_value(merge_field, value)
        except _Invalid as problem:
            errors.append({"field": tag, "message": str(problem)})
    if not skip_required:
        for tag, merge_field in fields_by_tag.items():
            if merge_field.required and tag not in merged and not any(e["field"] == tag for e in errors):
                errors.append({"field": tag, "message": "Please enter a value"})
    return merged, errors


def normalise_value(merge_field: MergeField, value: Any) -> Any:
    """The stored form of ``value`` for ``merge_field``; raises ``_Invalid`` with Mailchimp's message."""
    kind = merge_field.type
    if kind == "text":
        return _text(value)
    if kind == "number":
        return _number(value)
    if kind == "address":
        return _address(value)
    if kind in ("date", "birthday"):
        return _date(value, merge_field.options.get("date_format") or DEFAULT_DATE_FORMAT[kind], kind)
    if kind in ("radio", "dropdown"):
        choices = merge_field.options.get("choices") or []
        if value not in choices:
            raise _Invalid(f"Please choose one of: {', '.join(map(str, choices))}")
        return value
    text = _text(value)
    if kind in ("url", "imageurl") and not _URL.match(text):
        raise _Invalid("Please enter a valid URL")
    if kind == "zip" and not _US_ZIP.match(text):
        raise _Invalid("Please enter a valid zip code")
    if kind == "phone":
        _phone(text, merge_field.options.get("phone_format", ""))
    return text


def _text(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise _Invalid("Data did not match any of the schemas described in anyOf.")
    return str(value)


def _number(value: Any) -> int | float:
    if isinstance(value, bool):
        raise _Invalid("Please enter a number")
    if isinstance(value, (int, float)):
        return value
    try:
        number = float(str(value).strip())
    except ValueError:
        raise _Invalid("Please enter a number") from None
    return int(number) if number.is_integer() and "." not in str(value) else number


def _address(value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise _Invalid("Please enter a complete address")
    if any(not str(value.get(part) or "").strip() for part in ADDRESS_REQUIRED):
        raise _Invalid("Please enter a complete address")
    address = {part: str(value.get(part) or "") for part in ("addr1", "addr2", "city", "state", "zip")}
    address["country"] = str(value.get("country") or "US")
    return address


def _date(value: Any, date_format: str, kind: str) -> str:
    message = (
        "Please enter a month (01-12) and a day (01-31)" if kind == "birthday"
        else f"Please enter the date ({date_format})"
    )
    if not isinstance(value, str):
        raise _Invalid(message)
    pattern = date_format.upper()
    for token, directive in _DATE_TOKENS.items():
        pattern = pattern.replace(token, directive)
    if kind == "birthday":
        pattern += "/%Y"  # a leap year, so 02/29 is a valid birthday
        value_to_parse = value.strip() + "/2000"
    else:
        value_to_parse = value.strip()
    try:
        datetime.strptime(value_to_parse, pattern)
    except ValueError:
        raise _Invalid(message) from None
    return value.strip()


def _phone(text: str, phone_format: str) -> None:
    if not _PHONE_CHARACTERS.match(text):
        raise _Invalid("Please enter a valid phone number")
    if phone_format.upper() == "US" and len(re.sub(r"\D", "", text)) != 10:
        raise _Invalid("Please enter a phone number in the form xxx-xxx-xxxx")
