"""Read the segments file and check every segment against the CRM's fields and target lists.

Each problem names the file, the line and the dotted key (``segments.spring.steps.0.include.field``), like
the mapping file's. The file is read with the same defensive limits (``sync/yamlfile.py``). A condition's
value is checked against its field's type: a number field takes numbers, a date field dates, a dropdown one
of its choices.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from sync.errors import Problem, ProblemsFound
from sync.mapping.model import closest
from sync.records import CrmField, CrmFieldType
from sync.segments.model import ChannelValues, Combined, Condition, FieldTest, ListTest, Segment, Step
from sync.yamlfile import YamlDocument, dotted, read_yaml

MAX_STEPS = 100
NAME_LENGTH = 150  # the state store keeps segments by name; providers cut long names
MAX_VALUES = 10_000  # values in one `in` list
TEXT_TYPES = frozenset({CrmFieldType.TEXT, CrmFieldType.EMAIL, CrmFieldType.PHONE, CrmFieldType.DROPDOWN})
DATE_TYPES = frozenset({CrmFieldType.DATE, CrmFieldType.DATETIME})
OPERATORS: dict[str, frozenset[CrmFieldType]] = {
    "equals": frozenset(CrmFieldType),
    "in": TEXT_TYPES | {CrmFieldType.NUMBER} | DATE_TYPES,
    "contains": TEXT_TYPES,
    "empty": frozenset(CrmFieldType),
    "before": DATE_TYPES,
    "after": DATE_TYPES,
    "within_days": DATE_TYPES,
    "gt": frozenset({CrmFieldType.NUMBER}),
    "gte": frozenset({CrmFieldType.NUMBER}),
    "lt": frozenset({CrmFieldType.NUMBER}),
    "lte": frozenset({CrmFieldType.NUMBER}),
}
SEGMENT_KEYS = ("audience", "mailing", "steps", "exclusion_lists", "contact_lock_field", "channel_field",
                "channel_values", "organisation_field", "post_fields", "scheduled")
CHANNEL_KEYS = ("email", "post", "both")


def load_segments(path: Path, fields: Iterable[CrmField], target_lists: Iterable[tuple[str, str]],
                  audiences: Iterable[str]) -> dict[str, Segment]:
    """Every segment of the file at ``path``, checked; ``ProblemsFound`` lists every problem found."""
    return check_segments(read_yaml(path), fields, target_lists, audiences)


def check_segments(document: YamlDocument, fields: Iterable[CrmField], target_lists: Iterable[tuple[str, str]],
                   audiences: Iterable[str]) -> dict[str, Segment]:
    """The segments of a parsed file, checked against the CRM's fields and lists and the configured audiences."""
    checker = _Checker(document, {crm_field.name: crm_field for crm_field in fields}, list(target_lists),
                       sorted(audiences))
    segments = checker.file()
    if checker.problems:
        problems = sorted(checker.problems, key=lambda problem: (problem.line is None, problem.line or 0))
        raise ProblemsFound(problems)
    return segments


