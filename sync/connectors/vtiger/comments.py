"""crm-sync's history entries as vtiger ModComments: the text people read, and the reference line that finds
an entry again by its external key.

A comment is ``subject`` / ``body`` / ``[crm-sync <kind> <ref> <last time>]``, where ``ref`` is a short hash of
the external key. vtiger's tables are utf8mb3: a character outside the BMP (an emoji) is stored as ``????``, so
the text is written that way already and an unchanged entry compares equal to what vtiger gives back.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from sync.records import ActivityRecord

_REFERENCE = re.compile(r"\[crm-sync (?P<kind>[A-Za-z0-9_.:-]+) (?P<ref>[0-9a-f]{16})(?: (?P<at>[0-9TZ:-]+))?\]$")
MARK = "[crm-sync "


def reference(external_key: str) -> str:
    """16 hex digits of the key's SHA-256: short, and enough to tell a contact's entries apart."""
    return hashlib.sha256(external_key.encode("utf-8")).hexdigest()[:16]


def storable(text: str) -> str:
    """``text`` as vtiger keeps it: each character beyond the BMP becomes ``????`` (its four bytes)."""
    return "".join("????" if ord(char) > 0xFFFF else char for char in text)


def _stamp(moment: datetime) -> str:
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return aware.strftime("%Y-%m-%dT%H:%M:%SZ")


def comment_text(record: ActivityRecord) -> str:
    """The comment for a history entry: for people first, the reference line last."""
    subject = " ".join(record.subject.split())
    body = record.body.strip()
    if body.split("\n", 1)[0].strip() == subject:  # a campaign entry's body opens with its summary line
        body = body.split("\n", 1)[1].strip() if "\n" in body else ""
    lines = [subject] + ([body] if body else []) + [f"{MARK}{record.kind} {reference(record.external_key)} "
                                                    f"{_stamp(record.last_at)}]"]
    return storable("\n".join(lines))


@dataclass(frozen=True, slots=True)
class Comment:
    """A crm-sync comment read back."""

    id: str
    ref: str
    kind: str
    subject: str
    body: str
    at: datetime | None
    text: str


def parse(comment_id: str, text: str) -> Comment | None:
    """A comment crm-sync wrote, or None for anyone else's."""
    lines = text.replace("\r\n", "\n").rstrip().split("\n")
    match = _REFERENCE.match(lines[-1].strip()) if lines else None
    if match is None:
        return None
    at = None
    if match["at"]:
        try:
            at = datetime.strptime(match["at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        except ValueError:
            at = None
    content = lines[:-1]
    subject = content[0] if content else ""
    return Comment(comment_id, match["ref"], match["kind"], subject, "\n".join(content[1:]), at, text)
