"""Contact feeds: ``contact/updates/list`` (by ``lastChanged``) and ``contact/bounces/list`` (by bounce date).

Both need ``fromDate``, ``toDate`` and ``pageSize``; windows are inclusive at both ends. Only contacts that still
have an externalId appear (anonymised contacts and ones from sign-up forms do not). A bounce shows the contact as
it is now.
"""

from __future__ import annotations

from datetime import datetime

from sync.sandbox.mailchimp.routing import Reply
from sync.sandbox.spotler.request import ApiRequest
from sync.sandbox.spotler.times import to_text
from sync.sandbox.spotler.views import contact_view


def updated_contacts(request: ApiRequest) -> Reply:
    """Contacts whose ``lastChanged`` is in the window, ordered by ``lastChanged`` then externalId."""
    start, end = _window(request)
    state = request.state
    changed = sorted((c for c in state.by_external.values() if start <= c.last_changed <= end),
                     key=lambda c: (c.last_changed, c.external_id or ""))
    body = request.paged("contacts", changed, size_required=True)
    body["contacts"] = [contact_view(state.catalogue, contact) for contact in body["contacts"]]
    return Reply(200, body)


def bounced_contacts(request: ApiRequest) -> Reply:
    """``{date, type, contact, encryptedActId}`` for bounces dated in the window, oldest first."""
    start, end = _window(request)
    state = request.state
    bounces = sorted((b for b in state.interactions["bounced"]
                      if start <= b.date <= end and b.contact.external_id is not None),
                     key=lambda b: (b.date, b.id))
    body = request.paged("bounces", bounces, size_required=True)
    body["bounces"] = [{"date": to_text(b.date), "type": f"{b.bounce_type}BOUNCE",
                        "contact": contact_view(state.catalogue, b.contact), "encryptedActId": b.mailing_id}
                       for b in body["bounces"]]
    return Reply(200, body)


def _window(request: ApiRequest) -> tuple[datetime, datetime]:
    return request.required_moment("fromDate"), request.required_moment("toDate")


ROUTES = [
    ("GET", "/contact/updates/list", updated_contacts),
    ("GET", "/contact/bounces/list", bounced_contacts),
]
