"""The fake EspoCRM's state and its searches: records per entity, e-mail addresses whose opt-out and invalid
flags are shared by every record linked to them, target-list links with their ``optedOut`` column, and the
``where`` / ``select`` / ``orderBy`` subset of EspoCRM's search parameters crm-sync uses.

A rejected request raises ``Refused`` with the status and ``X-Status-Reason`` EspoCRM 9.1.7 gives.
"""

from __future__ import annotations

import itertools
import re
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sync.sandbox.espocrm import seed

PERSONS = ("Contact", "Lead")
ACTIONS = ("Sent", "Opened", "Opted Out", "Bounced", "Clicked", "Opted In", "Lead Created")
_LIST_EXTRAS = {"Contact": ("accountIsInactive", "accountId", "accountName", "createdById", "assignedUserId"),
                "Lead": ("createdById", "assignedUserId")}
_ALWAYS = ("createdById", "assignedUserId")


class Refused(Exception):
    """An answer other than 200: status, X-Status-Reason, JSON body (or None)."""

    def __init__(self, status: int, reason: str = "", body: Any = None):
        super().__init__(f"{status} {reason}")
        self.status, self.reason, self.body = status, reason, body


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _same(have: Any, value: Any) -> bool:
    """``=`` in MariaDB's utf8mb4_unicode_ci: text compared ignoring case. The fake only lowers (``str.lower``)
    and ignores trailing spaces (PAD SPACE); the real collation also ignores accents and matches ``ſ`` to ``s``,
    so the fake never matches more than EspoCRM does."""
    if isinstance(have, str) and isinstance(value, str):
        return have.lower().rstrip(" ") == value.lower().rstrip(" ")
    return have == value


def _like(have: Any, pattern: str) -> bool:
    """``LIKE`` as MariaDB reads it: ``%`` any text, ``_`` one letter, ``\\`` escapes the next one; case
    ignored (lowered, as ``_same``)."""
    if not isinstance(have, str):
        return False
    parts, escaped = [], False
    for char in pattern.lower():
        if escaped:
            parts.append(re.escape(char))
            escaped = False
        elif char == "\\":
            escaped = True
        else:
            parts.append(".*" if char == "%" else "." if char == "_" else re.escape(char))
    if escaped:
        parts.append(re.escape("\\"))
    return re.fullmatch("".join(parts), have.lower(), re.DOTALL) is not None


def _match(condition: dict[str, Any], row: dict[str, Any], linked: Callable[[str, str], set[str]],
           addresses: Callable[[dict], list[str]]) -> bool:
    kind, attribute, value = condition.get("type"), condition.get("attribute"), condition.get("value")
    if kind in ("and", "or"):
        parts = [_match(part, row, linked, addresses) for part in value or []]
        return all(parts) if kind == "and" else any(parts)
    if kind in ("linkedWith", "notLinkedWith"):
        wanted = set(value if isinstance(value, list) else [value])
        found = bool(linked(str(attribute), row["id"]) & wanted)
        return found if kind == "linkedWith" else not found
    if attribute == "emailAddress" and kind in ("equals", "in"):  # any linked address, case-insensitive
        wanted = {_lower(item) for item in (value if isinstance(value, list) else [value])}
        return bool(wanted & set(addresses(row)))
    have = row.get(str(attribute))
    tests: dict[str, Callable[[], bool]] = {
        "equals": lambda: _same(have, value), "notEquals": lambda: have is not None and not _same(have, value),
        "in": lambda: any(_same(have, item) for item in value or []),
        "notIn": lambda: have is not None and not any(_same(have, item) for item in value or []),
        "isNull": lambda: have is None, "isNotNull": lambda: have is not None,
        "isTrue": lambda: have is True, "isFalse": lambda: have is not True,
        "greaterThan": lambda: have is not None and have > value,
        "greaterThanOrEquals": lambda: have is not None and have >= value,
        "lessThan": lambda: have is not None and have < value,
        "lessThanOrEquals": lambda: have is not None and have <= value,
        "contains": lambda: _like(have, f"%{value}%"),  # EspoCRM does not escape the value
        "before": lambda: have is not None and have < value, "after": lambda: have is not None and have > value,
        "startsWith": lambda: isinstance(have, str) and have.lower().startswith(str(value).lower()),
    }
    if kind not in tests:
        raise Refused(400, f"Unknown where type '{kind}'.")
    return tests[kind]()


