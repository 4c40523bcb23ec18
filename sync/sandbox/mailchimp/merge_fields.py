"""Merge-field endpoints: ``/lists/{list_id}/merge-fields[/{merge_id}]``.

Rules kept from the real API: tags are at most 10 characters of A-Z, 0-9 and _ (derived from the name when
absent), unique per audience; at most 30 merge fields per audience; ``type`` cannot change after creation.
"""

from __future__ import annotations

import re
from typing import Any

from sync.sandbox.mailchimp.problems import (
    ApiProblem,
    invalid_field,
    invalid_resource,
    not_found,
)
from sync.sandbox.mailchimp.routing import Reply, Request, page_of
from sync.sandbox.mailchimp.state import Audience, MergeField

MAX_MERGE_FIELDS = 30
MAX_TAG_LENGTH = 10
MERGE_FIELD_TYPES = (
    "text", "number", "address", "phone", "date", "url", "imageurl", "radio", "dropdown", "birthday", "zip",
)
# A new audience's fields, as Mailchimp makes them (BIRTHDAY in its default format, MM/DD).
DEFAULT_FIELDS: tuple[tuple[str, str, str, dict[str, str]], ...] = (
    ("FNAME", "First Name", "text", {}), ("LNAME", "Last Name", "text", {}),
    ("ADDRESS", "Address", "address", {}), ("PHONE", "Phone Number", "phone", {}),
    ("BIRTHDAY", "Birthday", "birthday", {"date_format": "MM/DD"}),
)
_TAG = re.compile(r"^[A-Z0-9_]{1,10}$")


def add_default_fields(audience: Audience) -> None:
    """Give a new audience Mailchimp's default merge fields: FNAME, LNAME, ADDRESS, PHONE, BIRTHDAY."""
    for tag, name, kind, options in DEFAULT_FIELDS:
        create_merge_field(audience, {"tag": tag, "name": name, "type": kind, "options": options})


def create_merge_field(audience: Audience, body: dict[str, Any]) -> MergeField:
    """Validate a create request and add the field; raises ``ApiProblem`` like the real API."""
    name = body.get("name")
    kind = body.get("type")
    if not isinstance(name, str) or not name.strip():
        raise invalid_field("name", "This value should not be blank.")
    if kind not in MERGE_FIELD_TYPES:
        raise invalid_field("type", f"Value must be one of: {', '.join(MERGE_FIELD_TYPES)}.")
    if len(audience.merge_fields) >= MAX_MERGE_FIELDS:
        raise invalid_resource(
            f"This audience already has the maximum of {MAX_MERGE_FIELDS} merge fields; "
            "delete one before adding another."
        )
    taken = audience.merge_field_by_tag()
    tag = _tag_for(body.get("tag"), name, taken, audience.next_merge_id)
    options = _options(kind, body.get("options"))
    merge_field = MergeField(
        merge_id=audience.next_merge_id, tag=tag, name=name.strip(), type=kind,
        display_order=int(body.get("display_order") or audience.next_merge_id + 1),
        required=bool(body.get("required", False)), default_value=str(body.get("default_value") or ""),
        public=bool(body.get("public", True)), help_text=str(body.get("help_text") or ""), options=options,
    )
    audience.merge_fields[merge_field.merge_id] = merge_field
    audience.next_merge_id += 1
    audience.merge_fields_changed()
    return merge_field


def merge_field_view(list_id: str, merge_field: MergeField) -> dict[str, Any]:
    return {
        "merge_id": merge_field.merge_id, "tag": merge_field.tag, "name": merge_field.name,
        "type": merge_field.type, "required": merge_field.required,
        "default_value": merge_field.default_value, "public": merge_field.public,
        "display_order": merge_field.display_order, "options": dict(merge_field.options),
        "help_text": merge_field.help_text, "list_id": list_id,
    }


def _tag_for(requested: Any, name: str, taken: dict[str, MergeField], merge_id: int) -> str:
    if requested is None or requested == "":
        derived = re.sub(r"[^A-Z0-9_]", "", name.upper())[:MAX_TAG_LENGTH]
        return derived if derived and derived not in taken else f"MMERGE{merge_id}"
    tag = str(requested).strip().upper()
    if not _TAG.match(tag):
        raise invalid_field(
            "tag", f"The tag must be 1 to {MAX_TAG_LENGTH} characters of A-Z, 0-9 and _; got {requested!r}."
        )
    if tag in taken:
        raise invalid_resource(f'A Merge Field with the tag "{tag}" already exists for this list.')
    return tag


