"""Mailchimp engagement, read page by page: sent campaigns, their recipients, activity and unsubscribes,
and members whose status changed outside a campaign. Every page comes back as a list of ``Event``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sync.connectors.mailchimp import MailchimpAudience
from sync.engagement import Event

MAX_PAGE = 1000  # the API's maximum `count`


@dataclass(frozen=True, slots=True)
class Campaign:
    """A sent campaign of the audience."""

    id: str
    title: str
    send_time: datetime


def parse_time(text: str) -> datetime:
    """Mailchimp's ISO 8601 timestamps (with an offset) as aware datetimes."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S+00:00")


class MailchimpReports:
    """Read-only engagement streams of one audience; uses the audience connector's retrying calls."""

    def __init__(self, audience: MailchimpAudience, audience_name: str, page_size: int = 500):
        self._audience = audience
        self._client = audience._client
        self._name = audience_name
        self.page_size = min(page_size, MAX_PAGE)

    def campaigns(self, since: datetime) -> list[Campaign]:
        """Campaigns sent to this audience after ``since``, oldest first."""
        found, offset = [], 0
        while True:
            body = self._audience._call(
                self._client.campaigns.list, list_id=self._audience.list_id, status="sent",
                since_send_time=iso(since), sort_field="send_time", sort_dir="ASC", count=MAX_PAGE, offset=offset,
                fields=["campaigns.id", "campaigns.settings.title", "campaigns.send_time", "total_items"])
            page = body.get("campaigns", [])
            found += [Campaign(c["id"], (c.get("settings") or {}).get("title") or c["id"], parse_time(c["send_time"]))
                      for c in page]
            offset += len(page)
            if not page or offset >= body.get("total_items", 0):
                return found

    def sent_to(self, campaign: Campaign, offset: int = 0) -> Iterator[tuple[int, list[Event]]]:
        """Pages of "sent" events (one per recipient), each with the offset after it."""
        def events(body: dict) -> list[Event]:
            return [self._event(row, "sent", campaign, campaign.send_time)
                    for row in body.get("sent_to", []) if row.get("status", "sent") == "sent"]
        yield from self._pages(self._client.reports.get_campaign_recipients, campaign.id, offset, "sent_to", events)

    def email_activity(self, campaign: Campaign, since: datetime | None) -> Iterator[tuple[int, list[Event]]]:
        """Pages of opens, clicks and bounces after ``since`` (all of them when None)."""
        def events(body: dict) -> list[Event]:
            found = []
            for row in body.get("emails", []):
                for activity in row.get("activity", []):
                    found.append(self._event(row, activity["action"], campaign, parse_time(activity["timestamp"]),
                                             url=activity.get("url", ""), bounce_type=activity.get("type", "")))
            return found
        extra = {"since": iso(since)} if since else {}
        yield from self._pages(self._client.reports.get_email_activity_for_campaign, campaign.id, 0, "emails",
                               events, **extra)

    def unsubscribes(self, campaign: Campaign, offset: int = 0) -> Iterator[tuple[int, list[Event]]]:
        """Pages of unsubscribes attributed to the campaign, with their reason."""
        def events(body: dict) -> list[Event]:
            return [self._event(row, "unsubscribe", campaign, parse_time(row["timestamp"]),
                                reason=row.get("reason", "")) for row in body.get("unsubscribes", [])]
        yield from self._pages(self._client.reports.get_unsubscribed_list_for_campaign, campaign.id, offset,
                               "unsubscribes", events)

    def status_changes(self, status: str, since: datetime | None) -> Iterator[tuple[int, list[Event]]]:
        """Pages of members now ``unsubscribed`` or ``cleaned`` whose status changed after ``since``."""
        action = "unsubscribe" if status == "unsubscribed" else "cleaned"

        def events(body: dict) -> list[Event]:
            return [Event("mailchimp", self._name, row["id"], row["email_address"], action,
                          parse_time(row["last_changed"]), reason=row.get("unsubscribe_reason", ""))
                    for row in body.get("members", [])]
        extra = {"since_last_changed": iso(since)} if since else {}
        yield from self._pages(self._client.lists.get_list_members_info, self._audience.list_id, 0, "members",
                               events, status=status, sort_field="last_changed", sort_dir="ASC", **extra)

    def _pages(self, operation, resource_id: str, offset: int, items: str, to_events, **query
               ) -> Iterator[tuple[int, list[Event]]]:
        while True:
            body = self._audience._call(operation, resource_id, count=self.page_size, offset=offset, **query)
            rows = body.get(items, [])
            offset += len(rows)
            yield offset, to_events(body)
            if not rows or offset >= body.get("total_items", 0):
                return

    def _event(self, row: dict, action: str, campaign: Campaign, when: datetime, url: str = "",
               bounce_type: str = "", reason: str = "") -> Event:
        return Event("mailchimp", self._name, row["email_id"], row["email_address"], action, when,
                     campaign.id, campaign.title, url, bounce_type, reason)
