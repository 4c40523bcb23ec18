"""Spotler Mail+ audiences as crm-sync's marks of a marketer's segment (sync/connectors/segments.py).

crm-sync's audience for ``NAME`` has the externalId ``<ownership_tag>-<slug>-<hash of NAME>``, the name
``<ownership_tag>: NAME`` and a description saying crm-sync keeps it; one whose description does not say so is not
crm-sync's and is refused, never changed. Members are contacts by externalId (our CRM contact id), added with
``POST audience/{id}/contact`` and removed with ``DELETE audience/{id}/contact``, at most 2500 a request (413
above). Audiences exist only on the Automation and eCommerce tiers (403 elsewhere: MarkingUnsupported), and the
API has no call that lists an audience's contacts, so ``segment_members`` answers None: ``converge`` then diffs
against the caller's record, or empties the audience (``DELETE`` with a null body) and fills it again.
A removal is never sent without contacts: a null body would empty the whole audience.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from urllib.parse import quote

from sync.connectors.provider import MemberRef
from sync.connectors.segments import (
    AddressProblem,
    MarkingUnsupported,
    MarkReport,
    SegmentNotOurs,
    SegmentRef,
    run_in_flight,
)
from sync.connectors.spotler.audience import SpotlerAudience
from sync.errors import ConfigError, ProviderRejected

MAX_CONTACTS = 2500  # contacts per audience request [spec]
TIER_ONLY = "Only Automation or eCommerce products"


class SpotlerSegments:
    """crm-sync's audiences in one Spotler Mail+ account."""

    def __init__(self, provider: SpotlerAudience, owner: str, chunk_size: int = MAX_CONTACTS,
                 concurrency: int | None = None):
        if not 1 <= chunk_size <= MAX_CONTACTS:
            raise ValueError(f"chunk_size must be 1..{MAX_CONTACTS}; got {chunk_size}")
        self.client = provider.client
        self.owner = owner
        self.chunk_size = chunk_size
        self.concurrency = concurrency or provider.concurrency

    def member_key(self, member: MemberRef) -> str | None:
        """Mail+ names audience members by externalId: our CRM contact id."""
        return member.contact_id.strip() or None

    def segment_name(self, name: str) -> str:
        if not name.strip():
            raise ValueError("a segment needs a name")
        return f"{self.owner}: {name.strip()}"

    def external_id(self, name: str) -> str:
        """The audience's externalId: readable, and unique per exact segment name."""
        slug = re.sub(r"[^a-z0-9]+", "-", name.strip().lower()).strip("-")[:60] or "segment"
        digest = hashlib.sha1(name.strip().encode("utf-8")).hexdigest()[:8]
        return f"{self.owner}-{slug}-{digest}"

    def description(self, name: str) -> str:
        return f"Kept by {self.owner} from the CRM segment {name.strip()!r}; changes made in Mail+ are overwritten."

    def ensure_segment(self, name: str, known_id: str | None = None) -> SegmentRef:
        wanted, external_id = self.segment_name(name), known_id or self.external_id(name)
        found = self._get(external_id)
        if found is None:
            body = {"externalId": external_id, "name": wanted, "description": self.description(name)}
            try:
                self._call("POST", "audience", body)
            except ProviderRejected as error:
                if error.title == "NAME_ALREADY_IN_USE":
                    raise SegmentNotOurs(f"Spotler Mail+ already has an audience called {wanted!r} that crm-sync did "
                                         "not create (it has another externalId): rename or delete it in Mail+, or "
                                         "give the segment another name") from None
                raise
            return SegmentRef(external_id, wanted, name.strip(), created=True)
        if not str(found.get("description") or "").startswith(f"Kept by {self.owner} "):
            raise SegmentNotOurs(f"the Spotler audience {external_id!r} ({found.get('name')!r}) was not made by "
                                 "crm-sync (its description does not say so): crm-sync leaves it alone")
        if found.get("name") != wanted:
            raise SegmentNotOurs(f"the Spotler audience {external_id!r}, which crm-sync made for {name.strip()!r}, "
                                 f"is now called {found.get('name')!r}: rename it back to {wanted!r} in Mail+")
        return SegmentRef(external_id, wanted, name.strip())

    def _get(self, external_id: str) -> dict | None:
        try:
            found = self._call("GET", f"audience/{quote(external_id, safe='')}")
        except ProviderRejected as error:
            if error.status == 404:
                return None
            raise
        return found if isinstance(found, dict) else None

    def _call(self, method: str, path: str, body: object = None) -> object:
        try:
            return self.client.call(method, path, body=body)
        except ConfigError as error:
            if TIER_ONLY in str(error):
                raise MarkingUnsupported(
                    "this Spotler Mail+ account cannot have audiences (\"Only Automation or eCommerce products can "
                    "use this call\"): on Mail+ Professional, select the pushed contacts with a list on a property "
                    "instead, see docs/segments-providers.md") from None
            raise

    def segment_members(self, ref: SegmentRef) -> set[str] | None:
        return None  # the API has no call that lists an audience's contacts

    def change_members(self, ref: SegmentRef, add: Iterable[str], remove: Iterable[str]) -> MarkReport:
        to_add = list(dict.fromkeys(key.strip() for key in add if key.strip()))
        to_remove = list(dict.fromkeys(key.strip() for key in remove if key.strip()))
        both = set(to_add) & set(to_remove)
        if both:
            raise ValueError(f"{len(both)} contact(s) both to add and to remove, e.g. {sorted(both)[0]}")
        size = self.chunk_size
        jobs = [self._job(ref, "POST", to_add[i:i + size]) for i in range(0, len(to_add), size)]
        jobs += [self._job(ref, "DELETE", to_remove[i:i + size]) for i in range(0, len(to_remove), size)]
        return run_in_flight(jobs, self.concurrency)

    def empty(self, ref: SegmentRef) -> MarkReport:
        """``DELETE audience/{id}/contact`` with a null body: the documented way to take every contact out."""
        self._send(ref, "DELETE", None)
        return MarkReport(requests=1)

    def _job(self, ref: SegmentRef, method: str, contacts: list[str]) -> Callable[[], MarkReport]:
        return lambda: self._change(ref, method, contacts)

    def _change(self, ref: SegmentRef, method: str, contacts: list[str]) -> MarkReport:
        report = MarkReport(requests=1)
        try:
            self._send(ref, method, contacts)
        except ProviderRejected as error:
            unknown = {str(c) for c in error.errors} & set(contacts) if error.title == "CONTACT_NOT_FOUND" else set()
            if not unknown:
                report.problems = [AddressProblem(c, "rejected", f"{error.title}: {error.detail}") for c in contacts]
                return report
            report.problems = [AddressProblem(c, "not_in_audience", "not a Mail+ contact (push it first)")
                               for c in contacts if c in unknown]
            rest = [c for c in contacts if c not in unknown]
            if rest:  # Mail+ may have added none of them: send the known ones again (adding is idempotent)
                report.merge(self._change(ref, method, rest))
            return report
        if method == "POST":
            report.added = len(contacts)
        else:
            report.removed = len(contacts)
        return report

    def _send(self, ref: SegmentRef, method: str, contacts: list[str] | None) -> None:
        if contacts is not None and not contacts:
            raise ValueError("no contacts: an empty removal would empty the whole audience")
        path = f"audience/{quote(ref.id, safe='')}/contact"
        try:
            self._call(method, path, None if contacts is None else {"contacts": contacts})
        except ProviderRejected as error:
            if error.status == 404 and error.title != "CONTACT_NOT_FOUND":
                raise ConfigError(f"the Spotler audience {ref.id!r} ({ref.provider_name!r}) is gone: deleted in "
                                  "Mail+? The next run makes a new one") from None
            raise
