"""Request parsing and dispatch: path templates like ``/lists/{list_id}`` to handler functions.

A handler takes a ``Request`` and returns a ``Reply`` or raises ``ApiProblem``. Paths are matched after the
``/3.0`` prefix has been stripped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, Generic, TypeVar
from urllib.parse import unquote

from sync.sandbox.mailchimp.problems import bad_request, method_not_allowed, not_found
from sync.sandbox.mailchimp.state import SandboxState

MAX_COUNT = 1000
DEFAULT_COUNT = 10
T = TypeVar("T")
RequestT = TypeVar("RequestT")  # the request type a router's handlers take (the Spotler sandbox has its own)


@dataclass(slots=True)
class Request:
    """One parsed API request as handlers see it."""

    method: str
    path: str
    params: dict[str, str]
    query: dict[str, str]
    raw_body: bytes
    state: SandboxState

    def json(self) -> Any:
        """The JSON body (``{}`` when empty); a 400 problem when it does not parse."""
        if not self.raw_body.strip():
            return {}
        try:
            return json.loads(self.raw_body)
        except (ValueError, UnicodeDecodeError):
            raise bad_request("We encountered an unspecified JSON parsing error.") from None

    def body_object(self) -> dict[str, Any]:
        """The JSON body, which must be an object."""
        body = self.json()
        if not isinstance(body, dict):
            raise bad_request("The request body must be a JSON object.")
        return body

    def flag(self, name: str) -> bool:
        """A boolean query parameter (``true``/``1`` means yes)."""
        return self.query.get(name, "").lower() in ("true", "1")

    def page(self) -> tuple[int, int]:
        """``(count, offset)`` from the query: count defaults to 10 and may not exceed 1000."""
        count = self._int_param("count", DEFAULT_COUNT)
        offset = self._int_param("offset", 0)
        if count > MAX_COUNT:
            raise bad_request(f"count must be {MAX_COUNT} or less; got {count}.")
        return count, offset

    def _int_param(self, name: str, default: int) -> int:
        text = self.query.get(name)
        if text is None or text == "":
            return default
        try:
            value = int(text)
        except ValueError:
            raise bad_request(f"{name} must be a whole number; got {text!r}.") from None
        if value < 0:
            raise bad_request(f"{name} must not be negative; got {value}.")
        return value


@dataclass(slots=True)
class Reply:
    """A successful response: ``body`` None means no body (204)."""

    status: int = 200
    body: Any = None


Handler = Callable[[Request], Reply]


@dataclass(slots=True)
class _Route(Generic[RequestT]):
    template: str
    pattern: re.Pattern[str]
    handlers: dict[str, Callable[[RequestT], Reply]] = field(default_factory=dict)


class Router(Generic[RequestT]):
    """Finds the handler for a method and path; unknown paths 404 and unknown methods 405."""

    def __init__(self, routes: Iterable[tuple[str, str, Callable[[RequestT], Reply]]]):
        self._routes: dict[str, _Route[RequestT]] = {}
        for method, template, handler in routes:
            route = self._routes.get(template)
            if route is None:
                pattern = re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template) + "/?$")
                route = self._routes[template] = _Route[RequestT](template, pattern)
            route.handlers[method] = handler

    def resolve(self, method: str, path: str) -> tuple[Callable[[RequestT], Reply], dict[str, str], str]:
        """``(handler, path parameters, template)`` for a request, or an ``ApiProblem``."""
        for route in self._routes.values():
            match = route.pattern.match(path)
            if match is None:
                continue
            handler = route.handlers.get(method)
            if handler is None:
                raise method_not_allowed(sorted(route.handlers))
            return handler, {key: unquote(value) for key, value in match.groupdict().items()}, route.template
        raise not_found()


def page_of(items: Iterable[T], count: int, offset: int) -> list[T]:
    """Items ``offset`` to ``offset + count`` of an iterable, without materialising the rest."""
    return list(islice(items, offset, offset + count))


def page_and_total(items: Iterable[T], count: int, offset: int) -> tuple[list[T], int]:
    """One page of ``items`` and how many there are in all (walks every item once, keeps only the page)."""
    page: list[T] = []
    total = 0
    for item in items:
        if offset <= total < offset + count:
            page.append(item)
        total += 1
    return page, total


def project(body: Any, fields: str | None, exclude_fields: str | None) -> Any:
    """Apply the ``fields`` / ``exclude_fields`` query parameters (comma-separated dot paths such as
    ``members.id``; a path through a list applies to each item) to a response body."""
    if fields:
        body = _keep(body, [path.strip().split(".") for path in fields.split(",") if path.strip()])
    if exclude_fields:
        for path in exclude_fields.split(","):
            if path.strip():
                _drop(body, path.strip().split("."))
    return body


def _keep(value: Any, paths: list[list[str]]) -> Any:
    if isinstance(value, list):
        return [_keep(item, paths) for item in value]
    if not isinstance(value, dict):
        return value
    kept = {}
    for key, item in value.items():
        deeper = [path[1:] for path in paths if path[0] == key]
        if any(not rest for rest in deeper):
            kept[key] = item
        elif deeper:
            kept[key] = _keep(item, deeper)
    return kept


def _drop(value: Any, path: list[str]) -> None:
    if isinstance(value, list):
        for item in value:
            _drop(item, path)
    elif isinstance(value, dict) and path[0] in value:
        if len(path) == 1:
            del value[path[0]]
        else:
            _drop(value[path[0]], path[1:])
