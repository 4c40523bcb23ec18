"""Mailchimp engagement, read page by page: sent campaigns, their recipients, activity and unsubscribes,
and members whose status changed outside a campaign. Every page comes back as a list of ``Event``.

Report lists have no sort key to page by: they are read with anchored offsets (sync/paging.py). The member
list has one (``last_changed``) and is read by keyset, bounded above by the run's fixed upper bound.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from sync.connectors.mailchimp.audience import MailchimpAudience
from sync.paging import Position, anchored_pages
from sync.pull.history import Event

MAX_PAGE = 1000  # the API's maximum `count`
SECOND = timedelta(seconds=1)  # Mailchimp's timestamps have whole seconds
Pages = Iterator[tuple[Position, list[Event]]]  # the events of one page, and the position after it


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

    def sent_to(self, campaign: Campaign, start: Position) -> Pages:
        """Pages of "sent" events (one per recipient), each with the position after it."""
        def events(rows: list[dict]) -> list[Event]:
            return [self._event(row, "sent", campaign, campaign.send_time)
                    for row in rows if row.get("status", "sent") == "sent"]
        yield from self._anchored(self._client.reports.get_campaign_recipients, campaign.id, "sent_to",
                                  lambda row: row["email_id"], events, start)

    def email_activity(self, campaign: Campaign, since: datetime | None) -> Pages:
        """Pages of opens, clicks and bounces after ``since`` (all of them when None)."""
        def events(rows: list[dict]) -> list[Event]:
            found = []
            for row in rows:
                for activity in row.get("activity", []):
                    found.append(self._event(row, activity["action"], campaign, parse_time(activity["timestamp"]),
                                             url=activity.get("url", ""), bounce_type=activity.get("type", "")))
            return found
        extra = {"since": iso(since)} if since else {}
        yield from self._anchored(self._client.reports.get_email_activity_for_campaign, campaign.id, "emails",
                                  lambda row: row["email_id"], events, Position(), insertions_read_later=True,
                                  **extra)

    def unsubscribes(self, campaign: Campaign, start: Position) -> Pages:
        """Pages of unsubscribes attributed to the campaign, with their reason."""
        def events(rows: list[dict]) -> list[Event]:
            return [self._event(row, "unsubscribe", campaign, parse_time(row["timestamp"]),
                                reason=row.get("reason", "")) for row in rows]
        yield from self._anchored(self._client.reports.get_unsubscribed_list_for_campaign, campaign.id,
                                  "unsubscribes", lambda row: f"{row['email_id']}@{row['timestamp']}", events, start)

    def status_changes(self, status: str, since: datetime | None, until: datetime) -> Iterator[list[Event]]:
        """Pages of members now ``unsubscribed`` or ``cleaned`` whose last change lies in (since, until].

        Keyset paging on ``last_changed`` (whole seconds, ascending): each page asks for the rows after the
        last second read completely, so a member that changes or leaves meanwhile shifts nothing. The last
        second of a page is read again on the next one (the ledger drops repeats); a page that is all one
        second is followed by that second alone, paged with anchored offsets.
        """
        lower = since
        while True:
            rows, total = self._members(status, lower, until + SECOND, 0, self.page_size)
            yield self._member_events(status, rows)
            if len(rows) < self.page_size or (total is not None and len(rows) >= total):
                return
            first, last = parse_time(rows[0]["last_changed"]), parse_time(rows[-1]["last_changed"])
            if first == last:
                second = partial(self._members, status, last - SECOND, last + SECOND)
                for _, tied in anchored_pages(second, lambda row: row["id"], self.page_size, MAX_PAGE,
                                              insertions_read_later=True):
                    yield self._member_events(status, tied)
                lower = last
            else:
                lower = last - SECOND

    def _members(self, status: str, since: datetime | None, before: datetime, offset: int, count: int
                 ) -> tuple[list[dict], int | None]:
        extra = {"since_last_changed": iso(since)} if since else {}
        body = self._audience._call(self._client.lists.get_list_members_info, self._audience.list_id,
                                    status=status, sort_field="last_changed", sort_dir="ASC", count=count,
                                    offset=offset, before_last_changed=iso(before), **extra)
        return body.get("members", []), body.get("total_items")

    def _member_events(self, status: str, rows: list[dict]) -> list[Event]:
        action = "unsubscribe" if status == "unsubscribed" else "cleaned"
        return [Event("mailchimp", self._name, row["id"], row["email_address"], action,
                      parse_time(row["last_changed"]), reason=row.get("unsubscribe_reason", "")) for row in rows]

    def _anchored(self, operation, resource_id: str, items: str, identity, to_events, start: Position,
                  insertions_read_later: bool = False, **query) -> Pages:
        def fetch(offset: int, count: int) -> tuple[list[dict], int | None]:
            body = self._audience._call(operation, resource_id, count=count, offset=offset, **query)
            return body.get(items, []), body.get("total_items")
        for position, rows in anchored_pages(fetch, identity, self.page_size, MAX_PAGE, start,
                                             insertions_read_later=insertions_read_later):
            yield position, to_events(rows)

    def _event(self, row: dict, action: str, campaign: Campaign, when: datetime, url: str = "",
               bounce_type: str = "", reason: str = "") -> Event:
        return Event("mailchimp", self._name, row["email_id"], row["email_address"], action, when,
                     campaign.id, campaign.title, url, bounce_type, reason)
