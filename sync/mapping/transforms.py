"""Pure conversions from CRM values (str, int, float, bool, date, datetime, None) to provider values.

Nothing here reads the clock, the locale or the environment: the same input always gives the same
output. A value that cannot be converted raises ``ConversionError`` whose message names the value;
the caller adds which field and which contact it belongs to.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Literal

from sync.records import FieldValue

Case = Literal["upper", "lower", "title"]

DATE_FORMATS = ("MM/DD/YYYY", "DD/MM/YYYY")
BIRTHDAY_FORMATS = ("MM/DD", "DD/MM")

# A plain decimal number: no thousands separators, a dot for decimals (so "1,5" is not guessed at).
_NUMBER_TEXT = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
# Title case starts a word after a space or a hyphen only: "jean-luc" becomes "Jean-Luc" and "it's" stays
# "It's" (str.title would give "It'S"); the price is "o'brien" -> "O'brien".
_WORD_START = re.compile(r"(^|[\s-])(\w)")
# Dutch, German and French name particles keep the case the CRM gave them: "Jan van Beek", "Karl von Bülow",
# "van Beek" (title case would make them "Van", which is right only in some positions and is the CRM's call);
# in text written all in capitals they become lower case ("JAN DE VRIES" -> "Jan de Vries").
NAME_PARTICLES = frozenset({"van", "de", "der", "den", "het", "ten", "ter", "te", "op", "in", "'t", "t", "von",
                            "vom", "zu", "zum", "zur", "du", "des", "la", "le", "d'", "di", "da", "dos", "del"})
_WORDS = re.compile(r"(\s+)")


# Text the provider should never receive: ANSI escape sequences (whole, so no "[31m" is left behind), then
# every other control character but tab and line breaks (C0, DEL, C1). NUL is refused, not stripped: it
# usually means binary data in a text column, and what is left of it is not what the CRM user typed.
_ANSI_ESCAPE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-_])")
_CONTROL = re.compile(r"[\x01-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


class ConversionError(ValueError):
    """A CRM value cannot become the provider value; the message says which value and why, ``code`` what
    kind of problem it is (counted per field in the warnings)."""

    def __init__(self, message: str, code: str = "invalid_value"):
        super().__init__(message)
        self.code = code


def excerpt(value: object, limit: int = 40) -> str:
    """A value for a message: its repr, cut to ``limit`` characters (a 10,000-character value stays readable)."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit - 1]}…"


def clean_text(text: str, max_length: int | None = None) -> tuple[str, int]:
    """The text without control characters, and how many characters were removed.

    Raises ``ConversionError`` for text holding NUL, and for text longer than ``max_length`` once cleaned
    (a provider would refuse the whole contact, or cut the value where nobody decided)."""
    if text.isprintable():  # no control character at all (the common case): nothing to remove
        cleaned = text
    elif "\x00" in text:
        raise ConversionError(f"{excerpt(text)} holds a NUL character (binary data in a text field?)", "nul_character")
    else:
        cleaned = _CONTROL.sub("", _ANSI_ESCAPE.sub("", text))
    if max_length is not None and len(cleaned) > max_length:
        raise ConversionError(f"{excerpt(cleaned)} has {len(cleaned)} characters; the provider keeps at most "
                              f"{max_length}", "too_long")
    return cleaned, len(text) - len(cleaned)


def is_empty(value: FieldValue) -> bool:
    """True for None and for text that is empty or only whitespace."""
    return value is None or (isinstance(value, str) and not value.strip())


