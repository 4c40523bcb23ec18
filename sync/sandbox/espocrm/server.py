"""The fake EspoCRM's HTTP side: authentication (API key or HMAC), ACL per role, routing, and answers shaped
like EspoCRM 9.1.7's (status code, ``X-Status-Reason``, ``{total, list}`` envelopes, empty error bodies)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import socket
import threading
import traceback
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from sync.sandbox.espocrm.store import ACTIONS, PERSONS, Refused, Store
from sync.sandbox.serving import TrackedHandler

_SCOPES = ("Contact", "Lead", "Account", "TargetList", "Campaign", "CampaignLogRecord", "Note")


@dataclass
class Traffic:
    """Requests seen, by ``METHOD path`` and status; open connections."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    open_connections: int = 0
    requests: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)  # tracebacks of the fake's own failures

    def connection(self, delta: int) -> None:
        with self.lock:
            self.open_connections += delta


@dataclass
class Fault:
    """Answer ``status`` to the next ``count`` requests whose ``METHOD path`` starts with ``prefix``; with
    ``after_commit`` the request is carried out first (the answer is lost on its way back)."""

    prefix: str
    status: int
    count: int = 1
    after_commit: bool = False


@dataclass
class App:
    store: Store
    users: dict[str, tuple[str, str]]  # api key -> (user id, role)
    secrets: dict[str, str]  # HMAC api key -> secret
    traffic: Traffic = field(default_factory=Traffic)
    connections: set[socket.socket] = field(default_factory=set)
    faults: list[Fault] = field(default_factory=list)

    def fault_for(self, request: str) -> Fault | None:
        with self.store.lock:
            for fault in self.faults:
                if request.startswith(fault.prefix) and fault.count > 0:
                    fault.count -= 1
                    return fault
        return None


def _authenticate(app: App, method: str, path: str, headers: Any) -> tuple[str, str]:
    key = headers.get("X-Api-Key")
    if key is not None:
        if key in app.users:
            return app.users[key]
        raise Refused(401)
    signed = headers.get("X-Hmac-Authorization")
    if signed is not None:
        try:
            key, _, digest = base64.b64decode(signed).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise Refused(401) from None
        secret = app.secrets.get(key)
        expected = hmac.new((secret or "").encode(), f"{method} /{path}".encode(), hashlib.sha256).hexdigest()
        if secret is None or not hmac.compare_digest(expected, digest) or key not in app.users:
            raise Refused(401)
        return app.users[key]
    raise Refused(401, "", {"www": True})


def _check_access(role: str, method: str, scope: str) -> None:
    allowed = {"sync": _SCOPES, "nocamp": ("Contact",)}[role]
    if scope in ("App", "Metadata") or scope in allowed:
        return
    action = {"GET": "read", "POST": "create", "PUT": "edit", "DELETE": "delete"}.get(method, "read")
    raise Refused(403, f"No {action} access.")


def _record(store: Store, entity: str, record_id: str) -> dict[str, Any]:
    record = store.records[entity].get(record_id)
    if record is None:
        raise Refused(404)
    return record


def _validate(store: Store, entity: str, body: dict[str, Any]) -> None:
    fields = store.fields.get(entity, {})
    for name, value in body.items():
        spec = fields.get(name) or {}
        if spec.get("type") == "enum" and value not in (None, "") and value not in spec.get("options", []):
            raise Refused(400, f"Field validation failure; entityType: {entity}, field: {name}, type: valid.",
                          {"messageTranslation": {"label": "validationFailure", "scope": None,
                                                  "data": {"field": name, "type": "valid"}}})
        if spec.get("maxLength") and isinstance(value, str) and len(value) > spec["maxLength"]:
            raise Refused(400, f"Field validation failure; entityType: {entity}, field: {name}, type: maxLength.",
                          {"messageTranslation": {"label": "validationFailure", "scope": None,
                                                  "data": {"field": name, "type": "maxLength"}}})


