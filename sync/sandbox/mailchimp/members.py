"""Member endpoints: list, read, PUT (upsert), PATCH, DELETE (archive) and delete-permanent.

The write rules live in ``upsert``; this module parses requests and renders members like the API does.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any

from sync.sandbox.mailchimp import upsert as rules
from sync.sandbox.mailchimp.addresses import subscriber_hash
from sync.sandbox.mailchimp.problems import (
    VALIDATION_FAILED,
    bad_request,
    invalid_resource,
    method_not_allowed,
)
from sync.sandbox.mailchimp.routing import Reply, Request, page_and_total, page_of
from sync.sandbox.mailchimp.state import MEMBER_STATUSES, Audience, Member
from sync.sandbox.mailchimp.times import parse_iso, to_iso, utc_now

MAX_TAGS_SHOWN = 50
SORT_FIELDS = ("last_changed", "timestamp_opt", "timestamp_signup")


def member_view(audience: Audience, member: Member, tags: Iterable[str]) -> dict[str, Any]:
    """A member as the API renders it; ``tags`` are the audience's merge tags (every one appears)."""
    merge_fields = {tag: member.merge_fields.get(tag, "") for tag in tags}
    full_name = f"{merge_fields.get('FNAME', '')} {merge_fields.get('LNAME', '')}".strip()
    view: dict[str, Any] = {
        "id": member.id, "email_address": member.email_address, "unique_email_id": member.unique_email_id,
        "contact_id": member.contact_id, "full_name": full_name, "web_id": member.web_id,
        "email_type": member.email_type, "status": member.status,
        "consents_to_one_to_one_messaging": True, "merge_fields": merge_fields,
        "interests": dict(member.interests), "stats": {"avg_open_rate": 0, "avg_click_rate": 0},
        "ip_signup": member.ip_signup, "ip_opt": member.ip_opt, "member_rating": 2,
        "last_changed": to_iso(member.last_changed), "language": member.language, "vip": member.vip,
        "email_client": "",
        "location": {"latitude": member.location.get("latitude", 0), "longitude": member.location.get("longitude", 0),
                     "gmtoff": 0, "dstoff": 0, "country_code": "", "timezone": "", "region": ""},
        "marketing_permissions": [dict(p) for p in member.marketing_permissions],
        "source": member.source, "tags_count": len(member.tags),
        "tags": [{"id": segment_id, "name": audience.segments[segment_id].name}
                 for segment_id in islice(member.tags, MAX_TAGS_SHOWN)],
        "list_id": audience.id,
    }
    if member.timestamp_signup is not None:
        view["timestamp_signup"] = to_iso(member.timestamp_signup)
    if member.timestamp_opt is not None:
        view["timestamp_opt"] = to_iso(member.timestamp_opt)
    if member.status == "unsubscribed":
        view["unsubscribe_reason"] = member.unsubscribe_reason
    return view


def path_hash(value: str) -> str:
    """The subscriber hash from a path segment, which may also be the e-mail address itself."""
    return subscriber_hash(value) if "@" in value else value.strip().lower()


def _filtered(audience: Audience, request: Request) -> tuple[Iterator[Member], int | None]:
    """Members matching the query filters, and their total when it is known without a scan."""
    status = request.query.get("status")
    if status and status not in MEMBER_STATUSES:
        raise bad_request(f"status must be one of {', '.join(MEMBER_STATUSES)}; got {status!r}.")
    bounds = []
    for name, keep_after in (("since_last_changed", True), ("before_last_changed", False)):
        if request.query.get(name):
            moment = parse_iso(request.query[name])
            if moment is None:
                raise bad_request(f"{name} must be an ISO 8601 timestamp; got {request.query[name]!r}.")
            bounds.append((moment, keep_after))
    vip_only = request.flag("vip_only")
    members: Iterable[Member] = audience.members.values()
    sort_field = request.query.get("sort_field")
    if sort_field:
        if sort_field not in SORT_FIELDS:
            raise bad_request(f"sort_field must be one of {', '.join(SORT_FIELDS)}; got {sort_field!r}.")
        descending = request.query.get("sort_dir", "ASC").upper() == "DESC"
        members = sorted(members, key=lambda m: getattr(m, sort_field) or m.last_changed, reverse=descending)
    if not bounds and not vip_only:
        if not status:
            return iter(members), len(audience.members)
        return (m for m in members if m.status == status), audience.status_counts[status]

    def keep(member: Member) -> bool:
        if status and member.status != status or vip_only and not member.vip:
            return False
        return all(member.last_changed > moment if after else member.last_changed < moment
                   for moment, after in bounds)

    return (m for m in members if keep(m)), None


def list_members(request: Request) -> Reply:
    count, offset = request.page()
    with request.state.lock:
        audience = request.state.audience(request.params["list_id"])
        tags = list(audience.merge_field_by_tag())
        matching, total = _filtered(audience, request)
        if total is None:
            chosen, total = page_and_total(matching, count, offset)
        else:
            chosen = page_of(matching, count, offset)
        page = [member_view(audience, m, tags) for m in chosen]
    return Reply(200, {"members": page, "list_id": audience.id, "total_items": total})


def get_member(request: Request) -> Reply:
    with request.state.lock:
        audience = request.state.audience(request.params["list_id"])
        member = audience.member(path_hash(request.params["subscriber_hash"]))
        return Reply(200, member_view(audience, member, audience.merge_field_by_tag()))


def put_member(request: Request) -> Reply:
    body = request.body_object()
    missing = [key for key in ("email_address", "status_if_new") if not body.get(key)]
    if missing:
        raise invalid_resource(VALIDATION_FAILED, [
            {"field": key, "message": "This value is required (the API schema requires it on every PUT)."}
            for key in missing
        ])
    return _write(request, body, rules.PUT)


def patch_member(request: Request) -> Reply:
    return _write(request, request.body_object(), rules.PATCH)


def _write(request: Request, body: dict[str, Any], mode: rules.UpsertMode) -> Reply:
    skip = request.flag("skip_merge_validation")
    with request.state.lock:
        audience = request.state.audience(request.params["list_id"])
        member_hash = path_hash(request.params["subscriber_hash"])
        member, _created = rules.upsert(request.state, audience, member_hash, body, mode, skip)
        return Reply(200, member_view(audience, member, audience.merge_field_by_tag()))


def archive_member(request: Request) -> Reply:
    with request.state.lock:
        audience = request.state.audience(request.params["list_id"])
        member = audience.member(path_hash(request.params["subscriber_hash"]))
        if member.status in ("cleaned", "pending", "archived"):
            raise method_not_allowed(
                ["GET", "PUT", "PATCH"], "Can not archive a contact that is bounced, pending or archived"
            )
        audience.set_status(member, "archived")
        member.last_changed = utc_now()
    return Reply(204)


def delete_permanent(request: Request) -> Reply:
    with request.state.lock:
        audience = request.state.audience(request.params["list_id"])
        audience.forget(audience.member(path_hash(request.params["subscriber_hash"])))
    return Reply(204)


ROUTES = [
    ("GET", "/lists/{list_id}/members", list_members),
    ("GET", "/lists/{list_id}/members/{subscriber_hash}", get_member),
    ("PUT", "/lists/{list_id}/members/{subscriber_hash}", put_member),
    ("PATCH", "/lists/{list_id}/members/{subscriber_hash}", patch_member),
    ("DELETE", "/lists/{list_id}/members/{subscriber_hash}", archive_member),
    ("POST", "/lists/{list_id}/members/{subscriber_hash}/actions/delete-permanent", delete_permanent),
]
