"""Campaigns and their reports, for the engagement pull.

Campaigns are created and "sent" only through control methods (``send_campaign``, ``record_*``): they stand for
what happens on Mailchimp's side. The API side is read-only: ``GET /campaigns[/{id}]``,
``GET /reports/{id}/email-activity``, ``/unsubscribed`` and ``/sent-to``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from itertools import islice
from typing import Any

from sync.sandbox.mailchimp.addresses import subscriber_hash
from sync.sandbox.mailchimp.problems import bad_request
from sync.sandbox.mailchimp.routing import Reply, Request, page_and_total
from sync.sandbox.mailchimp.state import (
    Activity,
    Audience,
    Campaign,
    Recipient,
    SandboxState,
    Unsubscribe,
)
from sync.sandbox.mailchimp.times import parse_iso, to_iso, utc_now

ACTIONS = ("open", "click", "bounce")
CAMPAIGN_STATUSES = ("save", "paused", "schedule", "sending", "sent")


def send_campaign(state: SandboxState, list_id: str, title: str, segment_id: int | None,
                  send_time: datetime | None) -> str:
    """Record a regular campaign sent now (or at ``send_time``) to the subscribed members (of the segment)."""
    audience = state.audience(list_id)
    wanted = set(audience.segments[segment_id].members) if segment_id is not None else None
    when = send_time or utc_now()
    campaign = Campaign(id=state.new_hex_id("campaign"), web_id=state.next_serial(), list_id=list_id, title=title,
                        subject=title, segment_id=segment_id, create_time=when, send_time=when)
    for member in audience.members.values():
        if member.status == "subscribed" and (wanted is None or member.id in wanted):
            campaign.recipients[member.id] = Recipient(member.email_address)
    state.campaigns[campaign.id] = campaign
    return campaign.id


def record_activity(state: SandboxState, campaign_id: str, email: str, activity: Activity) -> None:
    """Add an open, click or bounce by a recipient; a hard bounce cleans the member like Mailchimp does."""
    campaign = state.campaign(campaign_id)
    recipient = _recipient(campaign, email)
    recipient.activity.append(activity)
    if activity.action == "bounce":
        recipient.status = activity.type
        member = state.audience(campaign.list_id).members.get(subscriber_hash(email))
        if activity.type == "hard" and member is not None and member.status != "cleaned":
            state.audience(campaign.list_id).set_status(member, "cleaned")
            member.last_changed = activity.timestamp


def record_unsubscribe(state: SandboxState, campaign_id: str, email: str, reason: str, when: datetime) -> None:
    """A recipient used the campaign's unsubscribe link: the member is unsubscribed and the report lists it."""
    campaign = state.campaign(campaign_id)
    _recipient(campaign, email)
    campaign.unsubscribes.append(Unsubscribe(subscriber_hash(email), email, when, reason))
    audience = state.audience(campaign.list_id)
    member = audience.members.get(subscriber_hash(email))
    if member is not None:
        audience.set_status(member, "unsubscribed")
        member.unsubscribe_reason = reason
        member.last_changed = when


def _recipient(campaign: Campaign, email: str) -> Recipient:
    recipient = campaign.recipients.get(subscriber_hash(email))
    if recipient is None:
        raise LookupError(f"{email} was not a recipient of campaign {campaign.id}")
    return recipient


def campaign_view(state: SandboxState, campaign: Campaign) -> dict[str, Any]:
    audience = state.audiences.get(campaign.list_id)
    events = [(h, a) for h, r in campaign.recipients.items() for a in r.activity]
    opens = [h for h, a in events if a.action == "open"]
    clicks = [h for h, a in events if a.action == "click"]
    sent = len(campaign.recipients) or 1
    segment_text = "" if campaign.segment_id is None else f"Static segment {campaign.segment_id}"
    return {
        "id": campaign.id, "web_id": campaign.web_id, "type": "regular", "status": campaign.status,
        "create_time": to_iso(campaign.create_time), "send_time": to_iso(campaign.send_time),
        "emails_sent": len(campaign.recipients), "content_type": "html", "archive_url": "",
        "long_archive_url": "", "needs_block_refresh": False, "resendable": False,
        "recipients": {"list_id": campaign.list_id, "list_is_active": audience is not None,
                       "list_name": audience.name if audience else "", "segment_text": segment_text,
                       "recipient_count": len(campaign.recipients)},
        "settings": {"subject_line": campaign.subject, "title": campaign.title, "from_name": "crm-sync sandbox",
                     "reply_to": "sandbox@crm-sync.test", "to_name": "", "use_conversation": False},
        "tracking": {"opens": True, "html_clicks": True, "text_clicks": False},
        "report_summary": {"opens": len(opens), "unique_opens": len(set(opens)),
                           "open_rate": len(set(opens)) / sent, "clicks": len(clicks),
                           "subscriber_clicks": len(set(clicks)), "click_rate": len(set(clicks)) / sent},
    }


def _moment(request: Request, name: str) -> datetime | None:
    text = request.query.get(name)
    if not text:
        return None
    moment = parse_iso(text)
    if moment is None:
        raise bad_request(f"{name} must be an ISO 8601 timestamp; got {text!r}.")
    return moment


