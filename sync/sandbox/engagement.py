"""Deterministic engagement for benchmarks: campaigns sent to an audience's subscribers, then opens, clicks,
bounces and unsubscribes recorded through a sandbox view (Mailchimp or Spotler), as recipients would cause them.

The same plan (seed and start included) on the same audience always gives the same events. Campaigns go out a
day apart from ``start``; each recipient's events fall at distinct seconds within the day after the send.
"""

from __future__ import annotations

import json
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sync.sandbox.mailchimp.times import coerce_time
from sync.sandbox.views import MailchimpView, SpotlerView

SECONDS_AFTER_SEND = range(60, 86_400)  # events happen within the day after the send


@dataclass(frozen=True)
class EngagementPlan:
    """What to generate. Per recipient and campaign: ``opens`` opens and ``clicks`` clicks, except that about
    one in ``bounce_every`` bounces instead (hard and soft alternately) and about one in ``unsubscribe_every``
    also unsubscribes; 0 turns either off."""

    start: datetime
    campaigns: int = 4
    opens: int = 3
    clicks: int = 1
    bounce_every: int = 1000
    unsubscribe_every: int = 1000
    seed: int = 1

    @classmethod
    def from_json(cls, fields: dict[str, Any]) -> EngagementPlan:
        """A plan from a JSON object (``start`` as ISO 8601); unknown names raise TypeError."""
        values = dict(fields)
        values["start"] = coerce_time(values["start"])
        plan = cls(**values)
        if plan.campaigns < 0 or plan.opens < 0 or plan.clicks < 0 or plan.bounce_every < 0 \
                or plan.unsubscribe_every < 0:
            raise ValueError("campaigns, opens, clicks, bounce_every and unsubscribe_every must not be negative")
        if plan.opens + plan.clicks + 1 > len(SECONDS_AFTER_SEND):
            raise ValueError(f"at most {len(SECONDS_AFTER_SEND) - 1} opens and clicks per recipient")
        return plan


def engage(view: MailchimpView | SpotlerView, plan: EngagementPlan) -> dict[str, Any]:
    """Send ``plan.campaigns`` campaigns to the subscribed members and record their engagement.

    Returns the campaign ids and the events a pull should import, by action: ``sent`` (Mailchimp: recipients
    that did not bounce; Spotler's sent feed has every recipient), ``open``, ``click``, ``bounce``,
    ``unsubscribe``, and for Mailchimp ``cleaned`` (each hard bounce also cleans the member, which the audience's
    member list reports as an event of its own).
    """
    started = time.perf_counter()
    rng = random.Random(plan.seed)
    counts: Counter[str] = Counter()
    subscribed = sorted(view.members(status="subscribed"))
    campaign_ids = []
    for number in range(plan.campaigns):
        send_time = plan.start + timedelta(days=number)
        campaign_id = view.send_campaign(f"Benchmark campaign {number + 1}", send_time)
        campaign_ids.append(campaign_id)
        still_subscribed = []
        for email in subscribed:  # exactly the campaign's recipients: nothing else changes member statuses
            if _engage_one(view, campaign_id, email, number, send_time, plan, rng, counts):
                still_subscribed.append(email)
        subscribed = still_subscribed
    return {"campaign_ids": campaign_ids, "events": dict(sorted(counts.items())),
            "total_events": sum(counts.values()), "seconds": round(time.perf_counter() - started, 2)}


def _engage_one(view: MailchimpView | SpotlerView, campaign_id: str, email: str, number: int,
                send_time: datetime, plan: EngagementPlan, rng: random.Random, counts: Counter[str]) -> bool:
    """Record one recipient's events for one campaign; False when the member is no longer subscribed after."""
    offsets = sorted(rng.sample(SECONDS_AFTER_SEND, plan.opens + plan.clicks + 1))
    moments = [send_time + timedelta(seconds=offset) for offset in offsets]
    mailchimp = view.provider == "mailchimp"
    if plan.bounce_every and rng.randrange(plan.bounce_every) == 0:
        kind = "hard" if counts["bounce"] % 2 == 0 else "soft"
        view.record_bounce(campaign_id, email, kind, moments[0])
        counts["bounce"] += 1
        counts["cleaned"] += mailchimp and kind == "hard"
        counts["sent"] += not mailchimp
        return kind == "soft"
    counts["sent"] += 1
    for moment in moments[:plan.opens]:
        view.record_open(campaign_id, email, moment)
    for link, moment in enumerate(moments[plan.opens:plan.opens + plan.clicks]):
        view.record_click(campaign_id, email, f"https://shop.example.test/c{number + 1}/link{link + 1}", moment)
    counts["open"] += plan.opens
    counts["click"] += plan.clicks
    if plan.unsubscribe_every and rng.randrange(plan.unsubscribe_every) == 0:
        view.record_unsubscribe(campaign_id, email, moments[-1])
        counts["unsubscribe"] += 1
        return False
    return True


def answer(view: MailchimpView | SpotlerView, line: str) -> dict[str, Any]:
    """Carry out one stdin command line of a sandbox run on its own (``{"engage": {...}}``); the reply."""
    try:
        command = json.loads(line)
        if not isinstance(command, dict) or set(command) != {"engage"} or not isinstance(command["engage"], dict):
            return {"error": 'expected one JSON object a line: {"engage": {"start": "<ISO 8601>", ...}}'}
        fields = dict(command["engage"])
        if "list_id" in fields and isinstance(view, MailchimpView):
            view = MailchimpView(view.sandbox, fields.pop("list_id"))
        return engage(view, EngagementPlan.from_json(fields))
    except (ValueError, TypeError, KeyError, LookupError) as error:
        return {"error": f"{type(error).__name__}: {error}"}


def serve_commands(view: MailchimpView | SpotlerView) -> None:
    """Answer stdin command lines with one JSON line each, until stdin closes (or Ctrl-C)."""
    try:
        for line in sys.stdin:
            if line.strip():
                print(json.dumps(answer(view, line)), flush=True)
    except KeyboardInterrupt:
        pass
