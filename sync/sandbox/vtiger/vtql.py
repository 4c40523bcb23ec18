"""The part of VTQL the fake vtiger understands, with vtiger's quirks: the trailing semicolon is required, a
LIMIT count is silently capped at 100 (no LIMIT means 100), ``count(*)`` answers text, an unknown column is
ACCESS_DENIED, ids compare by their number, and ``''`` is a quote inside a string."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

CAP = 100
_TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<op>>=|<=|!=|<>|=|>|<|\(|\)|,|;)|(?P<word>[^\s'=<>!(),;]+))")


class VtqlError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Query:
    columns: list[str] | None  # None: *
    count: bool
    module: str
    where: Callable[[dict[str, Any]], bool] | None
    order: str | None
    descending: bool
    offset: int
    limit: int
    referenced: set[str]


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            if text[position:].strip() == "":
                break
            raise VtqlError("QUERY_SYNTAX_ERROR", f"Syntax Error on line 1: unexpected {text[position:][:20]!r}")
        kind = match.lastgroup or "word"
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


def _value(kind: str, text: str) -> str:
    return text[1:-1].replace("''", "'") if kind == "str" else text


def _key(column: str, value: Any) -> Any:
    text = "" if value is None else str(value)
    if column == "id" or re.fullmatch(r"\d+x\d+", text):
        _, _, number = text.partition("x")
        return (0, int(number)) if number.isdigit() else (1, text.lower())
    return (1, text.lower())


def _like(pattern: str) -> re.Pattern[str]:
    parts = [".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern]
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)


def parse(text: str) -> Query:
    tokens = _tokens(text)
    if not tokens or tokens[-1] != ("op", ";"):
        last = tokens[-1][1] if tokens else ""
        raise VtqlError("QUERY_SYNTAX_ERROR", f"Syntax Error on line 1: token '{last}' Unexpected End of "
                                              "Input(0), expected one of: SEMICOLON")
    tokens = tokens[:-1]
    position = 0

    def peek(offset: int = 0) -> tuple[str, str]:
        return tokens[position + offset] if position + offset < len(tokens) else ("end", "")

    def take() -> tuple[str, str]:
        nonlocal position
        token = peek()
        position += 1
        return token

    def expect_word(word: str) -> None:
        kind, value = take()
        if value.upper() != word:
            raise VtqlError("QUERY_SYNTAX_ERROR", f"Syntax Error on line 1: token '{value}' Unexpected, "
                                                  f"expected one of: {word}")

    expect_word("SELECT")
    columns: list[str] | None = []
    count = False
    while True:
        kind, value = take()
        if value == "*":
            columns = None
        elif value.lower() == "count(*)" or (value.lower() == "count" and peek()[1] == "("):
            if value.lower() == "count":
                take(), take(), take()
            count = True
        else:
            assert columns is not None
            columns.append(value)
        if peek()[1] != ",":
            break
        take()
    expect_word("FROM")
    module = take()[1]
    referenced: set[str] = set(columns or [])
    where = None
    if peek()[1].upper() == "WHERE":
        take()

        def condition() -> Callable[[dict[str, Any]], bool]:
            column = take()[1]
            referenced.add(column)
            kind, op = take()
            if op.upper() == "IN":
                if take()[1] != "(":
                    raise VtqlError("QUERY_SYNTAX_ERROR", "Syntax Error on line 1: expected (")
                values = []
                while True:
                    values.append(_key(column, _value(*take())))
                    separator = take()[1]
                    if separator == ")":
                        break
                wanted = set(values)
                return lambda row: _key(column, row.get(column)) in wanted
            if op.upper() == "LIKE":
                pattern = _like(_value(*take()))
                return lambda row: pattern.fullmatch(str(row.get(column) or "")) is not None
            value = _key(column, _value(*take()))
            compare = {"=": lambda a, b: a == b, "!=": lambda a, b: a != b, "<>": lambda a, b: a != b,
                       ">": lambda a, b: a > b, ">=": lambda a, b: a >= b, "<": lambda a, b: a < b,
                       "<=": lambda a, b: a <= b}.get(op)
            if compare is None:
                raise VtqlError("QUERY_SYNTAX_ERROR", f"Syntax Error on line 1: token '{op}' Unexpected")
            return lambda row: compare(_key(column, row.get(column)), value)

        def conjunction() -> Callable[[dict[str, Any]], bool]:
            parts = [condition()]
            while peek()[1].upper() == "AND":
                take()
                parts.append(condition())
            return lambda row: all(part(row) for part in parts)

        alternatives = [conjunction()]
        while peek()[1].upper() == "OR":
            take()
            alternatives.append(conjunction())
        where = lambda row: any(alternative(row) for alternative in alternatives)  # noqa: E731
    order, descending = None, False
    if peek()[1].upper() == "ORDER":
        take()
        expect_word("BY")
        order = take()[1]
        referenced.add(order)
        if peek()[1].upper() in ("ASC", "DESC"):
            descending = take()[1].upper() == "DESC"
    offset, limit = 0, CAP
    if peek()[1].upper() == "LIMIT":
        take()
        first = take()[1]
        if peek()[1] == ",":
            take()
            offset, limit = int(first), int(take()[1])
        else:
            limit = int(first)
    if peek()[0] != "end":
        raise VtqlError("QUERY_SYNTAX_ERROR", f"Syntax Error on line 1: token '{peek()[1]}' Unexpected, expected "
                                              "one of: SEMICOLON")
    return Query(columns, count, module, where, order, descending, offset, min(limit, CAP), referenced)


def run(query: Query, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows a query answers (``rows`` are the module's live records, in creation order)."""
    matched = [row for row in rows if query.where is None or query.where(row)]
    if query.count:
        return [{"count": str(len(matched))}]
    if query.order:
        column = query.order
        matched.sort(key=lambda row: _key(column, row.get(column)), reverse=query.descending)
    page = matched[query.offset:query.offset + query.limit]
    if query.columns is None:
        return [dict(row) for row in page]
    return [{column: row.get(column, "") for column in query.columns} for row in page]
