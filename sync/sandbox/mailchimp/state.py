"""The sandbox's in-memory account: audiences, their members, merge fields and segments, and campaigns.

Everything is plain data guarded by one re-entrant lock that request handlers and control methods take for
the whole of one operation. Members live in a dict per audience keyed by subscriber hash, in insertion order,
so lookups are O(1) and paging walks the dict without copying it.
"""

from __future__ import annotations

import hashlib
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sync.sandbox.mailchimp.problems import not_found
from sync.sandbox.mailchimp.times import utc_now

WRITABLE_STATUSES = ("subscribed", "unsubscribed", "cleaned", "pending", "transactional")
MEMBER_STATUSES = (*WRITABLE_STATUSES, "archived")


@dataclass(slots=True)
class MergeField:
    """One audience merge field; ``tag`` is what members' ``merge_fields`` are keyed by."""

    merge_id: int
    tag: str
    name: str
    type: str
    display_order: int
    required: bool = False
    default_value: str = ""
    public: bool = True
    help_text: str = ""
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Member:
    """One audience member. ``tags`` maps static-segment id to the time the tag was added."""

    id: str
    email_address: str
    status: str
    unique_email_id: str
    contact_id: str
    web_id: int
    last_changed: datetime
    email_type: str = "html"
    merge_fields: dict[str, Any] = field(default_factory=dict)
    interests: dict[str, bool] = field(default_factory=dict)
    language: str = ""
    vip: bool = False
    location: dict[str, float] = field(default_factory=dict)
    marketing_permissions: list[dict[str, Any]] = field(default_factory=list)
    ip_signup: str = ""
    timestamp_signup: datetime | None = None
    ip_opt: str = ""
    timestamp_opt: datetime | None = None
    unsubscribe_reason: str = ""
    source: str = "API - Generic"
    tags: dict[int, datetime] = field(default_factory=dict)


@dataclass(slots=True)
class Segment:
    """A static segment; Mailchimp tags are static segments too. ``members`` keeps hashes in join order."""

    id: int
    name: str
    created_at: datetime
    updated_at: datetime
    members: dict[str, None] = field(default_factory=dict)
    type: str = "static"


@dataclass(slots=True)
class Audience:
    """One Mailchimp list ("audience") and everything keyed inside it."""

    id: str
    web_id: int
    name: str
    date_created: datetime
    members: dict[str, Member] = field(default_factory=dict)
    status_counts: Counter[str] = field(default_factory=Counter)
    forgotten: set[str] = field(default_factory=set)
    merge_fields: dict[int, MergeField] = field(default_factory=dict)
    segments: dict[int, Segment] = field(default_factory=dict)
    next_merge_id: int = 1
    _fields_by_tag: dict[str, MergeField] | None = None

    def member(self, member_hash: str) -> Member:
        """The member at ``member_hash`` or a 404 problem (permanently deleted members 404 too)."""
        found = self.members.get(member_hash.lower())
        if found is None:
            raise not_found()
        return found

    def add(self, member: Member) -> None:
        self.members[member.id] = member
        self.status_counts[member.status] += 1

    def set_status(self, member: Member, status: str) -> None:
        """Change a member's status, keeping the per-status counts in step."""
        if status == member.status:
            return
        self.status_counts[member.status] -= 1
        self.status_counts[status] += 1
        member.status = status

    def forget(self, member: Member) -> None:
        """Permanently delete ``member``: gone from every segment, and its hash can never be re-added."""
        del self.members[member.id]
        self.status_counts[member.status] -= 1
        for segment_id in member.tags:
            self.segments[segment_id].members.pop(member.id, None)
        self.forgotten.add(member.id)

    def rehash(self, member: Member, new_email: str, new_hash: str) -> None:
        """Move ``member`` to a new address: it is keyed by the new hash from now on, segments included."""
        del self.members[member.id]
        for segment_id in member.tags:
            segment_members = self.segments[segment_id].members
            segment_members.pop(member.id, None)
            segment_members[new_hash] = None
        member.id = new_hash
        member.email_address = new_email
        self.members[new_hash] = member

    def merge_field_by_tag(self) -> dict[str, MergeField]:
        """The merge fields keyed by tag (cached: call ``merge_fields_changed`` after any change; don't mutate)."""
        if self._fields_by_tag is None:
            self._fields_by_tag = {merge_field.tag: merge_field for merge_field in self.merge_fields.values()}
        return self._fields_by_tag

    def merge_fields_changed(self) -> None:
        self._fields_by_tag = None


@dataclass(slots=True)
class Activity:
    """One engagement event of one recipient: ``action`` open, click or bounce."""

    action: str
    timestamp: datetime
    type: str = ""
    url: str = ""
    ip: str = ""


@dataclass(slots=True)
class Recipient:
    """A campaign recipient with its delivery status (``sent``, ``hard``, ``soft``) and events."""

    email_address: str
    status: str = "sent"
    activity: list[Activity] = field(default_factory=list)


@dataclass(slots=True)
class Unsubscribe:
    email_id: str
    email_address: str
    timestamp: datetime
    reason: str


@dataclass(slots=True)
class Campaign:
    """A sent campaign and its report data, keyed by recipient hash."""

    id: str
    web_id: int
    list_id: str
    title: str
    subject: str
    segment_id: int | None
    create_time: datetime
    send_time: datetime
    recipients: dict[str, Recipient] = field(default_factory=dict)
    unsubscribes: list[Unsubscribe] = field(default_factory=list)
    status: str = "sent"


class SandboxState:
    """The whole account. Take ``lock`` around every read-modify-write."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.audiences: dict[str, Audience] = {}
        self.campaigns: dict[str, Campaign] = {}
        self._serial = 0

    def next_serial(self) -> int:
        """A fresh positive integer, used for web ids, segment ids and the seeds of string ids."""
        self._serial += 1
        return self._serial

    def new_hex_id(self, kind: str) -> str:
        """A 10-hex-digit id like Mailchimp's list and campaign ids; deterministic per sandbox."""
        return hashlib.md5(f"{kind}-{self.next_serial()}".encode()).hexdigest()[:10]

    def audience(self, list_id: str) -> Audience:
        found = self.audiences.get(list_id)
        if found is None:
            raise not_found()
        return found

    def campaign(self, campaign_id: str) -> Campaign:
        found = self.campaigns.get(campaign_id)
        if found is None:
            raise not_found()
        return found

    def new_member(self, audience: Audience, email: str, member_hash: str, status: str,
                   now: datetime | None = None) -> Member:
        """A member object for ``email`` (not yet added), with the read-only ids filled in."""
        return Member(
            id=member_hash, email_address=email, status=status,
            unique_email_id=hashlib.md5(f"{audience.id}:{member_hash}".encode()).hexdigest()[:10],
            contact_id=hashlib.md5(f"contact:{audience.id}:{member_hash}".encode()).hexdigest(),
            web_id=self.next_serial(), last_changed=now or utc_now(),
        )
