"""``GET mailing-interaction/{sent|opened|clicked|bounced}``: the account-wide interaction feeds.

Every parameter is optional: ``fromDate``/``toDate`` filter on the interaction date, ``fromChangeDate``/
``toChangeDate`` on the change date (both inclusive), ``trendReportIds`` (comma-separated) on the trend report;
items come ordered by ``(changeDate, id)`` and paged with ``after``/``pageSize``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sync.sandbox.mailchimp.routing import Reply
from sync.sandbox.spotler.errors import invalid_params, resource_not_found
from sync.sandbox.spotler.request import ApiRequest
from sync.sandbox.spotler.state import FEEDS
from sync.sandbox.spotler.views import interaction_view


def interactions(request: ApiRequest) -> Reply:
    feed = request.params["feed"]
    if feed not in FEEDS:
        raise resource_not_found(f"No interaction feed {feed!r}; feeds are {', '.join(FEEDS)}")
    dates = _between(request.moment("fromDate"), request.moment("toDate"))
    changes = _between(request.moment("fromChangeDate"), request.moment("toChangeDate"))
    reports = _trend_reports(request.query.get("trendReportIds"))
    state = request.state
    found = sorted((item for item in state.interactions[feed]
                    if dates(item.date) and changes(item.change_date)
                    and (reports is None or item.trend_report_id in reports)),
                   key=lambda item: (item.change_date, item.id))
    body = request.paged("interactions", found)
    body["interactions"] = [interaction_view(item, state.mailings[item.mailing_id]) for item in body["interactions"]]
    return Reply(200, body)


def _between(start: datetime | None, end: datetime | None) -> Callable[[datetime], bool]:
    return lambda moment: (start is None or start <= moment) and (end is None or moment <= end)


def _trend_reports(text: str | None) -> set[int] | None:
    if not text:
        return None
    try:
        return {int(part) for part in text.split(",") if part.strip()}
    except ValueError:
        raise invalid_params(f"Invalid trendReportIds: {text!r}") from None


ROUTES = [("GET", "/mailing-interaction/{feed}", interactions)]
