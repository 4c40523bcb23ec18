"""Segment conditions as EspoCRM ``where`` items: what ``GET {Entity}`` may filter by, values as JSON values.

``contact_where`` gives an item true for every record that meets a condition as ``sync/segments/conditions.py``
evaluates it, and maybe for more: a part it cannot translate exactly counts as true, and the stream evaluates
every condition again. Values travel as JSON values in the ``where`` structure, never pasted into text.

What EspoCRM 9.1.7 does with them [live]: ``equals``/``in`` compare in the column's collation
(``utf8mb4_unicode_ci``: case and accents ignored, ``ſ`` = ``s``); ``contains`` is ``LIKE '%value%'`` with the
value not escaped (``%`` and ``_`` are wildcards, ``\\`` escapes); ``before``/``after`` compare dates;
``linkedWith`` on ``targetLists`` holds every linked record (opted-out links too).

Pushed down: target lists; ``equals``, ``in`` and ``contains`` on varchar, text and enum fields for printable
ASCII values (``contains`` only without ``%``, ``_`` or ``\\``); values holding a letter whose ``casefold`` gives
ASCII (``ß``, ``ſ``, ``K``, ``ﬁ``, ...) are let through by a ``contains`` of that letter, as a collation other than
unicode_ci may not match them; ``empty: false`` (``isNotNull``); number tests on int and float fields, widened to
whole numbers (so no float is ever rounded on its way to SQL); date tests on date fields. Left to the stream:
``empty: true``, checkboxes, date-times, e-mail and phone fields (EspoCRM keeps them in a table of their own),
currency and every other field type, non-ASCII text, and a filter longer than ``MAX_WHERE`` characters.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, Final

from sync.segments.folding import folds_to_ascii
from sync.segments.model import Combined, Condition, ConditionValue, FieldTest, ListTest

Item = dict[str, Any]


class _Nothing:
    """No record can meet the condition (``in`` of no values, ``any`` of nothing)."""


NOTHING: Final = _Nothing()
MAX_WHERE = 4000  # characters of the where's JSON: the searchParams of a GET must stay well under 8 KB of URL
TEXT_TYPES = {"varchar", "text", "enum"}
NUMBER_TYPES = {"int", "float"}
_LIKE_SPECIAL = set("%_\\")
_EXACT_INTEGERS = 2 ** 53  # beyond that a float is not every whole number


def contact_where(condition: Condition, types: Mapping[str, str]) -> Item | _Nothing | None:
    """A where item true for every record meeting ``condition`` (and maybe more); None: no filter;
    ``NOTHING``: no record meets it. ``types``: the EspoCRM type of each field, by name."""
    item = _translate(condition, types)
    if isinstance(item, dict) and len(json.dumps(item, ensure_ascii=False)) > MAX_WHERE:
        return None
    return item


def _translate(condition: Condition, types: Mapping[str, str]) -> Item | _Nothing | None:
    if isinstance(condition, ListTest):
        return {"type": "linkedWith", "attribute": "targetLists", "value": [condition.list_id]}
    if isinstance(condition, Combined):
        parts = [_translate(part, types) for part in condition.parts]
        if condition.kind == "all":
            if any(part is NOTHING for part in parts):
                return NOTHING
            return _group("and", [part for part in parts if isinstance(part, dict)])
        if any(part is None for part in parts):
            return None
        kept = [part for part in parts if isinstance(part, dict)]
        return _group("or", kept) if kept else NOTHING
    espo_type = types.get(condition.field)
    if espo_type is None:
        return None
    if condition.operator == "empty":
        return {"type": "isNotNull", "attribute": condition.field} if condition.value is False \
            and (espo_type in TEXT_TYPES | NUMBER_TYPES or espo_type == "date") else None
    if espo_type in TEXT_TYPES:
        return _any_of(condition, lambda value: _text(condition.field, condition.operator, value))
    if espo_type in NUMBER_TYPES:
        return _any_of(condition, lambda value: _number(condition.field, condition.operator, value))
    if espo_type == "date":
        return _any_of(condition, lambda value: _date(condition.field, condition.operator, value))
    return None


def _group(kind: str, parts: list[Item]) -> Item | None:
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else {"type": kind, "value": parts}


def _any_of(test: FieldTest, translate) -> Item | _Nothing | None:
    """``in``: any of the values equals (None when one of them cannot be translated); else the test itself."""
    if test.operator != "in":
        return translate(test.value)
    if not isinstance(test.value, tuple):
        return None
    return _or([translate(value) for value in test.value])


def _or(parts: list[Item | _Nothing | None]) -> Item | _Nothing | None:
    if any(part is None for part in parts):
        return None
    kept = [part for part in parts if isinstance(part, dict)]
    return _group("or", kept) if kept else NOTHING


def _text(field: str, operator: str, wanted: ConditionValue) -> Item | _Nothing | None:
    operator = "equals" if operator == "in" else operator
    if operator not in ("equals", "contains") or not isinstance(wanted, str) \
            or not all(" " <= char <= "~" for char in wanted):
        return None
    if operator == "equals" and not wanted.strip():
        return NOTHING  # only an empty value casefolds to it, and an empty value meets no equals
    if operator == "contains" and (not wanted or _LIKE_SPECIAL & set(wanted)):
        return None  # EspoCRM would read % and _ as wildcards and \ as an escape
    found = {"type": operator, "attribute": field, "value": wanted}
    folded = set(wanted.casefold())
    unsure: list[Item] = [{"type": "contains", "attribute": field, "value": char}
                          for char, ascii_parts in folds_to_ascii().items() if ascii_parts & folded]
    return {"type": "or", "value": [found, *unsure]} if unsure else found


def _number(field: str, operator: str, wanted: ConditionValue) -> Item | None:
    """Bounds widened to whole numbers (JSON integers reach the SQL as they are; a float might be rounded)."""
    operator = "equals" if operator == "in" else operator
    if operator not in ("gt", "gte", "lt", "lte", "equals") or not isinstance(wanted, float) \
            or not math.isfinite(wanted) or abs(wanted) >= _EXACT_INTEGERS:
        return None
    low = {"type": "greaterThanOrEquals", "attribute": field, "value": math.floor(wanted)}
    high = {"type": "lessThanOrEquals", "attribute": field, "value": math.ceil(wanted)}
    if operator in ("gt", "gte"):
        return low
    if operator in ("lt", "lte"):
        return high
    if wanted.is_integer():
        return {"type": "equals", "attribute": field, "value": int(wanted)}
    return {"type": "and", "value": [low, high]}


def _date(field: str, operator: str, wanted: ConditionValue) -> Item | None:
    operator = "equals" if operator == "in" else operator
    if operator not in ("before", "after", "equals") or not isinstance(wanted, date) \
            or isinstance(wanted, datetime) or not 1000 <= wanted.year <= 9999:
        return None
    return {"type": operator, "attribute": field, "value": wanted.isoformat()}
