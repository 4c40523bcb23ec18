"""ContactReads over the webservice: VTQL ``query`` paged around its silent 100-row cap.

Full reads page by id (``WHERE id > last ORDER BY id``: keyset, stable while records change). Changes page by
``modifiedtime`` with a closed range, advancing the cursor to the last time seen and dropping ids already
returned; a page whose rows all share one second is paged by id within that second. The webservice never
returns deleted records, so contacts deleted since are simply absent (no tombstones on this path).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import datetime
from functools import cached_property
from typing import Any

from sync.addresses import normalise_email
from sync.connectors.vtiger.client import PAGE, VtigerClient, quote
from sync.connectors.vtiger.contacts import crmid, fingerprint, organisation_opted_out, to_contact, vtiger_time
from sync.connectors.vtiger.fields import ORGANISATION_NAME, VtigerField, fields_of
from sync.errors import ConfigError
from sync.records import CrmContact, CrmField, CrmFieldType

EMAILS_PER_QUERY = 40
ORGANISATIONS = "Accounts"
INVALID_FIELD = "email_invalid"  # a custom checkbox with this (label-derived) name records hard bounces


class WebserviceReads:
    """Contacts (or Leads) of one vtiger, read through the webservice."""

    def __init__(self, client: VtigerClient, module: str):
        self.client = client
        self.module = module

    @cached_property
    def description(self) -> dict[str, Any]:
        return self.client.describe(self.module)

    @cached_property
    def fields(self) -> list[VtigerField]:
        return fields_of(self.description)

    @cached_property
    def prefix(self) -> str:
        """The module's webservice id prefix (``12`` for Contacts on a fresh install), from ``describe``."""
        return str(self.description["idPrefix"])

    @property
    def invalid_column(self) -> str | None:
        """The column of a custom checkbox named ``email_invalid`` ("Email Invalid"), if the CRM has one."""
        for spec in self.fields:
            if spec.field.name == INVALID_FIELD and spec.field.custom and spec.field.type is CrmFieldType.CHECKBOX:
                return spec.column
        return None

    def describe_fields(self) -> list[CrmField]:
        return [spec.field for spec in self.fields]

    def schema_fingerprint(self) -> str:
        return fingerprint(self.module, self.fields)

    def target_lists(self) -> list[tuple[str, str]]:
        """vtiger's webservice has no target lists (Campaign relations record sending, not subscription)."""
        return []

    @property
    def has_organisations(self) -> bool:
        return any(spec.field.name == ORGANISATION_NAME for spec in self.fields)

    def _contacts(self, rows: list[dict[str, Any]]) -> Iterator[CrmContact]:
        """Rows as contacts, each with its organisation's name and mailing lock (one query per page)."""
        organisations = self._organisations({str(row.get("account_id") or "") for row in rows} - {""})
        invalid_column = self.invalid_column
        for row in rows:
            name, locked = organisations.get(str(row.get("account_id") or ""), (None, False))
            if self.has_organisations:
                row = {**row, ORGANISATION_NAME: name}
            yield to_contact(row, self.fields, invalid_column=invalid_column, organisation_locked=locked)

    def _organisations(self, ids: set[str]) -> dict[str, tuple[str | None, bool]]:
        found: dict[str, tuple[str | None, bool]] = {}
        ordered = sorted(ids, key=crmid)
        for start in range(0, len(ordered), PAGE):
            listed = ", ".join(quote(i) for i in ordered[start:start + PAGE])
            for row in self.client.query(f"SELECT id, accountname, emailoptout FROM {ORGANISATIONS} "
                                         f"WHERE id IN ({listed});"):
                found[str(row["id"])] = (str(row.get("accountname") or "") or None,
                                         organisation_opted_out(row.get("emailoptout", "0")))
        return found

    def iter_contacts(self, chunk_size: int = 1000, list_id: str | None = None) -> Iterator[CrmContact]:
        """Every live contact by id, at most 100 per request (the cap; ``chunk_size`` above it changes nothing)."""
        _no_lists(list_id)
        size = max(1, min(chunk_size, PAGE))
        last: str | None = None
        while True:
            where = f" WHERE id > {quote(last)}" if last else ""
            rows = self.client.query(f"SELECT * FROM {self.module}{where} ORDER BY id LIMIT 0,{size};")
            yield from self._contacts(rows)
            if len(rows) < size:
                return
            last = str(rows[-1]["id"])

    def count_contacts(self, list_id: str | None = None) -> int:
        _no_lists(list_id)
        return self.client.count(f"FROM {self.module};")

    def changed_contact_ids(self, since: datetime, limit: int) -> list[str] | None:
        """Ids changed at or after ``since`` (their own change or their organisation's), by id; None when more
        than ``limit`` (counted first)."""
        start = vtiger_time(since)
        if self.client.count(f"FROM {self.module} WHERE modifiedtime >= {quote(start)};") > limit:
            return None
        found = {str(row["id"]) for row in self._changed_rows(self.module, start)}
        if self.has_organisations and len(found) <= limit:
            if self.client.count(f"FROM {ORGANISATIONS} WHERE modifiedtime >= {quote(start)};") > limit:
                return None
            organisations = sorted({str(row["id"]) for row in self._changed_rows(ORGANISATIONS, start)}, key=crmid)
            for begin in range(0, len(organisations), EMAILS_PER_QUERY):
                listed = ", ".join(quote(o) for o in organisations[begin:begin + EMAILS_PER_QUERY])
                for page in self.client.query_pages(f"SELECT id FROM {self.module} WHERE account_id IN ({listed})",
                                                    "id"):
                    found.update(str(row["id"]) for row in page)
                if len(found) > limit:
                    return None
        return None if len(found) > limit else sorted(found, key=crmid)

    def _changed_rows(self, module: str, start: str) -> Iterator[dict[str, Any]]:
        seen: set[str] = set()
        cursor, strictly_after = start, False
        while True:
            op = ">" if strictly_after else ">="
            rows = self.client.query(f"SELECT id, modifiedtime FROM {module} WHERE modifiedtime {op} "
                                     f"{quote(cursor)} ORDER BY modifiedtime LIMIT 0,{PAGE};")
            yield from _unseen(rows, seen)
            if len(rows) < PAGE:
                return
            last = str(rows[-1]["modifiedtime"])
            strictly_after = False
            if last == str(rows[0]["modifiedtime"]):  # a whole page in one second: page it by id
                tie = f"SELECT id, modifiedtime FROM {module} WHERE modifiedtime = {quote(last)}"
                for page in self.client.query_pages(tie, "id"):
                    yield from _unseen(page, seen)
                strictly_after = True
            cursor = last

    def contacts_by_ids(self, contact_ids: Iterable[str], chunk_size: int = 1000) -> Iterator[CrmContact]:
        """The live contacts among these ids (ids of another module are not contacts), by id, 100 per query."""
        ids = sorted({i for i in contact_ids if str(i).partition("x")[0] == self.prefix}, key=crmid)
        for start in range(0, len(ids), PAGE):
            chunk = ", ".join(quote(i) for i in ids[start:start + PAGE])
            rows = self.client.query(f"SELECT * FROM {self.module} WHERE id IN ({chunk});")
            yield from self._contacts(sorted(rows, key=lambda row: crmid(row["id"])))

    def existing_contacts(self, contact_ids: Iterable[str]) -> set[str]:
        ids = sorted({i for i in contact_ids if str(i).partition("x")[0] == self.prefix}, key=crmid)
        found: set[str] = set()
        for start in range(0, len(ids), PAGE):
            chunk = ", ".join(quote(i) for i in ids[start:start + PAGE])
            found.update(str(row["id"]) for row in self.client.query(
                f"SELECT id FROM {self.module} WHERE id IN ({chunk});"))
        return found

    def contacts_by_email(self, emails: Iterable[str], include_deleted: bool = False) -> dict[str, list[str]]:
        """Contact ids per normalised address, primary or secondary (deleted contacts cannot be seen here)."""
        wanted = {key for key in (normalise_email(e) for e in emails) if key}
        ordered = sorted(wanted)
        found: dict[str, set[str]] = {}
        for start in range(0, len(ordered), EMAILS_PER_QUERY):
            listed = ", ".join(quote(address) for address in ordered[start:start + EMAILS_PER_QUERY])
            select = (f"SELECT id, email, secondaryemail FROM {self.module} "
                      f"WHERE email IN ({listed}) OR secondaryemail IN ({listed})")
            for page in self.client.query_pages(select, "id"):
                for row in page:
                    for column in ("email", "secondaryemail"):
                        key = normalise_email(row.get(column))
                        if key in wanted:
                            found.setdefault(key, set()).add(str(row["id"]))
        return {key: sorted(ids, key=crmid) for key, ids in found.items()}

    def shared_emails(self) -> set[str]:
        """Primary addresses (normalised) more than one live contact has."""
        counts: Counter[str] = Counter()
        last: str | None = None
        while True:
            where = f" WHERE id > {quote(last)}" if last else ""
            rows = self.client.query(f"SELECT id, email FROM {self.module}{where} ORDER BY id LIMIT 0,{PAGE};")
            counts.update(key for key in (normalise_email(row.get("email")) for row in rows) if key)
            if len(rows) < PAGE:
                return {address for address, count in counts.items() if count > 1}
            last = str(rows[-1]["id"])


def _unseen(rows: list[dict[str, Any]], seen: set[str]) -> Iterator[dict[str, Any]]:
    for row in rows:
        if str(row["id"]) not in seen:
            seen.add(str(row["id"]))
            yield row


def _no_lists(list_id: str | None) -> None:
    if list_id is not None:
        raise ConfigError(f"target list '{list_id}': vtiger has no target lists crm-sync can read; remove the "
                          "audience's list_id")
