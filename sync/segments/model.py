"""Segment definitions as typed, checked records: conditions, steps, and the rules' settings per segment."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Literal

# A condition's value once checked against its field's type.
ConditionValue = str | int | float | bool | date | tuple[str, ...] | tuple[float, ...] | tuple[date, ...]


class Channel(StrEnum):
    """How a contact wants mailings: by e-mail, by post, or both (which means e-mail here)."""

    EMAIL = "email"
    POST = "post"
    BOTH = "both"


@dataclass(frozen=True, slots=True)
class FieldTest:
    """One test of one field: ``operator`` is equals, in, contains, empty, before, after, within_days, gt, gte,
    lt or lte; ``value`` is already of the field's type."""

    field: str
    operator: str
    value: ConditionValue


@dataclass(frozen=True, slots=True)
class ListTest:
    """Membership of one target list (its id in the CRM)."""

    list_id: str
    name: str


@dataclass(frozen=True, slots=True)
class Combined:
    """All (and) or any (or) of several conditions."""

    kind: Literal["all", "any"]
    parts: tuple[Condition, ...]


Condition = FieldTest | ListTest | Combined


@dataclass(frozen=True, slots=True)
class Step:
    """One selection step: ``include`` adds the contacts that meet the condition, ``exclude`` removes them."""

    action: Literal["include", "exclude"]
    condition: Condition
    line: int | None = None

    def describe(self, index: int, width: int = 80) -> str:
        """``step 2: include on list VIP``, cut to ``width`` characters of condition."""
        text = describe(self.condition)
        return f"step {index + 1}: {self.action} " + (text if len(text) <= width else text[:width - 1] + "…")


_SYMBOLS = {"equals": "=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}


def describe(condition: Condition, nested: bool = False) -> str:
    """A condition in a few words: ``country in NL, BE and loyalty_tier = 'gold'``."""
    if isinstance(condition, ListTest):
        return f"on list {condition.name}"
    if isinstance(condition, Combined):
        text = f" {'and' if condition.kind == 'all' else 'or'} ".join(describe(part, True) for part in condition.parts)
        return f"({text})" if nested and len(condition.parts) > 1 else text
    value = condition.value
    if condition.operator == "empty":
        return f"{condition.field} is {'' if value else 'not '}empty"
    if condition.operator == "within_days":
        return f"{condition.field} within {value} days"
    if isinstance(value, tuple):
        shown = ", ".join(repr(item) if isinstance(item, str) else str(item) for item in value)
        return f"{condition.field} in {shown}"
    shown = repr(value) if isinstance(value, str) else str(value)
    return f"{condition.field} {_SYMBOLS.get(condition.operator, condition.operator)} {shown}"


@dataclass(frozen=True, slots=True)
class ChannelValues:
    """Which values of the channel field mean e-mail only, post only, and both (compared ignoring case)."""

    email: tuple[str, ...] = ("email", "e-mail")
    post: tuple[str, ...] = ("post",)
    both: tuple[str, ...] = ("both",)

    def channel(self, value: object) -> Channel:
        """The channel a field value means; empty or any other value is e-mail."""
        text = str(value).strip().casefold() if value is not None else ""
        if text in {choice.casefold() for choice in self.post}:
            return Channel.POST
        if text in {choice.casefold() for choice in self.both}:
            return Channel.BOTH
        return Channel.EMAIL


@dataclass(frozen=True, slots=True)
class Segment:
    """One segment: its steps in order and the settings of the rules every segment obeys."""

    name: str
    audience: str
    steps: tuple[Step, ...]
    mailing: str | None = None
    exclusion_lists: tuple[tuple[str, str], ...] = ()  # (id, name)
    contact_lock_field: str | None = None
    channel_field: str | None = None
    channel_values: ChannelValues = field(default_factory=ChannelValues)
    organisation_field: str | None = None
    post_fields: tuple[str, ...] = ()  # the fields of the post part's mail-merge file (street, city, ...)
    scheduled: bool = False  # kept in step at the provider on every `crm-sync run`