class Store:
    """All records of the fake EspoCRM, under one lock."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._serial = itertools.count(1)
        self.addresses: dict[str, dict[str, Any]] = {}  # lower -> {emailAddress, optOut, invalid}
        self.records: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in (
            *PERSONS, "Account", "TargetList", "Campaign", "CampaignLogRecord", "Note")}
        self.links: dict[tuple[str, str], dict[str, bool]] = {}  # (list id, entity) -> record id -> optedOut
        self.fields = {"Contact": seed.CONTACT_FIELDS, "Lead": seed.LEAD_FIELDS}
        self._seed()

    def new_id(self) -> str:
        return f"6c{next(self._serial):015x}"

    def _seed(self) -> None:
        for account in seed.ACCOUNTS:
            self.records["Account"][account["id"]] = dict(account)
        for entity, people in (("Contact", seed.contacts()), ("Lead", seed.leads())):
            for person in people:
                record = {key: value for key, value in person.items() if key != "addresses"}
                record["_addresses"] = []
                for address, flag in person["addresses"]:
                    item = self.addresses.setdefault(address.lower(), {"emailAddress": address, "optOut": False,
                                                                       "invalid": False})
                    if flag:
                        item[flag] = True
                    record["_addresses"].append(address.lower())
                self.records[entity][record["id"]] = record
        for target in seed.LISTS:
            self.records["TargetList"][target["id"]] = {"id": target["id"], "name": target["name"],
                                                        "createdAt": target["createdAt"]}
            self.links[(target["id"], "Contact")] = dict.fromkeys(target["contacts"], False)
            self.links[(target["id"], "Lead")] = dict.fromkeys(target["leads"], False)
        for campaign in seed.CAMPAIGNS:
            self.records["Campaign"][campaign["id"]] = dict(campaign)

    # views

    def view(self, entity: str, record: dict[str, Any], full: bool = False) -> dict[str, Any]:
        row = {key: value for key, value in record.items() if not key.startswith("_")}
        row.setdefault("createdById", seed.ADMIN)
        row.setdefault("assignedUserId", seed.ADMIN)
        if entity in PERSONS:
            row["name"] = " ".join(part for part in (record.get("firstName"), record.get("lastName")) if part)
            items = [self.addresses[lower] for lower in record["_addresses"]]
            primary = items[0] if items else None
            row["emailAddress"] = primary["emailAddress"] if primary else None
            row["emailAddressIsOptedOut"] = primary["optOut"] if primary else None
            row["emailAddressIsInvalid"] = primary["invalid"] if primary else None
            if full:
                row["emailAddressData"] = [{"emailAddress": item["emailAddress"], "lower": lower,
                                            "primary": index == 0, "optOut": item["optOut"],
                                            "invalid": item["invalid"]}
                                           for index, (lower, item) in enumerate(zip(record["_addresses"], items,
                                                                                     strict=True))]
        if entity == "Contact":
            account = self.records["Account"].get(record.get("accountId") or "")
            row["accountName"] = account["name"] if account else None
            row["accountIsInactive"] = False if account else None
        if entity == "Campaign":
            row.update(self._counters(record["id"]))
        if entity == "TargetList":
            links = [link for (list_id, _), link in self.links.items() if list_id == record["id"]]
            row["entryCount"] = sum(len(link) for link in links)
            row["optedOutCount"] = sum(sum(link.values()) for link in links)
        if entity == "CampaignLogRecord":
            campaign = self.records["Campaign"].get(record.get("campaignId") or "")
            row["campaignName"] = campaign["name"] if campaign else None
        return row

    def _counters(self, campaign_id: str) -> dict[str, Any]:
        log = [row for row in self.records["CampaignLogRecord"].values() if row.get("campaignId") == campaign_id]
        counts = {action: sum(row["action"] == action for row in log) for action in ACTIONS}
        sent = counts["Sent"] or None
        result: dict[str, Any] = {"sentCount": sent}
        for action, name in (("Opened", "opened"), ("Clicked", "clicked"), ("Opted Out", "optedOut"),
                             ("Bounced", "bounced")):
            result[f"{name}Count"] = counts[action]
            result[f"{name}Percentage"] = round(100 * counts[action] / sent) if sent else None
        return result

    def linked(self, entity: str) -> Callable[[str, str], set[str]]:
        def lists_of(link: str, record_id: str) -> set[str]:
            if link != "targetLists":
                raise Refused(400, f"Bad link '{link}'.")
            return {list_id for (list_id, kind), members in self.links.items()
                    if kind == entity and record_id in members}
        return lists_of

    def addresses_of(self, row: dict[str, Any]) -> list[str]:
        return list(row.get("_addresses", []))

    # search

    def search(self, entity: str, rows: list[dict[str, Any]], params: dict[str, Any],
               extra: Callable[[dict[str, Any]], dict[str, Any]] | None = None) -> dict[str, Any]:
        """``{total, list}`` of ``rows`` (stored records) filtered, ordered, paged and selected as EspoCRM does."""
        size = int(params.get("maxSize") or 20)
        if size > 200:
            raise Refused(403, "Max size should not exceed 200. Use offset and limit.")
        offset = int(params.get("offset") or 0)
        where = params.get("where")
        known = self.fields.get(entity)
        views = [(row, self.view(entity, row) | (extra(row) if extra else {})) for row in rows]
        if isinstance(where, list):
            for condition in where:
                attribute = condition.get("attribute") if isinstance(condition, dict) else None
                if known is not None and attribute and attribute not in known and attribute not in (
                        "id", "accountId", "emailAddress", "targetLists", "modifiedAt", "createdAt"):
                    raise Refused(400, f"Bad where attribute '{attribute}'.")
            views = [(row, view) for row, view in views
                     if all(_match(condition, view | {"_addresses": row.get("_addresses", [])},
                                   self.linked(entity), self.addresses_of) for condition in where)]
        order_by = params.get("orderBy") or "createdAt"
        if known is not None and order_by not in known and order_by not in ("id", "accountId"):
            raise Refused(400, f"Bad orderBy '{order_by}'.")
        descending = params.get("order", "desc" if not params.get("orderBy") else "asc") == "desc"
        views.sort(key=lambda pair: (pair[1].get(order_by) is not None, pair[1].get(order_by) or "",
                                     pair[1]["id"]), reverse=descending)
        page = [view for _, view in views[offset:offset + size]]
        select = params.get("select")
        if isinstance(select, str):
            select = select.split(",")
        if select:
            keep = {"id", *select, *_LIST_EXTRAS.get(entity, _ALWAYS), "targetListIsOptedOut"}
            page = [{key: value for key, value in view.items() if key in keep} for view in page]
        return {"total": len(views), "list": page}

    # writes

    def set_addresses(self, record: dict[str, Any], data: list[dict[str, Any]]) -> None:
        """Link exactly the listed addresses (the first primary one first); flags the items carry are set on the
        shared address, and missing flags reset it (EspoCRM's create gotcha)."""
        ordered = sorted(data, key=lambda item: not item.get("primary"))
        lowers = []
        for item in ordered:
            address = str(item.get("emailAddress") or "").strip()
            if not address:
                continue
            stored = self.addresses.setdefault(address.lower(), {"emailAddress": address, "optOut": False,
                                                                 "invalid": False})
            for flag in ("optOut", "invalid"):
                stored[flag] = bool(item.get(flag))
            lowers.append(address.lower())
        record["_addresses"] = lowers

    def set_primary_flags(self, record: dict[str, Any], body: dict[str, Any]) -> None:
        if not record["_addresses"]:
            return
        primary = self.addresses[record["_addresses"][0]]
        for attribute, flag in (("emailAddressIsOptedOut", "optOut"), ("emailAddressIsInvalid", "invalid")):
            if attribute in body:
                primary[flag] = bool(body[attribute])

    def now(self) -> str:
        return _now()
