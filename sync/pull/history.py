"""Pure: provider engagement events, their deterministic keys, and how they fold into CRM history entries.

Folding is idempotent by construction: a campaign entry remembers the (short) keys of the events it
already counts, so folding the same event twice changes nothing. That is what makes the pull safe when
it crashes after writing the CRM but before recording the events in the ledger (see docs/pull.md).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sync.connectors.provider_registry import provider_title
from sync.records import ActivityRecord, ContactFlags

CAMPAIGN_ACTIONS = ("sent", "open", "click", "bounce")


@dataclass(frozen=True, slots=True)
class Event:
    """One thing that happened to one address: sent, open, click, bounce, unsubscribe or cleaned."""

    provider: str
    audience: str
    email_id: str
    email: str
    action: str
    occurred_at: datetime
    campaign_id: str = ""
    campaign_title: str = ""
    url: str = ""
    bounce_type: str = ""
    reason: str = ""
    ref: str = ""  # the provider's own id of the event, where it has one and repeats are distinct events
    key: str = field(init=False, default="")

    def __post_init__(self) -> None:
        """The key: sha256 of (provider, campaign, email id, action, timestamp, url[, ref]), computed once.

        Unsubscribes and cleanings are facts about the address, not the campaign, so their key leaves the
        campaign out: the campaign report and the audience's member list then name the same event once.
        ``ref`` joins the key only when set, so keys of events without one never change.
        """
        campaign = "" if self.action in ("unsubscribe", "cleaned") else self.campaign_id
        when = self.occurred_at
        stamp = f"{when.year:04d}-{when.month:02d}-{when.day:02d}T{when.hour:02d}:{when.minute:02d}:{when.second:02d}Z"
        identity: tuple[str, ...] = (self.provider, campaign, self.email_id, self.action, stamp, self.url)
        identity += (self.ref,) if self.ref else ()
        object.__setattr__(self, "key", hashlib.sha256("\x1f".join(identity).encode("utf-8")).hexdigest())


@dataclass
class CampaignEntry:
    """What one contact did with one campaign, as kept in the CRM entry's details."""

    campaign_id: str
    title: str
    sent: bool = False
    opens: int = 0
    clicks: int = 0
    links: list[str] = field(default_factory=list)
    bounces: dict[str, int] = field(default_factory=dict)
    first_at: datetime | None = None
    last_at: datetime | None = None
    folded: list[str] = field(default_factory=list)  # short keys of the events already counted

    @classmethod
    def from_details(cls, details: Mapping[str, Any], first_at: datetime, last_at: datetime) -> CampaignEntry:
        return cls(details["campaign_id"], details["title"], details.get("sent", False), details.get("opens", 0),
                   details.get("clicks", 0), list(details.get("links", [])), dict(details.get("bounces", {})),
                   first_at, last_at, list(details.get("folded", [])))

    def fold(self, event: Event) -> None:
        short = event.key[:16]
        if short in self.folded:
            return
        self.folded.append(short)
        if event.action == "sent":
            self.sent = True
        elif event.action == "open":
            self.opens += 1
        elif event.action == "click":
            self.clicks += 1
            if event.url and event.url not in self.links:
                self.links.append(event.url)
        elif event.action == "bounce":
            self.bounces[event.bounce_type or "hard"] = self.bounces.get(event.bounce_type or "hard", 0) + 1
        self.first_at = min(self.first_at or event.occurred_at, event.occurred_at)
        self.last_at = max(self.last_at or event.occurred_at, event.occurred_at)

    def summary(self) -> str:
        parts = ["delivered" if self.sent and not self.bounces else ""]
        if self.opens:
            parts.append(f"opened {_times(self.opens)}")
        if self.clicks and self.links:
            parts.append(f"clicked {len(self.links)} link{'s' if len(self.links) != 1 else ''}"
                         f" ({_times(self.clicks)})")
        elif self.clicks:  # Spotler's click feed does not say which link
            parts.append(f"clicked {_times(self.clicks)}")
        for kind, count in sorted(self.bounces.items()):
            parts.append(f"{kind} bounce" + (f" x{count}" if count > 1 else ""))
        text = ", ".join(part for part in parts if part) or "sent"
        return f"{self.title}: {text}"

    def record(self, key: str, contact_id: str) -> ActivityRecord:
        body = self.summary()
        if self.links:
            body += "\nLinks: " + ", ".join(self.links)
        details = {"campaign_id": self.campaign_id, "title": self.title, "sent": self.sent, "opens": self.opens,
                   "clicks": self.clicks, "links": self.links, "bounces": self.bounces, "folded": self.folded}
        if self.first_at is None or self.last_at is None:
            raise ValueError(f"campaign entry {key} has no event yet")
        return ActivityRecord(key, "email_campaign", self.summary()[:200], body, self.first_at, self.last_at,
                              contact_id=contact_id, details=details)


def campaign_entry_key(audience: str, campaign_id: str, contact_id: str, provider: str) -> str:
    """The external key of a contact's entry for one campaign."""
    return f"{provider}:{audience}:{campaign_id}:contact:{contact_id}"


def event_record(event: Event, contact_id: str) -> ActivityRecord:
    """A history entry of its own for one event (bounces, unsubscribes, and every event in per-event mode)."""
    subject = {
        "unsubscribe": f"Unsubscribed{': ' + event.campaign_title if event.campaign_title else ''}",
        "cleaned": f"E-mail address cleaned by {provider_title(event.provider, short=True)}",
        "bounce": f"{(event.bounce_type or 'hard').capitalize()} bounce: {event.campaign_title}",
        "open": f"Opened: {event.campaign_title}",
        "click": f"Clicked: {event.campaign_title}",
        "sent": f"Delivered: {event.campaign_title}",
    }[event.action]
    body = subject
    if event.reason:
        body += f"\nReason: {event.reason}"
    if event.url:
        body += f"\nLink: {event.url}"
    details = {"campaign_id": event.campaign_id, "title": event.campaign_title, "action": event.action,
               "url": event.url, "bounce_type": event.bounce_type, "reason": event.reason, "email": event.email}
    return ActivityRecord(f"{event.provider}:event:{event.key}", f"email_{event.action}", subject[:200], body,
                          event.occurred_at, event.occurred_at, contact_id=contact_id, details=details)


def flags_for(event: Event, contact_ids: Iterable[str]) -> list[ContactFlags]:
    """CRM flag changes an event causes, for every contact with the address.

    An unsubscribe sets the e-mail opt-out; a hard bounce or a cleaning marks the e-mail invalid with the
    reason; soft bounces, opens and clicks change no flag.
    """
    if event.action == "unsubscribe":
        return [ContactFlags(contact_id, email_opt_out=True, email=event.email or None) for contact_id in contact_ids]
    if event.action == "cleaned" or (event.action == "bounce" and (event.bounce_type or "hard") == "hard"):
        provider = provider_title(event.provider, short=True)
        if event.action == "cleaned":
            reason = f"cleaned by {provider}" + (f": {event.reason}" if event.reason else "")
        else:
            reason = f"hard bounce on {provider} campaign {event.campaign_title or event.campaign_id}"
        return [ContactFlags(contact_id, email_invalid=True, invalid_reason=reason, email=event.email or None)
                for contact_id in contact_ids]
    return []


def _times(count: int) -> str:
    return "once" if count == 1 else f"{count} times"
