"""The sandbox views (sync/sandbox/views.py) set up as the tests use them: Spotler fields named by
config/mapping.yaml's newsletter audience."""

from __future__ import annotations

from pathlib import Path

from sync.connectors.spotler.demo import DEMO_SPOTLER_PROPERTIES
from sync.mapping.load import load_mapping
from sync.sandbox import views
from sync.sandbox.spotler import SpotlerSandbox
from sync.sandbox.views import MailchimpView

REPO = Path(__file__).resolve().parents[1]
PROVIDERS = ("mailchimp", "spotler")
__all__ = ["DEMO_SPOTLER_PROPERTIES", "PROVIDERS", "MailchimpView", "SpotlerView"]


class SpotlerView(views.SpotlerView):
    """The Spotler sandbox named by the repository's mapping file."""

    def __init__(self, sandbox: SpotlerSandbox, bit: int = 1):
        super().__init__(sandbox, load_mapping(REPO / "config" / "mapping.yaml").audiences["newsletter"].fields, bit)
