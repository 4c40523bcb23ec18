"""Mailchimp, through the official SDK: one audience's merge fields, members and ownership tag.

``upsert`` is batched: up to 500 members in one ``POST /lists/{id}`` request. Items carry ``status_if_new``
(Mailchimp's own batch example does) and never ``status``, so an existing member's subscription is never
changed by an update. Writes that end a membership address the existing member by its subscriber hash and
can never create one: ``unsubscribe`` reads the member, then sends ``PATCH /lists/{id}/members/{hash}`` only
to one still receiving mail (PATCH answers 404 for an address the audience does not have; the batch endpoint
with ``update_existing`` would create it, and a status PATCH would bring an archived member back), and
``archive`` is ``DELETE`` on the hash.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import mailchimp_marketing

from sync.addresses import normalise_email
from sync.connectors.mailchimp.calls import call
from sync.connectors.mailchimp.fields import ProviderField
from sync.connectors.provider import MemberRef, MemberResult, MemberWrite
from sync.errors import ConfigError, ProviderRejected
from sync.retry import retrying
from sync.settings import MailchimpSettings

MERGE_FIELD_PAGE = 1000  # the API's maximum; its default of 10 silently hides fields
LOOKUP_FIELDS = ["id", "email_address", "status"]


def subscriber_hash(email: str) -> str:
    """Mailchimp's member id: md5 of the normalised (trimmed, lower-case) address."""
    return hashlib.md5((normalise_email(email) or "").encode("utf-8")).hexdigest()


# Text in Mailchimp's error detail -> our stable reason code. Terminal ones are never retried.
REASONS = (
    ("compliance state", "compliance_state"),
    ("permanently deleted", "forgotten_email"),
    ("looks fake or invalid", "invalid_address"),
    ("signed up to a lot of lists", "signup_throttled"),
    ("merge fields were invalid", "invalid_field_value"),
    ("could not be validated", "invalid_field_value"),
)


def reason_code(title: str, detail: str) -> str:
    """Our reason code for a Mailchimp per-member error."""
    text = f"{title} {detail}".lower()
    if "compliance state" in title.lower():
        return "compliance_state"
    if "forgotten email" in title.lower():
        return "forgotten_email"
    for needle, code in REASONS:
        if needle in text:
            return code
    return "provider_rejected"


