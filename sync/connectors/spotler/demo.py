"""The Spotler Mail+ demo account for `crm-sync demo run`: a sandbox with the properties the demo mapping needs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sync.demo.crm.factory import NEWSLETTER_TOPICS
from sync.demo.providers import DemoProvider
from sync.mapping.load import load_mapping
from sync.sandbox.spotler import SpotlerSandbox
from sync.sandbox.views import SpotlerView
from sync.settings import AudienceSettings, Settings, SpotlerSettings

# The demo Spotler account: its standard properties plus the custom ones config/mapping.yaml names, made by hand
# in the Mail+ interface in real life (Spotler has no API to create properties). Topics is a set property: one
# bit per topic the demo CRM's multi-select field offers.
DEMO_SPOTLER_PROPERTIES: list[dict[str, Any]] = [
    *({"name": name, "description": name, "type": kind} for name, kind in (
        ("zipCode", "string"), ("language", "string"), ("loyaltyTier", "string"), ("memberSince", "date"),
        ("lifetimeValue", "string"), ("vip", "string"), ("customerNumber", "string"))),
    {"name": "topics", "description": "Interesses", "type": "set",
     "entries": [{"bit": bit, "description": topic} for bit, topic in enumerate(NEWSLETTER_TOPICS, start=1)]},
]


@contextmanager
def demo_account(settings: Settings, audience: str) -> Iterator[DemoProvider]:
    """Start a Spotler sandbox with the demo properties and point a copy of ``settings`` at it."""
    with SpotlerSandbox(properties=DEMO_SPOTLER_PROPERTIES) as spotler:
        # Changes are stamped 2 s early and a pull reads up to 1 s before it starts, so what the demo
        # does just before a pull is in that pull's window (in production the lag is minutes).
        spotler.run_clock_behind(2)
        demo = settings.model_copy(update={
            "spotler": SpotlerSettings(consumer_key=spotler.consumer_key, consumer_secret=spotler.consumer_secret,
                                       base_url=spotler.base_url, requests_per_second=0, feed_lag_seconds=1),
            "audiences": {audience: AudienceSettings(provider="spotler", permission_bits=[1])},
        })
        fields = load_mapping(settings.mapping_file).audiences[audience].fields
        yield DemoProvider(demo, SpotlerView(spotler, fields), spotler.base_url)
