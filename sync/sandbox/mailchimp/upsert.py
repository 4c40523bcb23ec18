"""The write rules for one member, shared by PUT, PATCH and batch subscribe.

``upsert`` validates everything first and only then changes state, so a refused request leaves the member
exactly as it was. Rules (see ``../shared/docs/mailchimp-api.md`` §3):

* ``status_if_new`` sets the status of a new member only; ``status`` changes an existing member's status.
* ``status`` alone brings an archived member back; ``status_if_new`` alone leaves it archived.
* unsubscribed or cleaned members cannot be set to ``subscribed`` ("Member In Compliance State"); cleaned ones
  cannot be set to ``pending`` either.
* a permanently deleted address can never be re-added ("Forgotten Email Not Subscribed").
* an ``email_address`` that differs from the member's moves the member to the new address's hash.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sync.sandbox.mailchimp import problems
from sync.sandbox.mailchimp.addresses import looks_fake, subscriber_hash
from sync.sandbox.mailchimp.merge_values import check_merge_values
from sync.sandbox.mailchimp.problems import ApiProblem, invalid_field
from sync.sandbox.mailchimp.state import (
    WRITABLE_STATUSES,
    Audience,
    Member,
    SandboxState,
)
from sync.sandbox.mailchimp.times import parse_iso, utc_now

PATCH_STATUSES = ("subscribed", "unsubscribed", "cleaned", "pending")
_PLAIN_FIELDS = ("language", "ip_signup", "ip_opt")
_OPTIONAL_FIELDS = frozenset({*_PLAIN_FIELDS, "email_type", "vip", "interests", "location", "marketing_permissions",
                              "timestamp_signup"})


@dataclass(frozen=True, slots=True)
class UpsertMode:
    """Which endpoint is writing: it decides which status fields apply and whether a member may be created."""

    name: str
    may_create: bool
    statuses: tuple[str, ...]


PUT = UpsertMode("put", True, WRITABLE_STATUSES)
PATCH = UpsertMode("patch", False, PATCH_STATUSES)
BATCH = UpsertMode("batch", True, WRITABLE_STATUSES)


def upsert(
    state: SandboxState, audience: Audience, member_hash: str, body: dict[str, Any], mode: UpsertMode,
    skip_merge_validation: bool = False,
) -> tuple[Member, bool]:
    """Create or update the member at ``member_hash`` from a request body; return (member, created).

    Raises ``ApiProblem`` (before changing anything) when the write is refused.
    """
    _check_status_values(body, mode)
    now = utc_now()
    existing = audience.members.get(member_hash)
    if existing is None or (mode is BATCH and existing.status == "archived"):
        if not mode.may_create and existing is None:
            raise problems.not_found()
        return _create(state, audience, member_hash, body, mode, skip_merge_validation, existing, now), True
    _update(audience, existing, body, skip_merge_validation, now)
    return existing, False


def _check_status_values(body: dict[str, Any], mode: UpsertMode) -> None:
    for key in ("status", "status_if_new"):
        value = body.get(key)
        if value is not None and value not in mode.statuses:
            raise invalid_field(key, f"Value must be one of: {', '.join(mode.statuses)}; got {value!r}.")
    email = body.get("email_address")
    if email is not None and not isinstance(email, str):
        raise invalid_field("email_address", "This value must be a string.")
    if body.get("email_type") not in (None, "html", "text"):
        raise invalid_field("email_type", "Value must be one of: html, text.")


def _create(
    state: SandboxState, audience: Audience, member_hash: str, body: dict[str, Any], mode: UpsertMode,
    skip_merge_validation: bool, archived: Member | None, now: datetime,
) -> Member:
    email = str(body.get("email_address") or "").strip()
    if not email:
        raise invalid_field("email_address", "This value should not be blank.")
    if subscriber_hash(email) != member_hash:
        raise problems.invalid_resource(
            "The subscriber hash in the URL does not match the email_address in the request body."
        )
    if member_hash in audience.forgotten:
        raise problems.forgotten(email)
    if looks_fake(email):
        raise problems.fake_or_invalid(email)
    status = body.get("status") or body.get("status_if_new")
    if status is None:
        field = "status" if mode is BATCH else "status_if_new"
        raise invalid_field(field, "A status is required when the email address is new to the audience.")
    current_values = archived.merge_fields if archived else {}
    merge_values = _merge_values(audience, body, current_values, skip_merge_validation)
    member = archived or state.new_member(audience, email, member_hash, status, now)
    if archived is None:
        audience.add(member)
    else:
        audience.set_status(member, status)
    member.email_address = email
    member.merge_fields = merge_values
    _apply_plain_fields(member, body)
    _stamp_status(member, status, body, now)
    member.last_changed = now
    return member


def _update(
    audience: Audience, member: Member, body: dict[str, Any], skip_merge_validation: bool, now: datetime,
) -> None:
    new_status = body.get("status")
    if new_status is not None:
        refuse_compliance_change(member, new_status)
    email = body.get("email_address")
    new_hash = None
    if email is not None and email.strip() and email.strip().lower() != member.email_address.lower():
        email = email.strip()
        new_hash = subscriber_hash(email)
        if new_hash in audience.members:
            raise ApiProblem(
                400, "Member Exists",
                f"{email} is already a list member, so {member.email_address} cannot be changed to it.",
            )
        if new_hash in audience.forgotten:
            raise problems.forgotten(email)
        if looks_fake(email):
            raise problems.fake_or_invalid(email)
    merge_values = _merge_values(audience, body, member.merge_fields, skip_merge_validation)

    changed = merge_values != member.merge_fields
    if new_hash is not None and email is not None:  # email is always set when new_hash is
        audience.rehash(member, email, new_hash)
        changed = True
    elif email is not None and email.strip() and email.strip() != member.email_address:
        member.email_address = email.strip()
        changed = True
    member.merge_fields = merge_values
    changed = _apply_plain_fields(member, body) or changed
    if new_status is not None and new_status != member.status:
        audience.set_status(member, new_status)
        _stamp_status(member, new_status, body, now)
        changed = True
    if changed:
        member.last_changed = now


def refuse_compliance_change(member: Member, new_status: str) -> None:
    """Raise "Member In Compliance State" for a status change Mailchimp refuses through the API."""
    blocked = (member.status in ("unsubscribed", "cleaned") and new_status == "subscribed") or (
        member.status == "cleaned" and new_status == "pending"
    )
    if blocked:
        raise problems.compliance_state(member.email_address)


def _merge_values(
    audience: Audience, body: dict[str, Any], current: dict[str, Any], skip_merge_validation: bool,
) -> dict[str, Any]:
    values, errors = check_merge_values(
        audience.merge_field_by_tag(), body.get("merge_fields"), current, skip_merge_validation
    )
    if errors:
        raise problems.merge_fields_invalid(errors)
    return values


def _apply_plain_fields(member: Member, body: dict[str, Any]) -> bool:
    """Copy the optional member fields present in ``body``; True when any of them changed."""
    if not body.keys() & _OPTIONAL_FIELDS:
        return False
    before = _comparable(member)
    if body.get("email_type") is not None:
        member.email_type = body["email_type"]
    for key in _PLAIN_FIELDS:
        if isinstance(body.get(key), str):
            setattr(member, key, body[key])
    if isinstance(body.get("vip"), bool):
        member.vip = body["vip"]
    if isinstance(body.get("interests"), dict):
        member.interests.update({str(k): bool(v) for k, v in body["interests"].items()})
    if isinstance(body.get("location"), dict):
        member.location = {k: float(v) for k, v in body["location"].items()
                           if k in ("latitude", "longitude") and isinstance(v, (int, float))}
    if isinstance(body.get("marketing_permissions"), list):
        member.marketing_permissions = [p for p in body["marketing_permissions"] if isinstance(p, dict)]
    if isinstance(body.get("timestamp_signup"), str):
        member.timestamp_signup = parse_iso(body["timestamp_signup"]) or member.timestamp_signup
    return _comparable(member) != before


def _stamp_status(member: Member, status: str, body: dict[str, Any], now: datetime) -> None:
    if status == "subscribed":
        sent = body.get("timestamp_opt")
        member.timestamp_opt = (parse_iso(sent) if isinstance(sent, str) else None) or now
        member.unsubscribe_reason = ""
    elif status == "unsubscribed":
        member.unsubscribe_reason = "N/A (Unsubscribed by an admin)"


def _comparable(member: Member) -> tuple[Any, ...]:
    return (member.email_type, member.language, member.vip, member.ip_signup, member.ip_opt,
            member.timestamp_signup, dict(member.interests), dict(member.location),
            list(member.marketing_permissions))
