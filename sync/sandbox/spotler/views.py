"""JSON renderings of contacts and interactions, exactly as the API returns them."""

from __future__ import annotations

from typing import Any

from sync.sandbox.spotler.catalogue import Catalogue
from sync.sandbox.spotler.state import Contact, Interaction, Mailing
from sync.sandbox.spotler.times import to_text

BOUNCE_TYPES = {"hard": "HARD", "soft": "SOFT"}


def contact_view(catalogue: Catalogue, contact: Contact) -> dict[str, Any]:
    """A ``Contact``: properties only when they have a value; set properties always, with every bit."""
    properties: dict[str, Any] = {}
    for prop in catalogue:
        if prop.type == "set":
            bits = contact.sets.get(prop.name, {})
            properties[prop.name] = [{"bit": bit, "enabled": bits.get(bit, False), "description": text}
                                     for bit, text in prop.entries.items()]
        elif prop.name in contact.values:
            properties[prop.name] = contact.values[prop.name]
    return {
        "externalId": contact.external_id,
        "encryptedId": contact.encrypted_id,
        "created": to_text(contact.created),
        "lastChanged": to_text(contact.last_changed),
        "testGroup": contact.test_group,
        "temporary": False,
        "channels": [{"name": "EMAIL", "value": contact.email_channel}],
        "properties": properties,
    }


def interaction_view(item: Interaction, mailing: Mailing) -> dict[str, Any]:
    """A ``MailingInteraction`` (plus ``bounceType`` for bounces, ``name``/``subject``/``onlineVersionLink``
    for sent ones)."""
    body: dict[str, Any] = {
        "id": item.id,
        "externalContactId": item.external_id,
        "encryptedMailingId": item.mailing_id,
        "date": to_text(item.date),
        "changeDate": to_text(item.change_date),
    }
    if item.trend_report_id is not None:  # the spec types it as an integer: absent, not null, without a report
        body["trendReportId"] = item.trend_report_id
    if item.feed == "bounced":
        body["bounceType"] = item.bounce_type
    elif item.feed == "sent":
        body.update(name=mailing.name, subject=mailing.subject, onlineVersionLink=archive_link(mailing))
    return body


def archive_link(mailing: Mailing) -> str:
    return f"https://mailplus.sandbox.invalid/archive/mailing/{mailing.encrypted_id}"


def mailing_view(mailing: Mailing) -> dict[str, Any]:
    """A ``Mailing`` as ``GET mailing`` lists it."""
    return {
        "encryptedId": mailing.encrypted_id,
        "name": mailing.name,
        "scheduledStartDate": to_text(mailing.sent_at),
        "type": "EMAIL",
        "archiveLink": archive_link(mailing),
        "sentCount": len(mailing.events["sent"]),
    }


def mailing_details(mailing: Mailing) -> dict[str, Any]:
    """``MailingDetails``: the mailing plus sender, message and its trackable links."""
    return {
        **mailing_view(mailing),
        "sender": "crm-sync sandbox",
        "targetGroup": f"Permission bit {mailing.bit}",
        "message": {"name": mailing.name, "author": "sandbox", "subject": mailing.subject,
                    "fromName": "crm-sync sandbox", "fromEmail": "news@sandbox.invalid"},
        "links": [dict(link) for link in mailing.links],
    }
