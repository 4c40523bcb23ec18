"""Mailings and what recipients do with them, as control methods record it: sends, opens, clicks, bounces.

Every interaction gets the next ``id`` of its feed, ``date`` (when it happened, default now) and ``changeDate``
(when Mail+ recorded it: the sandbox's now unless overridden). A hard bounce, or the 4th soft bounce in a row
(an open or click in between resets the streak; inferred), stops mailing: the EMAIL channel goes off and
``lastChanged`` moves.
"""

from __future__ import annotations

from datetime import datetime

from sync.sandbox.spotler.state import (
    Contact,
    Interaction,
    Mailing,
    SpotlerState,
    new_encrypted_id,
)
from sync.sandbox.spotler.views import archive_link

SOFT_BOUNCES_TO_STOP = 4


def send_mailing(state: SpotlerState, name: str, at: datetime, bit: int, subject: str,
                 trend_report_id: int | None = None) -> Mailing:
    """Send a newsletter to every live contact with an externalId, the EMAIL channel on and ``bit`` enabled."""
    if bit not in state.catalogue.permissions.entries:
        raise ValueError(f"this sandbox has no permission bit {bit}")
    mailing = Mailing(new_encrypted_id(), name, subject, at, bit, trend_report_id)
    mailing.links = [
        {"id": 1, "name": "Online version", "url": archive_link(mailing), "type": "openhtml"},
        {"id": 2, "name": "Unsubscribe", "url": f"https://mailplus.sandbox.invalid/unsubscribe/{mailing.encrypted_id}",
         "type": "unsubscribe"},
    ]
    state.mailings[mailing.encrypted_id] = mailing
    for contact in list(state.by_external.values()):
        if contact.email_channel and not contact.opted_out and contact.sets["permissions"].get(bit):
            record(state, mailing, contact, "sent", at, None)
    return mailing


def record(state: SpotlerState, mailing: Mailing, contact: Contact, feed: str, at: datetime,
           changed_at: datetime | None, *, bounce_type: str | None = None, link_id: int | None = None) -> Interaction:
    """Add one interaction to its feed and to the mailing."""
    if contact.external_id is None:
        raise ValueError("only contacts with an externalId appear in the interaction feeds")
    item = Interaction(state.next_interaction_id(feed), feed, contact.external_id, contact, mailing.encrypted_id,
                       at, changed_at or state.now(), mailing.trend_report_id, bounce_type, link_id)
    state.interactions[feed].append(item)
    mailing.events[feed].append(item)
    return item


def record_click(state: SpotlerState, mailing: Mailing, contact: Contact, url: str, at: datetime,
                 changed_at: datetime | None) -> None:
    """A click on ``url`` (added to the mailing's links when new); a click resets the soft-bounce streak."""
    link = next((link for link in mailing.links if link["url"] == url), None)
    if link is None:
        link = {"id": len(mailing.links) + 1, "name": url, "url": url}
        mailing.links.append(link)
    record(state, mailing, contact, "clicked", at, changed_at, link_id=link["id"])
    contact.soft_bounce_streak = 0


def record_open(state: SpotlerState, mailing: Mailing, contact: Contact, at: datetime,
                changed_at: datetime | None) -> None:
    record(state, mailing, contact, "opened", at, changed_at)
    contact.soft_bounce_streak = 0


def record_bounce(state: SpotlerState, mailing: Mailing, contact: Contact, kind: str, at: datetime,
                  changed_at: datetime | None) -> None:
    """A hard or soft bounce (also in ``contact/bounces/list``), stopping mail when it should."""
    if kind not in ("hard", "soft"):
        raise ValueError(f"kind must be 'hard' or 'soft'; got {kind!r}")
    record(state, mailing, contact, "bounced", at, changed_at, bounce_type=kind.upper())
    contact.soft_bounce_streak = contact.soft_bounce_streak + 1 if kind == "soft" else 0
    if (kind == "hard" or contact.soft_bounce_streak >= SOFT_BOUNCES_TO_STOP) and contact.email_channel:
        contact.email_channel = False
        mailing.stopped.add(contact.encrypted_id)
        state.touch(contact)
        contact.last_changed = max(contact.last_changed, at)  # Mail+ stops mailing after the bounce, not before


def statistics(mailing: Mailing) -> dict[str, int]:
    """``MailingStats``: counts of unique contacts per kind of event."""
    def unique(feed: str, bounce_type: str | None = None) -> int:
        return len({item.contact.encrypted_id for item in mailing.events[feed]
                    if bounce_type is None or item.bounce_type == bounce_type})

    sent, hard, soft = unique("sent"), unique("bounced", "HARD"), unique("bounced", "SOFT")
    opens = len({item.contact.encrypted_id for feed in ("opened", "clicked") for item in mailing.events[feed]})
    return {
        "sentCount": sent, "acceptedCount": max(sent - hard - soft, 0), "openCount": opens,
        "openRenderedCount": unique("opened"), "clickCount": unique("clicked"), "hardbounceCount": hard,
        "softbounceCount": soft, "notRetainedAfterBounceCount": len(mailing.stopped), "conversionClickCount": 0,
        "unsubscribeCount": len(mailing.unsubscribes),
    }