class _Checker:
    """Walks the document once, collecting problems instead of stopping at the first."""

    def __init__(self, document: YamlDocument, fields: dict[str, CrmField], lists: list[tuple[str, str]],
                 audiences: list[str]):
        self.document, self.fields, self.lists, self.audiences = document, fields, lists, audiences
        self.problems: list[Problem] = []

    def problem(self, location: tuple[str | int, ...], message: str, suggestion: str | None = None) -> None:
        self.problems.append(Problem(str(self.document.path), self.document.line_of(location),
                                     dotted(location) or "(file)", message, suggestion))

    def file(self) -> dict[str, Segment]:
        tree = self.document.tree
        if not isinstance(tree, CommentedMap) or "segments" not in tree:
            self.problem((), "the file needs a 'segments:' section naming each segment")
            return {}
        for key in tree:
            if key != "segments":
                self.problem((str(key),), f"unknown option '{key}'; valid here: segments",
                             closest(str(key), ["segments"]))
        segments = tree["segments"]
        if not isinstance(segments, CommentedMap) or not segments:
            self.problem(("segments",), "'segments' must name at least one segment, each with its steps")
            return {}
        found = {}
        for name, body in segments.items():
            segment = self.segment(str(name), body)
            if segment is not None:
                found[str(name)] = segment
        return found

    def segment(self, name: str, body: Any) -> Segment | None:
        where: tuple[str | int, ...] = ("segments", name)
        if not isinstance(body, CommentedMap):
            self.problem(where, "a segment must be a mapping with audience and steps")
            return None
        before = len(self.problems)
        for key in body:
            if key not in SEGMENT_KEYS:
                self.problem((*where, str(key)), f"unknown option '{key}'; valid here: {', '.join(SEGMENT_KEYS)}",
                             closest(str(key), SEGMENT_KEYS))
        audience = self.audience(where, body.get("audience"))
        mailing = self.optional_text((*where, "mailing"), body.get("mailing"))
        steps = self.steps((*where, "steps"), body.get("steps"))
        exclusion = tuple(self.list_ref((*where, "exclusion_lists", index), value)
                          for index, value in enumerate(self.sequence((*where, "exclusion_lists"),
                                                                      body.get("exclusion_lists", []))))
        lock = self.field_ref((*where, "contact_lock_field"), body.get("contact_lock_field"),
                              {CrmFieldType.CHECKBOX})
        channel = self.field_ref((*where, "channel_field"), body.get("channel_field"), TEXT_TYPES)
        organisation = self.field_ref((*where, "organisation_field"), body.get("organisation_field"), TEXT_TYPES)
        channel_values = self.channel_values((*where, "channel_values"), body.get("channel_values"))
        post_fields = [self.field_ref((*where, "post_fields", index), value, None)
                       for index, value in enumerate(self.sequence((*where, "post_fields"), body.get("post_fields")))]
        scheduled = body.get("scheduled", False)
        if not isinstance(scheduled, bool):
            self.problem((*where, "scheduled"), f"must be true or false, not {_describe(scheduled)}")
        if len(name) > NAME_LENGTH:
            self.problem(where, f"a segment name has at most {NAME_LENGTH} characters")
        if len(self.problems) > before or audience is None:
            return None
        return Segment(name, audience, steps, mailing, tuple(ref for ref in exclusion if ref is not None),
                       lock, channel, channel_values, organisation,
                       tuple(name for name in post_fields if name is not None), scheduled is True)

    def audience(self, where: tuple[str | int, ...], value: Any) -> str | None:
        if value is None:
            self.problem(where, "'audience' is missing: name the configured audience this segment is for"
                         + (f" ({', '.join(self.audiences)})" if self.audiences else ""))
            return None
        if not isinstance(value, str) or value not in self.audiences:
            known = ", ".join(self.audiences) or "none is configured"
            self.problem((*where, "audience"), f"{value!r} is not a configured audience; known: {known}",
                         closest(str(value), self.audiences))
            return None
        return value

    def optional_text(self, where: tuple[str | int, ...], value: Any) -> str | None:
        if value is not None and not isinstance(value, str):
            self.problem(where, f"must be text, not {value!r} (put it in quotes)")
            return None
        return value

    def sequence(self, where: tuple[str | int, ...], value: Any) -> list:
        if value is None:
            return []
        if not isinstance(value, (CommentedSeq, list)):
            self.problem(where, f"must be a list, not {_describe(value)}")
            return []
        return list(value)

    def steps(self, where: tuple[str | int, ...], value: Any) -> tuple[Step, ...]:
        if value is None or (isinstance(value, CommentedSeq) and not value):
            self.problem(where, "'steps' is missing or empty: give at least one include step")
            return ()
        items = self.sequence(where, value)
        if len(items) > MAX_STEPS:
            self.problem(where, f"more than {MAX_STEPS} steps")
            return ()
        steps = []
        for index, item in enumerate(items):
            here = (*where, index)
            if not isinstance(item, CommentedMap) or len(item) != 1 or next(iter(item)) not in ("include", "exclude"):
                self.problem(here, "each step is one 'include: CONDITION' or 'exclude: CONDITION'")
                continue
            action = next(iter(item))
            condition = self.condition((*here, action), item[action])
            if condition is not None:
                steps.append(Step(action, condition, self.document.line_of(here)))
        if steps and steps[0].action == "exclude":
            self.problem((*where, 0), "the first step excludes from nothing: start with an include step")
        return tuple(steps)

    def condition(self, where: tuple[str | int, ...], value: Any) -> Condition | None:
        if not isinstance(value, CommentedMap) or not value:
            self.problem(where, "a condition is a mapping: {field: NAME, OPERATOR: VALUE}, {target_list: NAME}, "
                                "{all: [...]} or {any: [...]}")
            return None
        if "all" in value or "any" in value:
            kind: Literal["all", "any"] = "all" if "all" in value else "any"
            if len(value) != 1:
                self.problem(where, f"'{kind}' stands alone in its condition; put the other tests in its list")
                return None
            items = self.sequence((*where, kind), value[kind])
            if not items:
                self.problem((*where, kind), f"'{kind}' needs at least one condition")
                return None
            parts = [self.condition((*where, kind, index), item) for index, item in enumerate(items)]
            if any(part is None for part in parts):
                return None
            return Combined(kind, tuple(part for part in parts if part is not None))
        if "target_list" in value:
            if len(value) != 1:
                self.problem(where, "'target_list' stands alone in its condition")
                return None
            found = self.list_ref((*where, "target_list"), value["target_list"])
            return ListTest(*found) if found else None
        return self.field_test(where, value)

    def field_test(self, where: tuple[str | int, ...], value: CommentedMap) -> Condition | None:
        operators = [key for key in value if key != "field"]
        unknown = [key for key in operators if key not in OPERATORS]
        for key in unknown:
            self.problem((*where, str(key)), f"unknown operator '{key}'; known: {', '.join(OPERATORS)}, target_list, "
                                             "all, any", closest(str(key), [*OPERATORS, "target_list", "all", "any"]))
        if unknown:
            return None
        if "field" not in value:
            self.problem(where, "'field' is missing: name the CRM field to test")
            return None
        if len(operators) != 1:
            self.problem(where, "give exactly one operator per field test (use 'all' to combine)")
            return None
        operator = operators[0]
        name = self.field_ref((*where, "field"), value["field"], None)
        if name is None:
            return None
        crm_field = self.fields[name]
        if crm_field.type not in OPERATORS[operator]:
            self.problem((*where, operator), f"'{operator}' does not apply to {name}, a {crm_field.type.value} field; "
                                             f"it takes: {', '.join(_operators_for(crm_field.type))}")
            return None
        checked = self.operand((*where, operator), crm_field, operator, value[operator])
        return None if checked is None else FieldTest(name, operator, checked)

    def operand(self, where: tuple[str | int, ...], crm_field: CrmField, operator: str, value: Any) -> Any:
        if operator == "empty":
            return self.typed(where, value, bool, "true or false")
        if operator == "within_days":
            days = self.typed(where, value, int, "a whole number of days")
            if days is not None and not 0 <= days <= 36_600:
                self.problem(where, f"within_days must be between 0 and 36600, not {days}")
                return None
            return days
        if operator == "in":
            items = self.sequence(where, value)
            if not items:
                self.problem(where, "'in' needs a non-empty list of values")
                return None
            if len(items) > MAX_VALUES:
                self.problem(where, f"more than {MAX_VALUES:,} values")
                return None
            values = [self.scalar((*where, index), crm_field, item) for index, item in enumerate(items)]
            return None if any(item is None for item in values) else tuple(values)
        if operator == "contains":
            text = self.typed(where, value, str, "text")
            if text == "":
                self.problem(where, "'contains' needs some text")
                return None
            return text
        return self.scalar(where, crm_field, value)

    def scalar(self, where: tuple[str | int, ...], crm_field: CrmField, value: Any) -> Any:
        """One value of the field's type (a dropdown value one of its choices)."""
        kind = crm_field.type
        if kind == CrmFieldType.CHECKBOX:
            return self.typed(where, value, bool, f"true or false ({crm_field.name} is a checkbox)")
        if kind == CrmFieldType.NUMBER:
            return self.typed(where, value, float, f"a number ({crm_field.name} is a number field)")
        if kind in DATE_TYPES:
            return self.date(where, crm_field, value)
        text = self.typed(where, value, str, f"text ({crm_field.name} is a {kind.value} field; put it in quotes)")
        if text is not None and crm_field.choices and text.casefold() not in {c.casefold() for c in crm_field.choices}:
            self.problem(where, f"{text!r} is not a choice of {crm_field.name}; its choices: "
                                f"{', '.join(crm_field.choices)}", closest(text, list(crm_field.choices)))
            return None
        return text

    def date(self, where: tuple[str | int, ...], crm_field: CrmField, value: Any) -> date | None:
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value.strip())
            except ValueError:
                pass
        self.problem(where, f"must be a date like 2026-01-31 ({crm_field.name} is a date field), "
                            f"not {_describe(value)}")
        return None

    def typed(self, where: tuple[str | int, ...], value: Any, kind: type, wanted: str) -> Any:
        if kind is float and isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if kind is int and isinstance(value, int) and not isinstance(value, bool):
            return int(value)
        if kind is bool and isinstance(value, bool):
            return bool(value)
        if kind is bool and isinstance(value, int) and type(value).__name__ == "ScalarBoolean":
            return bool(value)
        if kind is str and isinstance(value, str):
            return str(value)
        self.problem(where, f"must be {wanted}, not {_describe(value)}")
        return None

    def field_ref(self, where: tuple[str | int, ...], value: Any, types: Iterable[CrmFieldType] | None) -> str | None:
        if value is None and where[-1] != "field":
            return None
        if not isinstance(value, str) or value not in self.fields:
            self.problem(where, f"unknown field {value!r}: the CRM has no such contact or organisation field",
                         closest(str(value), list(self.fields)))
            return None
        allowed = set(types) if types is not None else None
        if allowed is not None and self.fields[value].type not in allowed:
            wanted = ", ".join(sorted(kind.value for kind in allowed))
            self.problem(where, f"{value} is a {self.fields[value].type.value} field; this needs a {wanted} field")
            return None
        return value

    def list_ref(self, where: tuple[str | int, ...], value: Any) -> tuple[str, str] | None:
        text = str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else None
        for list_id, name in self.lists:
            if text is not None and text in (name, list_id):
                return list_id, name
        names = [name for _, name in self.lists]
        self.problem(where, f"no target list {value!r} in the CRM; its lists: {', '.join(names) or 'none'}",
                     closest(str(value), names))
        return None

    def channel_values(self, where: tuple[str | int, ...], value: Any) -> ChannelValues:
        if value is None:
            return ChannelValues()
        if not isinstance(value, CommentedMap):
            self.problem(where, "must map email, post and both to lists of the channel field's values")
            return ChannelValues()
        found: dict[str, tuple[str, ...]] = {}
        for key in value:
            if key not in CHANNEL_KEYS:
                self.problem((*where, str(key)), f"unknown option '{key}'; valid here: {', '.join(CHANNEL_KEYS)}",
                             closest(str(key), CHANNEL_KEYS))
                continue
            items = self.sequence((*where, key), value[key])
            texts = [self.typed((*where, key, index), item, str, "text") for index, item in enumerate(items)]
            found[str(key)] = tuple(text for text in texts if text is not None)
        return ChannelValues(**found)


def _operators_for(kind: CrmFieldType) -> list[str]:
    return [operator for operator, types in OPERATORS.items() if kind in types]


def _describe(value: Any) -> str:
    if isinstance(value, (list, CommentedSeq)):
        return "a list"
    if isinstance(value, (dict, CommentedMap)):
        return "a mapping"
    if isinstance(value, str):
        return f"the text {value!r}"
    return "nothing" if value is None else repr(value)
