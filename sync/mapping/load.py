"""Read a mapping file and report every problem in it with file, line, dotted key and a suggestion.

ruamel.yaml gives the line of each key; pydantic's error locations are dotted keys, so each error is
placed on the line of its key (or of the nearest enclosing key when the key itself is missing).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.scalarbool import ScalarBoolean

from sync.errors import Problem, ProblemsFound
from sync.mapping.model import MappingFile, Violation, closest, nearest_line
from sync.mapping.transforms import to_text
from sync.yamlfile import check_safe_yaml, model_keys, read_text_file, reader_problem

ROOT_KEY = "(file)"
_QUOTED = re.compile(r"'([^']*)'")
_MISSING_HINTS = {
    "source": "name the CRM field to read",
    "type": "give the provider field type",
    "audiences": "the file needs an 'audiences:' section",
    "fields": "an audience needs a 'fields:' section",
}


def load_mapping(path: Path) -> MappingFile:
    """Load and validate a mapping file.

    Raises ``ConfigError`` when the file cannot be read and ``ProblemsFound`` listing every problem
    (YAML syntax, unknown key, wrong type name, missing source, options that do not fit) otherwise.
    """
    file = str(path)
    text = read_text_file(path)
    data, lines = parse_yaml(text, file)
    if data is None:
        raise ProblemsFound([Problem(file, 1, "audiences", "the file is empty; it needs an 'audiences:' section")])
    try:
        mapping = MappingFile.model_validate(data)
    except ValidationError as exc:
        problems = list(problems_from(exc, file, lines))
        problems.sort(key=lambda p: (p.line is None, p.line or 0))
        raise ProblemsFound(problems) from None
    mapping.set_origin(file, lines)
    return mapping


def parse_yaml(text: str, file: str) -> tuple[Any, dict[str, int]]:
    """Plain Python data from YAML text, and the 1-based line of each dotted key in it."""
    try:
        check_safe_yaml(text, file)
        root = YAML(typ="rt").load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = exc.problem or exc.context or "invalid YAML"
        if exc.context and exc.context_mark and exc.problem:
            message += f" ({exc.context} on line {exc.context_mark.line + 1})"
        raise ProblemsFound([Problem(file, mark.line + 1 if mark else None, "(yaml)", message)]) from None
    except YAMLError as exc:
        raise ProblemsFound([reader_problem(exc, text, file)]) from None
    lines: dict[str, int] = {}
    return _plain(root, (), lines), lines


def _plain(node: Any, path: tuple[str, ...], lines: dict[str, int]) -> Any:
    if isinstance(node, CommentedMap):
        result = {}
        for key, value in node.items():
            key_path = (*path, _key_text(key))
            lines[".".join(key_path)] = node.lc.key(key)[0] + 1
            result[key] = _plain(value, key_path, lines)
        return result
    if isinstance(node, CommentedSeq):
        items = []
        for index, value in enumerate(node):
            item_path = (*path, str(index))
            lines[".".join(item_path)] = node.lc.item(index)[0] + 1
            items.append(_plain(value, item_path, lines))
        return items
    if isinstance(node, (bool, ScalarBoolean)):
        return bool(node)
    for plain_type in (int, float, str):  # ruamel's ScalarInt, ScalarFloat, quoted strings
        if isinstance(node, plain_type):
            return plain_type(node)
    return node


def _key_text(key: Any) -> str:
    # Same spelling as the models use for choice keys, so `true:` is found again as "true".
    return to_text(key) if isinstance(key, (bool, int, float)) else str(key)


def problems_from(error: ValidationError, file: str, lines: dict[str, int]) -> Iterator[Problem]:
    """One Problem per pydantic error (one per violation for a field whose options do not fit)."""
    details = error.errors(include_url=False)
    # `typ: text` gives "unknown option 'typ'" (did you mean 'type'?) and "'type' is missing": one is enough.
    misspelt = set()
    for detail in details:
        suggestion = _suggested_key(detail)
        if suggestion:
            misspelt.add((*(str(part) for part in detail["loc"][:-1]), suggestion))
    for detail in details:
        loc = [str(part) for part in detail["loc"]]
        if detail["type"] == "missing" and tuple(loc) in misspelt:
            continue
        ctx = detail.get("ctx") or {}
        if detail["type"] == "mapping_rules":
            for violation in ctx["violations"]:
                violation = Violation(*violation)
                key = ".".join([*loc, violation.option])
                yield Problem(file, nearest_line(lines, key), key, violation.message, violation.suggestion)
            continue
        if loc and loc[-1] == "[key]":
            loc.pop()
        key = ".".join(loc) or ROOT_KEY
        message, suggestion = _describe(detail, loc)
        yield Problem(file, nearest_line(lines, key), key, message, suggestion)


def _suggested_key(detail: ErrorDetails) -> str | None:
    if detail["type"] != "extra_forbidden":
        return None
    loc = [str(part) for part in detail["loc"]]
    return closest(loc[-1], _allowed_keys(loc[:-1]))


def _describe(detail: ErrorDetails, loc: list[str]) -> tuple[str, str | None]:
    kind, ctx, value = detail["type"], detail.get("ctx") or {}, detail.get("input")
    name = loc[-1] if loc else ""
    if kind == "extra_forbidden":
        allowed = _allowed_keys(loc[:-1])
        return f"unknown option '{name}'; valid here: {', '.join(allowed)}", closest(name, allowed)
    if kind == "missing":
        hint = _MISSING_HINTS.get(name)
        return f"'{name}' is missing" + (f": {hint}" if hint else ""), None
    if kind in ("enum", "literal_error"):
        expected = _QUOTED.findall(ctx.get("expected", ""))
        return f"'{value}' is not one of: {', '.join(expected)}", closest(str(value), expected)
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        where = f"'{name}'" if name else "the file"
        return f"{where} must be a mapping of keys to values, not {_describe_value(value)}", None
    if kind == "too_short":
        return f"'{name}' must not be empty", None
    if kind == "string_type":
        quote = " (put it in quotes)" if isinstance(value, (int, float)) else ""
        return f"'{name}' must be text, not {_describe_value(value)}{quote}", None
    if kind == "bool_parsing":
        return f"'{name}' must be true or false, not {_describe_value(value)}", None
    if kind in ("int_parsing", "int_from_float", "int_type"):
        return f"'{name}' must be a whole number, not {_describe_value(value)}", None
    return detail["msg"], ctx.get("suggestion")


def _describe_value(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"the text {value!r}"
    return "nothing" if value is None else f"{value!r}"


def _allowed_keys(loc: list[str]) -> list[str]:
    """The option names of the model found at ``loc``."""
    return model_keys(MappingFile, loc)
