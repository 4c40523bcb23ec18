from __future__ import annotations

import json
import locale
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync.mapping.transforms import (
    _ANSI_ESCAPE,
    _CONTROL,
    ConversionError,
    apply_case,
    clean_text,
    format_date,
    is_empty,
    join_text,
    to_number,
    to_text,
    translate_choice,
)

CET = timezone(timedelta(hours=1))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ""),
        ("Jan", "Jan"),
        (" Jan ", " Jan "),
        (True, "true"),
        (False, "false"),
        (42, "42"),
        (-7, "-7"),
        (12.0, "12"),
        (12.5, "12.5"),
        (Decimal("12.50"), "12.5"),
        (0.1, "0.1"),
        (date(2024, 2, 29), "2024-02-29"),
        (datetime(2024, 2, 29, 23, 30, tzinfo=CET), "2024-02-29T23:30:00+01:00"),
    ],
)
def test_to_text(value, expected):
    assert to_text(value) == expected


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [
        (12, None, 12),
        (12.0, None, 12),
        (12.25, None, 12.25),
        (Decimal("12.00"), None, 12),
        ("12", None, 12),
        (" -3.5 ", None, -3.5),
        ("1e3", None, 1000),
        (".5", None, 0.5),
        (2.675, 2, 2.68),  # half up on the written value, not the binary float 2.67499...
        (2.665, 2, 2.67),
        (1234.567, 2, 1234.57),
        (1234.567, 0, 1235),
        ("0.125", 2, 0.13),
        (-0.125, 2, -0.13),
        (7, 2, 7),
    ],
)
def test_to_number(value, decimals, expected):
    result = to_number(value, decimals)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("abc", "'abc' is not a number"),
        ("1,5", "use a dot for decimals"),
        ("1.234,5", "no thousands separators"),
        ("nan", "is not a number"),
        ("inf", "is not a number"),
        (float("nan"), "not a finite number"),
        (float("inf"), "not a finite number"),
        (True, "yes/no value"),
        (date(2024, 1, 1), "is not a number"),
    ],
)
def test_to_number_refuses(value, fragment):
    with pytest.raises(ConversionError, match=fragment):
        to_number(value)


def test_to_number_refuses_a_value_too_long_to_round():
    with pytest.raises(ConversionError, match="too many digits"):
        to_number("1e40", 2)


@pytest.mark.parametrize(
    ("value", "date_format", "expected"),
    [
        (date(2024, 2, 9), "MM/DD/YYYY", "02/09/2024"),
        (date(2024, 2, 9), "DD/MM/YYYY", "09/02/2024"),
        (date(2024, 2, 9), "MM/DD", "02/09"),
        (date(2024, 2, 9), "DD/MM", "09/02"),
        (date(987, 12, 31), "DD/MM/YYYY", "31/12/0987"),
        ("2024-02-09", "DD/MM/YYYY", "09/02/2024"),
        (" 2024-02-09 ", "MM/DD", "02/09"),
        ("2024-02-09T23:30:00+01:00", "DD/MM/YYYY", "09/02/2024"),
        # A datetime keeps its own calendar date; it is not shifted to UTC or to the machine's zone.
        (datetime(2024, 2, 9, 23, 30, tzinfo=CET), "DD/MM/YYYY", "09/02/2024"),
        (datetime(2024, 2, 9, 0, 30), "MM/DD/YYYY", "02/09/2024"),
    ],
)
def test_format_date(value, date_format, expected):
    assert format_date(value, date_format) == expected


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("09-02-2024", "expected YYYY-MM-DD"),
        ("2024-02-30", "expected YYYY-MM-DD"),
        ("soon", "expected YYYY-MM-DD"),
        (20240209, "is not a date"),
        (True, "is not a date"),
    ],
)
def test_format_date_refuses(value, fragment):
    with pytest.raises(ConversionError, match=fragment):
        format_date(value, "DD/MM/YYYY")


def test_format_date_refuses_an_unknown_format():
    with pytest.raises(ConversionError, match="unknown date format"):
        format_date(date(2024, 1, 1), "YYYY-MM-DD")


