"""Pure: whether a contact meets a condition, and which contacts a segment's steps select.

Values are compared literally: text ignoring case (``casefold``) but letter for letter, with no wildcards or
patterns, so quotes, ``%`` or SQL-looking text select exactly the contacts that hold that text. Dates are
compared as days (a date-time field by its UTC day); ``within_days: N`` means from N days before ``today`` up
to ``today``. A contact whose field is empty meets no test but ``empty: true``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from sync.records import CrmContact, FieldValue
from sync.segments.model import Combined, Condition, FieldTest, ListTest, Step


def meets(condition: Condition, contact: CrmContact, today: date) -> bool:
    """Whether ``contact`` meets ``condition`` on ``today``."""
    if isinstance(condition, ListTest):
        return condition.list_id in contact.list_ids
    if isinstance(condition, Combined):
        parts = (meets(part, contact, today) for part in condition.parts)
        return all(parts) if condition.kind == "all" else any(parts)
    return _field_test(condition, contact.fields.get(condition.field), today)


def step_membership(steps: Sequence[Step], contact: CrmContact, today: date) -> list[bool]:
    """Whether the contact is selected after each step: an include adds it when it meets the step's
    condition, an exclude removes it."""
    selected, after = False, []
    for step in steps:
        if step.action == "include":
            selected = selected or meets(step.condition, contact, today)
        else:
            selected = selected and not meets(step.condition, contact, today)
        after.append(selected)
    return after


def _field_test(test: FieldTest, value: FieldValue, today: date) -> bool:
    operator, wanted = test.operator, test.value
    if operator == "empty":
        return _is_empty(value) == wanted
    if _is_empty(value):
        return False
    if operator == "equals":
        return _equal(value, wanted)
    if operator == "in":
        return isinstance(wanted, tuple) and any(_equal(value, item) for item in wanted)
    if operator == "contains":
        return isinstance(value, str) and isinstance(wanted, str) and wanted.casefold() in value.casefold()
    if operator in ("before", "after", "within_days"):
        day = _day(value)
        if day is None:
            return False
        if operator == "within_days":
            return isinstance(wanted, int) and today - timedelta(days=wanted) <= day <= today
        if not isinstance(wanted, date):
            return False
        return day < wanted if operator == "before" else day > wanted
    number = _number(value)
    if number is None or not isinstance(wanted, float):
        return False
    return {"gt": number > wanted, "gte": number >= wanted, "lt": number < wanted, "lte": number <= wanted}[operator]


def _is_empty(value: FieldValue) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _equal(value: FieldValue, wanted: object) -> bool:
    if isinstance(wanted, bool) or isinstance(value, bool):
        return isinstance(value, bool) and value is wanted
    if isinstance(wanted, float):
        return _number(value) == wanted
    if isinstance(wanted, date):
        return _day(value) == wanted
    return isinstance(value, str) and isinstance(wanted, str) and value.casefold() == wanted.casefold()


def _day(value: FieldValue) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip()[:10])
        except ValueError:
            return None
    return None


def _number(value: FieldValue) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None