def _write(store: Store, entity: str, record: dict[str, Any], body: dict[str, Any], user: str) -> None:
    _validate(store, entity, body)
    derived = ("id", "emailAddress", "emailAddressData", "emailAddressIsOptedOut", "emailAddressIsInvalid", "name")
    plain = {key: value for key, value in body.items() if entity not in PERSONS and key != "id" or key not in derived}
    record.update(plain)
    if entity in PERSONS:
        if "emailAddressData" in body:
            store.set_addresses(record, body["emailAddressData"] or [])
        elif "emailAddress" in body:
            store.set_addresses(record, [{"emailAddress": body["emailAddress"], "primary": True}]
                                if body["emailAddress"] else [])
        store.set_primary_flags(record, body)
    record["modifiedAt"] = store.now()
    record["modifiedById"] = user


def _refuse_duplicate(store: Store, entity: str, body: dict[str, Any]) -> None:
    """409 with the duplicates when a record with the same name and address exists (EspoCRM's check)."""
    name = " ".join(part for part in (body.get("firstName"), body.get("lastName")) if part)
    address = str(body.get("emailAddress") or "").lower()
    duplicates = [store.view(entity, other) for other in store.records[entity].values()
                  if address and address in other["_addresses"] and store.view(entity, other)["name"] == name]
    if duplicates:
        raise Refused(409, "duplicate", [{"id": row["id"], "name": row["name"], "_entityType": entity}
                                         for row in duplicates])


def _create(store: Store, entity: str, body: dict[str, Any], user: str,
            skip_duplicates: bool = False) -> dict[str, Any]:
    if entity == "CampaignLogRecord":
        if body.get("action") not in ACTIONS:
            raise Refused(400, "Field validation failure; entityType: CampaignLogRecord, field: action, type: valid.",
                          {"messageTranslation": {"label": "validationFailure", "scope": None,
                                                  "data": {"field": "action", "type": "valid"}}})
        if not body.get("actionDate"):
            raise Refused(400, "Field validation failure; entityType: CampaignLogRecord, field: actionDate, "
                               "type: required.",
                          {"messageTranslation": {"label": "validationFailure", "scope": None,
                                                  "data": {"field": "actionDate", "type": "required"}}})
        body = {"application": "Espo", "data": {}, **body}
    record: dict[str, Any] = {"id": store.new_id(), "createdAt": store.now(), "createdById": user,
                              "assignedUserId": user}
    if entity in PERSONS:
        record["_addresses"] = []
        if not skip_duplicates:
            _refuse_duplicate(store, entity, body)
    _write(store, entity, record, body, user)
    record["modifiedAt"] = record["createdAt"]
    store.records[entity][record["id"]] = record
    return store.view(entity, record, full=True)


def handle(app: App, method: str, target: str, headers: Any, raw: bytes) -> tuple[int, dict[str, str], Any]:
    """(status, headers, body) for one request."""
    parts = urlsplit(target)
    if not parts.path.startswith("/api/v1/"):
        return 404, {"Content-Type": "text/html"}, "<html><body>Not Found</body></html>"
    path = unquote(parts.path[len("/api/v1/"):]).strip("/")
    query = dict(parse_qsl(parts.query))
    fault = app.fault_for(f"{method} {path}")
    try:
        user, role = _authenticate(app, method, path, headers)
        segments = path.split("/")
        _check_access(role, method, segments[0])
        body = json.loads(raw) if raw else None
        with app.store.lock:
            if fault is not None and not fault.after_commit:
                raise Refused(fault.status, "fault")
            answer = _route(app.store, method, segments, query, body, user,
                            headers.get("X-Skip-Duplicate-Check") == "true")
        if fault is not None:
            raise Refused(fault.status, "fault")
        if headers.get("X-No-Total") == "true" and isinstance(answer, dict) and set(answer) == {"total", "list"}:
            seen = int(_search_params(query).get("offset") or 0) + len(answer["list"])
            answer["total"] = -1 if answer["total"] > seen else -2  # not counted: only "more exist" or not
        return 200, {"Content-Type": "application/json"}, answer
    except Refused as refused:
        out = {"Content-Type": "application/json" if refused.body and "www" not in refused.body
               else "text/html; charset=UTF-8"}
        if refused.reason:
            out["X-Status-Reason"] = refused.reason
        if refused.status == 401 and refused.body:
            out["WWW-Authenticate"] = 'Basic realm=""'
            return 401, out, ""
        return refused.status, out, refused.body if refused.body is not None else ""


