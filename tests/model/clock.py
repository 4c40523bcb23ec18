"""When the provider shows what the test did, and so which pull must have imported it.

A pull reads engagement up to its start minus the provider's lag (``feed_lag_seconds``; Mailchimp's pull
had none before issue 11) and re-reads from its cursor minus the lag. An event or unsubscribe is therefore
owed only by a pull whose ``horizon`` (start - lag - 1 s) is at or after the moment the provider stamped it
(``visible``); the model keeps earlier ones pending for a later pull. Times are naive UTC, whole seconds.
"""

from __future__ import annotations

import inspect
from datetime import UTC, datetime, timedelta

from sync.sandbox.mailchimp import MailchimpSandbox
from sync.settings import MailchimpSettings

SECOND = timedelta(seconds=1)
# With a lag, the model test runs Mailchimp's at 5 s and stamps its events 6 s back, so the next pull sees
# them and none falls behind the window the previous pull re-reads (cursor - lag).
MAILCHIMP_LAG = 5 if "feed_lag_seconds" in MailchimpSettings.model_fields else 0
SPOTLER_LAG, SPOTLER_BEHIND = 1, 2  # tests/model/provider.py runs the Spotler sandbox's clock 2 s behind
MAILCHIMP_UNSUBSCRIBE_AT = "at" in inspect.signature(MailchimpSandbox.unsubscribe).parameters


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


class ProviderClock:
    """Stamps for the events the test records, and when the provider shows them."""

    def __init__(self, provider: str):
        self.provider = provider
        self.lag = SPOTLER_LAG if provider == "spotler" else MAILCHIMP_LAG
        self.last = now() - timedelta(days=1)

    def stamp(self) -> datetime:
        """A distinct second per event (no two share a key by accident), ``lag + 1`` s back, never earlier
        than the last one."""
        self.last = max(now() - (self.lag + 1) * SECOND, self.last + SECOND)
        return self.last

    def late(self, last_pull_start: datetime, used: set[datetime]) -> datetime:
        """An unused second before the last pull's cursor but inside the window the next pull re-reads
        (``[start - 2 lag, start - lag)``, or a few seconds back without a lag); a normal stamp when every
        second of it is taken (an event later than the lag is not one the pull promises to find)."""
        first, last = (2 * self.lag, self.lag + 1) if self.lag else (3, 1)
        preferred = last_pull_start - max(3, 2 * self.lag - 2) * SECOND
        window = sorted((last_pull_start - back * SECOND for back in range(last, first + 1)),
                        key=lambda moment: abs(moment - preferred))
        return next((moment for moment in window if moment not in used), None) or self.stamp()

    def visible(self, stamped: datetime | None) -> datetime:
        """When the provider shows an event stamped ``stamped`` (None: stamped by the sandbox, now)."""
        if self.provider == "spotler":  # feeds go by change date, which the sandbox stamps 2 s behind
            return now() - SPOTLER_BEHIND * SECOND
        return stamped if stamped is not None else now() + SECOND

    def horizon(self, pull_start: datetime) -> datetime:
        """The latest provider moment a pull that started at ``pull_start`` must have read (without a lag:
        everything that happened before it started)."""
        return pull_start - (self.lag + 1) * SECOND if self.lag else datetime.max


def aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC)
