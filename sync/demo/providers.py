"""The provider side of `crm-sync demo run`: a local sandbox of a provider (its kit's ``demo``), the settings
that point a run at it, and a view to act as the provider's recipients there."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sync.connectors.provider_registry import PROVIDER_NAMES, kit
from sync.settings import Settings

DEMO_PROVIDERS = PROVIDER_NAMES


class DemoView(Protocol):
    """Acts in a sandbox as the provider and its recipients, by e-mail address."""

    def members(self, status: str | None = None) -> dict[str, dict]: ...

    def send_campaign(self, title: str, at: datetime) -> str: ...

    def record_open(self, campaign: str, email: str, at: datetime) -> None: ...

    def record_click(self, campaign: str, email: str, url: str, at: datetime) -> None: ...

    def record_bounce(self, campaign: str, email: str, kind: str, at: datetime) -> None: ...

    def record_unsubscribe(self, campaign: str, email: str, at: datetime) -> None: ...


@dataclass
class DemoProvider:
    """A running sandbox: ``settings`` reach it for ``audience``; ``view`` acts in it by e-mail address."""

    settings: Settings
    view: DemoView
    base_url: str


@contextmanager
def demo_provider(provider: str, settings: Settings, audience: str) -> Iterator[DemoProvider]:
    """Start a sandbox of ``provider`` and point a copy of ``settings`` at it; stop it afterwards."""
    with kit(provider).demo(settings, audience) as running:
        yield running