def to_text(value: FieldValue | Decimal) -> str:
    """Render a CRM value as text: ISO 8601 dates, ``true``/``false``, numbers without a trailing ``.0``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (float, Decimal)):
        number = _normalise_number(_to_decimal(value))
        return str(number)
    return str(value)


def apply_case(text: str, case: Case | None) -> str:
    """Upper, lower or title case; None leaves the text as it is."""
    if case == "upper":
        return text.upper()
    if case == "lower":
        return text.lower()
    if case == "title":
        shouted = text.isupper()
        return "".join(_title_word(word) if word.lower() not in NAME_PARTICLES else word.lower() if shouted else word
                       for word in _WORDS.split(text))
    return text


def _title_word(word: str) -> str:
    return _WORD_START.sub(lambda m: m.group(1) + m.group(2).upper(), word.lower())


def join_text(values: Iterable[FieldValue], separator: str) -> str:
    """Join the non-empty values as text with ``separator``; empty values leave no double separators."""
    return separator.join(to_text(v).strip() for v in values if not is_empty(v))


def to_number(value: FieldValue | Decimal, decimals: int | None = None) -> int | float:
    """A JSON number, rounded half-up to ``decimals`` places; whole numbers come out as int.

    Text is parsed as a plain decimal number ("12.5", "-3", "1e3"); "1,5", "abc", NaN and infinity are refused.
    """
    if isinstance(value, bool):
        raise ConversionError(f"{value!r} is a yes/no value, not a number", "not_a_number")
    if isinstance(value, str):
        text = value.strip()
        if not _NUMBER_TEXT.fullmatch(text):
            raise ConversionError(f"{excerpt(value)} is not a number (use a dot for decimals and no thousands "
                                  "separators)", "not_a_number")
        number = Decimal(text)
    elif isinstance(value, (int, float, Decimal)):
        number = _to_decimal(value)
    else:
        raise ConversionError(f"{excerpt(value)} ({type(value).__name__}) is not a number", "not_a_number")
    if not number.is_finite():
        raise ConversionError(f"{value!r} is not a finite number", "not_a_number")
    if decimals is not None:
        try:
            number = number.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
        except InvalidOperation:
            raise ConversionError(f"{excerpt(value)} has too many digits to round to {decimals} decimals",
                                  "not_a_number") from None
    return _normalise_number(number)


def to_date(value: FieldValue) -> date:
    """The calendar date of a date, a datetime (in its own time zone) or ISO 8601 text."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            return datetime.fromisoformat(text).date() if len(text) > 10 else date.fromisoformat(text)
        except ValueError:
            raise ConversionError(f"{excerpt(value)} is not a date (expected YYYY-MM-DD)", "not_a_date") from None
    raise ConversionError(f"{excerpt(value)} ({type(value).__name__}) is not a date", "not_a_date")


def format_date(value: FieldValue, date_format: str) -> str:
    """Format a date as ``MM/DD/YYYY``, ``DD/MM/YYYY``, ``MM/DD`` or ``DD/MM``, whatever the locale."""
    day = to_date(value)
    parts = {"YYYY": f"{day.year:04d}", "MM": f"{day.month:02d}", "DD": f"{day.day:02d}"}
    try:
        return "/".join(parts[part] for part in date_format.split("/"))
    except KeyError:
        raise ConversionError(f"unknown date format {date_format!r}") from None


def translate_choice(value: FieldValue, choices: Mapping[str, str]) -> str:
    """The provider choice for a CRM value (matched on its text, exactly)."""
    key = to_text(value)
    try:
        return choices[key]
    except KeyError:
        known = ", ".join(repr(k) for k in choices)
        raise ConversionError(f"{excerpt(key)} has no translation in choices (known: {known})",
                              "unknown_choice") from None


def _to_decimal(value: float | Decimal) -> Decimal:
    # repr() of a float is its shortest round-tripping text, so 2.675 stays 2.675 (not 2.67499...).
    return value if isinstance(value, Decimal) else Decimal(repr(value) if isinstance(value, float) else value)


def _normalise_number(number: Decimal) -> int | float:
    # 12, 12.0 and Decimal("12.00") must give the same payload (and hash) whatever the CRM backend returns.
    if number.is_finite() and number == number.to_integral_value():
        return int(number)
    return float(number)