def test_date_formatting_ignores_the_locale():
    previous = locale.setlocale(locale.LC_TIME)
    for name in ("de_DE.UTF-8", "nl_NL.UTF-8", "C.UTF-8", "C"):
        try:
            locale.setlocale(locale.LC_TIME, name)
        except locale.Error:
            continue
        try:
            assert format_date(date(2024, 2, 9), "DD/MM/YYYY") == "09/02/2024"
            assert to_text(date(2024, 2, 9)) == "2024-02-09"
        finally:
            locale.setlocale(locale.LC_TIME, previous)


@given(st.dates(min_value=date(1, 1, 1)))
def test_formatted_dates_read_back_as_the_same_date(day):
    day_first = format_date(day, "DD/MM/YYYY").split("/")
    month_first = format_date(day, "MM/DD/YYYY").split("/")
    assert date(int(day_first[2]), int(day_first[1]), int(day_first[0])) == day
    assert month_first == [day_first[1], day_first[0], day_first[2]]


@pytest.mark.parametrize(
    ("text", "case", "expected"),
    [
        ("jan de Vries", None, "jan de Vries"),
        ("jan de Vries", "upper", "JAN DE VRIES"),
        ("Jan DE Vries", "lower", "jan de vries"),
        ("JAN DE VRIES", "title", "Jan de Vries"),
        ("van Beek", "title", "van Beek"),
        ("Van Beek", "title", "Van Beek"),
        ("karl von bülow", "title", "Karl von Bülow"),
        ("hans op de beeck", "title", "Hans op de Beeck"),
        ("jean-luc picard", "title", "Jean-Luc Picard"),
        ("it's", "title", "It's"),
        ("élodie van ÅSEN", "title", "Élodie van Åsen"),
        ("", "title", ""),
    ],
)
def test_apply_case(text, case, expected):
    assert apply_case(text, case) == expected


@pytest.mark.parametrize(
    ("values", "separator", "expected"),
    [
        (["Jan", "de Vries"], " ", "Jan de Vries"),
        (["Jan", None], " ", "Jan"),
        ([None, "de Vries"], " ", "de Vries"),
        ([" Jan ", "  ", "Vries"], " ", "Jan Vries"),
        (["Utrecht", 3512], ", ", "Utrecht, 3512"),
        ([None, ""], " ", ""),
    ],
)
def test_join_text(values, separator, expected):
    assert join_text(values, separator) == expected


@pytest.mark.parametrize(
    ("value", "empty"),
    [(None, True), ("", True), ("   ", True), ("\t\n", True), ("x", False), (0, False), (False, False)],
)
def test_is_empty(value, empty):
    assert is_empty(value) is empty


CHOICES = {"gold": "Gold", "silver": "Silver", "true": "Yes", "false": "No", "3": "Three"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [("gold", "Gold"), ("silver", "Silver"), (True, "Yes"), (False, "No"), (3, "Three"), (3.0, "Three")],
)
def test_translate_choice(value, expected):
    assert translate_choice(value, CHOICES) == expected


@pytest.mark.parametrize("value", ["platinum", "Gold", " gold"])
def test_translate_choice_refuses_a_value_without_translation(value):
    with pytest.raises(ConversionError, match=r"has no translation in choices \(known: 'gold', 'silver'"):
        translate_choice(value, CHOICES)


@given(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(),
        st.dates(),
        st.datetimes(timezones=st.none() | st.timezones()),
    )
)
def test_text_of_any_crm_value_is_json_and_stable(value):
    text = to_text(value)
    assert json.loads(json.dumps(text)) == text == to_text(value)


@given(st.text().filter(lambda text: "\x00" not in text))
def test_cleaning_text_removes_exactly_the_escapes_and_control_characters(text):
    """Text with nothing to remove is passed through without the two expressions; the result is the same."""
    expected = _CONTROL.sub("", _ANSI_ESCAPE.sub("", text))
    assert clean_text(text) == (expected, len(text) - len(expected))
