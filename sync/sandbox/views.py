"""One face for both provider sandboxes, so a demo or a test scenario runs the same against either.

A view speaks in e-mail addresses and mapping tags: ``members()`` gives ``{email: {"status", "fields"}}`` with
fields keyed by the mapping's tag, whatever the provider calls them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Generic, Protocol, TypeVar

from sync.mapping.model import FieldMapping
from sync.sandbox.mailchimp import MailchimpSandbox
from sync.sandbox.spotler import SpotlerSandbox

WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


class _Counted(Protocol):
    def request_count(self, method: str | None = None) -> int: ...

    def reset_traffic(self) -> None: ...


SandboxT = TypeVar("SandboxT", bound=_Counted)


class _Traffic(Generic[SandboxT]):
    sandbox: SandboxT

    def writes(self) -> int:
        """Write requests the sandbox has answered since the last reset."""
        return sum(self.sandbox.request_count(method=method) for method in WRITE_METHODS)

    def reset_traffic(self) -> None:
        self.sandbox.reset_traffic()


class MailchimpView(_Traffic[MailchimpSandbox]):
    """The Mailchimp sandbox, one audience of it."""

    provider = "mailchimp"

    def __init__(self, sandbox: MailchimpSandbox, list_id: str):
        self.sandbox = sandbox
        self.list_id = list_id

    def members(self, status: str | None = None) -> dict[str, dict]:
        return {m["email_address"].lower(): {"status": m["status"], "fields": m["merge_fields"]}
                for m in self.sandbox.members(self.list_id, status)}

    def name_of(self, tag: str) -> str:
        """What the provider calls the mapping field ``tag``."""
        return tag

    def unsubscribe(self, email: str) -> None:
        self.sandbox.unsubscribe(self.list_id, email)

    def add_existing(self, email: str) -> None:
        """A subscriber the provider had before crm-sync came."""
        self.sandbox.add_member(self.list_id, email)

    def send_campaign(self, title: str, at: datetime) -> str:
        return self.sandbox.send_campaign(self.list_id, title, send_time=at)

    def record_open(self, campaign: str, email: str, at: datetime) -> None:
        self.sandbox.record_open(campaign, email, at=at)

    def record_click(self, campaign: str, email: str, url: str, at: datetime) -> None:
        self.sandbox.record_click(campaign, email, url, at=at)

    def record_bounce(self, campaign: str, email: str, kind: str, at: datetime) -> None:
        self.sandbox.record_bounce(campaign, email, kind=kind, at=at)

    def record_unsubscribe(self, campaign: str, email: str, at: datetime) -> None:
        self.sandbox.record_unsubscribe(campaign, email, reason="Too many e-mails", at=at)


class SpotlerView(_Traffic[SpotlerSandbox]):
    """The Spotler sandbox; "members" are contacts with an externalId, subscribed while ``bit`` is on and the
    EMAIL channel is open. ``fields`` (the mapping audience's fields) names properties by tag."""

    provider = "spotler"

    def __init__(self, sandbox: SpotlerSandbox, fields: Mapping[str, FieldMapping] | None = None, bit: int = 1):
        self.sandbox = sandbox
        self.bit = bit
        self.tags = {mapped.spotler: tag for tag, mapped in (fields or {}).items() if isinstance(mapped.spotler, str)}
        self._ids: dict[str, str] = {}

    def members(self, status: str | None = None) -> dict[str, dict]:
        found = {}
        for contact in self.sandbox.contacts().values():
            properties = contact.get("properties") or {}
            bits = {p["bit"]: p.get("enabled") for p in properties.get("permissions") or []}
            channel = {c["name"]: c["value"] for c in contact.get("channels") or []}.get("EMAIL", True)
            state = "subscribed" if bits.get(self.bit) and channel else "unsubscribed"
            fields = {self.tags.get(name, name): value for name, value in properties.items()}
            if status is None or status == state:
                found[properties.get("email", "").lower()] = {"status": state, "fields": fields,
                                                              "external_id": contact["externalId"]}
        return found

    def name_of(self, tag: str) -> str:
        """What the provider calls the mapping field ``tag``."""
        return next(name for name, mapped_tag in self.tags.items() if mapped_tag == tag)

    def external_id(self, email: str) -> str:
        """The externalId of the contact with this address (looked up again when the address is new)."""
        email = email.lower()
        if email not in self._ids:
            self._ids = {address: member["external_id"] for address, member in self.members().items()}
        return self._ids[email]

    def unsubscribe(self, email: str, campaign: str | None = None) -> None:
        self.sandbox.unsubscribe(self.external_id(email), bits=[self.bit], mailing_id=campaign)

    def add_existing(self, email: str) -> None:
        """A subscriber the provider had before crm-sync came (from a sign-up form: no externalId)."""
        self.sandbox.add_contact(email, permissions={self.bit: True})

    def send_campaign(self, title: str, at: datetime) -> str:
        return self.sandbox.send_mailing(title, at=at, bit=self.bit)

    def record_open(self, campaign: str, email: str, at: datetime) -> None:
        self.sandbox.record_open(campaign, self.external_id(email), at=at)

    def record_click(self, campaign: str, email: str, url: str, at: datetime) -> None:
        self.sandbox.record_click(campaign, self.external_id(email), url, at=at)

    def record_bounce(self, campaign: str, email: str, kind: str, at: datetime) -> None:
        self.sandbox.record_bounce(campaign, self.external_id(email), kind=kind, at=at)

    def record_unsubscribe(self, campaign: str, email: str, at: datetime) -> None:
        """Spotler records no unsubscribe event: the permission bit goes off (``at`` is when it is seen)."""
        self.unsubscribe(email, campaign)
