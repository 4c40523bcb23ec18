"""Mailing routes: sent mailings in a period, one mailing's details and statistics, and its per-mailing lists
(``recipients``, ``opens``, ``clicks`` with ``linkId``, ``bounces``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sync.sandbox.mailchimp.routing import Reply
from sync.sandbox.spotler.engagement import statistics
from sync.sandbox.spotler.errors import mailing_not_found
from sync.sandbox.spotler.request import ApiRequest
from sync.sandbox.spotler.state import Interaction, Mailing
from sync.sandbox.spotler.times import to_text
from sync.sandbox.spotler.views import mailing_details, mailing_view


def list_mailings(request: ApiRequest) -> Reply:
    """``GET mailing?fromDate&toDate`` (both required): mailings sent in the period, a bare array."""
    start, end = request.required_moment("fromDate"), request.required_moment("toDate")
    sent = sorted((m for m in request.state.mailings.values() if start <= m.sent_at <= end),
                  key=lambda m: m.sent_at)
    return Reply(200, [mailing_view(mailing) for mailing in sent])


def get_mailing(request: ApiRequest) -> Reply:
    return Reply(200, mailing_details(_mailing(request)))


def get_statistics(request: ApiRequest) -> Reply:
    return Reply(200, statistics(_mailing(request)))


def recipients(request: ApiRequest) -> Reply:
    return _listing(request, "recipients", "sent", lambda item: {})


def opens(request: ApiRequest) -> Reply:
    return _listing(request, "opens", "opened", lambda item: {"openDate": to_text(item.date)})


def clicks(request: ApiRequest) -> Reply:
    return _listing(request, "clicks", "clicked",
                    lambda item: {"clickDate": to_text(item.date), "linkId": item.link_id})


def bounces(request: ApiRequest) -> Reply:
    return _listing(request, "bounces", "bounced",
                    lambda item: {"bounceDate": to_text(item.date), "type": f"{item.bounce_type}BOUNCE"})


def _listing(request: ApiRequest, key: str, feed: str,
             fields: Callable[[Interaction], dict[str, Any]]) -> Reply:
    body = request.paged(key, _mailing(request).events[feed])
    body[key] = [{"contactIdentifier": {"externalId": item.external_id, "encryptedId": item.contact.encrypted_id},
                  **fields(item)} for item in body[key]]
    return Reply(200, body)


def _mailing(request: ApiRequest) -> Mailing:
    found = request.state.mailings.get(request.params["encryptedMailingId"])
    if found is None:
        raise mailing_not_found()
    return found


ROUTES = [
    ("GET", "/mailing", list_mailings),
    ("GET", "/mailing/{encryptedMailingId}", get_mailing),
    ("GET", "/mailing/{encryptedMailingId}/statistics", get_statistics),
    ("GET", "/mailing/{encryptedMailingId}/recipients", recipients),
    ("GET", "/mailing/{encryptedMailingId}/opens", opens),
    ("GET", "/mailing/{encryptedMailingId}/clicks", clicks),
    ("GET", "/mailing/{encryptedMailingId}/bounces", bounces),
]
