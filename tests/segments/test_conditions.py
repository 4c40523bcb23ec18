"""Pure condition evaluation: literal text, types, empty values, steps in order."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from sync.records import Consent, CrmContact
from sync.segments.conditions import meets, step_membership
from sync.segments.model import Combined, FieldTest, ListTest, Step

TODAY = date(2027, 3, 15)


def contact(lists=(), **fields) -> CrmContact:
    return CrmContact("1", "a@x.test", fields, Consent(True), datetime(2026, 1, 1, tzinfo=UTC),
                      list_ids=frozenset(lists))


@pytest.mark.parametrize(("test", "value", "expected"), [
    (FieldTest("k", "equals", "O'Brien"), "O'Brien", True),
    (FieldTest("k", "equals", "O'Brien"), "OBrien", False),
    (FieldTest("k", "equals", "nl"), "NL", True),  # case is ignored, letters are not
    (FieldTest("k", "equals", "' OR '1'='1"), "anything", False),
    (FieldTest("k", "equals", "' OR '1'='1"), "' OR '1'='1", True),
    (FieldTest("k", "contains", "%"), "100% organic", True),
    (FieldTest("k", "contains", "%"), "organic", False),  # no wildcard: % is a percent sign
    (FieldTest("k", "contains", "_"), "a", False),
    (FieldTest("k", "contains", "*"), "star", False),
    (FieldTest("k", "in", ("NL", "BE")), "be", True),
    (FieldTest("k", "in", ("NL", "BE")), "DE", False),
    (FieldTest("k", "empty", True), None, True),
    (FieldTest("k", "empty", True), "  ", True),
    (FieldTest("k", "empty", False), "x", True),
    (FieldTest("k", "empty", False), None, False),
    (FieldTest("k", "equals", "x"), None, False),
    (FieldTest("k", "gt", 10.0), 10.5, True),
    (FieldTest("k", "gt", 10.0), 10, False),
    (FieldTest("k", "gte", 10.0), 10, True),
    (FieldTest("k", "lt", 10.0), 9.99, True),
    (FieldTest("k", "lte", 10.0), 10.01, False),
    (FieldTest("k", "equals", 10.0), 10, True),
    (FieldTest("k", "lt", 10.0), None, False),
    (FieldTest("k", "equals", True), True, True),
    (FieldTest("k", "equals", False), None, False),
    (FieldTest("k", "equals", False), False, True),
    (FieldTest("k", "before", date(2026, 1, 1)), date(2025, 12, 31), True),
    (FieldTest("k", "before", date(2026, 1, 1)), date(2026, 1, 1), False),
    (FieldTest("k", "after", date(2026, 1, 1)), datetime(2026, 1, 2, 0, 0, tzinfo=UTC), True),
    (FieldTest("k", "equals", date(2026, 1, 2)), datetime(2026, 1, 2, 23, 59, tzinfo=UTC), True),
    (FieldTest("k", "within_days", 30), date(2027, 2, 13), True),
    (FieldTest("k", "within_days", 30), date(2027, 2, 12), False),
    (FieldTest("k", "within_days", 30), date(2027, 3, 16), False),  # the future is not within the past days
])
def test_field_tests(test, value, expected):
    assert meets(test, contact(k=value), TODAY) is expected


def test_combinations_and_lists():
    gold_nl = Combined("all", (FieldTest("tier", "equals", "gold"), FieldTest("country", "equals", "NL")))
    either = Combined("any", (gold_nl, ListTest("7", "VIP")))
    assert meets(either, contact(tier="gold", country="NL"), TODAY)
    assert not meets(either, contact(tier="gold", country="BE"), TODAY)
    assert meets(either, contact(lists=["7"], tier="silver"), TODAY)


def test_steps_add_and_remove_in_order():
    nl, vip = FieldTest("country", "equals", "NL"), ListTest("7", "VIP")
    steps = (Step("include", nl), Step("exclude", vip), Step("include", vip))
    assert step_membership(steps, contact(lists=["7"], country="NL"), TODAY) == [True, False, True]
    assert step_membership(steps, contact(country="NL"), TODAY) == [True, True, True]
    assert step_membership(steps[:2], contact(lists=["7"], country="NL"), TODAY) == [True, False]
    assert step_membership(steps, contact(country="BE"), TODAY) == [False, False, False]
