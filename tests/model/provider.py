"""The provider side of the model test: one face for the Mailchimp and Spotler sandboxes.

Members are read by address (``statuses``); acts are what the person or the provider does on its own side
(unsubscribe, clean, archive, bounces, campaigns with opens and clicks), through the sandboxes' control methods.
"""

from __future__ import annotations

from datetime import datetime

from sync.sandbox.mailchimp import MailchimpSandbox
from sync.sandbox.spotler import SpotlerSandbox
from tests.providers import DEMO_SPOTLER_PROPERTIES

SUBSCRIBED = "subscribed"
GONE = frozenset({"unsubscribed", "cleaned"})  # a member in one of these must never be subscribed again


class ProviderSide:
    """A running sandbox with one audience; ``handle`` of an address is what its acts are addressed by."""

    def __init__(self, provider: str):
        self.provider = provider
        if provider == "spotler":
            self.sandbox = SpotlerSandbox(properties=DEMO_SPOTLER_PROPERTIES)
            self.sandbox.start()
            # Changes are stamped 2 s late and pulls read up to 1 s before they start (feed_lag_seconds 1):
            # a pull right after a change sees it; a change right after a pull is in the next window.
            self.sandbox.run_clock_behind(2)
            self.list_id = None
        else:
            self.sandbox = MailchimpSandbox()
            self.sandbox.start()
            self.list_id = self.sandbox.create_audience("Model")

    def close(self) -> list[str]:
        """Stop the sandbox; its internal errors (sandbox bugs), which must be none."""
        errors = self.sandbox.internal_errors
        self.sandbox.stop()
        return errors

    # -- reading -----------------------------------------------------------------------------------------------

    def statuses(self) -> dict[str, str]:
        """Every address the provider holds, with its status (Spotler: subscribed while any contact with the
        address has the audience's bit on and the e-mail channel open)."""
        if self.provider == "mailchimp":
            return {m["email_address"].strip().lower(): m["status"] for m in self.sandbox.members(self.list_id)}
        found: dict[str, str] = {}
        for contact in self.sandbox.contacts().values():
            email = (contact.get("properties") or {}).get("email")
            if email:
                status = SUBSCRIBED if _spotler_subscribed(contact) else "unsubscribed"
                if found.get(email.lower()) != SUBSCRIBED:
                    found[email.lower()] = status
        return found

    def spotler_status_by_id(self) -> dict[str, str]:
        """Spotler: each externalId's status (empty for Mailchimp)."""
        if self.provider != "spotler":
            return {}
        return {external_id: SUBSCRIBED if _spotler_subscribed(contact) else "unsubscribed"
                for external_id, contact in self.sandbox.contacts().items()}

    def handles(self, subscribed: bool = True) -> dict[str, str]:
        """What acts on each subscribed address (or every one) are addressed by: the address (Mailchimp) or
        externalId."""
        if self.provider == "mailchimp":
            return {address: address for address, status in self.statuses().items()
                    if status == SUBSCRIBED or (not subscribed and status != "archived")}
        return {(c.get("properties") or {}).get("email", "").lower(): external_id
                for external_id, c in self.sandbox.contacts().items() if _spotler_subscribed(c) or not subscribed}

    # -- acts of the person or the provider ----------------------------------------------------------------------

    def unsubscribe(self, handle: str, campaign: str | None = None, at: datetime | None = None) -> None:
        """The person unsubscribes (through a campaign's link when ``campaign`` is given)."""
        if self.provider == "spotler":
            self.sandbox.unsubscribe(handle, bits=[1], mailing_id=campaign)
        elif campaign is not None:
            self.sandbox.record_unsubscribe(campaign, handle, reason="no longer interested", at=at)
        else:
            self.sandbox.unsubscribe(self.list_id, handle)

    def clean(self, handle: str) -> None:
        """Mailchimp cleans the address; Spotler: the person opts out of everything (e-mail channel off)."""
        if self.provider == "spotler":
            self.sandbox.opt_out_globally(handle)
        else:
            self.sandbox.clean(self.list_id, handle)

    def archive(self, handle: str) -> None:
        """Someone archives the member in Mailchimp's UI (Spotler has no such act: a no-op)."""
        if self.provider == "mailchimp":
            self.sandbox.archive(self.list_id, handle)

    def send_campaign(self, title: str) -> str:
        if self.provider == "spotler":
            return self.sandbox.send_mailing(title, bit=1)
        return self.sandbox.send_campaign(self.list_id, title)

    def record(self, campaign: str, handle: str, action: str, at: datetime, url: str = "", kind: str = "") -> None:
        """An open, click or (hard/soft) bounce of a recipient of ``campaign``."""
        if action == "open":
            self.sandbox.record_open(campaign, handle, at=at)
        elif action == "click":
            self.sandbox.record_click(campaign, handle, url, at=at)
        else:
            self.sandbox.record_bounce(campaign, handle, kind=kind, at=at)

    # -- faults -------------------------------------------------------------------------------------------------

    def fail_next(self, count: int, status: int, method: str | None) -> None:
        """The next ``count`` requests (of ``method``) fail with ``status`` (599: the connection drops)."""
        if status == 599:
            self.sandbox.faults.drop_next(count, method=method)
        else:
            self.sandbox.faults.fail_next(count, status, method=method)

    def clear_faults(self) -> None:
        self.sandbox.faults.clear()


def _spotler_subscribed(contact: dict) -> bool:
    properties = contact.get("properties") or {}
    bits = {p["bit"]: p.get("enabled") for p in properties.get("permissions") or []}
    channel = {c["name"]: c["value"] for c in contact.get("channels") or []}.get("EMAIL", True)
    return bool(bits.get(1) and channel)
