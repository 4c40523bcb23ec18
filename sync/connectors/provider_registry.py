"""The providers crm-sync knows: one line each, naming the module whose ``KIT`` serves it (sync/connectors/kit.py).

Kits are imported on first use, so settings and the CLI can name the providers without loading every
connector, and no import cycle runs through here. The first provider is the default.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from sync.connectors.kit import ProviderKit

KITS: dict[str, str] = {
    "mailchimp": "sync.connectors.mailchimp.kit",
    "spotler": "sync.connectors.spotler.kit",
}

PROVIDER_NAMES: tuple[str, ...] = tuple(KITS)
DEFAULT_PROVIDER = PROVIDER_NAMES[0]
ProviderName = Literal[PROVIDER_NAMES]  # type: ignore[valid-type]  # the settings' `provider:` values


def kit(name: str) -> ProviderKit[Any]:
    """The kit of provider ``name`` (one of PROVIDER_NAMES)."""
    return import_module(KITS[name]).KIT


def provider_title(name: str, short: bool = False) -> str:
    """The provider's name for people ("Spotler Mail+", or "Spotler" when ``short``); an unknown one as is."""
    if name not in KITS:
        return name
    found = kit(name)
    return found.short_title if short else found.title
