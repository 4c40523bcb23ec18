"""The Spotler Mail+ pull: the account-wide feeds, each read over a window of change dates.

Same ledger and write protocol as the Mailchimp pull (sync/pull/importer.py, docs/pull.md), and the same time
cursors (sync/pull/cursors.py). Per feed the cursor is
the end of the last window read completely; the next window starts ``feed_lag_seconds`` before it and ends
that long before the run started, so records Mail+ shows late are still read, and the ledger drops
repeats. Feeds run in this order: interactions, the bounce feed, then contact changes, so a contact Mail+
stopped mailing after bounces is known as bounced before its switched-off channel is looked at.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from functools import partial

from sync.connectors.spotler.feeds import (
    BOTH_OFF,
    CHANNEL_CLOSED,
    FEEDS,
    PERMISSION_OFF,
    Pages,
    SpotlerFeeds,
    iso,
    parse_time,
)
from sync.pull.cursors import TimeCursor, read_by_time
from sync.pull.history import Event
from sync.pull.importer import EventImporter, PullReport
from sync.pull.placement import PREVIOUS_ADDRESS
from sync.push.rules import INACTIVE_STATUSES
from sync.state.members import MemberStateRow

Window = Callable[[datetime, datetime], Pages]
SOFT_BOUNCES_TO_STOP = 4  # Mail+ stops mailing after a hard bounce or 4 soft bounces in a row
BOUNCE_STOP = "stopped mailing after repeated bounces"
STREAK_LOOKBACK = 50  # ledger events per contact looked at for the bounce streak
# Reasons the pull records with a member status it imported: such a member's closed channel is old news.
IMPORTED_LEAVES = frozenset({"unsubscribed_in_provider", "cleaned_in_provider"})


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
        self.clock = TimeCursor(parse_time, iso, self.window_end, lag, first=self.window_start, skip_empty=True)

    def run(self) -> PullReport:
        steps = len(FEEDS) + 2
        for index, feed in enumerate(FEEDS):
            self.importer.step(f"feed {feed}", index, steps)
            self._window(f"{self.prefix}:{feed}", partial(self.feeds.interactions, feed))
        self.importer.step("feed bounces", len(FEEDS), steps)
        self._window(f"{self.prefix}:bounces", self.feeds.bounces)
        self.importer.step("feed contact changes (unsubscribes)", len(FEEDS) + 1, steps)
        self._window(f"{self.prefix}:unsubscribes", self._new_unsubscribes)
        self.importer.report.campaigns = self.feeds.mailings_seen
        self.importer.step("done", steps, steps)
        return self.importer.report

    def _window(self, name: str, pages: Window) -> None:
        """One feed from ``lag`` before its cursor (the window's start without one) to the window's end
        (sync/pull/cursors.py)."""
        def window(start: datetime | None) -> Pages:
            return pages(start or self.window_start, self.window_end)  # without a cursor: the window's start
        read_by_time(self.importer, name, self.clock, window)

    def _new_unsubscribes(self, start: datetime, end: datetime) -> Pages:
        """Contacts Mail+ no longer mails that are news to the state store (``_news``): crm-sync's own
        unsubscribe echoed back, or what the pull already imported, is not. A closed channel that alone
        speaks for the contact is bounce handling (a cleaning) after a bounce streak, else a global opt-out."""
        audience = self.importer.audience
        for events in self.feeds.unsubscribes(start, end):
            states = self.store.member_states(audience, [event.email_id for event in events])
            yield [self._bounce_stop(event) if _channel_only(event, states[event.email_id]) else event
                   for event in events if event.email_id in states and _news(event, states[event.email_id])]

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


def _news(event: Event, state: MemberStateRow) -> bool:
    """Whether a contact Mail+ no longer mails is news to the state store. For a member it still knows as
    receiving, always. For one it imported as unsubscribed, never. For one a bounce cleaned, only a switched-off
    bit (the person's act; the bounce explains the channel). For one crm-sync unsubscribed itself (its bits), only
    a closed channel (the person's global opt-out, or bounce handling: crm-sync never closes a channel)."""
    status = state.provider_status or "subscribed"
    if status not in INACTIVE_STATUSES:
        return True
    if state.reason_code == "unsubscribed_in_provider":
        return False
    if status == "cleaned":
        return event.reason in (PERMISSION_OFF, BOTH_OFF)
    return status == "unsubscribed" and event.reason in (CHANNEL_CLOSED, BOTH_OFF)


def _channel_only(event: Event, state: MemberStateRow) -> bool:
    """Whether only the closed channel speaks for this contact (so it may be Mail+'s bounce handling): the bits
    are on, or crm-sync switched them off itself."""
    ours = (state.provider_status or "subscribed") == "unsubscribed"
    return event.reason == CHANNEL_CLOSED or (event.reason == BOTH_OFF and ours)
