"""The Spotler Mail+ pull: the account-wide feeds, each read over a window of change dates.

Same ledger and write protocol as the Mailchimp pull (sync/pull.py, docs/pull.md). Per feed the cursor is
the end of the last window read completely; the next window starts ``feed_lag_seconds`` before it and ends
that long before the run started, so records Mail+ shows late are still read, and the ledger drops
repeats. Feeds run in this order: interactions, the bounce feed, then contact changes, so a contact Mail+
stopped mailing after bounces is known as bounced before its switched-off channel is looked at.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from sync.connectors.spotler_feeds import CHANNEL_CLOSED, FEEDS, Pages, SpotlerFeeds, iso, parse_time
from sync.engagement import Event
from sync.paging import ListKeptMoving
from sync.plan import INACTIVE_STATUSES
from sync.placement import PREVIOUS_ADDRESS
from sync.pull import EventImporter, PullReport

log = logging.getLogger(__name__)
Window = Callable[[datetime, datetime], Pages]
SOFT_BOUNCES_TO_STOP = 4  # Mail+ stops mailing after a hard bounce or 4 soft bounces in a row
BOUNCE_STOP = "stopped mailing after repeated bounces"
STREAK_LOOKBACK = 50  # ledger events per contact looked at for the bounce streak


class SpotlerPuller:
    """Runs one audience's Spotler feeds in order, moving each cursor only when its window is done."""

    def __init__(self, importer: EventImporter, feeds: SpotlerFeeds, run_start: datetime, window_start: datetime,
                 lag: timedelta):
        self.importer = importer
        self.feeds = feeds
        self.store = importer.store
        # Mail+ takes whole seconds: the window ends on one, so the cursor is exactly what was asked for.
        self.window_start = window_start.replace(microsecond=0)
        self.window_end = (run_start - lag).replace(microsecond=0)
        self.lag = lag
        self.prefix = f"spotler:{importer.audience}"

    def run(self) -> PullReport:
        for feed in FEEDS:
            self._window(f"{self.prefix}:{feed}", lambda start, end, f=feed: self.feeds.interactions(f, start, end))
        self._window(f"{self.prefix}:bounces", self.feeds.bounces)
        self._window(f"{self.prefix}:unsubscribes", self._new_unsubscribes)
        self.importer.report.campaigns = self.feeds.mailings_seen
        return self.importer.report

    def _window(self, name: str, pages: Window) -> None:
        cursor = self.store.get_cursor(name)
        start = parse_time(cursor.value) - self.lag if cursor else self.window_start
        if start >= self.window_end:
            return
        try:
            for events in pages(start, self.window_end):
                self.importer.import_page(events)
        except ListKeptMoving as error:
            log.warning("%s: %s; the window is read again next run", name, error)
            return
        if cursor is None or self.window_end > parse_time(cursor.value):
            self.store.set_cursor(name, iso(self.window_end))
        self.importer.checkpoint("cursor_written")

    def _new_unsubscribes(self, start: datetime, end: datetime) -> Pages:
        """Switched-off contacts the state store still knows as receiving mail. One crm-sync unsubscribed
        itself (a CRM opt-out echoed back) or already knew about is not news. A channel Mail+ closed after
        a bounce streak is bounce handling: a cleaning, never the person's opt-out."""
        audience = self.importer.audience
        for events in self.feeds.unsubscribes(start, end):
            states = self.store.member_states(audience, [event.email_id for event in events])
            yield [self._bounce_stop(event) if event.reason == CHANNEL_CLOSED else event
                   for event in events if event.email_id in states
                   and (states[event.email_id].provider_status or "subscribed") not in INACTIVE_STATUSES]

    def _bounce_stop(self, event: Event) -> Event:
        """The event as a cleaning when the contact's latest imported events end in a streak of bounces long
        enough for Mail+ to stop mailing (sends aside; an open or click breaks the streak), or in a bounce at
        an address crm-sync has since replaced (a hard bounce there closed the channel; placing the cleaning
        then keeps it off the corrected address)."""
        streak = 0
        for row in self.store.events_for_contact(self.importer.audience, event.email_id, STREAK_LOOKBACK):
            if row.kind == "sent" or row.occurred_at > event.occurred_at:
                continue
            if row.kind != "bounce":
                break
            if row.unapplied_reason == PREVIOUS_ADDRESS:  # it bounced at an address crm-sync has since replaced
                return replace(event, action="cleaned", reason=BOUNCE_STOP)
            streak += 1
        if streak >= SOFT_BOUNCES_TO_STOP:
            return replace(event, action="cleaned", reason=BOUNCE_STOP)
        return event