def _options(kind: str, sent: Any) -> dict[str, Any]:
    sent = sent if isinstance(sent, dict) else {}
    options: dict[str, Any] = {}
    if kind in ("date", "birthday"):
        allowed = ("MM/DD/YYYY", "DD/MM/YYYY") if kind == "date" else ("MM/DD", "DD/MM")
        date_format = str(sent.get("date_format") or allowed[0]).upper()
        if date_format not in allowed:
            raise invalid_field("options.date_format", f"Value must be one of: {', '.join(allowed)}.")
        options["date_format"] = date_format
    if kind in ("radio", "dropdown"):
        choices = sent.get("choices")
        if not isinstance(choices, list) or not choices or not all(isinstance(c, str) for c in choices):
            raise invalid_field("options.choices", "A radio or dropdown field needs a list of text choices.")
        options["choices"] = list(choices)
    if kind == "phone":
        options["phone_format"] = str(sent.get("phone_format") or "International")
    if kind == "address":
        options["default_country"] = int(sent.get("default_country") or 164)
    if kind == "text":
        options["size"] = int(sent.get("size") or 25)
    return options


def _find(audience: Audience, merge_id: str) -> MergeField:
    found = audience.merge_fields.get(int(merge_id)) if merge_id.isdigit() else None
    if found is None:
        raise not_found()
    return found


def list_merge_fields(request: Request) -> Reply:
    count, offset = request.page()
    with request.state.lock:
        audience = request.state.audience(request.params["list_id"])
        fields = list(audience.merge_fields.values())
        wanted_type = request.query.get("type")
        if wanted_type:
            fields = [f for f in fields if f.type == wanted_type]
        if "required" in request.query:
            fields = [f for f in fields if f.required == request.flag("required")]
        page = [merge_field_view(audience.id, f) for f in page_of(fields, count, offset)]
    return Reply(200, {"merge_fields": page, "list_id": audience.id, "total_items": len(fields)})


def add_merge_field(request: Request) -> Reply:
    body = request.body_object()
    with request.state.lock:
        audience = request.state.audience(request.params["list_id"])
        return Reply(200, merge_field_view(audience.id, create_merge_field(audience, body)))


def get_merge_field(request: Request) -> Reply:
    with request.state.lock:
        audience = request.state.audience(request.params["list_id"])
        return Reply(200, merge_field_view(audience.id, _find(audience, request.params["merge_id"])))


def update_merge_field(request: Request) -> Reply:
    body = request.body_object()
    with request.state.lock:
        audience = request.state.audience(request.params["list_id"])
        merge_field = _find(audience, request.params["merge_id"])
        if "type" in body and body["type"] != merge_field.type:
            raise ApiProblem(400, "Invalid Resource", "The type of a merge field cannot be changed.")
        if "tag" in body and str(body["tag"]).upper() != merge_field.tag:
            others = {t: f for t, f in audience.merge_field_by_tag().items() if f is not merge_field}
            old_tag, merge_field.tag = merge_field.tag, _tag_for(body["tag"], merge_field.name, others, 0)
            audience.merge_fields_changed()
            for member in audience.members.values():
                if old_tag in member.merge_fields:
                    member.merge_fields[merge_field.tag] = member.merge_fields.pop(old_tag)
        if isinstance(body.get("name"), str) and body["name"].strip():
            merge_field.name = body["name"].strip()
        for attribute in ("required", "public"):
            if attribute in body:
                setattr(merge_field, attribute, bool(body[attribute]))
        for attribute in ("default_value", "help_text"):
            if attribute in body:
                setattr(merge_field, attribute, str(body[attribute] or ""))
        if "display_order" in body:
            merge_field.display_order = int(body["display_order"])
        if isinstance(body.get("options"), dict):
            merge_field.options = _options(merge_field.type, {**merge_field.options, **body["options"]})
        return Reply(200, merge_field_view(audience.id, merge_field))


def delete_merge_field(request: Request) -> Reply:
    with request.state.lock:
        audience = request.state.audience(request.params["list_id"])
        merge_field = _find(audience, request.params["merge_id"])
        del audience.merge_fields[merge_field.merge_id]
        audience.merge_fields_changed()
        for member in audience.members.values():
            member.merge_fields.pop(merge_field.tag, None)
    return Reply(204)


ROUTES = [
    ("GET", "/lists/{list_id}/merge-fields", list_merge_fields),
    ("POST", "/lists/{list_id}/merge-fields", add_merge_field),
    ("GET", "/lists/{list_id}/merge-fields/{merge_id}", get_merge_field),
    ("PATCH", "/lists/{list_id}/merge-fields/{merge_id}", update_merge_field),
    ("DELETE", "/lists/{list_id}/merge-fields/{merge_id}", delete_merge_field),
]
