"""Batch subscribe: ``POST /lists/{list_id}`` with up to 500 members.

Answers 200 even when items fail; each failure is an ``errors[]`` item naming the address, an ``error_code``
(``ERROR_CONTACT_EXISTS`` or ``ERROR_GENERIC``) and, where one field is to blame, ``field``/``field_message``.
Items apply in order, one at a time, with the same rules as PUT (see ``upsert``); existing members are touched
only with ``update_existing: true``. An item may carry ``status_if_new`` as Mailchimp's own batch example does
(the 3.0.55 spec does not list it, nor does it forbid it): it sets a new member's status and leaves an existing
member's alone, while ``status`` changes both. An archived member is re-added like a new one.
"""

from __future__ import annotations

from typing import Any

from sync.sandbox.mailchimp import upsert as rules
from sync.sandbox.mailchimp.addresses import subscriber_hash
from sync.sandbox.mailchimp.members import member_view
from sync.sandbox.mailchimp.problems import ApiProblem, invalid_field, invalid_resource
from sync.sandbox.mailchimp.routing import Reply, Request

MAX_BATCH_MEMBERS = 500


def _item_error(email: str, error: str, code: str = "ERROR_GENERIC", field: str = "",
                field_message: str = "") -> dict[str, str]:
    return {"email_address": email, "error": error, "error_code": code,
            "field": field, "field_message": field_message}


def _problem_as_item(email: str, problem: ApiProblem) -> dict[str, str]:
    if problem.errors:
        first = problem.errors[0]
        return _item_error(email, problem.detail, field=first.get("field", ""),
                           field_message=first.get("message", ""))
    return _item_error(email, problem.detail, field="email_address", field_message=problem.detail)


def batch_subscribe(request: Request) -> Reply:
    body = request.body_object()
    items = body.get("members")
    if not isinstance(items, list):
        raise invalid_field("members", "This value should be a list of members.")
    if len(items) > MAX_BATCH_MEMBERS:
        raise invalid_resource(
            f"A batch may add or update at most {MAX_BATCH_MEMBERS} members; this one has {len(items)}."
        )
    update_existing = body.get("update_existing") is True
    skip_merge_validation = request.flag("skip_merge_validation")
    skip_duplicate_check = request.flag("skip_duplicate_check")
    created: list[dict[str, Any]] = []
    updated: list[dict[str, Any]] = []
    errors: list[dict[str, str]] = []
    seen: set[str] = set()
    with request.state.lock:
        audience = request.state.audience(request.params["list_id"])
        tags = list(audience.merge_field_by_tag())
        for item in items:
            email = str(item.get("email_address") or "").strip() if isinstance(item, dict) else ""
            if not email:
                errors.append(_item_error("", "An email address is required.", field="email_address",
                                          field_message="This value should not be blank."))
                continue
            member_hash = subscriber_hash(email)
            if member_hash in seen:
                if not skip_duplicate_check:
                    errors.append(_item_error(email, f"{email} appears more than once in this request."))
                continue
            seen.add(member_hash)
            existing = audience.members.get(member_hash)
            if existing is not None and existing.status != "archived" and not update_existing:
                errors.append(_item_error(
                    email, f"{email} is already a list member, do you want to update? "
                           "please provide update_existing:true in the request body",
                    code="ERROR_CONTACT_EXISTS"))
                continue
            try:
                member, was_created = rules.upsert(
                    request.state, audience, member_hash, {**item, "email_address": email}, rules.BATCH,
                    skip_merge_validation)
            except ApiProblem as problem:
                errors.append(_problem_as_item(email, problem))
                continue
            (created if was_created else updated).append(member_view(audience, member, tags))
    return Reply(200, {
        "new_members": created, "updated_members": updated, "errors": errors,
        "total_created": len(created), "total_updated": len(updated), "error_count": len(errors),
    })


ROUTES = [("POST", "/lists/{list_id}", batch_subscribe)]
