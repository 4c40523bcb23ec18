"""Reading contacts (or leads) from EspoCRM: keyset pages by id, typed values, list memberships, look-ups.

Lists do not carry target-list membership: it is swept per list (``GET TargetList/{id}/contacts``), and a
member whose link is opted out (``targetListIsOptedOut``) counts as not a member. Deleted records are invisible
through the API, so every contact read is live.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from sync.addresses import normalise_email
from sync.connectors.espocrm.client import MAX_PAGE, EspoClient, Gone
from sync.connectors.espocrm.fields import EntityFields, espo_time, parse_time
from sync.errors import ConfigError
from sync.records import Consent, CrmContact

log = logging.getLogger(__name__)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
IDS_PER_REQUEST = 100  # ids in one `in` filter: keeps the query string short
_CORE = ["id", "emailAddress", "emailAddressIsOptedOut", "emailAddressIsInvalid", "modifiedAt"]


def _chunks(items: list, size: int) -> Iterator[list]:
    return (items[start:start + size] for start in range(0, len(items), size))


def _flag(value: object) -> bool:
    """A stop-mail flag: set unless it clearly says no."""
    return value is not None and value is not False and value not in (0, "0", "false", "")


class ContactReader:
    """Reads one entity's records as CrmContacts."""

    def __init__(self, client: EspoClient, fields: EntityFields):
        self._client = client
        self._fields = fields
        self._entity = fields.entity
        self._converters = fields.converters()
        extra = ["accountId"] if self._entity == "Contact" else []
        wanted = _CORE + extra + fields.names
        self._select = list(dict.fromkeys(wanted))
        self._link = "contacts" if self._entity == "Contact" else "leads"

    # memberships

    def list_ids(self) -> list[str]:
        return [row["id"] for page in self._client.pages("TargetList", {"select": ["id"], "orderBy": "id",
                                                                         "order": "asc"}) for row in page]

    def members(self, list_id: str, ids: list[str] | None = None) -> set[str]:
        """Ids of the list's members whose link is not opted out (among ``ids`` when given)."""
        search: dict[str, Any] = {"select": ["id"], "orderBy": "id", "order": "asc"}
        if ids is not None:
            search["where"] = [{"type": "in", "attribute": "id", "value": ids}]
        return {row["id"] for page in self._client.pages(f"TargetList/{list_id}/{self._link}", search)
                for row in page if not row.get("targetListIsOptedOut")}

    def memberships(self, ids: list[str] | None = None) -> dict[str, set[str]]:
        """Per contact id: the target lists it is a member of (one sweep per list)."""
        found: dict[str, set[str]] = defaultdict(set)
        for list_id in self.list_ids():
            for contact_id in self.members(list_id, ids):
                found[contact_id].add(list_id)
        return found

    def check_list(self, list_id: str) -> None:
        rows = [row for page in self._client.pages("TargetList", {"select": ["id", "name"], "orderBy": "id",
                                                                  "order": "asc"}) for row in page]
        if not any(row.get("id") == list_id for row in rows):
            names = ", ".join(f"{row.get('id')} ({row.get('name')})" for row in rows)
            raise ConfigError(f"there is no target list with id '{list_id}'; EspoCRM has: {names or 'none'}")

    # contacts

    def contact(self, row: dict[str, Any], lists: dict[str, set[str]]) -> CrmContact:
        return CrmContact(
            id=str(row["id"]),
            email=row.get("emailAddress") or None,
            fields={name: convert(row.get(name)) for name, convert in self._converters},
            consent=Consent(email_opt_in=None,  # EspoCRM has no opt-in: the audience's consent_field names one
                            email_opt_out=_flag(row.get("emailAddressIsOptedOut")),
                            email_invalid=_flag(row.get("emailAddressIsInvalid"))),
            modified_at=parse_time(row.get("modifiedAt")) or _EPOCH,
            organisation_id=row.get("accountId") or None,
            list_ids=frozenset(lists.get(str(row["id"]), ())),
        )

    def iter_contacts(self, chunk_size: int, list_id: str | None, matching: dict[str, Any] | None = None
                      ) -> Iterator[CrmContact]:
        """Every record in id order, keyset-paged (``id >`` the last one) ``min(chunk_size, 200)`` at a time;
        only those ``matching`` one more where item, when given."""
        if chunk_size < 1:
            raise ConfigError(f"chunk_size must be at least 1, not {chunk_size}")
        if list_id is not None:
            self.check_list(list_id)
        lists = self.memberships()
        size = min(chunk_size, MAX_PAGE)
        last: str | None = None
        while True:
            where: list[dict[str, Any]] = [] if last is None else [
                {"type": "greaterThan", "attribute": "id", "value": last}]
            if list_id is not None:
                where.append({"type": "linkedWith", "attribute": "targetLists", "value": [list_id]})
            if matching is not None:
                where.append(matching)
            body = self._client.get(self._entity, {"select": self._select, "where": where, "orderBy": "id",
                                                   "order": "asc", "maxSize": size, "offset": 0}, no_total=True)
            rows = body.get("list", []) if isinstance(body, dict) else []
            for row in rows:
                if list_id is None or list_id in lists.get(row["id"], ()):
                    yield self.contact(row, lists)
            if len(rows) < size:
                return
            last = rows[-1]["id"]

    def count(self, list_id: str | None) -> int:
        if list_id is None:
            return self._client.count(self._entity, [])
        self.check_list(list_id)
        return len(self.members(list_id))

    def by_ids(self, ids: Iterable[str], chunk_size: int) -> Iterator[CrmContact]:
        wanted = sorted(set(ids))
        for chunk in _chunks(wanted, min(max(chunk_size, 1), IDS_PER_REQUEST)):
            lists = self.memberships(chunk)
            rows = self._in_ids(chunk, self._select)
            yield from (self.contact(row, lists) for row in sorted(rows, key=lambda row: row["id"]))

    def _in_ids(self, ids: list[str], select: list[str]) -> list[dict]:
        rows: list[dict] = []
        for chunk in _chunks(ids, IDS_PER_REQUEST):
            for page in self._client.pages(self._entity, {"select": select, "orderBy": "id", "order": "asc",
                                                          "where": [{"type": "in", "attribute": "id",
                                                                     "value": chunk}]}):
                rows.extend(page)
        return rows

    def existing(self, ids: Iterable[str]) -> set[str]:
        return {row["id"] for row in self._in_ids(sorted(set(ids)), ["id"])}

    def owners(self, ids: Iterable[str]) -> dict[str, tuple[str | None, str]]:
        select = ["id", "name"] + (["accountId"] if self._entity == "Contact" else [])
        return {row["id"]: (row.get("accountId") or None, str(row.get("name") or ""))
                for row in self._in_ids(sorted(set(ids)), select)}

    def changed(self, since: datetime, limit: int) -> list[str] | None:
        """Ids changed at or after ``since`` (to the second), their own change or their account's."""
        where = [{"type": "greaterThanOrEquals", "attribute": "modifiedAt", "value": espo_time(since)}]
        found: set[str] = set()
        for page in self._client.pages(self._entity, {"select": ["id"], "where": where, "orderBy": "id",
                                                      "order": "asc"}):
            found.update(row["id"] for row in page)
            if len(found) > limit:
                return None
        if self._entity == "Contact":
            accounts = [row["id"] for page in self._client.pages("Account", {"select": ["id"], "where": where,
                                                                            "orderBy": "id", "order": "asc"})
                        for row in page]
            for chunk in _chunks(accounts, IDS_PER_REQUEST):
                for page in self._client.pages("Contact", {"select": ["id"], "orderBy": "id", "order": "asc",
                                                           "where": [{"type": "in", "attribute": "accountId",
                                                                      "value": chunk}]}):
                    found.update(row["id"] for row in page)
                    if len(found) > limit:
                        return None
        return sorted(found)

    def by_email(self, emails: Iterable[str]) -> dict[str, list[str]]:
        """Ids per normalised address, primary or not (a secondary match is confirmed by a single read)."""
        wanted = {address for address in map(normalise_email, emails) if address is not None}
        found: dict[str, set[str]] = defaultdict(set)
        for chunk in _chunks(sorted(wanted), IDS_PER_REQUEST):
            for page in self._client.pages(self._entity, {"select": ["id", "emailAddress"], "orderBy": "id",
                                                          "order": "asc", "where": [{"type": "in",
                                                          "attribute": "emailAddress", "value": chunk}]}):
                for row in page:
                    primary = normalise_email(row.get("emailAddress"))
                    if primary in wanted:
                        found[primary].add(row["id"])
                        continue
                    for address in self._other_addresses(row["id"], primary):  # matched a secondary one
                        if address in wanted:
                            found[address].add(row["id"])
        return {address: sorted(ids) for address, ids in found.items()}

    def _other_addresses(self, contact_id: str, primary: str | None) -> list[str]:
        try:
            record = self._client.get(f"{self._entity}/{contact_id}", record=f"{self._entity} {contact_id}")
        except Gone:
            return []
        return [address for item in record.get("emailAddressData") or []
                if (address := normalise_email(item.get("emailAddress"))) and address != primary]

    def shared_emails(self) -> set[str]:
        """Primary addresses more than one record has."""
        counts: Counter[str] = Counter()
        for page in self._client.pages(self._entity, {"select": ["id", "emailAddress"], "orderBy": "id",
                                                      "order": "asc"}):
            counts.update(address for row in page if (address := normalise_email(row.get("emailAddress"))))
        return {address for address, count in counts.items() if count > 1}
