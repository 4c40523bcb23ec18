"""Static segments and member tags (Mailchimp's tags are static segments with the tag's name).

``/lists/{list_id}/segments[/{segment_id}[/members]]`` and ``/lists/{list_id}/members/{hash}/tags``.
Saved (condition-based) segments are not modelled: a create request with ``options`` is refused with a 400
that says so, rather than pretending to evaluate conditions.
"""

from __future__ import annotations

from typing import Any

from sync.sandbox.mailchimp.addresses import subscriber_hash
from sync.sandbox.mailchimp.members import member_view, path_hash
from sync.sandbox.mailchimp.problems import (
    bad_request,
    invalid_field,
    invalid_resource,
    not_found,
)
from sync.sandbox.mailchimp.routing import Reply, Request, page_and_total, page_of
from sync.sandbox.mailchimp.state import Audience, Member, SandboxState, Segment
from sync.sandbox.mailchimp.times import to_iso, utc_now

MAX_SEGMENT_CHANGES = 500
TOO_MANY_CHANGES = ("Maximum allowed member items exceeded, please provide at most 500 items in members_to_add field "
                    "or members_to_remove field")  # the live API's answer, as hitobito/hitobito#1819 recorded it
NOT_STATIC = "A Static Segment with an id of {id} does not exist for this list."  # brandonseydel/MailChimp.Net#377
HIDDEN_BY_DEFAULT = {"cleaned": "include_cleaned", "unsubscribed": "include_unsubscribed",
                     "transactional": "include_transactional"}


def segment_view(audience: Audience, segment: Segment) -> dict[str, Any]:
    return {"id": segment.id, "name": segment.name, "member_count": len(segment.members),
            "type": segment.type, "created_at": to_iso(segment.created_at),
            "updated_at": to_iso(segment.updated_at), "list_id": audience.id}


def find_segment(audience: Audience, name: str) -> Segment | None:
    """The segment called ``name``: an exact match first, else one that differs only in case."""
    folded = None
    for segment in audience.segments.values():
        if segment.name == name:
            return segment
        if folded is None and segment.name.casefold() == name.casefold():
            folded = segment
    return folded


def create_segment(state: SandboxState, audience: Audience, name: str, kind: str = "static") -> Segment:
    now = utc_now()
    segment = Segment(id=state.next_serial(), name=name, created_at=now, updated_at=now, type=kind)
    audience.segments[segment.id] = segment
    return segment


def join(segment: Segment, member: Member) -> bool:
    """Put ``member`` in ``segment``; False when it was already there."""
    if member.id in segment.members:
        return False
    now = utc_now()
    segment.members[member.id] = None
    segment.updated_at = now
    member.tags[segment.id] = now
    return True


def leave(segment: Segment, member: Member) -> bool:
    """Take ``member`` out of ``segment``; False when it was not there."""
    if segment.members.pop(member.id, False) is False:
        return False
    segment.updated_at = utc_now()
    member.tags.pop(segment.id, None)
    return True


def _segment(audience: Audience, segment_id: str) -> Segment:
    found = audience.segments.get(int(segment_id)) if segment_id.isdigit() else None
    if found is None:
        raise not_found()
    return found


def list_segments(request: Request) -> Reply:
    count, offset = request.page()
    wanted_type = request.query.get("type")
    with request.state.lock:
        audience = request.state.audience(request.params["list_id"])
        segments = (s for s in audience.segments.values() if not wanted_type or s.type == wanted_type)
        page, total = page_and_total(segments, count, offset)
        views = [segment_view(audience, s) for s in page]
    return Reply(200, {"segments": views, "list_id": audience.id, "total_items": total})


def add_segment(request: Request) -> Reply:
    body = request.body_object()
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise invalid_field("name", "This value should not be blank.")
    if "options" in body:
        raise invalid_resource("The sandbox models static segments only; send static_segment, not options.")
    emails = body.get("static_segment") or []
    if not isinstance(emails, list) or not all(isinstance(e, str) for e in emails):
        raise invalid_field("static_segment", "This value should be a list of e-mail addresses.")
    with request.state.lock:
        audience = request.state.audience(request.params["list_id"])
        if find_segment(audience, name.strip()) is not None:
            raise invalid_resource(f'A segment or tag named "{name.strip()}" already exists.')
        segment = create_segment(request.state, audience, name.strip())
        for email in emails:
            member = audience.members.get(subscriber_hash(email))
            if member is not None and member.status != "archived":
                join(segment, member)
        return Reply(200, segment_view(audience, segment))


def get_segment(request: Request) -> Reply:
    with request.state.lock:
        audience = request.state.audience(request.params["list_id"])
        return Reply(200, segment_view(audience, _segment(audience, request.params["segment_id"])))


