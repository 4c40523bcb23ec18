"""The fake vtiger's data: records by webservice id, users, challenges and sessions, and its clock.

Seeded from ``seed.json`` (built from the recorded fixtures: describe results, the 13 seed contacts, two
organisations, three leads). Writes bump ``modifiedtime`` to the clock, and so does a ModComment for the record
it is related to, as vtiger 8.2 does.
"""

from __future__ import annotations

import copy
import html
import json
import secrets
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SEED = Path(__file__).with_name("seed.json")
TOKEN_SECONDS = 300
ACCOUNTS_DESCRIBE_PREFIX = "11"


class VtigerError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


class VtigerState:
    """All of one fake vtiger; callers hold ``lock``."""

    def __init__(self, username: str = "admin", access_key: str = "fake-access-key"):
        seed = json.loads(SEED.read_text(encoding="utf-8"))
        self.lock = threading.RLock()
        self.describe: dict[str, dict[str, Any]] = seed["describe"]
        self.describe.setdefault("Accounts", {"name": "Accounts", "label": "Organizations",
                                              "idPrefix": ACCOUNTS_DESCRIBE_PREFIX, "fields": []})
        self.listtypes = seed["listtypes"]
        self.records: dict[str, dict[str, Any]] = {}
        for row in seed["records"]:
            module = row.pop("module")
            self.records[row["id"]] = {"module": module, **self._blank(module), **row}
        self.users = {username: {"key": access_key, "id": "19x1"}}
        self.tokens: dict[str, tuple[str, float]] = {}  # user → (token, expiry): a new challenge voids the old
        self.sessions: dict[str, tuple[str, float]] = {}  # sessionName → (user, last use)
        self.session_seconds: float | None = None  # idle time after which a session ends (None: never)
        self.next_crmid = 1 + max(int(rid.partition("x")[2]) for rid in self.records)
        self.fixed_now: datetime | None = None

    def _blank(self, module: str) -> dict[str, str]:
        fields = self.describe.get(module, {}).get("fields", [])
        return {f["name"]: "" for f in fields if f["name"] != "id"}

    def prefix(self, module: str) -> str:
        return str(self.describe[module]["idPrefix"])

    def module_of(self, record_id: str) -> str | None:
        record = self.records.get(record_id)
        return record["module"] if record else None

    def now(self) -> str:
        moment = self.fixed_now or datetime.now(UTC)
        return moment.strftime("%Y-%m-%d %H:%M:%S")

    # -- login -----------------------------------------------------------------------------------------------

    def challenge(self, username: str) -> dict[str, Any]:
        if username not in self.users:
            raise VtigerError("ACCESS_DENIED", "username does not exists")
        token = secrets.token_hex(7)[:13]
        now = time.time()
        self.tokens[username] = (token, now + TOKEN_SECONDS)
        return {"token": token, "serverTime": int(now), "expireTime": int(now + TOKEN_SECONDS)}

    def login(self, username: str, access_key: str) -> dict[str, Any]:
        import hashlib
        user = self.users.get(username)
        token, expiry = self.tokens.get(username, ("", 0.0))
        expected = hashlib.md5((token + (user or {}).get("key", "")).encode()).hexdigest() if token else None
        if user is None or expected is None or expiry < time.time() or access_key != expected:
            raise VtigerError("INVALID_USER_CREDENTIALS", "Invalid username or password")
        session = secrets.token_hex(12)
        self.sessions[session] = (username, time.time())
        return {"username": username, "first_name": "Ad", "last_name": "Min", "email": "admin@example.org",
                "time_zone": "UTC", "sessionName": session, "userId": user["id"], "version": "0.22",
                "vtigerVersion": "8.2.0"}

    def user_of(self, session: str | None) -> str:
        if not session:
            raise VtigerError("AUTHENTICATION_REQUIRED", "Authencation required")
        user, used = self.sessions.get(session, ("", 0.0))
        if not user or (self.session_seconds is not None and time.time() - used > self.session_seconds):
            self.sessions.pop(session, None)
            raise VtigerError("INVALID_SESSIONID", "Session Identifier provided is Invalid")
        self.sessions[session] = (user, time.time())
        return user

    # -- records ---------------------------------------------------------------------------------------------

    def rows(self, module: str) -> list[dict[str, Any]]:
        return [{k: v for k, v in record.items() if k != "module"} for record in self.records.values()
                if record["module"] == module]

    def retrieve(self, record_id: str) -> dict[str, Any]:
        record = self.records.get(record_id)
        if record is None:
            number = record_id.partition("x")[2]
            if any(other.partition("x")[2] == number for other in self.records):
                raise VtigerError("INVALID_ID_ATTRIBUTE", "Id specified is incorrect")
            raise VtigerError("ACCESS_DENIED", "Permission to perform the operation is denied")
        return {k: v for k, v in record.items() if k != "module"}

    def update(self, element: dict[str, Any], user_id: str) -> dict[str, Any]:
        """``update`` takes the whole record: a mandatory field left out is MANDATORY_FIELDS_MISSING."""
        record = self.retrieve(str(element.get("id") or ""))
        module = self.records[record["id"]]["module"]
        for spec in self.describe[module]["fields"]:
            if spec.get("mandatory") and spec["name"] != "id" and not element.get(spec["name"]):
                raise VtigerError("MANDATORY_FIELDS_MISSING", f"{spec['name']} does not have a value")
        return self.revise(element, user_id)

    def create(self, module: str, element: dict[str, Any], user_id: str) -> dict[str, Any]:
        if module not in self.describe:
            raise VtigerError("ACCESS_DENIED", f"Permission to perform the operation is denied for {module}")
        if module == "ModComments":
            related = str(element.get("related_to") or "")
            if related not in self.records:
                raise _HttpFailure()  # vtiger 8.2 fails with a PHP error page here
        if module == "Contacts" and not element.get("lastname"):
            raise VtigerError("MANDATORY_FIELDS_MISSING", "lastname does not have a value")
        record_id = f"{self.prefix(module)}x{self.next_crmid}"
        self.next_crmid += 1
        now = self.now()
        record = {"module": module, **self._blank(module), **{k: _stored(v) for k, v in element.items()},
                  "id": record_id, "createdtime": now, "modifiedtime": now}
        if "modifiedby" in record:
            record["modifiedby"] = user_id
        if module == "ModComments":
            record.update({"creator": user_id, "source": "WEBSERVICE", "is_private": "0",
                           "label": html.escape(record.get("commentcontent", ""))})
            self.records[str(element["related_to"])]["modifiedtime"] = now  # the bump vtiger does
        self.records[record_id] = record
        return self.retrieve(record_id)

    def revise(self, element: dict[str, Any], user_id: str) -> dict[str, Any]:
        record_id = str(element.get("id") or "")
        record = self.records.get(record_id)
        if record is None:
            raise VtigerError("ACCESS_DENIED", "Permission to perform the operation is denied")
        known = set(self._blank(record["module"])) | set(record)
        for key, value in element.items():  # unknown fields are ignored, as vtiger does
            if key != "id" and key in known:
                record[key] = _stored(value)
        record["modifiedtime"] = self.now()
        if "modifiedby" in record:
            record["modifiedby"] = user_id
        return self.retrieve(record_id)

    def delete(self, record_id: str) -> dict[str, Any]:
        if record_id not in self.records:
            raise VtigerError("ACCESS_DENIED", "Permission to perform the operation is denied")
        del self.records[record_id]
        return {"status": "successful"}

    def add_field(self, module: str, column: str, label: str, type_info: dict[str, Any]) -> None:
        """A custom field added in the layout editor: every record gets it empty."""
        self.describe[module]["fields"].append({"name": column, "label": label, "mandatory": False,
                                                "type": type_info, "nullable": True, "editable": True})
        for record in self.records.values():
            if record["module"] == module:
                record.setdefault(column, "")

    def snapshot(self) -> dict[str, dict[str, Any]]:
        return copy.deepcopy(self.records)


class _HttpFailure(Exception):
    """vtiger answers HTTP 500 with an empty body."""


def _stored(value: Any) -> str:
    """Everything is text; utf8mb3 tables turn each character beyond the BMP into ``????``."""
    if isinstance(value, bool):
        value = "1" if value else "0"
    text = "" if value is None else str(value)
    return "".join("????" if ord(char) > 0xFFFF else char for char in text)


HttpFailure = _HttpFailure
