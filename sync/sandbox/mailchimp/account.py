"""Account-level endpoints: ``GET /ping``, ``GET /`` (account info), ``GET /lists`` and ``GET /lists/{id}``."""

from __future__ import annotations

from typing import Any

from sync.sandbox.mailchimp.routing import Reply, Request, page_of
from sync.sandbox.mailchimp.state import Audience, SandboxState
from sync.sandbox.mailchimp.times import to_iso

ACCOUNT_ID = "c0ffee5a4db0c0ffee5a4db0c"
MAX_AUDIENCES = 1000


def ping(request: Request) -> Reply:
    return Reply(200, {"health_status": "Everything's Chimpy!"})


def root(request: Request) -> Reply:
    with request.state.lock:
        subscribed = sum(a.status_counts["subscribed"] for a in request.state.audiences.values())
    return Reply(200, {
        "account_id": ACCOUNT_ID, "login_id": "1", "account_name": "crm-sync sandbox",
        "email": "owner@crm-sync.test", "first_name": "Sandbox", "last_name": "Owner",
        "username": "crm-sync-sandbox", "avatar_url": "", "role": "owner", "pro_enabled": False,
        "account_timezone": "UTC", "account_industry": "Software", "pricing_plan_type": "monthly",
        "contact": {"company": "crm-sync", "addr1": "", "addr2": "", "city": "", "state": "", "zip": "",
                    "country": "NL"},
        "total_subscribers": subscribed,
        "industry_stats": {"open_rate": 0, "bounce_rate": 0, "click_rate": 0},
    })


def audience_view(audience: Audience) -> dict[str, Any]:
    counts = audience.status_counts
    return {
        "id": audience.id, "web_id": audience.web_id, "name": audience.name,
        "contact": {"company": "crm-sync", "address1": "Sandboxstraat 1", "address2": "", "city": "Utrecht",
                    "state": "", "zip": "3511 AA", "country": "NL", "phone": ""},
        "permission_reminder": "You signed up in the crm-sync demo.", "use_archive_bar": False,
        "campaign_defaults": {"from_name": "crm-sync sandbox", "from_email": "sandbox@crm-sync.test",
                              "subject": "", "language": "en"},
        "notify_on_subscribe": "", "notify_on_unsubscribe": "", "date_created": to_iso(audience.date_created),
        "list_rating": 0, "email_type_option": False, "subscribe_url_short": "", "subscribe_url_long": "",
        "beamer_address": "", "visibility": "prv", "double_optin": False, "has_welcome": False,
        "marketing_permissions": False, "modules": [],
        "stats": {"member_count": counts["subscribed"], "unsubscribe_count": counts["unsubscribed"],
                  "cleaned_count": counts["cleaned"], "member_count_since_send": counts["subscribed"],
                  "unsubscribe_count_since_send": 0, "cleaned_count_since_send": 0, "campaign_count": 0,
                  "merge_field_count": len(audience.merge_fields), "avg_sub_rate": 0, "avg_unsub_rate": 0,
                  "target_sub_rate": 0, "open_rate": 0, "click_rate": 0,
                  "total_contacts": len(audience.members)},
    }


def list_audiences(request: Request) -> Reply:
    count, offset = request.page()
    state: SandboxState = request.state
    with state.lock:
        page = [audience_view(a) for a in page_of(state.audiences.values(), count, offset)]
        total = len(state.audiences)
    return Reply(200, {
        "lists": page, "total_items": total,
        "constraints": {"may_create": total < MAX_AUDIENCES, "max_instances": MAX_AUDIENCES,
                        "current_total_instances": total},
    })


def get_audience(request: Request) -> Reply:
    with request.state.lock:
        return Reply(200, audience_view(request.state.audience(request.params["list_id"])))


ROUTES = [
    ("GET", "/ping", ping),
    ("GET", "/", root),
    ("GET", "/lists", list_audiences),
    ("GET", "/lists/{list_id}", get_audience),
]
