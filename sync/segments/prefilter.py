"""Pure: the condition a contact must meet for a segment's steps to select it at all.

A CRM that filters server-side (``FilteredReads``) is asked for the contacts that may meet it; every other
contact is selected by no step (an include step adds only contacts meeting its condition, an exclude step
never adds), so leaving it out of the stream changes no step count, candidate or verdict.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from sync.segments.model import Combined, Condition, FieldTest, ListTest, Step


def include_condition(steps: Sequence[Step], today: date) -> Combined:
    """Any of the include steps' conditions, with ``within_days`` spelled as dates around ``today``."""
    return Combined("any", tuple(_dated(step.condition, today) for step in steps if step.action == "include"))


def _dated(condition: Condition, today: date) -> Condition:
    """``within_days: N`` as after the day before ``today - N`` and before the day after ``today``: the same
    days, in operators a CRM can filter without knowing ``today``."""
    if isinstance(condition, ListTest):
        return condition
    if isinstance(condition, Combined):
        return Combined(condition.kind, tuple(_dated(part, today) for part in condition.parts))
    if condition.operator != "within_days" or not isinstance(condition.value, int) \
            or isinstance(condition.value, bool):
        return condition
    try:
        day_before_first = today - timedelta(days=condition.value + 1)
        day_after_today = today + timedelta(days=1)
    except OverflowError:
        return condition  # no day that far out: left as it is, for the stream
    return Combined("all", (FieldTest(condition.field, "after", day_before_first),
                            FieldTest(condition.field, "before", day_after_today)))
