"""The Mailchimp pull: one audience's campaign reports and member list, each stream with its own cursor.

Every stream is read up to the run's upper bound, ``feed_lag_seconds`` before the run started, fixed for
the whole run; a time cursor moves to that bound once its stream was read completely, and the next read
starts ``feed_lag_seconds`` before the cursor, so an event Mailchimp shows late with an earlier time is
still read (the ledger drops repeats). Report lists keep an anchored position (sync/paging.py) saved
after every page. Both cursor kinds are the generic ones of sync/pull/cursors.py. Same ledger and write protocol
as sync/pull/importer.py; docs/pull.md argues why nothing is lost.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta
from functools import partial

from sync.connectors.mailchimp.reports import SECOND, Campaign, MailchimpReports, iso, parse_time
from sync.paging import Position
from sync.pull.cursors import TimeCursor, read_by_position, read_by_time
from sync.pull.history import Event
from sync.pull.importer import EventImporter, PullReport
from sync.pull.placement import OWN_WRITE

PROVIDER_REASONS = frozenset({"unsubscribed_in_provider", "cleaned_in_provider"})  # the pull's own reason codes
ADMIN_REASON = "by an admin"  # Mailchimp's unsubscribe_reason for API and admin unsubscribes


class MailchimpPuller:
    """Runs the streams of one audience in order, moving each cursor only when its stream is done."""

    def __init__(self, importer: EventImporter, reports: MailchimpReports, run_start: datetime,
                 window_start: datetime, lag: timedelta):
        self.importer = importer
        self.reports = reports
        self.until = (run_start - lag).replace(microsecond=0)
        self.lag = lag
        self.window_start = window_start
        self.store = importer.store
        self.clock = TimeCursor(parse_time, iso, self.until, lag, margin=SECOND)
        self.prefix = f"mailchimp:{importer.audience}"

    def run(self) -> PullReport:
        campaigns = self.reports.campaigns(self.window_start)
        self.importer.report.campaigns = len(campaigns)
        steps = len(campaigns) + 1
        for index, campaign in enumerate(campaigns):
            self.importer.step(f"campaign {campaign.title!r}", index, steps)
            self._by_position(f"{self.prefix}:sent-to:{campaign.id}", partial(self.reports.sent_to, campaign))
            self._by_time(f"{self.prefix}:activity:{campaign.id}", partial(self._activity, campaign))
            self._by_position(f"{self.prefix}:unsubscribed:{campaign.id}",
                              partial(self.reports.unsubscribes, campaign))
        self.importer.step("members unsubscribed or cleaned outside campaigns", len(campaigns), steps)
        self._by_time(f"{self.prefix}:members:unsubscribed",
                      lambda since: (self._persons_own(events)
                                     for events in self.reports.status_changes("unsubscribed", since, self.until)))
        self._by_time(f"{self.prefix}:members:cleaned",
                      lambda since: self.reports.status_changes("cleaned", since, self.until))
        self.importer.step("done", steps, steps)
        return self.importer.report

    def _by_position(self, name: str, pages: Callable[[Position], Iterator[tuple[Position, list[Event]]]]) -> None:
        """Report lists: the anchored position reached, saved after every page."""
        read_by_position(self.importer, name, pages)

    def _by_time(self, name: str, pages: Callable[[datetime | None], Iterable[list[Event]]]) -> None:
        """Streams read by time: from ``lag`` before the cursor (plus Mailchimp's exclusive second) up to
        the run's upper bound; the cursor moves to that bound only after the whole stream."""
        read_by_time(self.importer, name, self.clock, pages)

    def _activity(self, campaign: Campaign, since: datetime | None) -> Iterator[list[Event]]:
        """A campaign's opens, clicks and bounces after ``since``, page by page."""
        return (events for _, events in self.reports.email_activity(campaign, since))

    def _persons_own(self, events: list[Event]) -> list[Event]:
        """The unsubscribes that are the person's act. One crm-sync made itself (the state store holds it
        as unsubscribed by crm-sync, and Mailchimp names no reason of the person's) is set aside: had the
        person unsubscribed first, Mailchimp keeps their reason, and an unsubscribe through a campaign comes
        through that campaign's report anyway."""
        contacts = self.store.contacts_by_provider_id(self.importer.audience, {e.email_id for e in events})
        states = self.store.member_states(self.importer.audience, set(contacts.values()))

        def own(event: Event) -> bool:
            state = states.get(contacts.get(event.email_id, ""))
            return (state is not None and state.provider_status == "unsubscribed"
                    and state.reason_code is not None and state.reason_code not in PROVIDER_REASONS
                    and (not event.reason or ADMIN_REASON in event.reason))
        echoes = [event for event in events if own(event)]
        if echoes:
            self.importer.set_aside(echoes, OWN_WRITE, contacts)
        return [event for event in events if not own(event)]