def list_campaigns(request: Request) -> Reply:
    count, offset = request.page()
    status = request.query.get("status")
    if status and status not in CAMPAIGN_STATUSES:
        raise bad_request(f"status must be one of {', '.join(CAMPAIGN_STATUSES)}; got {status!r}.")
    since, before = _moment(request, "since_send_time"), _moment(request, "before_send_time")
    list_id, kind = request.query.get("list_id"), request.query.get("type")
    with request.state.lock:
        campaigns: Iterable[Campaign] = request.state.campaigns.values()
        if request.query.get("sort_field") in ("create_time", "send_time"):
            campaigns = sorted(campaigns, key=lambda c: getattr(c, request.query["sort_field"]),
                               reverse=request.query.get("sort_dir", "ASC").upper() == "DESC")
        matching = (c for c in campaigns
                    if (not status or c.status == status) and (not list_id or c.list_id == list_id)
                    and (not kind or kind == "regular") and (since is None or c.send_time > since)
                    and (before is None or c.send_time < before))
        page, total = page_and_total(matching, count, offset)
        views = [campaign_view(request.state, c) for c in page]
    return Reply(200, {"campaigns": views, "total_items": total})


def get_campaign(request: Request) -> Reply:
    with request.state.lock:
        return Reply(200, campaign_view(request.state, request.state.campaign(request.params["campaign_id"])))


def _activity_view(activity: Activity) -> dict[str, str]:
    view = {"action": activity.action, "timestamp": to_iso(activity.timestamp), "ip": activity.ip}
    if activity.action == "click":
        view["url"] = activity.url
    if activity.action == "bounce":
        view["type"] = activity.type
    return view


def _recipient_base(campaign: Campaign, audience: Audience | None, member_hash: str, email: str) -> dict[str, Any]:
    return {"campaign_id": campaign.id, "list_id": campaign.list_id, "list_is_active": audience is not None,
            "email_id": member_hash, "email_address": email}


def email_activity(request: Request) -> Reply:
    count, offset = request.page()
    since = _moment(request, "since")
    with request.state.lock:
        campaign = request.state.campaign(request.params["campaign_id"])
        audience = request.state.audiences.get(campaign.list_id)

        if since is None:  # every recipient has a row: slice the page, render nothing else
            page = [(h, r, r.activity) for h, r in islice(campaign.recipients.items(), offset, offset + count)]
            total = len(campaign.recipients)
        else:
            page, total = page_and_total(
                ((h, r, events) for h, r in campaign.recipients.items()
                 if (events := [a for a in r.activity if a.timestamp > since])), count, offset)
        rows = []
        for member_hash, recipient, events in page:
            row = _recipient_base(campaign, audience, member_hash, recipient.email_address)
            row["activity"] = [_activity_view(a) for a in sorted(events, key=lambda a: a.timestamp)]
            rows.append(row)
    return Reply(200, {"emails": rows, "campaign_id": campaign.id, "total_items": total})


def unsubscribed(request: Request) -> Reply:
    count, offset = request.page()
    with request.state.lock:
        campaign = request.state.campaign(request.params["campaign_id"])
        audience = request.state.audiences.get(campaign.list_id)
        page, total = page_and_total(iter(campaign.unsubscribes), count, offset)
        rows = []
        for entry in page:
            member = audience.members.get(entry.email_id) if audience else None
            row = _recipient_base(campaign, audience, entry.email_id, entry.email_address)
            row.update(timestamp=to_iso(entry.timestamp), reason=entry.reason,
                       merge_fields=dict(member.merge_fields) if member else {}, vip=bool(member and member.vip))
            rows.append(row)
    return Reply(200, {"unsubscribes": rows, "campaign_id": campaign.id, "total_items": total})


def sent_to(request: Request) -> Reply:
    count, offset = request.page()
    with request.state.lock:
        campaign = request.state.campaign(request.params["campaign_id"])
        audience = request.state.audiences.get(campaign.list_id)
        total = len(campaign.recipients)
        rows = []
        for member_hash, recipient in islice(campaign.recipients.items(), offset, offset + count):
            member = audience.members.get(member_hash) if audience else None
            opens = [a.timestamp for a in recipient.activity if a.action == "open"]
            row = _recipient_base(campaign, audience, member_hash, recipient.email_address)
            row.update(status=recipient.status, open_count=len(opens), gmt_offset=0,
                       merge_fields=dict(member.merge_fields) if member else {}, vip=bool(member and member.vip))
            if opens:
                row["last_open"] = to_iso(max(opens))
            rows.append(row)
    return Reply(200, {"sent_to": rows, "campaign_id": campaign.id, "total_items": total})


ROUTES = [
    ("GET", "/campaigns", list_campaigns),
    ("GET", "/campaigns/{campaign_id}", get_campaign),
    ("GET", "/reports/{campaign_id}/email-activity", email_activity),
    ("GET", "/reports/{campaign_id}/unsubscribed", unsubscribed),
    ("GET", "/reports/{campaign_id}/sent-to", sent_to),
]
