"""``MailchimpSandbox``: a stateful Mailchimp Marketing API v3 over loopback, with control methods for tests.

    with MailchimpSandbox() as sandbox:
        list_id = sandbox.create_audience("Demo")
        client = mailchimp_marketing.Client()
        client.set_config({"api_key": sandbox.api_key})
        client.api_client.host = sandbox.base_url
        ...
        sandbox.unsubscribe(list_id, "ann@ziggo.test")     # "from Mailchimp's side"

Control methods act like Mailchimp's own UI or its recipients would; they take the same lock as requests.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sync.errors import ConfigError
from sync.sandbox.mailchimp import account, batch, campaigns, segments
from sync.sandbox.mailchimp import members as member_routes
from sync.sandbox.mailchimp import merge_fields as merge_field_routes
from sync.sandbox.mailchimp.addresses import subscriber_hash
from sync.sandbox.mailchimp.faults import Faults
from sync.sandbox.mailchimp.members import member_view
from sync.sandbox.mailchimp.routing import Request, Router
from sync.sandbox.mailchimp.server import App, Handler, Latency, Traffic
from sync.sandbox.mailchimp.state import Activity, Audience, Member, SandboxState
from sync.sandbox.mailchimp.times import coerce_time, utc_now
from sync.sandbox.serving import ServedSandbox

MAX_CONNECTIONS = 10
_API_KEY = re.compile(r"^[0-9a-f]{32}-[a-z]+[0-9]+$")


def _router() -> Router[Request]:
    return Router([*account.ROUTES, *merge_field_routes.ROUTES, *member_routes.ROUTES, *batch.ROUTES,
                   *segments.ROUTES, *campaigns.ROUTES])


class MailchimpSandbox(ServedSandbox[App]):
    """A fake Mailchimp account served at ``base_url`` (``http://127.0.0.1:PORT/3.0``)."""

    label = "Mailchimp sandbox"

    def __init__(self, api_key: str | None = None, port: int = 0, host: str = "127.0.0.1",
                 max_connections: int = MAX_CONNECTIONS, latency: Latency | None = None):
        """``latency`` makes every answer as slow as a real one (benchmarks); default: at once."""
        if api_key is None:
            api_key = f"{secrets.token_hex(16)}-us21"
        if not _API_KEY.match(api_key):
            raise ConfigError("sandbox api_key must look like a Mailchimp key: 32 hex digits, '-', a datacenter "
                              "such as us21")
        self.api_key = api_key
        self.faults = Faults()
        self._state = SandboxState()
        self._traffic = Traffic()
        self._app = App(api_key, self._state, _router(), self.faults, self._traffic, max_connections,
                        latency=latency or Latency())
        self._serve_with((host, port), self._app, Handler)

    def __repr__(self) -> str:
        return f"MailchimpSandbox(base_url={self.base_url if self._server else None!r})"

    # -- lifecycle ---------------------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """Where the API is served: the SDK's ``api_client.host`` and a Prism proxy's upstream."""
        return f"http://{self._address[0]}:{self.port}/3.0"

    # -- audiences and members, as Mailchimp's own UI would change them --------------------------------------

    def create_audience(self, name: str = "crm-sync sandbox audience", default_merge_fields: bool = True) -> str:
        """Create an audience (with FNAME, LNAME, ADDRESS, PHONE, BIRTHDAY unless told otherwise); returns its id."""
        with self._state.lock:
            audience = Audience(id=self._state.new_hex_id("list"), web_id=self._state.next_serial(), name=name,
                                date_created=utc_now())
            if default_merge_fields:
                merge_field_routes.add_default_fields(audience)
            self._state.audiences[audience.id] = audience
            return audience.id

    def add_member(self, list_id: str, email: str, status: str = "subscribed",
                   merge_values: dict[str, Any] | None = None, tags: tuple[str, ...] = ()) -> str:
        """Add a member as if they signed up on a Mailchimp form (no API rules applied); returns the hash."""
        with self._state.lock:
            audience = self._audience(list_id)
            member_hash = subscriber_hash(email)
            if member_hash in audience.members:
                raise ValueError(f"{email} is already a member of {list_id}")
            member = self._state.new_member(audience, email.strip(), member_hash, status)
            member.merge_fields = dict(merge_values or {})
            member.source = "Hosted Signup Form"
            if status == "subscribed":
                member.timestamp_opt = member.last_changed
            audience.add(member)
            for tag in tags:
                segments.join(segments.find_segment(audience, tag)
                              or segments.create_segment(self._state, audience, tag), member)
            return member_hash

    def member(self, list_id: str, email_or_hash: str) -> dict[str, Any] | None:
        """The member as the API would render it, or None (also after a permanent delete)."""
        with self._state.lock:
            audience = self._audience(list_id)
            found = audience.members.get(member_routes.path_hash(email_or_hash))
            return None if found is None else member_view(audience, found, audience.merge_field_by_tag())

    def members(self, list_id: str, status: str | None = None) -> Iterator[dict[str, Any]]:
        """Every member (optionally of one status), rendered one at a time from a snapshot of the hashes."""
        with self._state.lock:
            hashes = [h for h, m in self._audience(list_id).members.items() if not status or m.status == status]
        for member_hash in hashes:
            found = self.member(list_id, member_hash)
            if found is not None:
                yield found

    def member_count(self, list_id: str, status: str | None = None) -> int:
        with self._state.lock:
            audience = self._audience(list_id)
            return len(audience.members) if status is None else audience.status_counts[status]

    def unsubscribe(self, list_id: str, email: str, reason: str = "N/A (Unsubscribed by the contact)",
                    at: datetime | str | None = None) -> None:
        """The contact unsubscribed on Mailchimp's side (e.g. through a link or the preference centre), now
        or at ``at`` (its ``last_changed``)."""
        self._change_status(list_id, email, "unsubscribed", reason, at)

    def clean(self, list_id: str, email: str) -> None:
        """Mailchimp cleaned the address (hard bounce)."""
        self._change_status(list_id, email, "cleaned")

    def archive(self, list_id: str, email: str) -> None:
        """Someone archived the contact in Mailchimp's UI."""
        self._change_status(list_id, email, "archived")

    def permanently_delete(self, list_id: str, email: str) -> None:
        """GDPR delete in Mailchimp's UI: the member is gone and the address can never be re-added."""
        with self._state.lock:
            audience = self._audience(list_id)
            audience.forget(self._member(audience, email))

    def merge_fields(self, list_id: str) -> dict[str, dict[str, Any]]:
        """The audience's merge fields by tag."""
        with self._state.lock:
            audience = self._audience(list_id)
            return {f.tag: merge_field_routes.merge_field_view(list_id, f) for f in audience.merge_fields.values()}

    def add_segment(self, list_id: str, name: str, kind: str = "static", emails: tuple[str, ...] = ()) -> int:
        """A segment made in Mailchimp's UI: a tag (``static``) or a ``saved`` (condition) segment; returns its id."""
        if kind not in ("static", "saved", "fuzzy"):
            raise ValueError(f"kind must be static, saved or fuzzy; got {kind!r}")
        with self._state.lock:
            audience = self._audience(list_id)
            if segments.find_segment(audience, name) is not None:
                raise ValueError(f"audience {list_id} already has a segment called {name!r}")
            segment = segments.create_segment(self._state, audience, name, kind)
            for email in emails:
                segments.join(segment, self._member(audience, email))
            return segment.id

    def segment_emails(self, list_id: str, name: str) -> list[str]:
        """Addresses in the static segment or tag called ``name`` (empty when there is none)."""
        with self._state.lock:
            audience = self._audience(list_id)
            segment = segments.find_segment(audience, name)
            return [] if segment is None else [audience.members[h].email_address for h in segment.members]

    def _audience(self, list_id: str) -> Audience:
        found = self._state.audiences.get(list_id)
        if found is None:
            raise LookupError(f"this sandbox has no audience {list_id!r}")
        return found

    def _member(self, audience: Audience, email: str) -> Member:
        found = audience.members.get(member_routes.path_hash(email))
        if found is None:
            raise LookupError(f"{email} is not a member of audience {audience.id}")
        return found

    def _change_status(self, list_id: str, email: str, status: str, reason: str = "",
                       at: datetime | str | None = None) -> None:
        with self._state.lock:
            audience = self._audience(list_id)
            member = self._member(audience, email)
            audience.set_status(member, status)
            member.unsubscribe_reason = reason
            member.last_changed = coerce_time(at)

    # -- campaigns and engagement ----------------------------------------------------------------------------

    def send_campaign(self, list_id: str, title: str, segment_id: int | None = None,
                      send_time: datetime | str | None = None) -> str:
        """Send a regular campaign to the subscribed members (of a static segment); returns its id."""
        with self._state.lock:
            audience = self._audience(list_id)
            if segment_id is not None and segment_id not in audience.segments:
                raise LookupError(f"audience {list_id} has no segment {segment_id}")
            return campaigns.send_campaign(self._state, list_id, title, segment_id,
                                           coerce_time(send_time) if send_time is not None else None)

    def record_open(self, campaign_id: str, email: str, at: datetime | str | None = None,
                    ip: str = "192.0.2.10") -> None:
        self._record(campaign_id, email, Activity("open", coerce_time(at), ip=ip))

    def record_click(self, campaign_id: str, email: str, url: str, at: datetime | str | None = None,
                     ip: str = "192.0.2.10") -> None:
        self._record(campaign_id, email, Activity("click", coerce_time(at), url=url, ip=ip))

    def record_bounce(self, campaign_id: str, email: str, kind: str = "hard",
                      at: datetime | str | None = None) -> None:
        """A hard or soft bounce; a hard bounce also cleans the member."""
        if kind not in ("hard", "soft"):
            raise ValueError(f"kind must be 'hard' or 'soft'; got {kind!r}")
        self._record(campaign_id, email, Activity("bounce", coerce_time(at), type=kind))

    def record_unsubscribe(self, campaign_id: str, email: str, reason: str = "N/A (Unsubscribed by the contact)",
                           at: datetime | str | None = None) -> None:
        """The recipient used the campaign's unsubscribe link."""
        with self._state.lock:
            self._campaign_exists(campaign_id)
            campaigns.record_unsubscribe(self._state, campaign_id, email, reason, coerce_time(at))

    def _record(self, campaign_id: str, email: str, activity: Activity) -> None:
        with self._state.lock:
            self._campaign_exists(campaign_id)
            campaigns.record_activity(self._state, campaign_id, email, activity)

    def _campaign_exists(self, campaign_id: str) -> None:
        if campaign_id not in self._state.campaigns:
            raise LookupError(f"this sandbox has no campaign {campaign_id!r}")

    # -- traffic ---------------------------------------------------------------------------------------------

    def request_count(self, method: str | None = None, path: str | None = None, route: str | None = None) -> int:
        """Requests seen, optionally only one method and a full path (``/3.0/lists/x``) or a route template
        (``/lists/{list_id}``; ``(connection limit)`` and ``(fault)`` count throttled and faulted ones)."""
        with self._traffic.lock:
            if path is not None:
                return sum(n for (m, p), n in self._traffic.by_path.items() if p == path and method in (None, m))
            return sum(n for (m, r), n in self._traffic.by_route.items()
                       if (route is None or r == route) and method in (None, m))

    def status_count(self, status: int) -> int:
        """How many responses had this HTTP status."""
        with self._traffic.lock:
            return self._traffic.by_status[status]

    @property
    def in_flight(self) -> int:
        """Requests being handled right now."""
        return self._traffic.in_flight

    @property
    def peak_concurrency(self) -> int:
        """The most requests ever in flight at once (including any the limit turned away)."""
        return self._traffic.peak_in_flight

    @property
    def peak_connections(self) -> int:
        """The most TCP connections ever open at once (idle keep-alive connections included)."""
        return self._traffic.peak_connections

    @property
    def internal_errors(self) -> list[str]:
        """Tracebacks of sandbox bugs answered with 500 (should stay empty)."""
        return list(self._traffic.internal_errors)

    def reset_traffic(self) -> None:
        """Forget the request log and the peaks (e.g. after seeding, before the part a test measures)."""
        with self._traffic.lock:
            self._traffic.by_route.clear()
            self._traffic.by_path.clear()
            self._traffic.by_status.clear()
            self._traffic.peak_in_flight = self._traffic.in_flight
            self._traffic.peak_connections = self._traffic.open_connections
            self._traffic.throttled = 0