def _search_params(query: dict[str, str]) -> dict[str, Any]:
    if "searchParams" in query:
        try:
            params = json.loads(query["searchParams"])
        except ValueError:
            raise Refused(400, "Bad searchParams.") from None
        return params if isinstance(params, dict) else {}
    return {key: value for key, value in query.items() if key in ("maxSize", "offset", "orderBy", "order", "select")}


def _route(store: Store, method: str, segments: list[str], query: dict[str, str], body: Any, user: str,
           skip_duplicates: bool) -> Any:
    head = segments[0]
    if head == "App" and segments[1:] == ["user"]:
        return {"user": {"id": user}}
    if head == "Metadata":
        key = query.get("key", "")
        entity = key.removeprefix("entityDefs.").removesuffix(".fields")
        return store.fields.get(entity, {})
    if head not in store.records:
        raise Refused(404)
    entity = head
    if len(segments) == 1:
        if method == "GET":
            return store.search(entity, list(store.records[entity].values()), _search_params(query))
        if method == "POST":
            return _create(store, entity, body or {}, user, skip_duplicates)
    if entity == "TargetList" and segments[1:2] == ["action"]:
        link = store.links.setdefault((body["id"], body.get("targetType", "Contact")), {})
        if body.get("targetId") not in link:
            raise Refused(404)
        link[body["targetId"]] = segments[2] == "optOut"
        return True
    record = _record(store, entity, segments[1])
    if len(segments) == 2:
        if method == "GET":
            return store.view(entity, record, full=True)
        if method == "PUT":
            before = store.view(entity, record, full=True).get("emailAddressData")
            _write(store, entity, record, body or {}, user)
            answer = store.view(entity, record, full=True)
            if before is not None and "emailAddressData" not in (body or {}):
                answer["emailAddressData"] = before  # EspoCRM's PUT answer shows the flags as they were
            return answer
    if len(segments) == 3 and entity == "TargetList" and segments[2] in ("contacts", "leads"):
        kind = "Contact" if segments[2] == "contacts" else "Lead"
        members = store.links.setdefault((record["id"], kind), {})
        if method == "GET":
            rows = [store.records[kind][member] for member in members if member in store.records[kind]]
            return store.search(kind, rows, _search_params(query),
                                extra=lambda row: {"targetListIsOptedOut": members[row["id"]]})
        ids = (body or {}).get("ids") or [(body or {}).get("id")]
        for member in ids:
            if method == "POST":
                members.setdefault(member, False)
            elif method == "DELETE":
                members.pop(member, None)
        return True
    if len(segments) == 3 and entity in PERSONS and segments[2] == "campaignLogRecords":
        rows = [row for row in store.records["CampaignLogRecord"].values() if row.get("parentId") == record["id"]]
        return store.search("CampaignLogRecord", rows, _search_params(query))
    raise Refused(404)


class Handler(TrackedHandler):
    """Reads a request, lets ``handle`` answer it, writes the answer."""

    def _serve(self) -> None:
        app: App = self.server.app
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            status, headers, body = handle(app, self.command, self.path, self.headers, raw)
        except Exception as error:  # noqa: BLE001 - a fake's bug must answer, not hang the client
            app.traffic.errors.append(traceback.format_exc())
            status, headers, body = 500, {"Content-Type": "text/html"}, f"<html>{type(error).__name__}</html>"
        with app.traffic.lock:
            app.traffic.requests[f"{self.command} {urlsplit(self.path).path}"] += 1
            app.traffic.statuses[status] += 1
        data = b"" if body == "" else (body.encode() if isinstance(body, str) else json.dumps(body).encode())
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = _serve
