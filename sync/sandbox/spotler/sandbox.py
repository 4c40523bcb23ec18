"""``SpotlerSandbox``: a stateful Spotler Mail+ REST API over loopback, with control methods for tests.

    with SpotlerSandbox() as sandbox:
        http = requests.Session()
        http.auth = OAuth1(sandbox.consumer_key, client_secret=sandbox.consumer_secret,
                           signature_method="HMAC-SHA1", signature_type="AUTH_HEADER")
        http.post(f"{sandbox.base_url}/contact", json={"update": True, "contact": {...}})
        sandbox.unsubscribe("CRM-1", bits=[1])     # "from Mail+'s side"

Control methods act like the Mail+ UI or its recipients would; they take the same lock as requests.
Timestamps they take may be datetimes or ISO 8601 text; naive ones are Europe/Amsterdam local time.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sync.sandbox.mailchimp.routing import Router
from sync.sandbox.mailchimp.server import Traffic
from sync.sandbox.serving import ServedSandbox
from sync.sandbox.spotler import (
    audiences,
    contacts,
    control,
    engagement,
    feeds,
    interactions,
    mailings,
)
from sync.sandbox.spotler.auth import OAuthVerifier
from sync.sandbox.spotler.catalogue import DEFAULT_PERMISSION_BITS, Catalogue
from sync.sandbox.spotler.faults import Faults
from sync.sandbox.spotler.server import App, Handler
from sync.sandbox.spotler.state import Contact, Mailing, SpotlerState
from sync.sandbox.spotler.times import coerce_moment
from sync.sandbox.spotler.views import contact_view, interaction_view, mailing_details

API_PATH = "/integrationservice-1.1.0"
Moment = datetime | str | None


class SpotlerSandbox(ServedSandbox[App]):
    """A fake Mail+ account served at ``base_url`` (``http://127.0.0.1:PORT/integrationservice-1.1.0``)."""

    label = "Spotler sandbox"
    poll_seconds = 0.02

    def __init__(self, consumer_key: str | None = None, consumer_secret: str | None = None, port: int = 0,
                 host: str = "127.0.0.1", permission_bits: Mapping[int, str] = DEFAULT_PERMISSION_BITS,
                 properties: list[dict[str, Any]] | None = None, public_base_url: str | None = None):
        self.consumer_key = consumer_key or secrets.token_urlsafe(24)
        self.consumer_secret = consumer_secret or secrets.token_urlsafe(32)
        self.public_base_url = public_base_url.rstrip("/") if public_base_url else None
        self.faults = Faults()
        self._state = SpotlerState(Catalogue(permission_bits, properties or ()))
        self._traffic = Traffic()
        router = Router([*contacts.ROUTES, *feeds.ROUTES, *mailings.ROUTES, *interactions.ROUTES, *audiences.ROUTES])
        self._app = App(self._state, router, self.faults, self._traffic,
                        OAuthVerifier(self.consumer_key, self.consumer_secret), self.public_base_url)
        self._serve_with((host, port), self._app, Handler)

    def __repr__(self) -> str:
        return f"SpotlerSandbox(base_url={self.base_url if self._server else None!r})"

    # -- lifecycle ---------------------------------------------------------------------------------------------

    def serve_behind(self, public_base_url: str, *, spec_strict_paging: bool = False) -> None:
        """Clients now reach this sandbox through a proxy at ``public_base_url`` (they sign that URL).

        ``spec_strict_paging`` leaves ``paging.next`` out of a last page instead of sending null: the Swagger 2.0
        spec types it as a string, so a validating proxy refuses the documented null."""
        self.public_base_url = public_base_url.rstrip("/")
        self._app.public_base_url = self.public_base_url
        self._app.link_base = self.public_base_url
        self._app.omit_last_next = spec_strict_paging

    def _started(self) -> None:
        self._app.link_base = self.public_base_url or self.base_url

    @property
    def base_url(self) -> str:
        """Where the API is served, without a trailing slash."""
        return f"http://{self._address[0]}:{self.port}{API_PATH}"

    # -- inspection --------------------------------------------------------------------------------------------

    def contacts(self) -> dict[str, dict[str, Any]]:
        """Every contact with an externalId, as ``GET contact/{externalId}`` returns it, by externalId."""
        with self._state.lock:
            return {external_id: self._view(contact) for external_id, contact in self._state.by_external.items()}

    def contact(self, external_id: str) -> dict[str, Any] | None:
        with self._state.lock:
            found = self._state.by_external.get(external_id)
            return None if found is None else self._view(found)

    def all_contacts(self) -> list[dict[str, Any]]:
        """Every contact in creation order, including ones without an externalId (sign-ups, anonymised)."""
        with self._state.lock:
            return [self._view(contact) for contact in self._state.contacts.values()]

    def properties(self) -> list[dict[str, Any]]:
        return self._state.catalogue.views()

    def mailing(self, mailing_id: str) -> dict[str, Any] | None:
        """``GET mailing/{id}`` for a mailing, or None."""
        with self._state.lock:
            found = self._state.mailings.get(mailing_id)
            return None if found is None else mailing_details(found)

    def audience(self, external_id: str) -> dict[str, Any] | None:
        """The audience as the API renders it, with ``contacts`` (the externalIds in it), or None."""
        with self._state.lock:
            found = self._state.audiences.get(external_id)
            return None if found is None else {**audiences.audience_view(found), "contacts": list(found.contacts)}

    def add_audience(self, external_id: str, name: str, description: str = "", contacts: tuple[str, ...] = ()) -> None:
        """An audience a marketer (or another integration) made."""
        with self._state.lock:
            now = self._state.now()
            self._state.audiences[external_id] = audiences.Audience(external_id, name, description, now, now,
                                                                    contacts=dict.fromkeys(contacts))

    def allow_audiences(self, allowed: bool) -> None:
        """False: the account is a Professional one, where every /audience call answers 403."""
        with self._state.lock:
            self._state.audiences_allowed = allowed

    def interactions(self, feed: str) -> list[dict[str, Any]]:
        """Every item of one ``mailing-interaction`` feed (``sent``, ``opened``, ``clicked``, ``bounced``)."""
        with self._state.lock:
            return [interaction_view(item, self._state.mailings[item.mailing_id])
                    for item in self._state.interactions[feed]]

    def request_count(self, method: str | None = None, path_contains: str | None = None) -> int:
        """Requests seen (faulted and refused ones included), optionally of one method and with the URL path
        containing ``path_contains``."""
        with self._traffic.lock:
            return sum(n for (m, p), n in self._traffic.by_path.items()
                       if method in (None, m) and (path_contains is None or path_contains in p))

    def reset_traffic(self) -> None:
        """Forget the request log (e.g. after seeding, before the part a test measures)."""
        with self._traffic.lock:
            self._traffic.by_route.clear()
            self._traffic.by_path.clear()
            self._traffic.by_status.clear()

    @property
    def internal_errors(self) -> list[str]:
        """Tracebacks of sandbox bugs answered with 500 (should stay empty)."""
        return list(self._traffic.internal_errors)

    # -- the clock and contacts, as the Mail+ UI or the recipients would change them -----------------------------

    def now(self) -> datetime:
        """The sandbox's now (the fixed clock if set)."""
        return self._state.now()

    def set_clock(self, moment: Moment) -> None:
        """Fix "now" (None: back to the real clock). Contact changes and interaction changeDates use it."""
        with self._state.lock:
            self._state.clock.set(moment)

    def run_clock_behind(self, seconds: float) -> None:
        """Stamp every change ``seconds`` before the real time, as a server whose records show up late."""
        with self._state.lock:
            self._state.clock.run_behind(seconds)

    def add_contact(self, email: str, external_id: str | None = None, properties: dict[str, Any] | None = None,
                    permissions: dict[int, bool] | None = None) -> str:
        """A contact that existed before crm-sync (e.g. from a sign-up form); returns its encryptedId."""
        with self._state.lock:
            return control.add_contact(self._state, email, external_id, properties, permissions).encrypted_id

    def unsubscribe(self, external_id_or_email: str, bits: list[int] | None = None,
                    mailing_id: str | None = None) -> None:
        """Permission bits off (all when None), as a permission-based unsubscribe package does; ``mailing_id``
        counts it in that mailing's ``unsubscribeCount``."""
        with self._state.lock:
            contact = control.find(self._state, external_id_or_email)
            mailing = self._mailing(mailing_id) if mailing_id else None
            control.unsubscribe(self._state, contact, bits)
            if mailing is not None:
                mailing.unsubscribes.add(contact.encrypted_id)

    def opt_out_globally(self, external_id_or_email: str) -> None:
        """Unsubscribe from everything: EMAIL channel off; later writes are answered ``CONTACT_OPTOUT``."""
        with self._state.lock:
            control.opt_out_globally(self._state, control.find(self._state, external_id_or_email))

    def fail_writes(self, external_id: str, count: int = 1) -> None:
        """The next ``count`` writes of this externalId fail: ``ERROR`` in a bulk result, 500 otherwise."""
        with self._state.lock:
            self._state.write_failures[external_id] += count

    # -- mailings and engagement -------------------------------------------------------------------------------

    def send_mailing(self, name: str, at: Moment = None, bit: int = 1, subject: str | None = None,
                     trend_report_id: int | None = None) -> str:
        """Send a newsletter to the contacts with ``bit`` enabled; returns its encryptedId."""
        with self._state.lock:
            return engagement.send_mailing(self._state, name, self._moment(at), bit, subject or name,
                                           trend_report_id).encrypted_id

    def record_open(self, mailing_id: str, external_id: str, at: Moment = None, changed_at: Moment = None) -> None:
        with self._state.lock:
            mailing, contact = self._pair(mailing_id, external_id)
            engagement.record_open(self._state, mailing, contact, self._moment(at), self._changed(changed_at))

    def record_click(self, mailing_id: str, external_id: str, url: str, at: Moment = None,
                     changed_at: Moment = None) -> None:
        with self._state.lock:
            mailing, contact = self._pair(mailing_id, external_id)
            engagement.record_click(self._state, mailing, contact, url, self._moment(at), self._changed(changed_at))

    def record_bounce(self, mailing_id: str, external_id: str, kind: str = "hard", at: Moment = None,
                      changed_at: Moment = None) -> None:
        """A hard or soft bounce; a hard one, or the 4th soft one in a row, turns the EMAIL channel off."""
        with self._state.lock:
            mailing, contact = self._pair(mailing_id, external_id)
            engagement.record_bounce(self._state, mailing, contact, kind, self._moment(at),
                                     self._changed(changed_at))

    # -- helpers -----------------------------------------------------------------------------------------------

    def _view(self, contact: Contact) -> dict[str, Any]:
        return contact_view(self._state.catalogue, contact)

    def _moment(self, value: Moment) -> datetime:
        return self._state.now() if value is None else coerce_moment(value)

    def _changed(self, value: Moment) -> datetime | None:
        return None if value is None else coerce_moment(value)

    def _mailing(self, mailing_id: str) -> Mailing:
        found = self._state.mailings.get(mailing_id)
        if found is None:
            raise LookupError(f"this sandbox has no mailing {mailing_id!r}")
        return found

    def _pair(self, mailing_id: str, external_id: str) -> tuple[Mailing, Contact]:
        contact = self._state.by_external.get(external_id)
        if contact is None:
            raise LookupError(f"this sandbox has no contact with externalId {external_id!r}")
        return self._mailing(mailing_id), contact
