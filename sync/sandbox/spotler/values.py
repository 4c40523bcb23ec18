"""Property values as a write sends them: checked by property type, turned into what the contact stores.

``""`` and ``null`` clear a property. A ``set`` property is a list of ``{"bit", "enabled"}``; only the bits sent
change. Formats follow ``spotler-api.md`` §5.2 (``money``: whole cents as a JSON integer or a string of digits,
``mobNr``: digits with an optional leading ``+``; both inferred).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any, TypeGuard

from sync.sandbox.spotler.catalogue import Catalogue, Property

MAX_STRING = 255
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
_POSTCODE = re.compile(r"^[1-9][0-9]{3}\s?[A-Za-z]{2}$")
_MOBILE = re.compile(r"^\+?[0-9]{6,20}$")
_MONEY = re.compile(r"^-?[0-9]+$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_EXPECTED = {
    "string": f"text of at most {MAX_STRING} characters", "email": "an e-mail address",
    "int": "a whole number", "date": "a date YYYY-MM-DD", "birthdate": "a date YYYY-MM-DD",
    "dateTime": "an ISO 8601 date-time with offset", "postcode": "a Dutch postcode such as 1234 AB",
    "gender": "M or F", "mobNr": "a mobile number: digits with an optional leading +",
    "money": "whole cents", "set": 'a list of {"bit": <int>, "enabled": <bool>}',
}


class InvalidProperty(ValueError):
    """A property the account lacks or a value its type rejects; the message names both."""


def parse_properties(catalogue: Catalogue, sent: Any) -> dict[str, Any]:
    """The ``properties`` of a write as ``{name: stored value}``: ``None`` clears, a ``set`` gives
    ``{bit: enabled}`` of the bits sent. Raises ``InvalidProperty`` at the first bad one."""
    if not isinstance(sent, Mapping):
        raise InvalidProperty(f"properties must be an object; got {sent!r}")
    parsed: dict[str, Any] = {}
    for name, value in sent.items():
        prop = catalogue.get(name)
        if prop is None:
            raise InvalidProperty(f"Property is invalid: {name!r} is not a property of this account")
        parsed[name] = parse_value(prop, value)
    return parsed


def parse_value(prop: Property, value: Any) -> Any:
    """One value checked against its property; ``None`` means clear."""
    if value is None or value == "":
        return None
    if prop.type == "set":
        return _bits(prop, value)
    if not _CHECKS[prop.type](value):
        raise InvalidProperty(f"Property is invalid: {prop.name} = {value!r} (expected {_EXPECTED[prop.type]})")
    return value.strip() if prop.type == "email" else value


def _bits(prop: Property, value: Any) -> dict[int, bool]:
    if not isinstance(value, list):
        raise InvalidProperty(f"Property is invalid: {prop.name} = {value!r} (expected {_EXPECTED['set']})")
    bits: dict[int, bool] = {}
    for item in value:
        bit = item.get("bit") if isinstance(item, Mapping) else None
        enabled = item.get("enabled") if isinstance(item, Mapping) else None
        if not _is_int(bit) or not isinstance(enabled, bool):
            raise InvalidProperty(f"Property is invalid: {prop.name} item {item!r} (expected {_EXPECTED['set']})")
        if bit not in prop.entries:
            raise InvalidProperty(f"Property is invalid: {prop.name} has no bit {bit} "
                                  f"(bits: {', '.join(map(str, prop.entries))})")
        bits[bit] = enabled
    return bits


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_date(value: Any) -> bool:
    if not isinstance(value, str) or not _DATE.match(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _is_date_time(value: Any) -> bool:
    if not isinstance(value, str) or "T" not in value:
        return False
    try:
        return datetime.fromisoformat(value).tzinfo is not None
    except ValueError:
        return False


def _matches(pattern: re.Pattern[str]) -> Callable[[Any], bool]:
    return lambda value: isinstance(value, str) and pattern.match(value.strip()) is not None


_CHECKS: dict[str, Callable[[Any], bool]] = {
    "string": lambda value: isinstance(value, str) and len(value) <= MAX_STRING,
    "email": _matches(_EMAIL),
    "int": _is_int,
    "date": _is_date,
    "birthdate": _is_date,
    "dateTime": _is_date_time,
    "postcode": lambda value: isinstance(value, str) and _POSTCODE.match(value) is not None,
    "gender": lambda value: value in ("M", "F"),
    "mobNr": lambda value: isinstance(value, str) and _MOBILE.match(value) is not None,
    "money": lambda value: _is_int(value) or (isinstance(value, str) and _MONEY.match(value) is not None),
}
