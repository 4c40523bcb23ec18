"""Spotler Mail+ engagement, read page by page as ``Event`` lists: the account-wide interaction feeds,
the bounce feed and contact changes (permission bits switched off = an unsubscribe).

Every read is a fixed window of change dates, so offset paging over it is stable (`toChangeDate` does not
move while paging). Timestamps are sent with an explicit offset; Mail+ reads bare ones as Amsterdam time.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from sync.connectors.spotler.audience import SpotlerAudience, permission_status
from sync.errors import ProviderRejected
from sync.pull.history import Event

FEEDS = {"sent": "sent", "opened": "open", "clicked": "click", "bounced": "bounce"}
PERMISSION_OFF = "permission switched off in Spotler"
CHANNEL_CLOSED = "e-mail channel closed in Spotler"
BOTH_OFF = "permission switched off and e-mail channel closed in Spotler"
Pages = Iterator[list[Event]]  # the events of one page at a time


def parse_time(text: str) -> datetime:
    """Spotler's timestamps (``2024-05-01T10:15:00.000+02:00``) as aware UTC datetimes."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def iso(moment: datetime) -> str:
    """A query timestamp with an explicit offset (UTC)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def bounce_kind(text: str | None) -> str:
    """``hard`` or ``soft`` from HARD, SOFT, HARDBOUNCE or SOFTBOUNCE."""
    return "soft" if (text or "").upper().startswith("SOFT") else "hard"


def _why_not_mailed(contact: dict, bits: list[int]) -> str:
    """Which of the two ways of not being mailed hold: the audience's bits off (the person, or crm-sync's own
    unsubscribe), the e-mail channel closed (a global opt-out or Mail+'s bounce handling, never crm-sync), or
    both."""
    channels = {c.get("name"): c.get("value") for c in contact.get("channels") or []}
    enabled = {p.get("bit") for p in (contact.get("properties") or {}).get("permissions") or [] if p.get("enabled")}
    closed, bits_off = channels.get("EMAIL") is False, not enabled.intersection(bits)
    return BOTH_OFF if closed and bits_off else CHANNEL_CLOSED if closed else PERMISSION_OFF


class SpotlerFeeds:
    """Read-only engagement streams of one Spotler account, for the audience ``audience_name``."""

    def __init__(self, audience: SpotlerAudience, audience_name: str):
        self._audience = audience
        self._client = audience.client
        self._name = audience_name
        self._titles: dict[str, str] = {}

    @property
    def mailings_seen(self) -> int:
        return len(self._titles)

    def interactions(self, feed: str, start: datetime, end: datetime) -> Pages:
        """Pages of one interaction feed (sent, opened, clicked, bounced) changed within [start, end]."""
        action = FEEDS[feed]
        params = {"fromChangeDate": iso(start), "toChangeDate": iso(end)}
        for rows in self._client.pages(f"mailing-interaction/{feed}", params, "interactions",
                                       lambda row: str(row.get("id"))):
            events = []
            for row in rows:
                mailing = str(row.get("encryptedMailingId") or "")
                if feed == "sent" and row.get("name"):
                    self._titles.setdefault(mailing, row["name"])
                # Opens and clicks repeat at the same second: their interaction id tells them apart.
                ref = str(row.get("id") or "") if action in ("open", "click") else ""
                events.append(Event("spotler", self._name, str(row["externalContactId"]), "", action,
                                    parse_time(row["date"]), mailing, self.title(mailing),
                                    bounce_type=bounce_kind(row.get("bounceType")) if action == "bounce" else "",
                                    ref=ref))
            yield events

    def bounces(self, start: datetime, end: datetime) -> Pages:
        """Pages of the bounce feed (bounce date within [start, end]); the same bounce as the interaction
        feed's has the same key, so it is imported once."""
        params = {"fromDate": iso(start), "toDate": iso(end)}
        def identity(row: dict) -> str:
            return f"{(row.get('contact') or {}).get('encryptedId')}@{row.get('date')}"
        for rows in self._client.pages("contact/bounces/list", params, "bounces", identity):
            events = []
            for row in rows:
                contact = row.get("contact") or {}
                if not contact.get("externalId"):
                    continue  # a contact crm-sync does not know
                mailing = str(row.get("encryptedActId") or "")
                events.append(Event("spotler", self._name, str(contact["externalId"]),
                                    (contact.get("properties") or {}).get("email", ""), "bounce",
                                    parse_time(row["date"]), mailing, self.title(mailing),
                                    bounce_type=bounce_kind(row.get("type"))))
            yield events

    def unsubscribes(self, start: datetime, end: datetime) -> Pages:
        """Pages of contacts changed within [start, end] that no longer get this audience's mail: a
        permission bit switched off, or the e-mail channel closed (a global opt-out, or Mail+ stopping
        mail after bounces: the reason says which of the two it was seen as, ``CHANNEL_CLOSED``)."""
        params = {"fromDate": iso(start), "toDate": iso(end)}
        for rows in self._client.pages("contact/updates/list", params, "contacts",
                                       lambda row: f"{row.get('encryptedId')}@{row.get('lastChanged')}"):
            yield [Event("spotler", self._name, str(row["externalId"]), (row.get("properties") or {}).get("email", ""),
                         "unsubscribe", parse_time(row["lastChanged"]),
                         reason=_why_not_mailed(row, self._audience.bits))
                   for row in rows
                   if row.get("externalId") and permission_status(row, self._audience.bits) == "unsubscribed"]

    def title(self, mailing_id: str) -> str:
        """A mailing's name, asked once per mailing (the open and click feeds carry only its id)."""
        if mailing_id not in self._titles:
            try:
                details = self._client.call("GET", f"mailing/{mailing_id}") or {}
            except ProviderRejected:
                details = {}
            self._titles[mailing_id] = details.get("name") or mailing_id
        return self._titles[mailing_id]