def update_segment(request: Request) -> Reply:
    """Rename a static segment (``options`` would make it a saved one, which the sandbox does not model)."""
    body = request.body_object()
    name = body.get("name")
    if "options" in body:
        raise invalid_resource("The sandbox models static segments only; send name, not options.")
    if not isinstance(name, str) or not name.strip():
        raise invalid_field("name", "This value should not be blank.")
    with request.state.lock:
        audience = request.state.audience(request.params["list_id"])
        segment = _segment(audience, request.params["segment_id"])
        other = find_segment(audience, name.strip())
        if other is not None and other is not segment:
            raise invalid_resource(f'A segment or tag named "{name.strip()}" already exists.')
        segment.name = name.strip()
        segment.updated_at = utc_now()
        return Reply(200, segment_view(audience, segment))


def delete_segment(request: Request) -> Reply:
    with request.state.lock:
        audience = request.state.audience(request.params["list_id"])
        segment = _segment(audience, request.params["segment_id"])
        for member_hash in segment.members:
            audience.members[member_hash].tags.pop(segment.id, None)
        del audience.segments[segment.id]
    return Reply(204)


def change_segment_members(request: Request) -> Reply:
    body = request.body_object()
    to_add, to_remove = body.get("members_to_add") or [], body.get("members_to_remove") or []
    for key, emails in (("members_to_add", to_add), ("members_to_remove", to_remove)):
        if not isinstance(emails, list) or not all(isinstance(e, str) for e in emails):
            raise invalid_field(key, "This value should be a list of e-mail addresses.")
        if len(emails) > MAX_SEGMENT_CHANGES:
            raise invalid_resource(TOO_MANY_CHANGES)
    added: list[dict[str, Any]] = []
    removed: list[dict[str, Any]] = []
    not_members: list[str] = []
    with request.state.lock:
        audience = request.state.audience(request.params["list_id"])
        segment = _segment(audience, request.params["segment_id"])
        if segment.type != "static":
            raise bad_request(NOT_STATIC.format(id=segment.id))
        tags = list(audience.merge_field_by_tag())
        for emails, change, changed in ((to_add, join, added), (to_remove, leave, removed)):
            for email in emails:
                member = audience.members.get(subscriber_hash(email))
                if member is None or member.status == "archived":
                    not_members.append(email)
                elif change(segment, member):
                    changed.append(member_view(audience, member, tags))
    errors = [{"email_addresses": not_members, "error": "These addresses are not members of the audience."}]
    errors = errors if not_members else []
    return Reply(200, {"members_added": added, "members_removed": removed, "errors": errors,
                       "total_added": len(added), "total_removed": len(removed), "error_count": len(not_members)})


def list_segment_members(request: Request) -> Reply:
    count, offset = request.page()
    hidden = {status for status, flag in HIDDEN_BY_DEFAULT.items() if not request.flag(flag)} | {"archived"}
    with request.state.lock:
        audience = request.state.audience(request.params["list_id"])
        segment = _segment(audience, request.params["segment_id"])
        tags = list(audience.merge_field_by_tag())
        shown = (audience.members[h] for h in segment.members if audience.members[h].status not in hidden)
        page, total = page_and_total(shown, count, offset)
        views = [member_view(audience, m, tags) for m in page]
    return Reply(200, {"members": views, "total_items": total})


def update_member_tags(request: Request) -> Reply:
    body = request.body_object()
    changes = body.get("tags")
    if not isinstance(changes, list):
        raise invalid_field("tags", "This value should be a list of {name, status} objects.")
    for change in changes:
        if (not isinstance(change, dict) or not isinstance(change.get("name"), str) or not change["name"].strip()
                or change.get("status") not in ("active", "inactive")):
            raise invalid_field("tags", f"Each tag needs a name and a status of active or inactive; got {change!r}.")
    with request.state.lock:
        audience = request.state.audience(request.params["list_id"])
        member = audience.member(path_hash(request.params["subscriber_hash"]))
        for change in changes:
            name = change["name"].strip()
            segment = find_segment(audience, name)
            if change["status"] == "active":
                join(segment or create_segment(request.state, audience, name), member)
            elif segment is not None:
                leave(segment, member)
    return Reply(204)


def list_member_tags(request: Request) -> Reply:
    count, offset = request.page()
    with request.state.lock:
        audience = request.state.audience(request.params["list_id"])
        member = audience.member(path_hash(request.params["subscriber_hash"]))
        page = [{"id": segment_id, "name": audience.segments[segment_id].name, "date_added": to_iso(added)}
                for segment_id, added in page_of(member.tags.items(), count, offset)]
        return Reply(200, {"tags": page, "total_items": len(member.tags)})


ROUTES = [
    ("GET", "/lists/{list_id}/segments", list_segments),
    ("POST", "/lists/{list_id}/segments", add_segment),
    ("GET", "/lists/{list_id}/segments/{segment_id}", get_segment),
    ("POST", "/lists/{list_id}/segments/{segment_id}", change_segment_members),
    ("PATCH", "/lists/{list_id}/segments/{segment_id}", update_segment),
    ("DELETE", "/lists/{list_id}/segments/{segment_id}", delete_segment),
    ("GET", "/lists/{list_id}/segments/{segment_id}/members", list_segment_members),
    ("POST", "/lists/{list_id}/members/{subscriber_hash}/tags", update_member_tags),
    ("GET", "/lists/{list_id}/members/{subscriber_hash}/tags", list_member_tags),
]
