"""One parsed API request as handlers see it, with the query helpers for dates and offset paging.

Paging (``spotler-api.md`` §3.2): ``after`` is the offset of the first item (default 0), ``pageSize`` defaults to
1000 and may not exceed 10000. ``paging.next`` is the absolute URL of the next page (the same query with ``after``
advanced, OAuth parameters left out so the client signs it afresh), null on the last page.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from sync.sandbox.spotler.errors import invalid_params
from sync.sandbox.spotler.state import SpotlerState
from sync.sandbox.spotler.times import parse_moment

DEFAULT_PAGE_SIZE = 1000
MAX_PAGE_SIZE = 10000


@dataclass(slots=True)
class ApiRequest:
    """``path`` is relative to the base URL and still percent-encoded (``/contact/list``); ``link_base`` is what
    ``paging.next`` URLs start with; ``query`` holds the non-OAuth query parameters in the order sent. The last
    page's ``paging.next`` is null (as documented) unless ``omit_last_next`` (what the Swagger 2.0 spec allows)."""

    method: str
    path: str
    params: dict[str, str]
    query: dict[str, str]
    raw_body: bytes
    state: SpotlerState
    link_base: str
    omit_last_next: bool = False

    def json_object(self) -> dict[str, Any]:
        """The JSON body, which must be an object; 400 ``INVALID_PARAMS`` otherwise."""
        try:
            body = json.loads(self.raw_body or b"null")
        except (ValueError, UnicodeDecodeError):
            raise invalid_params("The request body is not valid JSON") from None
        if not isinstance(body, dict):
            raise invalid_params("The request body must be a JSON object")
        return body

    def moment(self, name: str) -> datetime | None:
        """An optional date query parameter (ISO 8601; no offset = Amsterdam local time)."""
        text = self.query.get(name)
        return None if not text else self.required_moment(name)

    def required_moment(self, name: str) -> datetime:
        """A date query parameter that must be present; 400 ``INVALID_PARAMS`` when missing or unparseable."""
        moment = parse_moment(self.query.get(name) or "")
        if moment is None:
            raise invalid_params(f"Invalid {name} or no {name} given")
        return moment

    def page(self, size_required: bool = False) -> tuple[int, int]:
        """``(after, pageSize)`` from the query."""
        size = self._count("pageSize", None if size_required else DEFAULT_PAGE_SIZE)
        if not 1 <= size <= MAX_PAGE_SIZE:
            raise invalid_params(f"pageSize must be between 1 and {MAX_PAGE_SIZE}; got {size}")
        return self._count("after", 0), size

    def paged(self, key: str, items: Sequence[Any], size_required: bool = False) -> dict[str, Any]:
        """``{"paging": {"next", "after"}, key: <this page>}`` over the whole result ``items``."""
        after, size = self.page(size_required)
        following = after + size
        paging: dict[str, Any] = {"next": self.url_with(after=following) if following < len(items) else None}
        if paging["next"] is None and self.omit_last_next:
            del paging["next"]
        return {"paging": {**paging, "after": after}, key: list(items[after:following])}

    def url_with(self, **changes: Any) -> str:
        """The absolute URL of this request with some query parameters changed."""
        query = {**self.query, **{name: str(value) for name, value in changes.items()}}
        return f"{self.link_base}{self.path}?{urlencode(query)}"

    def _count(self, name: str, default: int | None) -> int:
        text = self.query.get(name)
        if text is None or text == "":
            if default is None:
                raise invalid_params(f"Invalid {name} or no {name} given")
            return default
        try:
            value = int(text)
        except ValueError:
            raise invalid_params(f"Invalid {name}: {text!r} is not a whole number") from None
        if value < 0:
            raise invalid_params(f"Invalid {name}: {value} is negative")
        return value
