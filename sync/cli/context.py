"""What the group hands every verb."""

from __future__ import annotations

from dataclasses import dataclass

import click

from sync.settings import Settings


@dataclass
class App:
    """Validated settings, loaded once before any verb runs."""

    settings: Settings


pass_app = click.make_pass_decorator(App)