class MailchimpAudience:
    """One Mailchimp audience (list). Thread-safe: the SDK keeps no connection state."""

    name = "mailchimp"

    def __init__(self, settings: MailchimpSettings, list_id: str):
        if settings.api_key is None:
            raise ConfigError("no Mailchimp API key: set CRM_SYNC_MAILCHIMP__API_KEY or key mailchimp.api_key")
        key = settings.api_key.get_secret_value()
        self.list_id = list_id
        self.batch_size = settings.batch_size
        self.concurrency = settings.concurrency
        self.base_url = (settings.base_url or _default_base_url(key)).rstrip("/")
        self._client = mailchimp_marketing.Client()
        # "server" replaces itself: the SDK rewrites that word anywhere in the URL with this value.
        self._client.set_config({"api_key": key, "server": "server", "timeout": settings.timeout_seconds})
        self._client.api_client.host = self.base_url
        self._retrying = retrying(settings.retry_seconds, settings.retry_initial_wait)
        self._counter_lock = threading.Lock()
        self.requests_made = 0
        self.write_requests_made = 0

    def _call(self, operation, *args: Any, **kwargs: Any) -> dict[str, Any]:
        for attempt in self._retrying:
            with attempt:
                with self._counter_lock:
                    self.requests_made += 1
                    if not operation.__name__.startswith(("get", "list")):
                        self.write_requests_made += 1
                return call(operation, *args, **kwargs)
        raise AssertionError("unreachable")  # pragma: no cover

    def call_lists(self, operation: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """One ``client.lists`` SDK operation by name, counted and retried like every call of this audience."""
        return self._call(getattr(self._client.lists, operation), *args, **kwargs)

    def describe(self) -> dict[str, Any]:
        """The audience's name and member count; a missing audience is a configuration error."""
        try:
            body = self._call(self._client.lists.get_list, self.list_id, fields=["id", "name", "stats.member_count"])
        except ProviderRejected as error:
            if error.status == 404:
                raise ConfigError(f"Mailchimp has no audience {self.list_id!r} at {self.base_url}: "
                                  "check the audience_id setting") from None
            raise
        return {"name": body.get("name"), "member_count": body.get("stats", {}).get("member_count", 0)}

    def merge_fields(self) -> list[ProviderField]:
        """Every merge field of the audience (one page of 1000: the API allows no more than ~30)."""
        body = self._call(self._client.lists.get_list_merge_fields, self.list_id, count=MERGE_FIELD_PAGE)
        return [_field_from_api(item) for item in body.get("merge_fields", [])]

    def create_merge_field(self, field: ProviderField) -> ProviderField:
        """Create one typed merge field."""
        return _field_from_api(self._call(self._client.lists.add_list_merge_field, self.list_id,
                                          _field_to_api(field)))

    def upsert(self, members: Sequence[MemberWrite]) -> list[MemberResult]:
        """Create or update up to 500 members in one request; one result per address."""
        items = [_member_item(member) for member in members]
        return _with_contacts(self._batch(items), [member.contact_id for member in members])

    def unsubscribe(self, members: Sequence[MemberRef]) -> list[MemberResult]:
        """Unsubscribe existing members: a GET, then a PATCH for one still receiving mail (never creates one).

        A missing member is ``not_found``; an archived one stays archived (``status`` archived)."""
        return [self._unsubscribe_one(member) for member in members]

    def _unsubscribe_one(self, member: MemberRef) -> MemberResult:
        # Read first: a PATCH with a status brings an archived member back, and one that is gone, unsubscribed
        # or cleaned has nothing to end. What was found is the answer then.
        [live] = self.lookup([member])
        if not live.ok or live.status in ("unsubscribed", "cleaned", "archived"):
            return live
        try:
            body = self._call(self._client.lists.update_list_member, self.list_id, subscriber_hash(member.email),
                              {"status": "unsubscribed"})
        except ProviderRejected as error:
            code = "not_found" if error.status == 404 else reason_code(error.title, error.detail)
            return MemberResult(member.email, False, reason_code=code, error=error.detail,
                                contact_id=member.contact_id)
        return replace(_result(member.email, body, created=False), contact_id=member.contact_id)

    def change_email(self, previous_email: str, member: MemberWrite) -> MemberResult:
        """Move an existing member to a new address (keeping its history), updating its fields too."""
        body = _member_item(member)
        try:
            answer = self._call(self._client.lists.set_list_member, self.list_id,
                                subscriber_hash(previous_email), body)
        except ProviderRejected as error:
            return MemberResult(member.email, False, reason_code=reason_code(error.title, error.detail),
                                error=error.detail, contact_id=member.contact_id)
        return replace(_result(member.email, answer, created=False), contact_id=member.contact_id)

    def archive(self, member: MemberRef) -> MemberResult:
        """Archive a member (reversible, unlike a permanent delete); a missing one is ``not_found``.

        Mailchimp refuses (405) to archive a pending or cleaned member: that is reported as a failure.
        """
        email = member.email
        try:
            self._call(self._client.lists.delete_list_member, self.list_id, subscriber_hash(email))
        except ProviderRejected as error:
            code = "not_found" if error.status == 404 else reason_code(error.title, error.detail)
            return MemberResult(email, False, reason_code=code, error=error.detail, contact_id=member.contact_id)
        return MemberResult(email, True, subscriber_hash(email), status="archived", contact_id=member.contact_id)

    def lookup(self, members: Sequence[MemberRef]) -> list[MemberResult]:
        """Each member's live id, address and status, read by subscriber hash (one GET each); see ProviderAudience."""
        return [self._lookup_one(member) for member in members]

    def _lookup_one(self, member: MemberRef) -> MemberResult:
        try:
            body = self._call(self._client.lists.get_list_member, self.list_id, subscriber_hash(member.email),
                              fields=LOOKUP_FIELDS)
        except ProviderRejected as error:
            if error.status == 404:
                return MemberResult(member.email, False, reason_code="not_found", error=error.detail,
                                    contact_id=member.contact_id)
            return MemberResult(member.email, False, reason_code=reason_code(error.title, error.detail),
                                error=error.detail, contact_id=member.contact_id)
        return MemberResult(body.get("email_address") or member.email, True,
                            body.get("id") or subscriber_hash(member.email), body.get("status"),
                            contact_id=member.contact_id)

    def tag_segment(self, name: str) -> int:
        """The id of the static segment (tag) called ``name``, created if missing."""
        body = self._call(self._client.lists.list_segments, self.list_id, type="static", count=1000,
                          fields=["segments.id", "segments.name"])
        for segment in body.get("segments", []):
            if segment.get("name") == name:
                return int(segment["id"])
        created = self._call(self._client.lists.create_segment, self.list_id,
                             {"name": name, "static_segment": []})
        return int(created["id"])

    def tag(self, segment_id: int, emails: Sequence[str]) -> None:
        """Add up to 500 members to a tag in one request."""
        if emails:
            self._call(self._client.lists.batch_segment_members, {"members_to_add": list(emails)},
                       self.list_id, str(segment_id))

    def _batch(self, items: list[dict[str, Any]]) -> list[MemberResult]:
        if not items:
            return []
        body = self._call(self._client.lists.batch_list_members, self.list_id,
                          {"members": items, "update_existing": True})
        results: dict[str, MemberResult] = {}
        for member in body.get("new_members", []):
            results[member["email_address"].lower()] = _result(member["email_address"], member, created=True)
        for member in body.get("updated_members", []):
            results[member["email_address"].lower()] = _result(member["email_address"], member, created=False)
        for error in body.get("errors", []):
            email = error.get("email_address") or ""
            detail = error.get("error") or ""
            if error.get("field") and error.get("field_message") and error.get("field") != "email_address":
                detail = f"{detail} ({error['field']}: {error['field_message']})"
            results[email.lower()] = MemberResult(email, False, reason_code=reason_code("", detail), error=detail)
        missing = "Mailchimp's batch answer did not mention this address"
        return [results.get(item["email_address"].lower())
                or MemberResult(item["email_address"], False, reason_code="provider_rejected", error=missing)
                for item in items]


def _with_contacts(results: list[MemberResult], contact_ids: list[str]) -> list[MemberResult]:
    """The batch's results (in item order) marked with the contact each item stands for."""
    return [replace(result, contact_id=contact_id) for result, contact_id in zip(results, contact_ids, strict=True)]


def _member_item(member: MemberWrite) -> dict[str, Any]:
    item: dict[str, Any] = {"email_address": member.email, "status_if_new": member.status_if_new,
                            "merge_fields": member.merge_fields}
    if member.status is not None:
        item["status"] = member.status
    return item


def _result(email: str, member: dict[str, Any], created: bool) -> MemberResult:
    return MemberResult(email, True, member.get("id") or subscriber_hash(email), member.get("status"), created)


def _field_from_api(item: dict[str, Any]) -> ProviderField:
    options = item.get("options") or {}
    return ProviderField(tag=item["tag"], name=item.get("name", item["tag"]), type=item["type"],
                         date_format=options.get("date_format"), choices=tuple(options.get("choices") or ()),
                         merge_id=item.get("merge_id"))


def _field_to_api(field: ProviderField) -> dict[str, Any]:
    body: dict[str, Any] = {"tag": field.tag, "name": field.name, "type": field.type, "public": False}
    options: dict[str, Any] = {}
    if field.date_format:
        options["date_format"] = field.date_format
    if field.choices:
        options["choices"] = list(field.choices)
    if options:
        body["options"] = options
    return body


def _default_base_url(api_key: str) -> str:
    if api_key.count("-") != 1 or not api_key.rsplit("-", 1)[1]:
        raise ConfigError("the Mailchimp API key must end in its datacenter, like 0123…cdef-us21 "
                          "(CRM_SYNC_MAILCHIMP__API_KEY); or set mailchimp.base_url")
    return f"https://{api_key.rsplit('-', 1)[1]}.api.mailchimp.com/3.0"
